//! One run of a sweep from start to end: prepare the out directory (refuse, resume or
//! extend), run, and write `results.csv`. The CLI and the library API both go through here.

use crate::cluster::Shard;
use crate::error::{Error, IoContext};
use crate::exec::{Run, RunConfig, RunOutcome, Selection, Stats};
use crate::journal::{journals_read_by, scan, JournalWriter, ScanStats};
use crate::model::Registry;
use crate::outdir::{spec_hash, Lock, Manifest, OutDir};
use crate::results::{write_points_csv, write_results_csv, Ledger, TaskTable};
use crate::spec::Spec;
use crate::task::Cancel;
use crate::worker::Worker;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod code;
mod dir;
mod finished;
mod lean;
mod refine;
mod snapshot;
mod start;
mod torn;
mod windowed;
pub use code::{check_for_verify, unchanged_at_a_glance};
use dir::{check_dir, open_dir};
pub use finished::{finished, Finished};
pub use lean::Lean;
pub use refine::settle as settle_refine;
pub use snapshot::{write_snapshot, Snapshot};
pub use start::start_workers;
pub use torn::torn_warnings;
pub use windowed::{write_results_from_journals, Written};

/// Options of one run besides the spec.
#[derive(Clone, Debug, Default)]
pub struct SessionOptions {
    /// Finish a sweep already in the out directory (or start it if there is none).
    pub resume: bool,
    /// Run only this shard.
    pub shard: Option<Shard>,
    /// Scheduling options.
    pub config: RunConfig,
}

/// An out directory made ready for a run: locked, manifest checked, journals loaded.
pub struct Prepared {
    /// The spec.
    pub spec: Spec,
    /// The out directory.
    pub out: OutDir,
    /// Every task's id, seed and state; empty (no rows) when `lean` is set.
    pub store: TaskTable,
    /// A big grid, run a window at a time: what stands for the store.
    pub lean: Option<Lean>,
    /// This run's journal.
    pub journal: JournalWriter,
    /// The fold of this run's journal alone, kept up to date by the run: what its
    /// checkpoint records (see [`crate::checkpoint`]).
    pub fold: Option<Ledger>,
    /// Messages for the user (torn journal lines, an extended spec, ...).
    pub warnings: Vec<String>,
    /// The shard this run is limited to.
    pub shard: Option<Shard>,
    /// Persistent workers started (to check that they start) for the run to use.
    pub spare: Vec<Worker>,
    /// The hash of the spec, named in the journal's header and in its checkpoint.
    pub spec_hash: String,
    _lock: Lock,
}

/// Checks, locks and opens `out` for running `spec`. Nothing is written when the
/// directory holds another sweep, holds a sweep and `resume` is off, or is not empty.
///
/// A `[python]` or `[worker]` sweep starts its first worker before anything is written, so
/// that a worker that cannot start (an ImportError, a typo in the function's name) stops
/// the run with the spec's line and the worker's own message, leaving nothing behind.
///
/// `workers` is how many persistent workers the run will use (its `--jobs`): they start
/// side by side here, so that their start-up (an interpreter, its imports) is paid once in
/// wall time, not once per worker.
pub fn prepare(spec: Spec, out: OutDir, resume: bool, shard: Option<Shard>, workers: usize) -> Result<Prepared, Error> {
    prepare_with(spec, out, resume, shard, workers, Options::default())
}

/// How [`prepare_with`] prepares, besides what [`prepare`] takes.
#[derive(Clone)]
pub struct Options {
    /// Off: even a big grid is read into a store of every task (a benchmark runs its sample
    /// on that store), not run a window at a time.
    pub windows: bool,
    /// The run's cancel token: a stop signal while persistent workers start ends their
    /// start-up at once, and the preparation fails with [`Error::Interrupted`].
    pub cancel: Option<Arc<Cancel>>,
    /// What each slot's persistent worker is started with (threads, GPUs).
    pub slots: crate::resources::Slots,
    /// What to do with done tasks whose code differs from the run's (see [`crate::code`]);
    /// `None`: refuse to run.
    pub code_changed: Option<crate::code::CodeChanged>,
}

impl Default for Options {
    fn default() -> Self {
        Options { windows: true, cancel: None, slots: crate::resources::Slots::default(), code_changed: None }
    }
}

/// [`prepare`], with [`Options`].
pub fn prepare_with(
    spec: Spec,
    out: OutDir,
    resume: bool,
    shard: Option<Shard>,
    workers: usize,
    options: Options,
) -> Result<Prepared, Error> {
    let windows = options.windows;
    if shard.is_some() {
        refuse_adaptive_shards(&spec)?;
    }
    dir::check_size(&spec, windows)?;
    check_dir(&spec, &out, resume, shard)?;
    let spare = start_workers(&spec, workers, options.cancel.as_ref(), &options.slots)?;
    let handshake = spare.first().map(|w| &w.handshake);
    let lean_run = windows && crate::exec::in_windows(&spec);
    let code = code::check(&spec, &out, handshake, options.code_changed, lean_run, shard.is_some())?;
    let (lock, mut warnings) = open_dir(&spec, &out, resume, shard, || crate::provenance::collect(&spec, handshake))?;
    let shown = out.root.display().to_string();
    let stem = shard.map(|s| s.file_stem());
    let journal_path = out.journal(stem.as_deref());
    let spec_hash = spec_hash(&spec.text);
    let lean = match windows && crate::exec::in_windows(&spec) {
        true => Lean::fold(&spec, &out, &journal_path, &spec_hash)?,
        false => None,
    };
    let (mut store, lean, fold) = match lean {
        Some((lean, own, more)) => {
            warnings.extend(more);
            (TaskTable::range(&spec, 0, 0), Some(lean), own)
        }
        None => {
            let mut store = TaskTable::new(&spec);
            let (stats, mut own) = load_journals(&out, &mut store, Some(&journal_path))
                .context(|| format!("cannot read the journal in {shown}"))?;
            warnings.extend(torn_warnings(&stats));
            refine::settle_own(&spec, &out, &mut store, Some(&journal_path), &mut own)
                .context(|| format!("cannot read the journal in {shown}"))?;
            if resume && spec.arrays == crate::spec::ArrayLayout::Zarr {
                let journals = journals_read_by(&out.root, Some(&journal_path))
                    .context(|| format!("cannot read the journal in {shown}"))?;
                warnings.extend(undo_lost_arrays(&out, &mut store, &journals)?);
            }
            (store, None, own)
        }
    };
    let journal = JournalWriter::open_with_code(
        &journal_path,
        &shard.map_or("0/1".into(), |s| s.to_string()),
        Some(&spec_hash),
        &code.identity.code.id,
    )
    .context(|| format!("cannot open {}", journal_path.display()))?;
    warnings.extend(code.record(&out, &journal_path)?);
    if code.policy == Some(crate::code::CodeChanged::Rerun) {
        // Their done records stay in the journal, as history; this run's come after them.
        store.forget(&code.comparison.stale);
    }
    Ok(Prepared { spec, out, store, lean, journal, fold, warnings, shard, spare, spec_hash, _lock: lock })
}

/// Done tasks of the store's layout whose arrays cannot all be read back are not done:
/// marked failed in `store`, they run again (see [`crate::store::lost_arrays`]). Returns
/// the message saying how many and why.
pub(crate) fn undo_lost_arrays(
    out: &OutDir,
    store: &mut TaskTable,
    journals: &[std::path::PathBuf],
) -> Result<Option<String>, Error> {
    let shown = out.root.display();
    let lost =
        crate::store::lost_arrays(out, journals).context(|| format!("cannot read the staged arrays in {shown}"))?;
    let message = lost.message();
    if message.is_some() {
        store.undo(&lost.tasks, &format!("its arrays were lost ({}); it runs again", lost.why));
    }
    Ok(message)
}

/// Makes `out` ready for shard runs of `spec` without running anything: creates it, writes
/// its spec and manifest (or checks them and records an extended spec, as a resumed run
/// would), and returns warnings for the user. Fails like [`prepare`] with `resume` on, and
/// when a run holds the directory. `sweep slurm --submit` calls it before submitting, so that
/// spec mismatches are reported at once rather than by every array element.
pub fn init_for_shards(spec: &Spec, out: &OutDir) -> Result<Vec<String>, Error> {
    refuse_adaptive_shards(spec)?;
    let (lock, warnings) = open_dir(spec, out, true, None, || crate::provenance::collect(spec, None))?;
    drop(lock);
    code::pin_for_submit(spec, out)?;
    Ok(warnings)
}

/// Adaptive replicates decide a point's next round from all its replicates so far, which
/// shards would run apart (a shard waiting for another's replicates): one run does them all.
pub fn refuse_adaptive_shards(spec: &Spec) -> Result<(), Error> {
    let (what, why) = match (&spec.adaptive, &spec.refine) {
        (Some(_), _) => ("adaptive replicates", "a point's next round waits for all its replicates so far"),
        (None, Some(_)) => ("[refine]", "a curve's next round waits for all its points so far"),
        (None, None) => return Ok(()),
    };
    Err(Error::Usage(format!(
        "{} has {what}, which do not run in shards ({why}); run it without --shard, on one machine or one big node",
        spec.path.display()
    )))
}

/// Reads every journal of `out` into `store`. With `own`, the journal a run is to append
/// to, its fold alone is also returned, for the run's checkpoint; and when that
/// is a shard's journal, the other shards' journals are not read: they hold no task of this
/// shard (all shards of a sweep split it the same way), so a shard run's reading does not
/// grow with the shards that ran before it.
pub fn load_journals(
    out: &OutDir,
    store: &mut TaskTable,
    own: Option<&Path>,
) -> io::Result<(ScanStats, Option<Ledger>)> {
    let mut stats = ScanStats::default();
    let mut own_fold = own.map(|_| Ledger::new(store.rows.len() as u64));
    let files = journals_read_by(&out.root, own)?;
    if !files.is_empty() {
        let mut index = None;
        for f in files {
            let mut next = 0;
            let mut mine = own_fold.as_mut().filter(|_| own == Some(f.as_path()));
            scan(&f, &mut stats, |r| {
                let applied = store.apply_record(&mut index, &mut next, &r);
                if let (Some(i), Some(mine)) = (applied, mine.as_deref_mut()) {
                    mine.apply(i, r.attempt, r.died, r.outcome());
                }
            })?;
        }
    }
    Ok((stats, own_fold))
}

impl Prepared {
    /// CPU seconds the persistent workers started for the run have used so far (their
    /// start-up and imports). Their CPU is counted when they are reaped, after the run, so a
    /// measurement of the run takes this out.
    pub fn workers_cpu_seconds(&self) -> f64 {
        self.spare.iter().map(|w| crate::usage::live_cpu_seconds(w.pgid())).sum()
    }

    /// Runs the selected tasks, then writes `results.csv` (not for a shard: shards run side
    /// by side, and `sweep collect` merges them).
    pub fn run(&mut self, config: &RunConfig, cancel: &Arc<Cancel>, stats: &Arc<Stats>) -> Result<RunOutcome, Error> {
        let mut config = config.clone();
        if let Some(s) = self.shard {
            config.selection = Selection::Shard(s);
        }
        let spare = std::mem::take(&mut self.spare);
        let outcome = if self.lean.is_some() {
            self.run_windows(&config, cancel, stats)?
        } else {
            let in_rounds = self.spec.in_rounds();
            let (mut run, store) = self.runner(config.clone(), cancel, stats);
            let result = match in_rounds {
                true => run.rounds(store, spare),
                false => run.whole(store, spare),
            };
            let outcome =
                result.context(|| format!("the journal {} could not be written", self.journal.path().display()))?;
            if self.shard.is_none() {
                write_results_with(&self.spec, &self.store, &self.out, config.durable)?;
            }
            outcome
        };
        if self.shard.is_none() && config.durable {
            // results.csv and its rename, on disk before the run says it is done.
            let sync = |p: &Path| std::fs::File::open(p).and_then(|f| f.sync_all());
            sync(&self.out.results())
                .and_then(|()| sync(&self.out.root))
                .context(|| format!("cannot sync {}", self.out.results().display()))?;
        }
        self.write_checkpoint();
        Ok(outcome)
    }

    /// The run of this sweep's tasks, and the store it records them in.
    pub fn runner(&mut self, cfg: RunConfig, cancel: &Arc<Cancel>, stats: &Arc<Stats>) -> (Run<'_>, &mut TaskTable) {
        let run = Run {
            spec: &self.spec,
            out: &self.out,
            journal: &mut self.journal,
            fold: &mut self.fold,
            cfg,
            cancel: cancel.clone(),
            stats: stats.clone(),
        };
        (run, &mut self.store)
    }

    /// Writes the checkpoint of this run's journal (see [`crate::checkpoint`]). A checkpoint
    /// only saves reading time, so one that cannot be written is skipped: readers fall back
    /// to the journal, which holds everything.
    /// A whole-grid run also stamps the `results.csv` it wrote (see
    /// [`crate::checkpoint::ResultsStamp`]).
    fn write_checkpoint(&mut self) {
        let Some(own) = &self.fold else { return };
        let path = self.journal.path().to_path_buf();
        let covered = self.journal.flush().and_then(|()| std::fs::metadata(&path)).map(|m| m.len());
        let stamp = match self.shard {
            None => crate::checkpoint::ResultsStamp::now(&self.out.root).ok(),
            Some(_) => None,
        };
        if let Ok(covered) = covered {
            let _ = crate::checkpoint::write(&path, &self.spec_hash, covered, own, stamp.as_ref());
        }
    }

    /// The tasks of `slice` (see [`crate::slice`]) among those this run would run: neither
    /// done nor set aside after crashing sweep again and again.
    pub fn choose(&self, slice: &crate::slice::Slice) -> Vec<u64> {
        let (grid, seed) = (&self.spec.grid, self.spec.seed);
        match &self.lean {
            Some(lean) => slice.choose(grid, seed, |i| lean.runnable(i)),
            None => slice.choose(grid, seed, |i| {
                let row = &self.store.rows[i as usize];
                match row.status {
                    crate::results::Status::Done => false,
                    crate::results::Status::Failed => row.deaths < crate::exec::DEATHS_TO_SET_ASIDE,
                    _ => true,
                }
            }),
        }
    }

    /// (done, failed, pending) over the run's tasks: a shard's, or the sweep's.
    pub fn counts(&self) -> (u64, u64, u64) {
        match &self.lean {
            Some(lean) => lean.counts(),
            None => self.store.counts_in(self.shard),
        }
    }

    /// No task reported a metric.
    pub fn no_metrics(&self) -> bool {
        match &self.lean {
            Some(lean) => !lean.metrics(),
            None => self.store.keys.is_empty(),
        }
    }
}

/// Writes `results.csv` of the sweep in `out` from `store`, and with adaptive replicates
/// `points.csv` (written first: `results.csv` is what a finished run is judged by).
pub fn write_results(spec: &Spec, store: &TaskTable, out: &OutDir) -> Result<(), Error> {
    write_results_with(spec, store, out, false)
}

/// [`write_results`]; `durable`: with `--durable`, the array store is on disk before the
/// staging files it replaces are removed.
pub fn write_results_with(spec: &Spec, store: &TaskTable, out: &OutDir, durable: bool) -> Result<(), Error> {
    if let (Some(rule), Some(plan)) = (&spec.adaptive, store.plan()) {
        write_points_csv(spec, rule, store, &plan, &out.points())
            .context(|| format!("cannot write {}", out.points().display()))?;
    }
    if spec.refine.is_some() {
        let path = out.root.join(refine::FILE);
        crate::results::refined::write_refine_csv(spec, store, &path)
            .context(|| format!("cannot write {}", path.display()))?;
    }
    if spec.arrays == crate::spec::ArrayLayout::Zarr {
        // Before results.csv, which is what a finished run is judged by.
        crate::store::build(spec, out, store, durable).context(|| format!("cannot build {}", out.store().display()))?;
    }
    write_results_csv(spec, store, &out.results()).context(|| format!("cannot write {}", out.results().display()))
}

/// Reads the sweep in `dir`: its spec (as run) and every task's state.
pub fn load(dir: &Path, registry: &Registry) -> Result<(Spec, OutDir, TaskTable, ScanStats), Error> {
    let (spec, out) = open_saved(dir, registry)?;
    let mut store = TaskTable::new(&spec);
    let read = || format!("cannot read the journal in {}", dir.display());
    let (stats, _) = load_journals(&out, &mut store, None).context(read)?;
    refine::settle(&spec, &out, &mut store).context(read)?;
    Ok((spec, out, store, stats))
}

/// Reads the spec of the sweep in `dir`, as run.
pub fn open_saved(dir: &Path, registry: &Registry) -> Result<(Spec, OutDir), Error> {
    let out = OutDir::new(dir);
    if !out.manifest().is_file() {
        return Err(Error::Usage(format!("{} holds no sweep (no manifest.json)", dir.display())));
    }
    let manifest = Manifest::read(&out).context(|| "cannot read the manifest".into())?;
    let text = std::fs::read_to_string(out.spec()).context(|| format!("cannot read {}", out.spec().display()))?;
    if spec_hash(&text) != manifest.spec_hash {
        return Err(Error::Usage(format!("{} does not match its manifest.json", out.spec().display())));
    }
    // The spec's inputs resolve where the sweep was started from, as they did then.
    let base = manifest.spec_dir.map_or_else(|| out.root.clone(), PathBuf::from);
    let mut spec = Spec::parse_saved(&out.spec(), &text, registry, base)?;
    // Saved as spec.toml, a spec without a name would be called "spec".
    spec.name = manifest.name.clone();
    spec.out = out.root.clone();
    Ok((spec, out))
}
