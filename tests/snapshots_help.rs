//! Snapshots of `sweep --help` and `sweep run --help`.
//!
//! clap wraps help to the terminal's width. The binary runs here with no terminal on stdin,
//! stdout or stderr, so clap falls back to `COLUMNS`, which is set to 100: the output is the
//! same on every machine. (The width is not fixed in the CLI itself, so users still get
//! help wrapped to their own terminal.)

use std::process::{Command, Stdio};

fn help(args: &[&str], columns: usize) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_sweep"))
        .args(args)
        .env("COLUMNS", columns.to_string())
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .output()
        .expect("run sweep");
    assert!(o.status.success(), "sweep {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("utf-8 help")
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&["--help"], 100));
}

#[test]
fn run_help() {
    insta::assert_snapshot!(help(&["run", "--help"], 100));
}

#[test]
fn help_is_wrapped_to_columns() {
    for args in [&["--help"][..], &["run", "--help"]] {
        assert!(widest(&help(args, 100)) <= 100, "{args:?} is wider than 100 columns");
        let narrow = help(args, 60);
        assert!(widest(&narrow) <= 60, "{args:?} ignores COLUMNS=60:\n{narrow}");
    }
}
