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
                    a.index,
                    a.number,
                    a.seconds,
                    Ok(&self.metrics[range.clone()]),
                );
                self.marks.done.push(a.index);
                Ok(range)
            }
            Err(f) => {
                crate::journal::format_record(&mut self.lines, id, a.index, a.number, a.seconds, Err(&f));
                let message = f.message.as_str().into();
                self.marks.failed.push((a.index, a.number, f.class, message));
                Err(f)
            }
        };
        self.items.push(Pending { attempt: a, result });
    }

    /// Adds the checksums of its output files to the done attempt pushed last (see
    /// [`crate::journal::append_files`]); called only for attempts that left a directory.
    pub fn push_files(&mut self, files: &[crate::io::FileDigest]) {
        debug_assert!(self.items.last().is_some_and(|p| p.result.is_ok()));
        crate::journal::append_files(&mut self.lines, files);
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

/// Records every attempt of a run.
pub(super) struct Recorder<'a, 's> {
    sink: Mutex<Sink<'s>>,
    journal: &'a JournalQueue,
    stats: &'a Stats,
    cancel: &'a Cancel,
    idents: &'a [(TaskId, u64)],
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
        journal: &'a JournalQueue,
        stats: &'a Stats,
        cancel: &'a Cancel,
        max_failures: Option<u64>,
        fail_fast: bool,
    ) -> Self {
        let sink = Sink {
            rows,
            first_failures: Vec::new(),
            groups: Vec::new(),
            others: 0,
            done: 0,
            streak: (String::new(), 0),
        };
        Recorder {
            sink: Mutex::new(sink),
            journal,
            stats,
            cancel,
            idents,
            max_failures,
            fail_fast,
            failed_tasks: AtomicU64::new(0),
        }
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
                            g.first = g.first.min(a.index);
                        }
                        None if s.groups.len() < KEEP_GROUPS => {
                            s.groups.push(FailureGroup { error: error.clone(), count: 1, first: a.index })
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
        Batch { recorder, records: Records::default(), since: None }
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
mod tests {
    use super::*;
    use crate::results::{Row, Status, Store};
    use crate::task::FailureClass;

    struct Fixture {
        store: Store,
        journal: JournalQueue,
        stats: Stats,
        cancel: Cancel,
    }

    fn fixture(tasks: u64) -> Fixture {
        let store = Store {
            idents: (0..tasks).map(|i| (TaskId(i), i * 10)).collect(),
            rows: vec![Row::default(); tasks as usize],
            keys: Vec::new(),
            adaptive: None,
            own: None,
        };
        Fixture { store, journal: JournalQueue::default(), stats: Stats::new(1), cancel: Cancel::new() }
    }

    fn attempt(index: u64, number: u32, last: bool) -> Attempt {
        Attempt { index, number, seconds: 0.5, last, at: Instant::now() }
    }

    fn failure(msg: &str) -> TaskFailure {
        TaskFailure::new(FailureClass::Error, msg)
    }

    #[test]
    fn a_retried_failure_is_journaled_but_only_the_last_attempt_counts() {
        let mut f = fixture(2);
        let (idents, rows) = f.store.split();
        let idents = idents.to_vec();
        let rec = Recorder::new(rows, &idents, &f.journal, &f.stats, &f.cancel, Some(1), false);
        let mut records = Records::default();
        records.push(TaskId(0), attempt(0, 1, false), Err(failure("first try")));
        let mut metrics = vec![("y".into(), Metric::Int(4))];
        records.push(TaskId(0), attempt(0, 2, true), Ok(&mut metrics));
        rec.record_many(&mut records);
        assert!(records.is_empty());
        assert!(!f.cancel.is_draining(), "a retried failure is not a failed task for --max-failures");
        assert!(rec.into_failures().0.is_empty());
        assert_eq!((f.stats.done.load(Ordering::Relaxed), f.stats.failed.load(Ordering::Relaxed)), (1, 0));
        let row = &f.store.rows[0];
        assert_eq!((row.status, row.attempts), (Status::Done, 2));
        let lines = String::from_utf8(f.journal.take()).unwrap();
        assert_eq!(lines.lines().count(), 2, "both attempts are journaled: {lines}");
        assert!(lines.contains("\"a\":1,") && lines.contains("first try"), "{lines}");
    }

    #[test]
    fn max_failures_drains_the_run_at_the_nth_failed_task() {
        let mut f = fixture(5);
        let (idents, rows) = f.store.split();
        let idents = idents.to_vec();
        let rec = Recorder::new(rows, &idents, &f.journal, &f.stats, &f.cancel, Some(3), false);
        for i in 0..2 {
            let mut records = Records::default();
            records.push(TaskId(i), attempt(i, 1, true), Err(failure("boom")));
            rec.record_many(&mut records);
        }
        assert!(!f.cancel.is_draining(), "2 of 3 allowed failures");
        let mut records = Records::default();
        records.push(TaskId(2), attempt(2, 1, true), Err(failure("boom")));
        rec.record_many(&mut records);
        assert_eq!(f.cancel.reason(), Some(StopReason::MaxFailures(3)));
        assert_eq!(f.stats.failed.load(Ordering::Relaxed), 3);
        assert_eq!(rec.into_failures().0.len(), 3);
        assert_eq!(f.store.counts(), (0, 3, 2));
    }

    #[test]
    fn only_the_first_failures_are_kept_for_the_summary() {
        let mut f = fixture(20);
        let (idents, rows) = f.store.split();
        let idents = idents.to_vec();
        let rec = Recorder::new(rows, &idents, &f.journal, &f.stats, &f.cancel, None, false);
        let mut records = Records::default();
        for i in 0..20 {
            records.push(TaskId(i), attempt(i, 1, true), Err(failure(&format!("task {i}"))));
        }
        rec.record_many(&mut records);
        let kept = rec.into_failures().0;
        assert_eq!(kept.len(), KEEP_FAILURES);
        assert_eq!(kept[0], (TaskId(0), "error: task 0".to_string()));
        assert!(!f.cancel.is_draining());
    }

    #[test]
    fn a_batch_is_handed_over_when_urgent_full_or_dropped() {
        let mut f = fixture(BATCH_LEN as u64 + 2);
        let (idents, rows) = f.store.split();
        let idents = idents.to_vec();
        let rec = Recorder::new(rows, &idents, &f.journal, &f.stats, &f.cancel, None, false);
        let now = Instant::now();
        {
            let mut batch = Batch::new(&rec);
            let mut none = Vec::new();
            batch.records.push(TaskId(0), attempt(0, 1, true), Ok(&mut none));
            batch.pushed(now, false);
            assert_eq!(f.stats.done.load(Ordering::Relaxed), 0, "one fresh record waits");
            batch.records.push(TaskId(1), attempt(1, 1, true), Err(failure("x")));
            batch.pushed(now, true);
            assert_eq!(f.stats.finished(), 2, "a failure is handed over at once");
            for i in 2..BATCH_LEN as u64 + 1 {
                batch.records.push(TaskId(i), attempt(i, 1, true), Ok(&mut none));
                batch.pushed(now, false);
            }
            assert_eq!(f.stats.finished(), 2, "{} records wait", BATCH_LEN - 1);
            batch.records.push(TaskId(BATCH_LEN as u64 + 1), attempt(BATCH_LEN as u64 + 1, 1, true), Ok(&mut none));
            batch.pushed(now, false);
            assert_eq!(f.stats.finished(), BATCH_LEN as u64 + 2, "a full batch is handed over");
            batch.records.push(TaskId(0), attempt(0, 2, true), Ok(&mut none));
            batch.pushed(now, false);
            batch.records.push(TaskId(1), attempt(1, 2, true), Ok(&mut none));
            batch.pushed(now + BATCH_AGE, false);
            assert_eq!(f.stats.finished(), BATCH_LEN as u64 + 4, "an old batch is handed over");
            batch.records.push(TaskId(2), attempt(2, 2, true), Ok(&mut none));
            batch.pushed(now, false);
            assert_eq!(f.stats.finished(), BATCH_LEN as u64 + 4);
        }
        assert_eq!(f.stats.finished(), BATCH_LEN as u64 + 5, "a dropped batch hands over what it holds");
    }

    #[test]
    fn the_first_failures_all_alike_stop_the_run_unless_something_is_done() {
        let run = |fail_fast: bool, done_first: bool| {
            let mut f = fixture(20);
            let (idents, rows) = f.store.split();
            let idents = idents.to_vec();
            let rec = Recorder::new(rows, &idents, &f.journal, &f.stats, &f.cancel, None, fail_fast);
            let mut records = Records::default();
            if done_first {
                records.push(TaskId(19), attempt(19, 1, true), Ok(&mut Vec::new()));
            }
            for i in 0..FAIL_FAST_AFTER as u64 {
                records.push(TaskId(i), attempt(i, 1, true), Err(failure("can't open file 'sim.py'")));
                rec.record_many(&mut records);
            }
            let (_, groups, others) = rec.into_failures();
            (f.cancel.reason(), groups, others)
        };
        let (reason, groups, others) = run(true, false);
        assert_eq!(reason, Some(StopReason::FailFast("error: can't open file 'sim.py'".into())));
        assert_eq!(groups, [FailureGroup { error: "error: can't open file 'sim.py'".into(), count: 5, first: 0 }]);
        assert_eq!(others, 0);
        assert_eq!(run(false, false).0, None, "--keep-going");
        assert_eq!(run(true, true).0, None, "a task was done: the error is not everything's");
    }
}
