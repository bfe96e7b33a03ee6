//! Stopping a run: the first request drains (no new tasks), the second stops at once.

use std::fmt;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Why a run stopped starting new tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C, SIGTERM, SIGHUP or SIGUSR1.
    Interrupted,
    /// `--max-failures` was reached.
    MaxFailures(u64),
    /// Outputs cannot be written (disk full, read-only, permissions): the OS error.
    Io(String),
    /// The first tasks all failed with this error, and none was done: the rest would too.
    FailFast(String),
    /// Workers keep failing to start (the last error, with its detail).
    Workers(String),
    /// A time limit the caller set passed (the pilot run of a benchmark); running tasks
    /// finish normally.
    TimeLimit,
}

type Hook = Box<dyn Fn() + Send + Sync>;

/// Shared between the scheduler, the workers, running commands and the signal handler.
#[derive(Default)]
pub struct Cancel {
    /// 0 running, 1 draining, 2 killing.
    level: AtomicU8,
    reason: Mutex<Option<StopReason>>,
    /// Run by [`Cancel::kill`], on the killing thread, before it returns.
    hooks: Mutex<Vec<(usize, Hook)>>,
    next_hook: AtomicUsize,
}

/// A hook registered with [`Cancel::on_kill`]; pass it to [`Cancel::remove_hook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookId(usize);

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancel").field("level", &self.level).field("reason", &self.reason()).finish_non_exhaustive()
    }
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

    /// Stops everything now: the hooks run (they kill running commands and workers) before
    /// this returns, so a caller that exits the process next leaves no child behind.
    pub fn kill(&self) {
        self.drain(StopReason::Interrupted);
        self.level.store(2, Ordering::SeqCst);
        for (_, hook) in self.hooks.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            hook();
        }
    }

    /// Registers `hook` to run on [`kill`](Self::kill) (at once, if it already happened).
    pub fn on_kill(&self, hook: impl Fn() + Send + Sync + 'static) -> HookId {
        let id = HookId(self.next_hook.fetch_add(1, Ordering::Relaxed));
        let mut hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_killed() {
            hook();
        }
        hooks.push((id.0, Box::new(hook)));
        id
    }

    /// Forgets a hook (its owner is going away).
    pub fn remove_hook(&self, id: HookId) {
        self.hooks.lock().unwrap_or_else(|e| e.into_inner()).retain(|(i, _)| *i != id.0);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::sync::Arc;

    #[test]
    fn the_first_reason_is_kept_and_kill_runs_the_hooks_it_still_has() {
        let c = Cancel::new();
        let calls = Arc::new(AtomicU32::new(0));
        let (a, b) = (calls.clone(), calls.clone());
        let first = c.on_kill(move || {
            a.fetch_add(1, Ordering::SeqCst);
        });
        c.on_kill(move || {
            b.fetch_add(10, Ordering::SeqCst);
        });
        c.remove_hook(first);
        c.drain(StopReason::MaxFailures(3));
        assert!(c.is_draining() && !c.is_killed());
        c.kill();
        assert!(c.is_killed());
        assert_eq!(c.reason(), Some(StopReason::MaxFailures(3)));
        assert_eq!(calls.load(Ordering::SeqCst), 10);
        // A hook registered after the kill runs at once.
        let late = calls.clone();
        c.on_kill(move || {
            late.fetch_add(100, Ordering::SeqCst);
        });
        assert_eq!(calls.load(Ordering::SeqCst), 110);
    }
}
