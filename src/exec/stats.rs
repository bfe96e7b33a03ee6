//! Live counters of a run, read by the progress display.

use crate::grid::TaskId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counters the workers update and listeners read; all lock-free except the
/// per-worker "running" slots.
#[derive(Debug)]
pub struct Stats {
    /// Tasks this run will try.
    pub to_run: AtomicU64,
    /// Tasks finished done in this run.
    pub done: AtomicU64,
    /// Tasks finished failed in this run (after their retries).
    pub failed: AtomicU64,
    /// Attempts retried.
    pub retried: AtomicU64,
    /// Bytes of arrays written.
    pub bytes: AtomicU64,
    /// Milliseconds since start at the last finish.
    last_finish_ms: AtomicU64,
    started: Instant,
    slots: Vec<Mutex<Option<(TaskId, Instant)>>>,
}

impl Stats {
    /// Counters for a run with `workers` threads.
    pub fn new(workers: usize) -> Self {
        Self {
            to_run: AtomicU64::new(0),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            last_finish_ms: AtomicU64::new(0),
            started: Instant::now(),
            slots: (0..workers + 1).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Tasks finished (done or failed) so far.
    pub fn finished(&self) -> u64 {
        self.done.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed)
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Time since the last task finished (or since the start).
    pub fn since_last_finish(&self) -> Duration {
        self.elapsed().saturating_sub(Duration::from_millis(self.last_finish_ms.load(Ordering::Relaxed)))
    }

    pub(crate) fn mark_finish(&self, done: bool) {
        if done {
            self.done.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.last_finish_ms.store(self.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    pub(crate) fn set_running(&self, task: Option<TaskId>) {
        let i = rayon::current_thread_index().unwrap_or(self.slots.len() - 1).min(self.slots.len() - 1);
        if let Ok(mut s) = self.slots[i].lock() {
            *s = task.map(|t| (t, Instant::now()));
        }
    }

    /// The task that has been running longest, and for how long.
    pub fn slowest_running(&self) -> Option<(TaskId, Duration)> {
        self.slots
            .iter()
            .filter_map(|s| s.lock().ok().and_then(|g| *g))
            .map(|(t, since)| (t, since.elapsed()))
            .max_by_key(|(_, d)| *d)
    }

    /// Tasks running now.
    pub fn running(&self) -> usize {
        self.slots.iter().filter(|s| s.lock().map(|g| g.is_some()).unwrap_or(false)).count()
    }
}
