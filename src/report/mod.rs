//! What people see: progress while a sweep runs and the summary after.

pub mod progress;
