//! The command line itself: `--version`, an example in every `--help`, and the shell
//! completion scripts.

mod common;
use clap::CommandFactory;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn stdout_of(args: &[&str]) -> String {
    let o = Env::new().sweep(args).assert().success().get_output().clone();
    String::from_utf8(o.stdout).expect("utf-8 output")
}

#[test]
fn version_prints_the_crate_version() {
    let out = stdout_of(&["--version"]);
    assert_eq!(out.trim(), format!("sweep {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn every_help_shows_an_example() {
    let top = stdout_of(&["--help"]);
    assert!(top.contains("Examples:\n  sweep "), "{top}");
    // Taken from the definitions, so a subcommand added later is checked too.
    let names: Vec<String> = sweep::cli::Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect();
    for expected in ["run", "status", "collect", "report", "plot", "models", "completions"] {
        assert!(names.iter().any(|n| n == expected), "no `{expected}` subcommand in {names:?}");
    }
    for name in &names {
        let help = stdout_of(&[name, "--help"]);
        assert!(
            help.contains("Example:\n  sweep ") || help.contains("Examples:\n  sweep "),
            "`sweep {name} --help` has no example:\n{help}"
        );
        assert!(help.contains(&format!("sweep {name}")), "`sweep {name} --help` has no example of itself:\n{help}");
    }
}

#[test]
fn completion_scripts_name_the_subcommands_and_options() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        assert!(script.contains("run"), "{shell}: `run` missing");
        assert!(script.contains("resume"), "{shell}: `--resume` missing");
        assert!(script.contains("completions"), "{shell}: `completions` missing");
    }
}

#[test]
fn the_bash_completion_script_parses() {
    let script = stdout_of(&["completions", "bash"]);
    assert!(script.contains("--resume"), "{script}");
    let mut bash = Command::new("bash").arg("-n").stdin(Stdio::piped()).spawn().expect("bash is installed");
    bash.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    assert!(bash.wait().unwrap().success(), "bash -n rejects the script");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let o = Env::new().sweep(&["completions", "tcsh"]).assert().code(2).get_output().clone();
    assert!(stderr(&o).contains("possible values: bash, zsh, fish"), "{}", stderr(&o));
}
