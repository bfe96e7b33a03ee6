//! The scheduler: runs tasks on a rayon pool, with retries, failure limits and cancellation.

mod cancel;
mod engine;
mod journal_queue;
mod outcome;
mod panic;
pub mod signals;
mod stats;

pub use cancel::{Cancel, StopReason};
pub use engine::{execute, RunConfig, RunOutcome, Selection};
pub use outcome::{FailureClass, TaskFailure};
pub use stats::Stats;
