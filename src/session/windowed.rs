//! A run of a big grid a window of tasks at a time (see [`crate::exec::in_windows`]): the
//! sweep's ledger, folded from checkpoints and journal tails, stands for the store of every
//! task, and `results.csv` is written from the journals after the run, a window at a time.
//! Memory stays a window's worth, whatever the size of the grid.

use super::{load_journals, torn_warnings, write_results, Prepared};
use crate::error::{Error, IoContext};
use crate::exec::{execute_windows, RunConfig, RunOutcome, Stats};
use crate::outdir::{spec_hash, OutDir};
use crate::results::{Ledger, Store};
use crate::spec::{ArrayLayout, Spec};
use crate::task::Cancel;
use std::path::Path;
use std::sync::Arc;

/// A [`Lean`], the fold of the run's own journal, and warnings for the user.
type Folded = (Lean, Option<Ledger>, Vec<String>);

/// What a run a window at a time keeps of the sweep instead of a row per task.
pub struct Lean {
    /// Every task's state before the run.
    ledger: Ledger,
    /// (done, failed, pending) over the run's tasks (a shard's or all), once it ran.
    counts: Option<(u64, u64, u64)>,
    /// Some task reported a metric (this run's, or any in `results.csv`).
    metrics: bool,
}

impl Lean {
    /// The sweep in `out` folded for a run that appends to `journal` (its own fold goes in
    /// the second place, for its checkpoints), with warnings for the user; `None` when a
    /// record does not say where its task is (then the run reads every task into a store).
    pub fn fold(spec: &Spec, out: &OutDir, journal: &Path, hash: &str) -> Result<Option<Folded>, Error> {
        let folded = crate::checkpoint::fold_files(&out.root, spec, hash, Some(journal))
            .context(|| format!("cannot read the journal in {}", out.root.display()))?;
        Ok(folded.map(|f| {
            let mut warnings = f.warnings;
            warnings.extend(torn_warnings(&f.scan));
            (Lean { ledger: f.ledger, counts: None, metrics: false }, f.own, warnings)
        }))
    }

    /// (done, failed, pending): after the run, over its tasks; before, over the grid.
    pub fn counts(&self) -> (u64, u64, u64) {
        self.counts.unwrap_or_else(|| self.ledger.counts())
    }

    /// Some task reported a metric.
    pub fn metrics(&self) -> bool {
        self.metrics
    }
}

impl Prepared {
    /// Runs the selected tasks a window at a time, then (not for a shard) writes
    /// `results.csv` from the journals.
    pub(super) fn run_windows(
        &mut self,
        config: &RunConfig,
        cancel: &Arc<Cancel>,
        stats: &Arc<Stats>,
    ) -> Result<RunOutcome, Error> {
        let lean = self.lean.as_mut().expect("a run a window at a time has a ledger");
        let mut own = self.store.own.take();
        let run =
            execute_windows(&self.spec, &self.out, &lean.ledger, &mut own, &mut self.journal, config, cancel, stats);
        self.store.own = own;
        let run = run
            .and_then(|run| self.journal.flush().map(|()| run))
            .context(|| format!("the journal {} could not be written", self.journal.path().display()))?;
        lean.counts = Some(run.counts);
        lean.metrics = run.metrics;
        if self.shard.is_none() {
            let written = write_results_from_journals(&self.spec, &self.out)?;
            lean.metrics |= written.metrics;
        }
        Ok(run.outcome)
    }
}

/// What writing `results.csv` from the journals found.
pub struct Written {
    /// (done, failed, pending) over the sweep.
    pub counts: (u64, u64, u64),
    /// Journal lines skipped, for the user.
    pub warnings: Vec<String>,
    /// Some task reported a metric.
    pub metrics: bool,
}

/// Writes `results.csv` of the sweep in `out` (and what goes with it, see
/// [`write_results`]) from its journals: a window of the grid at a time when every record
/// says where its task is in the grid and the sweep has fixed replicates and no array store
/// (see [`crate::results::window`]), and otherwise from a store of every task.
pub fn write_results_from_journals(spec: &Spec, out: &OutDir) -> Result<Written, Error> {
    let hash = spec_hash(&spec.text);
    let read = || format!("cannot read the journal in {}", out.root.display());
    let windowed = spec.adaptive.is_none() && spec.arrays != ArrayLayout::Zarr;
    let survey = match windowed {
        true => crate::results::window::survey(spec, &out.root, &hash).context(read)?,
        false => None,
    };
    if let Some(survey) = survey {
        crate::results::window::write(spec, &survey, &hash, &out.results())
            .context(|| format!("cannot write {}", out.results().display()))?;
        let warnings = torn_warnings(&survey.scan);
        return Ok(Written { counts: survey.ledger.counts(), warnings, metrics: survey.has_metrics() });
    }
    let mut store = Store::new(spec);
    let scan = load_journals(out, &mut store, None).context(read)?;
    write_results(spec, &store, out)?;
    Ok(Written { counts: store.counts(), warnings: torn_warnings(&scan), metrics: !store.keys.is_empty() })
}
