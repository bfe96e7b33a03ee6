//! The scheduler: runs tasks on a rayon pool, with retries, failure limits and cancellation.

mod cancel;
mod outcome;

pub use cancel::{Cancel, StopReason};
pub use outcome::{FailureClass, TaskFailure};
