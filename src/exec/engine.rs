//! Running the selected tasks of a grid: a rayon pool of workers, a bounded pool of
//! I/O threads for array outputs, one journal thread, retries, failure limits, cancellation.

use super::attempt::{Place, Scratch};
use super::config::{RunConfig, RunOutcome, Selection};
use super::crashes::{Crashed, Running, DEATHS_TO_SET_ASIDE};
use super::journal_queue::{Checkpoints, Durability, JournalQueue, MachineSafe, ProcessSafe, Staged};
use super::recorder::{Attempt, Batch, Limits, Recorder};
use super::workers::WorkerRun;
use super::writer::{WriteJob, Writer, QUEUE_PER_THREAD};
use super::{panic, Stats};
use crate::grid::TaskId;
use crate::journal::JournalWriter;
use crate::outdir::OutDir;
use crate::proc::Watchdog;
use crate::results::{Row, Status, Store};
use crate::spec::{ArrayLayout, Spec, TaskKind};
use crate::task::{Cancel, FailureClass};
use crate::worker::{Worker, WorkerSpec};
use crossbeam_channel::{bounded, Sender};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The selected tasks that are not done yet, in grid order, with the number of selected
/// tasks already done and the attempts earlier runs made of the others (a run numbers its
/// own attempts after them). One pass, in parallel.
fn choose(selection: &Selection, idents: &[(TaskId, u64)], rows: &[Row]) -> (Vec<u64>, u64, HashMap<u64, u32>) {
    let n = rows.len() as u64;
    let already = AtomicU64::new(0);
    let tried_before = AtomicBool::new(false);
    let pending = |i: u64| {
        let row = &rows[i as usize];
        if row.status == Status::Done {
            already.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        // Set aside: sweep crashed while it ran, again and again.
        if row.status == Status::Failed && row.deaths >= DEATHS_TO_SET_ASIDE {
            return false;
        }
        if row.attempts > 0 {
            tried_before.store(true, Ordering::Relaxed);
        }
        true
    };
    let to_run: Vec<u64> = match selection {
        Selection::Indices(v) => v.iter().copied().filter(|&i| i < n && pending(i)).collect(),
        Selection::All => (0..n).into_par_iter().filter(|&i| pending(i)).collect(),
        Selection::Shard(s) => {
            (0..n).into_par_iter().filter(|&i| s.contains(idents[i as usize].0) && pending(i)).collect()
        }
    };
    let prior = match tried_before.into_inner() {
        true => to_run.iter().filter_map(|&i| Some((i, rows[i as usize].attempts)).filter(|&(_, a)| a > 0)).collect(),
        false => HashMap::new(),
    };
    (to_run, already.into_inner(), prior)
}

/// Runs the selected, not-yet-done tasks of `spec`, recording each attempt in `journal`
/// and `store`. Returns when every selected task has finished or the run was stopped.
///
/// `spare` are workers of a `[python]` or `[worker]` sweep started beforehand (to check that
/// they start before the out directory is touched); the run uses them first.
#[allow(clippy::too_many_arguments)]
pub fn execute(
    spec: &Spec,
    out: &OutDir,
    store: &mut Store,
    journal: &mut JournalWriter,
    cfg: &RunConfig,
    cancel: &Arc<Cancel>,
    stats: &Arc<Stats>,
    spare: Vec<Worker>,
) -> io::Result<RunOutcome> {
    execute_part(spec, out, store, journal, cfg, cancel, stats, spare, Part::Whole)
}

/// What of a run [`execute_part`] does: all of it, or one window of a big grid's.
#[derive(Clone, Copy)]
pub(super) enum Part<'c> {
    /// The whole run (`store` holds every task of the grid).
    Whole,
    /// One window of the grid (`store` holds its tasks, see [`Store::range`]) in a run of
    /// window after window (see [`super::windows`]): the tasks that ran when sweep crashed
    /// were read before the first window; with `counted`, the run's total for its progress
    /// was counted before the first window too; `streak`, the failures alike in a row that
    /// stop a run (see [`FAIL_FAST_AFTER`](super::FAIL_FAST_AFTER)), goes from window to window.
    Window { crashed: Option<&'c Crashed>, counted: bool, streak: &'c Mutex<(String, u32)> },
}

/// [`execute`], of the whole grid or of one window of it.
#[allow(clippy::too_many_arguments)]
pub(super) fn execute_part(
    spec: &Spec,
    out: &OutDir,
    store: &mut Store,
    journal: &mut JournalWriter,
    cfg: &RunConfig,
    cancel: &Arc<Cancel>,
    stats: &Arc<Stats>,
    spare: Vec<Worker>,
    part: Part<'_>,
) -> io::Result<RunOutcome> {
    panic::install_hook();
    let started = Instant::now();
    let shard = cfg.selection.shard();
    let window = matches!(part, Part::Window { .. });
    super::attempts::remove_abandoned(out, store, shard, crate::proc::run_tag(), window);
    let running_path = running_path(out, shard);
    let crashed = match part {
        Part::Whole => Running::crashed(&running_path),
        Part::Window { crashed, .. } => crashed.cloned(),
    };
    if let Some(crashed) = crashed {
        record_deaths(&crashed, store, journal)?;
    }
    std::fs::create_dir_all(out.root.join("attempts"))?;
    // Processes of this run end with it, or with sweep, however sweep ends.
    let sentinel = match &spec.task {
        TaskKind::Model(_) => None,
        TaskKind::Command(_) | TaskKind::Worker(_) => {
            crate::proc::become_subreaper()?;
            Some(crate::proc::Sentinel::start(crate::proc::run_tag())?)
        }
    };
    // The journal thread keeps the fold of the journal as it writes it, for checkpoints.
    let mut own = store.own.take();
    let store_base = store.base;
    let (idents, rows) = store.split();
    let (to_run, already_done, prior) = choose(&cfg.selection, idents, rows.rows);
    let (suspects, others): (Vec<u64>, Vec<u64>) = match &spec.task {
        TaskKind::Model(_) if prior.keys().any(|&i| rows.rows[i as usize].deaths > 0) => {
            to_run.iter().partition(|&&i| rows.rows[i as usize].deaths > 0)
        }
        _ => (Vec::new(), Vec::new()),
    };
    let rest: &[u64] = if suspects.is_empty() { &to_run } else { &others };
    // Only a model runs inside sweep's own process, where it can take sweep down.
    let running = match &spec.task {
        TaskKind::Model(_) => Some(Running::create(&running_path, stats, cfg.jobs.max(1))?),
        _ => None,
    };
    // Added, not set: the rounds of adaptive replicates run one after another on one `Stats`.
    if !matches!(part, Part::Window { counted: true, .. }) {
        stats.to_run.fetch_add(to_run.len() as u64, Ordering::Relaxed);
    }

    let queue = JournalQueue::default();
    let spec_hash = crate::outdir::spec_hash(&spec.text);
    let mut checkpoints = own.as_mut().map(|ledger| Checkpoints::new(ledger, &spec_hash));
    let streak = match part {
        Part::Window { streak, .. } => streak.lock().map(|s| s.clone()).unwrap_or_default(),
        Part::Whole => Default::default(),
    };
    let limits = Limits { max_failures: cfg.max_failures, fail_fast: !cfg.keep_going, streak };
    let recorder = Recorder::new(rows, idents, store_base, &queue, stats, cancel, limits);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs.max(1))
        .thread_name(|i| format!("sweep-worker-{i}"))
        .build()
        .map_err(io::Error::other)?;
    let supervisor = match &spec.task {
        TaskKind::Command(_) => {
            let supervisor = crate::command::Supervisor::new(cancel.clone());
            supervisor.limit_memory(cfg.slots.memory);
            Some(supervisor)
        }
        TaskKind::Model(_) | TaskKind::Worker(_) => None,
    };
    let out_abs = OutDir::new(std::path::absolute(&out.root)?);
    let workers = match &spec.task {
        TaskKind::Worker(ws) => Some(prepare_workers(spec, ws, &out_abs, cancel)?)
            .inspect(|(watchdog, _)| watchdog.limit_memory(cfg.slots.memory)),
        _ => None,
    };
    let place = Place { spec, out: &out_abs, supervisor: supervisor.as_deref(), slots: &cfg.slots };
    let staging = (spec.arrays == ArrayLayout::Zarr)
        .then(|| crate::store::StagingWriter::new(&out_abs.staging(), crate::proc::run_tag()));
    let writer = Writer { out: &out_abs, idents, recorder: &recorder, cancel, bytes: &stats.bytes };
    let run =
        Run { place: &place, cfg, cancel, stats, idents, base: store_base, prior: &prior, staging: staging.as_ref() };

    let mut durability: Box<dyn Durability + '_> = match cfg.durable {
        true => Box::new(MachineSafe { root: std::fs::File::open(&out.root)? }),
        false => Box::new(ProcessSafe),
    };
    if let Some(staging) = &staging {
        durability = Box::new(Staged { staging, inner: durability });
    }
    let journal_error = std::thread::scope(|scope| {
        let journal_thread = std::thread::Builder::new()
            .name("sweep-journal".into())
            .spawn_scoped(scope, || queue.write_loop(journal, cancel, &mut *durability, checkpoints.as_mut()))
            .expect("spawn the journal thread");
        let io_threads = cfg.io_threads.max(1);
        let (tx, rx) = bounded::<WriteJob>(io_threads * QUEUE_PER_THREAD);
        let io: Vec<_> = (0..io_threads)
            .map(|i| {
                let rx = rx.clone();
                let writer = &writer;
                std::thread::Builder::new()
                    .name(format!("sweep-io-{i}"))
                    .spawn_scoped(scope, move || rx.into_iter().for_each(|job| writer.write(job)))
                    .expect("spawn an I/O thread")
            })
            .collect();
        drop(rx);
        match (&spec.task, &workers) {
            (TaskKind::Worker(ws), Some((watchdog, tag))) => {
                drop(tx);
                let wr = WorkerRun {
                    spec,
                    ws,
                    out: &out_abs,
                    retries: cfg.retries,
                    cancel,
                    stats,
                    idents,
                    prior: &prior,
                    recorder: &recorder,
                    watchdog,
                    requests: crate::worker::protocol::Requests::new(&spec.grid, &[]),
                    to_run: &to_run,
                    cursor: AtomicUsize::new(0),
                    spare: Mutex::new(spare),
                    tag: tag.clone(),
                    env: vec![("SWEEP_RUN_ID".into(), tag.clone())],
                    slots: &cfg.slots,
                    start_failures: AtomicU32::new(0),
                    staging: staging.as_ref(),
                };
                std::thread::scope(|s| {
                    for slot in 0..cfg.jobs.max(1).min(to_run.len().max(1)) {
                        let wr = &wr;
                        std::thread::Builder::new()
                            .name(format!("sweep-worker-{slot}"))
                            .spawn_scoped(s, move || wr.thread(slot))
                            .expect("spawn a worker thread");
                    }
                });
            }
            _ => pool.install(|| {
                // Tasks that were running when sweep crashed run first, one at a time: if
                // one crashes sweep again, it alone is to blame.
                if !suspects.is_empty() {
                    let (mut tx, mut batch, mut scratch) = (tx.clone(), Batch::new(&recorder), Scratch::default());
                    for &i in &suspects {
                        run.task(i, &mut tx, &mut batch, &mut scratch);
                    }
                }
                rest.par_iter()
                    .with_max_len(1024)
                    .for_each_with((tx, Batch::new(&recorder), Scratch::default()), |(tx, batch, scratch), &i| {
                        run.task(i, tx, batch, scratch)
                    });
            }),
        }
        // The I/O threads drain the queue and exit once every sender is gone; then no record
        // can follow the end marker.
        for t in io {
            let _ = t.join();
        }
        queue.end();
        journal_thread.join().unwrap_or_else(|_| Some(io::Error::other("the journal thread panicked")))
    });

    drop(supervisor);
    drop(workers);
    if let Some(r) = running {
        r.finish();
    }
    if let Some(s) = sentinel {
        s.finish();
    }
    // The journal thread flushed all it wrote. Flushed, not fsynced: the journal survives a
    // killed process as it is; after a machine crash, records the OS had not yet written are
    // simply run again by `--resume`.
    if let Part::Window { streak, .. } = part {
        *streak.lock().unwrap_or_else(|e| e.into_inner()) = recorder.streak();
    }
    let (first_failures, failure_groups, other_failures) = recorder.into_failures();
    if let Some(e) = journal_error {
        return Err(e);
    }
    store.own = own;
    Ok(RunOutcome {
        already_done,
        to_run: to_run.len() as u64,
        done: stats.done.load(Ordering::Relaxed),
        failed: stats.failed.load(Ordering::Relaxed),
        stopped: cancel.reason(),
        seconds: started.elapsed().as_secs_f64(),
        bytes_written: stats.bytes.load(Ordering::Relaxed),
        first_failures,
        failure_groups,
        other_failures,
    })
}

/// The watchdog and the directories of a persistent-worker run, and the tag that tells its
/// attempt directories from other runs'.
fn prepare_workers(spec: &Spec, ws: &WorkerSpec, out: &OutDir, cancel: &Arc<Cancel>) -> io::Result<(Watchdog, String)> {
    let _ = (spec, ws);
    std::fs::create_dir_all(out.root.join("workers"))?;
    std::fs::create_dir_all(out.root.join("attempts"))?;
    std::fs::create_dir_all(out.root.join("tasks"))?;
    Ok((Watchdog::new(cancel.clone()), crate::proc::run_tag().to_string()))
}

/// The file that names the tasks running in sweep's own process (see [`Running`]).
pub(super) fn running_path(out: &OutDir, shard: Option<crate::cluster::Shard>) -> std::path::PathBuf {
    match shard {
        Some(s) => out.root.join("journal").join(format!("{}.running", s.file_stem())),
        None => out.root.join(".sweep-running"),
    }
}

/// What every worker shares.
struct Run<'a> {
    place: &'a Place<'a>,
    cfg: &'a RunConfig,
    cancel: &'a Cancel,
    stats: &'a Stats,
    idents: &'a [(TaskId, u64)],
    /// The grid index of `idents[0]`.
    base: u64,
    prior: &'a HashMap<u64, u32>,
    /// `[output] arrays = "zarr"`: arrays are staged here, on the worker's own thread (an
    /// append to a buffer needs no I/O thread), instead of written as `.npy` files.
    staging: Option<&'a crate::store::StagingWriter>,
}

impl Run<'_> {
    /// Runs task `index` with its retries; a task that writes arrays is handed to the I/O
    /// threads, which record it once its files are in place.
    fn task(&self, index: u64, tx: &mut Sender<WriteJob>, batch: &mut Batch, scratch: &mut Scratch) {
        if self.cancel.is_draining() {
            return;
        }
        let (id, seed) = self.idents[index as usize];
        let before = self.prior.get(&index).copied().unwrap_or(0);
        let mut t0 = Instant::now();
        self.stats.set_running(Some((id, self.base + index, t0)));

        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.place.run(self.base + index, (id, seed), before + attempt, scratch);
            let outputs = scratch.outputs();
            let at = Instant::now();
            let seconds = at.duration_since(t0).as_secs_f64();
            let slow = seconds > 1e-3;
            match result {
                Ok(()) if !outputs.arrays.is_empty() && self.staging.is_some() => {
                    let staging = self.staging.expect("checked by the guard");
                    let staged = crate::io::inject_fault()
                        .and_then(|()| staging.append(id, outputs.arrays.iter().map(|(n, a)| (n.as_str(), a))));
                    let arrays = outputs.arrays.len();
                    outputs.arrays.clear();
                    let a = Attempt { index, number: before + attempt, seconds, last: true, at };
                    match staged {
                        Ok(bytes) => {
                            self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
                            batch.records.push(id, a, Ok(&mut outputs.metrics));
                            batch.records.push_staged(arrays);
                            batch.pushed(at, slow);
                        }
                        Err(e) => {
                            // A full disk stops the run (the staging file takes no more anyway).
                            if super::writer::is_fatal(&e) {
                                self.cancel.drain(crate::task::StopReason::Io(e.to_string()));
                            }
                            batch.records.push(
                                id,
                                a,
                                Err(crate::task::TaskFailure::new(FailureClass::Io, e.to_string())),
                            );
                            batch.pushed(at, true);
                        }
                    }
                    break;
                }
                Ok(()) if !outputs.arrays.is_empty() => {
                    let job = WriteJob {
                        index,
                        attempt: before + attempt,
                        seconds,
                        metrics: std::mem::take(&mut outputs.metrics),
                        arrays: std::mem::take(&mut outputs.arrays),
                    };
                    // Blocks when the disk is slower than the workers: memory stays bounded.
                    let _ = tx.send(job);
                    break;
                }
                Ok(()) => {
                    let a = Attempt { index, number: before + attempt, seconds, last: true, at };
                    batch.records.push(id, a, Ok(&mut outputs.metrics));
                    // Only commands leave a directory here; a model's arrays go to the writers.
                    if let Some(files) = scratch.take_files() {
                        batch.records.push_files(&files);
                    }
                    batch.pushed(at, slow);
                    break;
                }
                // An interrupted task is left pending: `--resume` runs it again.
                Err(f) if f.class == FailureClass::Interrupted => break,
                Err(f) => {
                    let last = attempt > self.cfg.retries || self.cancel.is_draining();
                    batch.records.push(id, Attempt { index, number: before + attempt, seconds, last, at }, Err(f));
                    // Failures are handed over at once: --max-failures must stop promptly.
                    batch.pushed(at, true);
                    if last {
                        break;
                    }
                    self.stats.retried.fetch_add(1, Ordering::Relaxed);
                    t0 = at;
                }
            }
        }
        self.stats.set_running(None);
    }
}

/// Records a failed attempt of class `crash` for each task that ran when sweep crashed.
fn record_deaths(crashed: &Crashed, store: &mut Store, journal: &mut JournalWriter) -> io::Result<()> {
    let signal =
        crate::proc::signal_name(crashed.signal).map_or_else(|| format!("signal {}", crashed.signal), str::to_string);
    let mut lines = Vec::new();
    for task in &crashed.tasks {
        // A few ids after a crash: a scan of the table needs no id map.
        let Some(index) = store.idents.iter().position(|(id, _)| id == task) else { continue };
        let index = index as u64;
        let row = &store.rows[index as usize];
        if row.status == Status::Done {
            continue;
        }
        let attempt = row.attempts + 1;
        let (id, _) = store.idents[index as usize];
        let failure =
            crate::task::TaskFailure::new(FailureClass::Crash, format!("sweep crashed ({signal}) while this task ran"));
        crate::journal::format_death(&mut lines, id, store.base + index, attempt, &signal);
        store.apply(index, attempt, 0.0, Err::<std::iter::Empty<(&str, &crate::model::Metric)>, _>(&failure));
        store.note_death(index);
        if let Some(own) = &mut store.own {
            own.apply(store.base + index, attempt, true, Err((failure.class, &failure.message)));
        }
    }
    journal.append_formatted(&lines)?;
    journal.flush()
}
