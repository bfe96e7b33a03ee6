//! Live counters of a run, read by the progress display.

use crate::grid::TaskId;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Per worker: the running task and its start (nanoseconds since `started`; `IDLE` when none).
    slots: Vec<Slot>,
}

const IDLE: u64 = u64::MAX;

/// One worker's running task: a cache line of its own, as workers write it twice per task.
#[repr(align(64))]
#[derive(Debug)]
struct Slot {
    id: AtomicU64,
    /// Its grid index.
    index: AtomicU64,
    start: AtomicU64,
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
            slots: (0..workers + 1)
                .map(|_| Slot { id: AtomicU64::new(0), index: AtomicU64::new(0), start: AtomicU64::new(IDLE) })
                .collect(),
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

    /// Counts `done` and `failed` finished tasks; `at` is when the last of them finished.
    pub(crate) fn mark_finished(&self, done: u64, failed: u64, at: Instant) {
        if done > 0 {
            self.done.fetch_add(done, Ordering::Relaxed);
        }
        if failed > 0 {
            self.failed.fetch_add(failed, Ordering::Relaxed);
        }
        let ms = at.saturating_duration_since(self.started).as_millis() as u64;
        self.last_finish_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// Marks the calling worker as running `task` (grid index `index`) since `since`, or
    /// idle.
    pub(crate) fn set_running(&self, task: Option<(TaskId, u64, Instant)>) {
        let i = rayon::current_thread_index().unwrap_or(self.slots.len() - 1).min(self.slots.len() - 1);
        let Slot { id, index, start } = &self.slots[i];
        match task {
            Some((t, at, since)) => {
                id.store(t.0, Ordering::Relaxed);
                index.store(at, Ordering::Relaxed);
                start.store(since.saturating_duration_since(self.started).as_nanos() as u64, Ordering::Relaxed);
            }
            None => start.store(IDLE, Ordering::Relaxed),
        }
    }

    /// Calls `f` with the id of every task running now. Only atomic loads: a signal
    /// handler may call it.
    pub(crate) fn for_each_running(&self, mut f: impl FnMut(u64)) {
        for Slot { id, start, .. } in &self.slots {
            if start.load(Ordering::Relaxed) != IDLE {
                f(id.load(Ordering::Relaxed));
            }
        }
    }

    /// The task that has been running longest (its id and grid index), and for how long.
    pub fn slowest_running(&self) -> Option<(TaskId, u64, Duration)> {
        let now = self.elapsed().as_nanos() as u64;
        self.slots
            .iter()
            .filter_map(|Slot { id, index, start }| {
                let s = start.load(Ordering::Relaxed);
                (s != IDLE).then(|| {
                    let d = Duration::from_nanos(now.saturating_sub(s));
                    (TaskId(id.load(Ordering::Relaxed)), index.load(Ordering::Relaxed), d)
                })
            })
            .max_by_key(|(_, _, d)| *d)
    }
}
