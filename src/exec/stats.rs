//! Live counters of a run, read by the progress display.

use crate::grid::TaskId;
use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
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
    /// A copy of each slot's task, kept in the run's crash file (see
    /// [`super::crashes`]): [`MIRROR_WORDS`] words per slot, the task's id then 1 while it
    /// runs (0 when idle). Null: none. The file outlives a process killed by SIGKILL, which runs no handler.
    mirror: AtomicPtr<AtomicU64>,
}

/// Words of the crash file per slot: a cache line, as the slots themselves.
pub(super) const MIRROR_WORDS: usize = 8;

thread_local! {
    /// The slot of a thread that is not one of rayon's (a persistent worker's thread).
    static SLOT: Cell<Option<usize>> = const { Cell::new(None) };
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
            mirror: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Slots: one per worker, and one for any other thread.
    pub(super) fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Keeps a copy of every slot's running task in `words` (at least
    /// [`slots`](Self::slots) × [`MIRROR_WORDS`] of them, alive as long as `self`), or
    /// none (null).
    pub(super) fn set_mirror(&self, words: *mut AtomicU64) {
        self.mirror.store(words, Ordering::Release);
    }

    /// Makes the calling thread (not one of rayon's) use slot `slot`.
    pub(crate) fn use_slot(slot: usize) {
        SLOT.with(|s| s.set(Some(slot)));
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
        let i = rayon::current_thread_index()
            .or_else(|| SLOT.with(Cell::get))
            .unwrap_or(self.slots.len() - 1)
            .min(self.slots.len() - 1);
        let mirror = self.mirror.load(Ordering::Acquire);
        if !mirror.is_null() {
            // SAFETY: `set_mirror`'s caller keeps slots × MIRROR_WORDS words alive, and `i`
            // is a slot.
            let words = unsafe { std::slice::from_raw_parts(mirror.add(i * MIRROR_WORDS), 2) };
            match task {
                Some((t, _, _)) => {
                    words[0].store(t.0, Ordering::Relaxed);
                    words[1].store(1, Ordering::Release);
                }
                None => words[1].store(0, Ordering::Release),
            }
        }
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
