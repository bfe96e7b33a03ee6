//! What running one task attempt produced.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a task attempt failed, for `results.csv`, `sweep status` and the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureClass {
    /// The model returned an error.
    Error,
    /// The model panicked.
    Panic,
    /// A command exited with a non-zero status.
    Exit,
    /// A command was killed by a signal.
    Signal,
    /// A command ran past its timeout.
    Timeout,
    /// A command could not be started.
    Spawn,
    /// Writing the task's outputs failed (disk full, permissions, ...).
    Io,
    /// The process running the task died (a persistent worker crashed, was killed by the
    /// OOM killer, or sweep itself died while the task ran, twice).
    Crash,
    /// The run was interrupted while the task ran.
    Interrupted,
    /// The task's processes grew past its `[resources] memory` and were stopped.
    Memory,
}

impl FailureClass {
    /// The lowercase name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Error => "error",
            FailureClass::Panic => "panic",
            FailureClass::Exit => "exit",
            FailureClass::Signal => "signal",
            FailureClass::Timeout => "timeout",
            FailureClass::Spawn => "spawn",
            FailureClass::Io => "io",
            FailureClass::Crash => "crash",
            FailureClass::Interrupted => "interrupted",
            FailureClass::Memory => "memory",
        }
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed attempt: its class and a message for people.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskFailure {
    /// What kind of failure.
    pub class: FailureClass,
    /// What happened, e.g. `exit status 3: <last lines of stderr>`.
    pub message: String,
}

impl TaskFailure {
    /// A failure of class `class`.
    pub fn new(class: FailureClass, message: impl Into<String>) -> Self {
        Self { class, message: message.into() }
    }
}

/// The failure of a task stopped for its memory: the limit and the peak it reached.
pub fn out_of_memory(peak: u64, limit: u64) -> TaskFailure {
    use crate::resources::format_size;
    TaskFailure::new(
        FailureClass::Memory,
        format!(
            "stopped: its processes grew to {} of memory, past its limit of {} ([resources] memory); \
             ask for more, or run fewer tasks at once",
            format_size(peak),
            format_size(limit)
        ),
    )
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.message)
    }
}
