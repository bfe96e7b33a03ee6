//! Stopping a run: the first request drains (no new tasks), the second stops at once.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

/// Why a run stopped starting new tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C, SIGTERM or SIGUSR1.
    Interrupted,
    /// `--max-failures` was reached.
    MaxFailures(u64),
    /// Outputs cannot be written (disk full, read-only, permissions): the OS error.
    Io(String),
    /// A time limit the caller set passed (the pilot run of a benchmark); running tasks
    /// finish normally.
    TimeLimit,
}

/// Shared between the scheduler, the workers, running commands and the signal handler.
#[derive(Debug, Default)]
pub struct Cancel {
    /// 0 running, 1 draining, 2 killing.
    level: AtomicU8,
    reason: Mutex<Option<StopReason>>,
}

impl Cancel {
    /// A token that has not been cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops starting new tasks (the first reason given is kept).
    pub fn drain(&self, reason: StopReason) {
        let mut r = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if r.is_none() {
            *r = Some(reason);
        }
        self.level.fetch_max(1, Ordering::SeqCst);
    }

    /// Stops everything now: running commands are killed.
    pub fn kill(&self) {
        self.drain(StopReason::Interrupted);
        self.level.store(2, Ordering::SeqCst);
    }

    /// Whether new tasks must not start.
    #[inline]
    pub fn is_draining(&self) -> bool {
        self.level.load(Ordering::Relaxed) >= 1
    }

    /// Whether running work must stop now.
    pub fn is_killed(&self) -> bool {
        self.level.load(Ordering::Relaxed) >= 2
    }

    /// Whether the run was interrupted by a signal (so running commands should stop too).
    pub fn is_interrupted(&self) -> bool {
        self.reason() == Some(StopReason::Interrupted)
    }

    /// The reason for stopping, if any.
    pub fn reason(&self) -> Option<StopReason> {
        self.reason.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
