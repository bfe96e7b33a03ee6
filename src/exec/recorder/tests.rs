//! The recorder's tests.

use super::*;
use crate::results::{Row, Status, TaskTable};
use crate::task::FailureClass;

struct Fixture {
    store: TaskTable,
    journal: JournalQueue,
    stats: Stats,
    cancel: Cancel,
}

fn fixture(tasks: u64) -> Fixture {
    let store = TaskTable {
        idents: (0..tasks).map(|i| (TaskId(i), i * 10)).collect(),
        rows: vec![Row::default(); tasks as usize],
        keys: Vec::new(),
        adaptive: None,
        refine: None,
        base: 0,
    };
    Fixture { store, journal: JournalQueue::default(), stats: Stats::new(1), cancel: Cancel::new() }
}

fn attempt(index: u64, number: u32, last: bool) -> Attempt {
    Attempt { index, number, seconds: 0.5, last, at: Instant::now() }
}

/// Stop after `max_failures` failed tasks, or (with `fail_fast`) when the first fail alike.
fn limits(max_failures: Option<u64>, fail_fast: bool) -> Limits {
    Limits { max_failures, fail_fast, streak: Default::default() }
}

fn failure(msg: &str) -> TaskFailure {
    TaskFailure::new(FailureClass::Error, msg)
}

#[test]
fn a_retried_failure_is_journaled_but_only_the_last_attempt_counts() {
    let mut f = fixture(2);
    let (idents, rows) = f.store.split();
    let idents = idents.to_vec();
    let rec = Recorder::new(rows, &idents, 0, &f.journal, &f.stats, &f.cancel, limits(Some(1), false));
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
    let rec = Recorder::new(rows, &idents, 0, &f.journal, &f.stats, &f.cancel, limits(Some(3), false));
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
    let rec = Recorder::new(rows, &idents, 0, &f.journal, &f.stats, &f.cancel, limits(None, false));
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
    let rec = Recorder::new(rows, &idents, 0, &f.journal, &f.stats, &f.cancel, limits(None, false));
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
        let rec = Recorder::new(rows, &idents, 0, &f.journal, &f.stats, &f.cancel, limits(None, fail_fast));
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
