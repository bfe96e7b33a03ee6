//! Recording finished attempts: each in the result store (under one lock) and in the
//! journal (through the journal thread's queue), counting done and failed tasks, keeping
//! the first failures for the summary, and stopping the run at `--max-failures`.
//!
//! Workers collect their records in a [`Batch`] and hand it over in one piece, so workers
//! running tiny tasks do not take the shared lock per task.

use super::journal_queue::{JournalQueue, Marks};
use super::Stats;
use crate::grid::TaskId;
use crate::model::Metric;
use crate::results::RowsMut;
use crate::task::{Cancel, StopReason, TaskFailure};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keep this many failure messages for the summary.
const KEEP_FAILURES: usize = 5;
/// A batch is handed over once it holds this many records...
const BATCH_LEN: usize = 256;
/// ...or its oldest record is this old.
const BATCH_AGE: Duration = Duration::from_millis(20);

/// A finished attempt of task `index`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Attempt {
    pub index: u64,
    /// Its number, counting earlier runs' attempts.
    pub number: u32,
    pub seconds: f64,
    /// The task's last attempt (not retried).
    pub last: bool,
    pub at: Instant,
}

/// The retry rule of every kind of task: a failed attempt is its task's last when the task
/// has had its `retries` (`tried` counts the attempts this run made of it, this one
/// included), or when the run is stopping.
pub(super) fn is_last_try(tried: u32, retries: u32, cancel: &Cancel) -> bool {
    tried > retries || cancel.is_draining()
}

/// A finished attempt waiting to be recorded in the store; its journal line is already
/// formatted in the batch's `lines`.
struct Pending {
    attempt: Attempt,
    /// Done: the range of its metrics in the batch's `metrics`. Failed: why.
    result: Result<Range<usize>, TaskFailure>,
}

/// Finished attempts, handed to the shared journal and store together.
#[derive(Default)]
pub(super) struct Records {
    items: Vec<Pending>,
    /// The metrics of the done items, one after another.
    metrics: Vec<(Cow<'static, str>, Metric)>,
    /// Their journal lines.
    lines: Vec<u8>,
    /// What the lines say, for the journal's ledger.
    marks: Marks,
    /// The grid index of the run's task 0: a run over a window of the grid numbers its
    /// tasks from the window's start, the journal by the whole grid.
    base: u64,
}

impl Records {
    /// Adds an attempt of task `id` and formats its journal line (outside any lock); done
    /// attempts' metrics are moved out of `result`.
    pub fn push(&mut self, id: TaskId, a: Attempt, result: Result<&mut Vec<(Cow<'static, str>, Metric)>, TaskFailure>) {
        let result = match result {
            Ok(ms) => {
                let start = self.metrics.len();
                self.metrics.append(ms);
                let range = start..self.metrics.len();
                crate::journal::format_record(
                    &mut self.lines,
                    id,
                    self.base + a.index,
                    a.number,
                    a.seconds,
                    Ok(&self.metrics[range.clone()]),
                );
                self.marks.done.push(self.base + a.index);
                Ok(range)
            }
            Err(f) => {
                crate::journal::format_record(&mut self.lines, id, self.base + a.index, a.number, a.seconds, Err(&f));
                let message = f.message.as_str().into();
                self.marks.failed.push((self.base + a.index, a.number, f.class, message));
                Err(f)
            }
        };
        self.items.push(Pending { attempt: a, result });
    }

    /// Adds a done attempt with its metrics (moved out), the checksums of the files it left
    /// in its task directory (if it left one) and how many arrays it staged.
    pub fn push_done(
        &mut self,
        id: TaskId,
        a: Attempt,
        metrics: &mut Vec<(Cow<'static, str>, Metric)>,
        files: Option<&[crate::io::FileDigest]>,
        staged: usize,
    ) {
        self.push(id, a, Ok(metrics));
        if let Some(files) = files {
            self.push_files(files);
        }
        if staged > 0 {
            self.push_staged(staged);
        }
    }

    /// Adds the checksums of its output files to the done attempt pushed last (see
    /// [`crate::journal::append_files`]); called only for attempts that left a directory.
    pub fn push_files(&mut self, files: &[crate::io::FileDigest]) {
        debug_assert!(self.items.last().is_some_and(|p| p.result.is_ok()));
        crate::journal::append_files(&mut self.lines, files);
    }

    /// Adds how many arrays it staged to the done attempt pushed last (see
    /// [`crate::journal::append_staged`]).
    pub fn push_staged(&mut self, arrays: usize) {
        debug_assert!(self.items.last().is_some_and(|p| p.result.is_ok()));
        crate::journal::append_staged(&mut self.lines, arrays);
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn clear(&mut self) {
        self.items.clear();
        self.metrics.clear();
        self.lines.clear();
        self.marks.clear();
    }
}

/// Failures with the same class and message, for the summary: how many, and the first.
#[derive(Clone, Debug, PartialEq)]
pub struct FailureGroup {
    /// `class: message` (the message's first line).
    pub error: String,
    /// Tasks of this run that failed so.
    pub count: u64,
    /// The first of them, by grid index.
    pub first: u64,
}

/// Distinct errors kept for the summary at most (the rest are counted in `others`).
const KEEP_GROUPS: usize = 100;
/// The first failures of a run, all alike and with nothing done yet, that stop it.
pub const FAIL_FAST_AFTER: u32 = 5;

/// What the run records under its lock.
struct Sink<'s> {
    rows: RowsMut<'s>,
    first_failures: Vec<(TaskId, String)>,
    groups: Vec<FailureGroup>,
    /// Failed tasks whose error did not fit in `groups`.
    others: u64,
    /// Tasks done in this run.
    done: u64,
    /// The same error, this many times in a row, with nothing done.
    streak: (String, u32),
}

/// When a run stops early.
pub(super) struct Limits {
    /// After this many failed tasks (`--max-failures`).
    pub max_failures: Option<u64>,
    /// When the first tasks all fail alike (off with `--keep-going`).
    pub fail_fast: bool,
    /// The error the run's last failures had in common, and how many in a row: a window of
    /// a run goes on from the windows before it.
    pub streak: (String, u32),
}

/// Records every attempt of a run.
pub(super) struct Recorder<'a, 's> {
    sink: Mutex<Sink<'s>>,
    journal: &'a JournalQueue,
    stats: &'a Stats,
    cancel: &'a Cancel,
    idents: &'a [(TaskId, u64)],
    /// See [`Records`]' `base`.
    base: u64,
    max_failures: Option<u64>,
    /// Stop when the first tasks all fail alike (off with `--keep-going`).
    fail_fast: bool,
    failed_tasks: AtomicU64,
}

impl<'a, 's> Recorder<'a, 's> {
    /// A recorder writing into `rows` (tasks `idents`) and `journal`.
    pub fn new(
        rows: RowsMut<'s>,
        idents: &'a [(TaskId, u64)],
        base: u64,
        journal: &'a JournalQueue,
        stats: &'a Stats,
        cancel: &'a Cancel,
        Limits { max_failures, fail_fast, streak }: Limits,
    ) -> Self {
        let sink = Sink { rows, first_failures: Vec::new(), groups: Vec::new(), others: 0, done: 0, streak };
        Recorder {
            sink: Mutex::new(sink),
            journal,
            stats,
            cancel,
            idents,
            base,
            max_failures,
            fail_fast,
            failed_tasks: AtomicU64::new(0),
        }
    }

    /// The error the last failures had in common, and how many in a row.
    pub fn streak(&self) -> (String, u32) {
        self.sink.lock().unwrap_or_else(|e| e.into_inner()).streak.clone()
    }

    /// An empty set of records for this run.
    pub fn records(&self) -> Records {
        Records { base: self.base, ..Records::default() }
    }

    /// Records attempts in the store (under the shared lock), then queues their journal
    /// lines, and empties `records`.
    pub fn record_many(&self, records: &mut Records) {
        let mut guard = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let s = &mut *guard;
        let (mut done, mut failed) = (0, 0);
        for Pending { attempt: a, result } in &records.items {
            let metrics = result.as_ref().map(|r| records.metrics[r.clone()].iter().map(|(k, v)| (k.as_ref(), v)));
            s.rows.apply(a.index, a.number, a.seconds, metrics);
            match result {
                _ if !a.last => {}
                Ok(_) => {
                    done += 1;
                    s.done += 1;
                }
                Err(f) => {
                    failed += 1;
                    if s.first_failures.len() < KEEP_FAILURES {
                        s.first_failures.push((self.idents[a.index as usize].0, f.to_string()));
                    }
                    let error = format!("{}: {}", f.class, f.message.lines().next().unwrap_or(""));
                    match s.groups.iter().position(|g| g.error == error) {
                        Some(i) => {
                            let g = &mut s.groups[i];
                            g.count += 1;
                            g.first = g.first.min(self.base + a.index);
                        }
                        None if s.groups.len() < KEEP_GROUPS => {
                            s.groups.push(FailureGroup { error: error.clone(), count: 1, first: self.base + a.index })
                        }
                        None => s.others += 1,
                    }
                    if s.streak.0 == error {
                        s.streak.1 += 1;
                    } else {
                        s.streak = (error, 1);
                    }
                    if self.fail_fast && s.done == 0 && s.streak.1 >= FAIL_FAST_AFTER {
                        self.cancel.drain(StopReason::FailFast(s.streak.0.clone()));
                    }
                    let n = self.failed_tasks.fetch_add(1, Ordering::Relaxed) + 1;
                    if self.max_failures.is_some_and(|m| n >= m) {
                        self.cancel.drain(StopReason::MaxFailures(n));
                    }
                }
            }
        }
        if let Some(last) = records.items.last() {
            self.stats.mark_finished(done, failed, last.attempt.at);
        }
        drop(guard);
        self.journal.push_marked(&records.lines, &mut records.marks);
        records.clear();
    }

    /// The first failures recorded, and the failures grouped by error (most frequent
    /// first) with the count of those that did not fit, for the summary.
    pub fn into_failures(self) -> (Vec<(TaskId, String)>, Vec<FailureGroup>, u64) {
        let mut s = self.sink.into_inner().unwrap_or_else(|e| e.into_inner());
        s.groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.first.cmp(&b.first)));
        (s.first_failures, s.groups, s.others)
    }
}

/// A worker's records on their way to the [`Recorder`]: handed over when full, old, after
/// a slow task or a failure, and when the worker's job ends (drop), so a record waits at
/// most a few milliseconds unless the tasks themselves are that short.
pub(super) struct Batch<'r, 'a, 's> {
    recorder: &'r Recorder<'a, 's>,
    pub records: Records,
    since: Option<Instant>,
}

impl<'r, 'a, 's> Batch<'r, 'a, 's> {
    pub fn new(recorder: &'r Recorder<'a, 's>) -> Self {
        Batch { recorder, records: recorder.records(), since: None }
    }

    /// Call after pushing a record at `at`: hands the batch over when it is due.
    pub fn pushed(&mut self, at: Instant, urgent: bool) {
        let since = *self.since.get_or_insert(at);
        if urgent || self.records.items.len() >= BATCH_LEN || at.saturating_duration_since(since) >= BATCH_AGE {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.records.is_empty() {
            self.recorder.record_many(&mut self.records);
        }
        self.since = None;
    }
}

impl Clone for Batch<'_, '_, '_> {
    /// A new, empty batch for a split of the work (records stay with their batch).
    fn clone(&self) -> Self {
        Batch::new(self.recorder)
    }
}

impl Drop for Batch<'_, '_, '_> {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests;
