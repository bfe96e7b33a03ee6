//! The scheduler: runs tasks on a rayon pool, with retries, failure limits and cancellation.
//!
//! `engine` chooses the tasks and runs the pools; a worker runs an `attempt` of each
//! task, the `recorder` puts every finished attempt in the store and the journal, and
//! the `writer` threads write arrays before their task is recorded.

mod attempt;
mod attempt_dirs;
mod config;
mod crashes;
mod engine;
mod journal_queue;
mod lane;
mod panic;
mod recorder;
mod rounds;
mod run;
mod stats;
mod windows;
mod workers;
mod writer;

pub use config::{FailureGroup, RunConfig, RunOutcome, Selection};
pub use crashes::DEATHS_TO_SET_ASIDE;
pub use recorder::FAIL_FAST_AFTER;
pub use run::Run;
pub use stats::Stats;
pub use windows::{in_windows, Windowed};
