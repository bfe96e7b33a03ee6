//! The result store: one compact row per grid task, filled from journals and the
//! running sweep.

use crate::grid::refine::Slots;
use crate::grid::{Adaptive, TaskId};
use crate::journal::Record;
use crate::model::Metric;
use crate::spec::Spec;
use crate::task::{FailureClass, TaskFailure};
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// A task's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Never finished (not run, or interrupted).
    Pending,
    /// Finished; outputs in place.
    Done,
    /// Failed on its last attempt.
    Failed,
}

impl Status {
    /// The `results.csv` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Done => "done",
            Status::Failed => "failed",
        }
    }
}

/// What a row carries besides its status.
#[derive(Clone, Debug, Default)]
pub enum Detail {
    /// Nothing (pending).
    #[default]
    None,
    /// The one metric of a done task that has exactly one (kept inline: no allocation per row).
    One((u32, Metric)),
    /// Metrics of a done task, keyed by interned metric name.
    Metrics(Box<[(u32, Metric)]>),
    /// Why the last attempt failed.
    Failed(FailureClass, Box<str>),
}

impl Detail {
    /// The metrics of a done task, keyed by interned metric name (empty otherwise).
    pub fn metrics(&self) -> &[(u32, Metric)] {
        match self {
            Detail::One(m) => std::slice::from_ref(m),
            Detail::Metrics(ms) => ms,
            Detail::None | Detail::Failed(..) => &[],
        }
    }
}

/// One task's row.
#[derive(Clone, Debug)]
pub struct Row {
    /// Its state.
    pub status: Status,
    /// Attempts so far, across runs.
    pub attempts: u32,
    /// Seconds of the last attempt.
    pub seconds: f32,
    /// Metrics or failure.
    pub detail: Detail,
    /// Attempts that ended because sweep itself crashed while they ran.
    pub deaths: u8,
}

impl Default for Row {
    fn default() -> Self {
        Row { status: Status::Pending, attempts: 0, seconds: 0.0, detail: Detail::None, deaths: 0 }
    }
}

/// Task ids are SHA-256 prefixes: already uniform, so hashing them again is wasted work.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ *b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Task id → grid index.
pub type IdIndex = HashMap<TaskId, u64, BuildHasherDefault<IdHasher>>;

/// Every task of a grid: its id, seed and row.
pub struct TaskTable {
    /// (id, seed) of each task, in grid order.
    pub idents: Vec<(TaskId, u64)>,
    /// Row of each task, in grid order.
    pub rows: Vec<Row>,
    /// Interned metric names.
    pub keys: Vec<String>,
    /// The spec's adaptive replicates: then only the replicates its rule asks for (and
    /// any that ran) are tasks of the sweep (see [`Plan`](super::Plan)).
    pub adaptive: Option<Adaptive>,
    /// The grid's `[refine]` slots: then a task is one of the sweep's once its slot is
    /// filled (see [`TaskTable::holds`]).
    pub refine: Option<Arc<Slots>>,
    /// The grid index of row 0: 0, or the start of a window of the grid ([`TaskTable::range`]).
    pub base: u64,
}

impl TaskTable {
    /// Derives every task's id and seed (in parallel) and starts all rows pending.
    pub fn new(spec: &Spec) -> TaskTable {
        TaskTable {
            adaptive: spec.adaptive.clone(),
            refine: spec.grid.refine.clone(),
            ..TaskTable::range(spec, 0, spec.task_count())
        }
    }

    /// The tasks `lo..hi` of the grid only, all pending: row `i` is grid task `lo + i`. For
    /// writing `results.csv`, and running a big grid, a window at a time (fixed replicates
    /// only).
    pub fn range(spec: &Spec, lo: u64, hi: u64) -> TaskTable {
        let idents: Vec<(TaskId, u64)> = (lo as usize..hi as usize)
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| spec.identity.task(&spec.grid, i as u64))
            .collect();
        let rows = vec![Row::default(); idents.len()];
        TaskTable { idents, rows, keys: Vec::new(), adaptive: None, refine: None, base: lo }
    }

    /// The id → index map (built on demand: only resume and collect need it).
    pub fn index(&self) -> IdIndex {
        let mut m = IdIndex::with_capacity_and_hasher(self.idents.len(), Default::default());
        for (i, (id, _)) in self.idents.iter().enumerate() {
            m.insert(*id, i as u64);
        }
        m
    }

    /// Marks the done tasks `ids` failed, class `io`, with `why`: their outputs were lost
    /// (see [`crate::store::lost_arrays`]), so they are not done, and run again.
    pub fn undo(&mut self, ids: &[TaskId], why: &str) {
        let index = self.index();
        for i in ids.iter().filter_map(|id| index.get(id)) {
            let row = &mut self.rows[*i as usize];
            if row.status == Status::Done {
                row.status = Status::Failed;
                row.detail = Detail::Failed(FailureClass::Io, why.into());
            }
        }
    }

    /// Makes the done tasks `ids` pending again, so that a run runs them (their code
    /// changed: `--code-changed rerun`); their attempts keep counting.
    pub fn forget(&mut self, ids: &[TaskId]) {
        if ids.is_empty() {
            return;
        }
        let index = self.index();
        for i in ids.iter().filter_map(|id| index.get(id)) {
            let row = &mut self.rows[*i as usize];
            if row.status == Status::Done {
                row.status = Status::Pending;
                row.detail = Detail::None;
            }
        }
    }

    /// The task table, fixed once built, beside the rows that a run updates: so that a
    /// run shares the first and puts the second under its lock.
    pub fn split(&mut self) -> (&[(TaskId, u64)], RowsMut<'_>) {
        (&self.idents, RowsMut { rows: &mut self.rows, keys: &mut self.keys })
    }

    /// Applies the outcome of attempt number `attempt` to row `index` (see [`RowsMut::apply`]).
    pub fn apply<'m>(
        &mut self,
        index: u64,
        attempt: u32,
        seconds: f64,
        result: Result<impl IntoIterator<Item = (&'m str, &'m Metric)>, &TaskFailure>,
    ) {
        self.split().1.apply(index, attempt, seconds, result)
    }

    /// Applies a journal record (ignored when its task is not in this grid) and returns its
    /// task's index. The record's own index (`"i"`) is tried first, then `next`, where the
    /// previous record's task was plus one (records mostly follow grid order: a worker runs
    /// neighbouring tasks one after another), and only then the id map, built on first need
    /// (journals written before records carried indices, or under a spec whose grid differs).
    pub fn apply_record(&mut self, index: &mut Option<IdIndex>, next: &mut u64, r: &Record<'_>) -> Option<u64> {
        let at = |i: u64| self.idents.get(i as usize).is_some_and(|(id, _)| *id == r.task);
        let i = match r.index {
            Some(i) if at(i) => i,
            _ if at(*next) => *next,
            _ => *index.get_or_insert_with(|| self.index()).get(&r.task)?,
        };
        *next = i + 1;
        self.fold_record(i, r);
        Some(i)
    }

    /// Folds journal record `r` into row `row`: its death, then its outcome.
    pub fn fold_record(&mut self, row: u64, r: &Record<'_>) {
        if r.died {
            self.note_death(row);
        }
        if r.done {
            self.apply(row, r.attempt, r.seconds, Ok(r.metrics.iter().map(|(k, v)| (k.as_ref(), v))));
        } else {
            let (class, msg) = r.failure.clone().unwrap_or((FailureClass::Error, "".into()));
            self.apply(row, r.attempt, r.seconds, Err::<std::iter::Empty<_>, _>(&TaskFailure::new(class, msg)));
        }
    }

    /// Counts a death (an attempt that ended because sweep crashed) of task `index`, whose
    /// failed attempt was just applied.
    pub fn note_death(&mut self, index: u64) {
        let row = &mut self.rows[index as usize];
        row.deaths = row.deaths.saturating_add(1);
    }

    /// Whether row `index` is a task of the sweep as far as `[refine]` goes: not a slot of
    /// a curve that no round has filled yet.
    pub fn holds(&self, index: u64) -> bool {
        self.refine.as_ref().is_none_or(|s| s.holds_task(self.base + index))
    }

    /// Derives again the ids and seeds of `indices`, whose `[refine]` slots were just
    /// filled (a slot's id is its value's).
    pub fn refresh(&mut self, spec: &Spec, indices: &[u64]) {
        for &i in indices {
            self.idents[i as usize] = spec.identity.task(&spec.grid, self.base + i);
        }
    }

    /// Counts of (done, failed, pending) over the sweep's tasks: every row, or with adaptive
    /// replicates the replicates its rule has asked for so far (and any others done).
    /// Replicates a point has not needed are no tasks of the sweep: not pending.
    pub fn counts(&self) -> (u64, u64, u64) {
        let (mut d, mut f, mut p) = (0, 0, 0);
        let plan = self.plan();
        for (i, r) in self.rows.iter().enumerate() {
            if plan.as_ref().is_some_and(|plan| !plan.contains(self, i as u64)) || !self.holds(i as u64) {
                continue;
            }
            match r.status {
                Status::Done => d += 1,
                Status::Failed => f += 1,
                Status::Pending => p += 1,
            }
        }
        (d, f, p)
    }
}

impl TaskTable {
    /// [`counts`](Self::counts), of the tasks of `shard` only (all with `None`).
    pub fn counts_in(&self, shard: Option<crate::cluster::Shard>) -> (u64, u64, u64) {
        let Some(s) = shard else { return self.counts() };
        let mut c = (0, 0, 0);
        for ((id, _), r) in self.idents.iter().zip(&self.rows) {
            if s.contains(*id) {
                match r.status {
                    Status::Done => c.0 += 1,
                    Status::Failed => c.1 += 1,
                    Status::Pending => c.2 += 1,
                }
            }
        }
        c
    }
}

/// The rows of a [`TaskTable`] and its interned metric names, borrowed for updating.
pub struct RowsMut<'a> {
    /// Row of each task, in grid order.
    pub rows: &'a mut [Row],
    /// Interned metric names.
    pub keys: &'a mut Vec<String>,
}

impl RowsMut<'_> {
    /// The id of metric `name`, interning it on first sight.
    pub fn intern(&mut self, name: &str) -> u32 {
        match self.keys.iter().position(|k| k == name) {
            Some(i) => i as u32,
            None => {
                self.keys.push(name.to_string());
                (self.keys.len() - 1) as u32
            }
        }
    }

    /// Applies the outcome of attempt number `attempt` to row `index`. A done task stays
    /// done: a later failure from an overlapping run does not undo it. A failed task shows
    /// its newest attempt's failure, so the order journals are read in does not matter.
    pub fn apply<'m>(
        &mut self,
        index: u64,
        attempt: u32,
        seconds: f64,
        result: Result<impl IntoIterator<Item = (&'m str, &'m Metric)>, &TaskFailure>,
    ) {
        match result {
            Ok(metrics) => {
                let mut metrics = metrics.into_iter().map(|(k, v)| (self.intern(k), v.clone()));
                let detail = match (metrics.next(), metrics.next()) {
                    (None, _) => Detail::Metrics(Box::new([])),
                    (Some(one), None) => Detail::One(one),
                    (Some(a), Some(b)) => Detail::Metrics([a, b].into_iter().chain(metrics).collect()),
                };
                let row = &mut self.rows[index as usize];
                row.attempts = row.attempts.max(attempt);
                row.status = Status::Done;
                row.seconds = crate::value::as_journaled(seconds) as f32;
                row.detail = detail;
            }
            Err(f) => {
                let row = &mut self.rows[index as usize];
                // The newest attempt's failure is the task's, whichever journal is read first.
                let newest = attempt >= row.attempts;
                row.attempts = row.attempts.max(attempt);
                if row.status != Status::Done && newest {
                    row.status = Status::Failed;
                    row.seconds = crate::value::as_journaled(seconds) as f32;
                    row.detail = Detail::Failed(f.class, f.message.as_str().into());
                }
            }
        }
    }
}

#[cfg(test)]
mod durations {
    use super::*;

    #[test]
    fn a_row_filled_by_a_run_holds_the_duration_a_row_read_from_the_journal_holds() {
        // Regression: a run kept the attempt's own duration, a rewrite from the journal its
        // six decimals, so results.csv written again (collect, resume) changed `seconds`.
        let text = "[model]\nname = \"spin\"\n[params]\nmicros = [0, 1]\n";
        let spec = Spec::parse(std::path::Path::new("t.toml"), text, &crate::model::Registry::builtin()).unwrap();
        let mut store = TaskTable::new(&spec);
        for nanos in (20_000..21_000u64).chain([1_500_000_500, 12_345_678_500]) {
            let s = nanos as f64 * 1e-9;
            let mut six = Vec::new();
            crate::value::push_fixed6(&mut six, s);
            let journaled: f64 = std::str::from_utf8(&six).unwrap().parse().unwrap();
            store.apply(0, 1, s, Ok::<_, &TaskFailure>([]));
            store.apply(1, 1, journaled, Ok::<_, &TaskFailure>([]));
            assert_eq!(store.rows[0].seconds.to_bits(), store.rows[1].seconds.to_bits(), "{nanos} ns");
        }
    }
}
