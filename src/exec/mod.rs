//! The scheduler: runs tasks on a rayon pool, with retries, failure limits and cancellation.

mod engine;
mod journal_queue;
mod panic;
mod stats;

pub use engine::{execute, RunConfig, RunOutcome, Selection};
pub use stats::Stats;
