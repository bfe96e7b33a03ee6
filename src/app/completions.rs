//! `sweep completions SHELL`.

use crate::cli::{Cli, CompletionsArgs, Shell};
use crate::error::Error;
use clap::CommandFactory;
use std::io::Write;

pub(super) fn completions(a: CompletionsArgs) -> Result<i32, Error> {
    let shell = match a.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    // Generated into memory first: clap_complete panics on a write error (e.g. a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    match std::io::stdout().lock().write_all(&script) {
        Ok(()) => Ok(crate::exit::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(crate::exit::SUCCESS),
        Err(e) => Err(Error::io("cannot write the completion script", e)),
    }
}
