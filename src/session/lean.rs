//! What a run of a big grid a window at a time (`windowed`) keeps of the sweep instead of
//! a row per task: the ledger folded from checkpoints and journal tails.

use super::torn::torn_warnings;
use crate::error::{Error, IoContext};
use crate::outdir::OutDir;
use crate::results::Ledger;
use crate::spec::Spec;
use std::path::Path;

/// A [`Lean`], the fold of the run's own journal, and warnings for the user.
type Folded = (Lean, Option<Ledger>, Vec<String>);

/// What a run a window at a time keeps of the sweep instead of a row per task.
pub struct Lean {
    /// Every task's state before the run.
    pub(super) ledger: Ledger,
    /// (done, failed, pending) over the run's tasks (a shard's or all), once it ran.
    pub(super) counts: Option<(u64, u64, u64)>,
    /// Some task reported a metric (this run's, or any in `results.csv`).
    pub(super) metrics: bool,
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

    /// Whether a run would run task `i`: neither done nor set aside (see
    /// [`crate::exec::DEATHS_TO_SET_ASIDE`]).
    pub fn runnable(&self, i: u64) -> bool {
        !self.ledger.is_done(i)
            && self.ledger.failed().get(&i).is_none_or(|f| f.deaths < crate::exec::DEATHS_TO_SET_ASIDE)
    }
}
