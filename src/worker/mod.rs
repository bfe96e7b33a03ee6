//! Persistent workers: long-lived processes that each start once (an interpreter, its
//! imports) and then run task after task, speaking the JSON-lines [`protocol`] on their
//! stdin and stdout. `[python]` runs a Python function through the driver in
//! `python/sweep/_worker.py`; `[worker]` runs any program that speaks the protocol.

pub mod process;
pub mod protocol;
pub mod python;

pub use process::{Ended, StartError, Worker};

use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

/// A validated `[python]` or `[worker]` table.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// Variables merged over the inherited environment (after the thread variables).
    pub env: Vec<(String, String)>,
    /// The worker's working directory (absolute).
    pub cwd: PathBuf,
    /// Per-task time limit.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when a worker is stopped.
    pub grace: Duration,
    /// Replace a worker after this many tasks (0: never).
    pub max_tasks: u64,
    /// The Python function, for `[python]`.
    pub python: Option<PythonFunction>,
    /// What identifies the task kind for resume checks.
    pub identity: serde_json::Value,
    /// Where the spec names what the worker runs (`function` or `argv`), for start-up errors.
    pub span: Range<usize>,
    /// `"python"` or `"worker"`: the table's name, in messages.
    pub table: &'static str,
}

/// The function a `[python]` sweep calls.
#[derive(Debug, Clone)]
pub struct PythonFunction {
    /// As written: `model.py:simulate` or `package.module:simulate`.
    pub function: String,
    /// The interpreter (absolute, or a name found on `PATH`).
    pub interpreter: PathBuf,
    /// The module's file, when `function` names one (absolute).
    pub file: Option<PathBuf>,
}
