//! A run of a big grid a window of tasks at a time (see [`crate::exec::in_windows`]): the
//! sweep's ledger, folded from checkpoints and journal tails, stands for the store of every
//! task, and `results.csv` is written a window at a time: as the run ends each window, for
//! a new sweep, and otherwise from the journals after the run.
//! Memory stays a window's worth, whatever the size of the grid.

use super::snapshot::{fold_journals, Rows};
use super::{write_results, Prepared};
use crate::error::{Error, IoContext};
use crate::exec::{Run, RunConfig, RunOutcome, Stats};
use crate::outdir::{spec_hash, OutDir};
use crate::results::TaskTable;
use crate::spec::{ArrayLayout, Spec};
use crate::task::Cancel;
use std::path::Path;
use std::sync::Arc;

impl Prepared {
    /// Runs the selected tasks a window at a time, then (not for a shard) writes
    /// `results.csv`: as the windows end for a new sweep (see `Streamed`), and otherwise
    /// from the journals.
    pub(super) fn run_windows(
        &mut self,
        config: &RunConfig,
        cancel: &Arc<Cancel>,
        stats: &Arc<Stats>,
    ) -> Result<RunOutcome, Error> {
        let lean = self.lean.as_mut().expect("a run a window at a time has a ledger");
        // A new sweep's rows are all this run's: results.csv is written as windows end.
        let fresh = self.shard.is_none() && lean.ledger.counts().2 == lean.ledger.tasks();
        let mut streamed = fresh.then(|| Streamed::new(&self.spec, &self.out.results())).flatten();
        let mut each = |store: &TaskTable| {
            if let Some(s) = &mut streamed {
                s.window(store);
            }
        };
        let run = Run {
            spec: &self.spec,
            out: &self.out,
            journal: &mut self.journal,
            fold: &mut self.fold,
            cfg: config.clone(),
            cancel: cancel.clone(),
            stats: stats.clone(),
        }
        .windows(&lean.ledger, &mut each);
        let run = run
            .and_then(|run| self.journal.flush().map(|()| run))
            .context(|| format!("the journal {} could not be written", self.journal.path().display()))?;
        lean.counts = Some(run.counts);
        lean.metrics = run.metrics;
        let streamed = streamed.and_then(Streamed::finish);
        if self.shard.is_none() && streamed.is_none() {
            let written = write_results_from_journals(&self.spec, &self.out)?;
            lean.metrics |= written.metrics;
        }
        Ok(run.outcome)
    }
}

/// `results.csv` of a new sweep written as its run ends each window, whose store then holds
/// every row of the window as the journal has it: the same bytes as
/// [`write_results_from_journals`], without reading the journal back. The metric columns are
/// those of the first window (the columns of the whole grid are in the order of their first
/// task in grid order); a later window with a metric not among them gives up, and so does a
/// failed write: then the caller writes from the journals.
struct Streamed<'s> {
    spec: &'s Spec,
    file: Option<crate::io::AtomicFile>,
    /// The columns, fixed by the first window.
    table: Option<crate::results::Table<'s>>,
}

impl<'s> Streamed<'s> {
    fn new(spec: &'s Spec, path: &Path) -> Option<Streamed<'s>> {
        let file = crate::io::AtomicFile::create(path).ok()?;
        Some(Streamed { spec, file: Some(file), table: None })
    }

    /// Writes the rows of a window (the next in grid order), or gives up.
    fn window(&mut self, store: &TaskTable) {
        let Some(out) = self.file.as_mut().and_then(|f| f.out.as_mut()) else { return };
        let written = (|| {
            let table = match &self.table {
                Some(table) => table,
                None => {
                    let ids = crate::results::metric_columns(self.spec, store);
                    let names: Vec<&str> = ids.iter().map(|&k| store.keys[k as usize].as_str()).collect();
                    let table = self.table.insert(crate::results::Table::new(self.spec, &names));
                    table.header(out)?;
                    table
                }
            };
            if store.keys.iter().any(|k| !table.names().contains(k)) {
                return Err(std::io::Error::other("a metric column the first window did not have"));
            }
            table.rows_by_name(out, store, store.base)
        })();
        if written.is_err() {
            self.file = None;
        }
    }

    /// Puts `results.csv` in place; `None` when it gave up.
    fn finish(self) -> Option<()> {
        self.file?.commit().ok()
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
    // Before the store is built, a done task whose arrays are lost is undone: it must not
    // enter the store as done (with NaN arrays), or the next resume would take its word.
    let (rows, mut warnings) = fold_journals(spec, out, &hash, false)?;
    let metrics = match &rows {
        Rows::Windows(survey) => {
            crate::results::window::write(spec, survey, &hash, &out.results())
                .context(|| format!("cannot write {}", out.results().display()))?;
            survey.has_metrics()
        }
        Rows::Table(store) => {
            write_results(spec, store, out)?;
            if spec.arrays == ArrayLayout::Zarr {
                // What the build found of `[output] dims`, as a run's end says it.
                warnings.extend(crate::store::notes(out));
            }
            !store.keys.is_empty()
        }
    };
    Ok(Written { counts: rows.counts(), warnings, metrics })
}
