//! The subcommands: each turns parsed arguments into calls to the library and prints.

mod bench;
mod completions;
mod dry_run;
mod init;
mod models;
mod overrides;
mod progress;
mod report;
mod resources;
mod run;
mod signals;
mod slurm;
mod status;
mod status_csv;
mod task_status;
mod verify;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::model::Registry;

/// Runs the parsed command line with the built-in models; returns the exit code.
pub fn main(cli: Cli) -> i32 {
    main_with(cli, &Registry::builtin())
}

/// Runs the parsed command line against `registry`; returns the exit code.
pub fn main_with(cli: Cli, registry: &Registry) -> i32 {
    let result: Result<i32, Error> = match cli.command {
        Command::Run(a) => run::run(a, registry),
        Command::Slurm(a) => slurm::slurm(*a, registry),
        Command::Status(a) => match &a.csv {
            Some(file) => status_csv::csv(&a.target, file, registry),
            None => status::status(a, registry),
        },
        Command::Collect(a) => status::collect(a, registry),
        Command::Verify(a) => verify::verify(a, registry),
        Command::Models(a) => models::models(a, registry),
        Command::Report(a) => report::report(a),
        Command::Plot(a) => report::plot(a),
        Command::Completions(a) => completions::completions(a),
        Command::Init(a) => init::init(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            match &e {
                Error::Spec(s) => eprintln!("{s}"),
                other => eprintln!("error: {other}"),
            }
            crate::exit::Code::from(&e).0
        }
    }
}
