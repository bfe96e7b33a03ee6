//! The vocabulary every room shares about a task attempt: how it failed and how a run is
//! stopped. It sits below the scheduler, the journal, the result store and the task kinds,
//! so that none of them imports another to speak of a failure.

mod cancel;
pub mod metrics;
mod outcome;

pub use cancel::{Cancel, HookId, StopReason};
pub use outcome::{out_of_memory, FailureClass, TaskFailure};
