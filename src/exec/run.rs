//! The run: what every part of a run shares (spec, out directory, journal, configuration,
//! cancellation and counters), and the three ways to go through its tasks: all at once
//! ([`Run::whole`]), in rounds of adaptive replicates ([`Run::rounds`]), or a window of
//! the grid at a time ([`Run::windows`]).

use super::config::RunConfig;
use super::Stats;
use crate::journal::JournalWriter;
use crate::outdir::OutDir;
use crate::results::Ledger;
use crate::spec::Spec;
use crate::task::Cancel;
use std::sync::Arc;

/// One run of a sweep's tasks.
pub struct Run<'a> {
    /// The sweep.
    pub spec: &'a Spec,
    /// Its out directory.
    pub out: &'a OutDir,
    /// The journal this run appends to.
    pub journal: &'a mut JournalWriter,
    /// The fold of that journal alone (what its checkpoint records), kept up to date as
    /// records are written; `None` when the run keeps no checkpoint. Borrowed, so that it
    /// outlives a run that ends with an error.
    pub fold: &'a mut Option<Ledger>,
    /// How to run.
    pub cfg: RunConfig,
    /// Stops the run (signals, failure limits).
    pub cancel: Arc<Cancel>,
    /// Live counters, for progress.
    pub stats: Arc<Stats>,
}

impl Run<'_> {
    /// The same run with another configuration: a round's tasks, or a window's limits.
    pub(super) fn with(&mut self, cfg: RunConfig) -> Run<'_> {
        Run {
            spec: self.spec,
            out: self.out,
            journal: &mut *self.journal,
            fold: &mut *self.fold,
            cfg,
            cancel: self.cancel.clone(),
            stats: self.stats.clone(),
        }
    }
}
