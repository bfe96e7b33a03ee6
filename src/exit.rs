//! Exit codes, in one place.

/// Every selected task is done.
pub const SUCCESS: i32 = 0;
/// Some task failed (or the run stopped with tasks left).
pub const TASKS_FAILED: i32 = 1;
/// Bad usage or a bad spec; nothing was run.
pub const USAGE: i32 = 2;
/// Interrupted by Ctrl-C, SIGTERM or SIGUSR1.
pub const INTERRUPTED: i32 = 130;
