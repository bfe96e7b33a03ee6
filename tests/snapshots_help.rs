//! Snapshots of `sweep --help` and `sweep run --help`.
//!
//! clap wraps help to the terminal's width. The binary runs here with no terminal on stdin,
//! stdout or stderr, so clap falls back to `COLUMNS`, which is set to 100: the output is the
//! same on every machine. (The width is not fixed in the CLI itself, so users still get
//! help wrapped to their own terminal.)

mod common;
use common::*;

/// `sweep ARGS` with `COLUMNS=columns`; must succeed; returns stdout.
fn help(args: &[&str], columns: usize) -> String {
    let env = Env::new();
    let mut cmd = env.sweep(args);
    cmd.env("COLUMNS", columns.to_string()).env_remove("CLICOLOR_FORCE");
    exits(&mut cmd, 0).stdout
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
