//! A big grid run a window of tasks at a time, so that a run's memory does not grow with
//! the grid.
//!
//! A run keeps, for every task it holds, an id, a seed and a row (about 80 bytes): 800 MB
//! for 10 million tasks. A grid of more than [`window`] tasks (fixed replicates, no array
//! store, no persistent workers) is run instead over the sweep's [`Ledger`] (a bit per done
//! task, and the failed ones): each window's ids, seeds and rows are derived, filled from
//! the ledger, run by [`Run::part`], counted and dropped. Records in the journal number
//! their tasks by the whole grid, as any run's do. The session then writes `results.csv`
//! from the journals a window at a time (see [`crate::results::window`]).

use super::config::{RunConfig, RunOutcome, Selection};
use super::crashes::{Running, DEATHS_TO_SET_ASIDE};
use super::engine::{running_path, Part};
use super::rounds::merge;
use super::Run;
use crate::results::{Detail, Ledger, Row, Status, TaskTable};
use crate::spec::{ArrayLayout, Spec};
use std::io;
use std::sync::atomic::Ordering;

/// Tasks per window: about 80 MB of ids, seeds and rows. `SWEEP_RUN_WINDOW` sets another
/// size (tests).
pub const WINDOW: u64 = 1 << 20;

/// Tasks per window.
pub fn window() -> u64 {
    std::env::var("SWEEP_RUN_WINDOW").ok().and_then(|v| v.parse().ok()).filter(|&w| w > 0).unwrap_or(WINDOW)
}

/// Whether a run of `spec` goes a window at a time: a grid of more than a window of tasks,
/// with fixed replicates (adaptive ones decide from every replicate of a point), without
/// the array store (built from every task's arrays at the end) and without persistent
/// workers (which would start again for every window).
pub fn in_windows(spec: &Spec) -> bool {
    spec.task_count() > window()
        && !spec.in_rounds()
        && spec.arrays != ArrayLayout::Zarr
        && spec.task.worker().is_none()
}

/// What a run a window at a time leaves besides its outcome.
#[derive(Debug)]
pub struct Windowed {
    /// The run's outcome, over all windows.
    pub outcome: RunOutcome,
    /// (done, failed, pending) over the selected tasks after the run (a shard's, or all).
    pub counts: (u64, u64, u64),
    /// Some task of this run reported a metric.
    pub metrics: bool,
}

impl Run<'_> {
    /// Runs the selected, not-yet-done tasks of the sweep a window at a time; `ledger` is the
    /// sweep's state before the run. `each` is given every window's store once its tasks ran
    /// (or once the run was stopped), in grid order.
    pub fn windows(&mut self, ledger: &Ledger, each: &mut dyn FnMut(&TaskTable)) -> io::Result<Windowed> {
        let (spec, out, cfg, cancel, stats) =
            (self.spec, self.out, self.cfg.clone(), self.cancel.clone(), self.stats.clone());
        let (n, w) = (spec.task_count(), window());
        let shard = cfg.selection.shard();
        // Read once: the first window's run replaces the file.
        let crashed = Running::crashed(&running_path(out, shard));
        // The whole grid's count is known from the ledger, so progress shows the run's total
        // from the start; a shard's or a list's is counted window by window.
        let counted = matches!(cfg.selection, Selection::All);
        if counted {
            stats.to_run.fetch_add(runnable(ledger), Ordering::Relaxed);
        }
        let mut total: Option<RunOutcome> = None;
        let (mut already, mut counts, mut metrics) = (0, (0, 0, 0), false);
        let streak = std::sync::Mutex::new((String::new(), 0));
        let mut lo = 0;
        while lo < n {
            let hi = (lo + w).min(n);
            let mut store = TaskTable::range(spec, lo, hi);
            fill(&mut store, ledger);
            if !cancel.is_draining() {
                let selection = match &cfg.selection {
                    Selection::All => Selection::All,
                    Selection::Shard(s) => Selection::Shard(*s),
                    Selection::Indices(v) => {
                        Selection::Indices(v.iter().filter(|i| (lo..hi).contains(*i)).map(|i| i - lo).collect())
                    }
                };
                let failed_so_far = stats.failed.load(Ordering::Relaxed);
                let max_failures = cfg.max_failures.map(|m| m.saturating_sub(failed_so_far).max(1));
                // A run stops early when its first tasks all fail alike: not a window's first
                // tasks once an earlier window has done some.
                let keep_going = cfg.keep_going || stats.done.load(Ordering::Relaxed) > 0;
                let window_cfg = RunConfig { selection, max_failures, keep_going, ..cfg.clone() };
                let part = Part::Window { crashed: crashed.as_ref(), counted, streak: &streak };
                let o = self.with(window_cfg).part(&mut store, Vec::new(), part)?;
                already += o.already_done;
                metrics |= !store.keys.is_empty();
                total = Some(merge(total, o));
            }
            each(&store);
            let (d, f, p) = store.counts_in(shard);
            counts = (counts.0 + d, counts.1 + f, counts.2 + p);
            lo = hi;
        }
        let mut outcome = total.unwrap_or_default();
        outcome.already_done = already;
        // Stopped before a window ran (or between windows): say why, as a whole run does.
        outcome.stopped = outcome.stopped.or_else(|| cancel.reason());
        Ok(Windowed { outcome, counts, metrics })
    }
}

/// Tasks of the whole grid a run would run: neither done nor set aside.
fn runnable(ledger: &Ledger) -> u64 {
    let (done, _, _) = ledger.counts();
    let aside = ledger.failed().values().filter(|f| f.deaths >= DEATHS_TO_SET_ASIDE).count();
    ledger.tasks() - done - aside as u64
}

/// Sets the rows of `store` (a window of the grid) to the tasks' states in `ledger`: what
/// the run chooses its tasks by (done, failed with its attempts and deaths, or pending).
fn fill(store: &mut TaskTable, ledger: &Ledger) {
    let lo = store.base;
    let hi = lo + store.rows.len() as u64;
    for (i, row) in (lo..hi).zip(store.rows.iter_mut()) {
        if ledger.is_done(i) {
            row.status = Status::Done;
        }
    }
    for (&i, f) in ledger.failed().range(lo..hi) {
        let row = &mut store.rows[(i - lo) as usize];
        if row.status != Status::Done {
            *row = Row {
                status: Status::Failed,
                attempts: f.attempts,
                seconds: 0.0,
                detail: Detail::Failed(f.class, f.message.clone()),
                deaths: f.deaths,
            };
        }
    }
}
