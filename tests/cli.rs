//! The command line itself: `--version`, an example in every `--help`, and the shell
//! completion scripts.

mod common;
use clap::CommandFactory;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

/// The subcommands, taken from the definitions, so a subcommand added later is checked too.
fn subcommands() -> Vec<String> {
    sweep::cli::Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect()
}

#[test]
fn version_prints_the_crate_version() {
    let out = Env::new().succeeds(&["--version"]);
    assert_eq!(out.trim(), format!("sweep {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn every_help_shows_an_example() {
    let env = Env::new();
    let top = env.succeeds(&["--help"]);
    assert!(top.contains("Examples:\n  sweep "), "{top}");
    let names = subcommands();
    for expected in ["run", "status", "collect", "report", "plot", "models", "completions"] {
        assert!(names.iter().any(|n| n == expected), "no `{expected}` subcommand in {names:?}");
    }
    for name in &names {
        let help = env.succeeds(&[name, "--help"]);
        assert!(
            help.contains("Example:\n  sweep ") || help.contains("Examples:\n  sweep "),
            "`sweep {name} --help` has no example:\n{help}"
        );
        assert!(help.contains(&format!("sweep {name}")), "`sweep {name} --help` has no example of itself:\n{help}");
    }
}

/// Each shell's script declares every subcommand and `run`'s `--resume` in that shell's own
/// syntax. (A bare word would not do: help texts such as "Run (or resume) a sweep" are in
/// the scripts too.)
#[test]
fn completion_scripts_declare_every_subcommand_and_the_resume_option() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = env.succeeds(&["completions", shell]);
        for name in subcommands() {
            let declared = match shell {
                "bash" => format!("sweep,{name})"),
                "zsh" => format!("\n'{name}:"),
                _ => format!(" -f -a \"{name}\" "),
            };
            assert!(script.contains(&declared), "{shell}: no `{name}` subcommand ({declared:?}) in\n{script}");
        }
        let resume = match shell {
            "bash" => " --resume ",
            "zsh" => "\n'--resume[",
            _ => "__fish_sweep_using_subcommand run\" -l resume ",
        };
        assert!(script.contains(resume), "{shell}: no `--resume` option of `run` ({resume:?}) in\n{script}");
    }
}

/// bash reads the script, and completing with it offers the subcommands after `sweep` and
/// `--resume` after `sweep run --res`.
#[test]
fn the_bash_completion_script_completes_subcommands_and_options() {
    let script = Env::new().succeeds(&["completions", "bash"]);
    let mut bash = Command::new("bash").arg("-n").stdin(Stdio::piped()).spawn().expect("bash is installed");
    bash.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    assert!(bash.wait().unwrap().success(), "bash -n rejects the script");

    let env = Env::with("sweep.bash", &script);
    // The completion function registered for `sweep`, called as bash calls it.
    let complete = |words: &[&str]| -> Vec<String> {
        let line = words.join(" ");
        let program = format!(
            "source ./sweep.bash\n\
             f=$(complete -p sweep | sed 's/.* -F \\([^ ]*\\) .*/\\1/')\n\
             COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE={line:?}; COMP_POINT={point}\n\
             \"$f\" sweep {cur:?} {prev:?}\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            words = words.iter().map(|w| format!("{w:?}")).collect::<Vec<_>>().join(" "),
            cword = words.len() - 1,
            point = line.len(),
            cur = words[words.len() - 1],
            prev = words[words.len() - 2],
        );
        let o = Command::new("bash").arg("-c").arg(program).current_dir(env.path("")).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        text(&o.stdout).lines().map(String::from).collect()
    };
    let offered = complete(&["sweep", ""]);
    for name in subcommands() {
        assert!(offered.contains(&name), "`sweep <TAB>` does not offer `{name}`: {offered:?}");
    }
    assert_eq!(complete(&["sweep", "run", "--res"]), ["--resume"]);
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let err = Env::new().fails(&["completions", "tcsh"], 2);
    assert!(err.contains("possible values: bash, zsh, fish"), "{err}");
}
