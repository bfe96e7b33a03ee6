//! Running the selected tasks of a grid: a rayon pool of workers, a bounded pool of
//! I/O threads for array outputs, one journal, retries, failure limits, cancellation.

use super::panic;
use super::{Cancel, FailureClass, Stats, StopReason, TaskFailure};
use crate::grid::TaskId;
use crate::journal::JournalWriter;
use crate::model::{Metric, Outputs, Params, TaskRng};
use crate::outdir::OutDir;
use crate::results::{Status, Store};
use crate::spec::{Spec, TaskKind};
use crossbeam_channel::bounded;
use rand::SeedableRng;
use rayon::prelude::*;
use std::borrow::Cow;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which tasks of the grid a run considers.
#[derive(Clone, Debug, Default)]
pub enum Selection {
    /// Every task.
    #[default]
    All,
    /// The tasks of shard `index` of `count` (see [`crate::cluster::Shard`]).
    Shard(crate::cluster::Shard),
    /// These grid indices (a benchmark sample).
    Indices(Vec<u64>),
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Worker threads.
    pub jobs: usize,
    /// Threads writing array outputs.
    pub io_threads: usize,
    /// Extra attempts for a failed task within the run.
    pub retries: u32,
    /// Stop starting tasks after this many have failed.
    pub max_failures: Option<u64>,
    /// Which tasks.
    pub selection: Selection,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            io_threads: 2,
            retries: 0,
            max_failures: None,
            selection: Selection::All,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    /// Tasks selected that were already done before the run.
    pub already_done: u64,
    /// Tasks the run set out to do.
    pub to_run: u64,
    /// Tasks it finished done.
    pub done: u64,
    /// Tasks it finished failed.
    pub failed: u64,
    /// Why it stopped early, if it did.
    pub stopped: Option<StopReason>,
    /// Wall time.
    pub seconds: f64,
    /// Bytes of arrays written.
    pub bytes_written: u64,
    /// The first failures: (task, message).
    pub first_failures: Vec<(TaskId, String)>,
}

/// Keep this many failure messages for the summary.
const KEEP_FAILURES: usize = 5;

struct Sink<'a> {
    journal: &'a mut JournalWriter,
    store: &'a mut Store,
    error: Option<io::Error>,
    first_failures: Vec<(TaskId, String)>,
}

struct WriteJob {
    index: u64,
    seconds: f64,
    metrics: Vec<(Cow<'static, str>, Metric)>,
    arrays: Vec<(String, ndarray::ArrayD<f64>)>,
}

/// Runs the selected, not-yet-done tasks of `spec`, recording each attempt in `journal`
/// and `store`. Returns when every selected task has finished or the run was stopped.
pub fn execute(
    spec: &Spec,
    out: &OutDir,
    store: &mut Store,
    journal: &mut JournalWriter,
    cfg: &RunConfig,
    cancel: &Arc<Cancel>,
    stats: &Arc<Stats>,
) -> io::Result<RunOutcome> {
    panic::install_hook();
    let started = Instant::now();
    let idents = std::mem::take(&mut store.idents);
    let selected = |i: u64| match &cfg.selection {
        Selection::All | Selection::Indices(_) => true,
        Selection::Shard(s) => s.contains(idents[i as usize].0),
    };
    let rows = &store.rows;
    let n = rows.len() as u64;
    let candidates: Vec<u64> = match &cfg.selection {
        Selection::Indices(v) => v.iter().copied().filter(|&i| i < n).collect(),
        _ => (0..n).into_par_iter().filter(|&i| selected(i)).collect(),
    };
    let to_run: Vec<u64> =
        candidates.par_iter().copied().filter(|&i| rows[i as usize].status != Status::Done).collect();
    let already_done = (candidates.len() - to_run.len()) as u64;
    drop(candidates);
    stats.to_run.store(to_run.len() as u64, Ordering::Relaxed);

    let failed_tasks = AtomicU64::new(0);
    let sink = Mutex::new(Sink { journal, store, error: None, first_failures: Vec::new() });
    // Dropping the sender tells the ticker the tasks are over (without waiting out its sleep).
    let (finished, ticks) = bounded::<()>(0);
    let jobs = cfg.jobs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("sweep-worker-{i}"))
        .build()
        .map_err(io::Error::other)?;
    let supervisor = match &spec.task {
        TaskKind::Command(_) => Some(crate::command::Supervisor::new(cancel.clone())),
        TaskKind::Model(_) => None,
    };
    let out_abs = OutDir::new(std::path::absolute(&out.root)?);
    let ctx = Ctx {
        spec,
        out: &out_abs,
        cfg,
        cancel,
        stats,
        sink: &sink,
        idents: &idents,
        failed_tasks: &failed_tasks,
        supervisor: supervisor.as_deref(),
    };

    std::thread::scope(|scope| {
        let (tx, rx) = bounded::<WriteJob>(cfg.io_threads.max(1) * 4);
        for i in 0..cfg.io_threads.max(1) {
            let rx = rx.clone();
            let ctx = &ctx;
            std::thread::Builder::new()
                .name(format!("sweep-io-{i}"))
                .spawn_scoped(scope, move || {
                    for job in rx {
                        ctx.write_outputs(job);
                    }
                })
                .expect("spawn an I/O thread");
        }
        drop(rx);
        let sink = &sink;
        let ticker = scope.spawn(move || {
            // Records reach the file within a second even when no task finishes.
            while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = ticks.recv_timeout(Duration::from_millis(200))
            {
                if let Ok(mut s) = sink.lock() {
                    if let Err(e) = s.journal.flush() {
                        s.error.get_or_insert(e);
                    }
                }
            }
        });
        pool.install(|| {
            to_run.par_iter().with_max_len(64).for_each_with(tx, |tx, &i| ctx.run_task(i, tx));
        });
        // The I/O threads drain the queue and exit once every sender is gone.
        drop(finished);
        let _ = ticker.join();
    });

    let sink = sink.into_inner().unwrap_or_else(|e| e.into_inner());
    let Sink { journal, store, error, first_failures } = sink;
    journal.sync()?;
    store.idents = idents;
    if let Some(e) = error {
        return Err(e);
    }
    Ok(RunOutcome {
        already_done,
        to_run: to_run.len() as u64,
        done: stats.done.load(Ordering::Relaxed),
        failed: stats.failed.load(Ordering::Relaxed),
        stopped: cancel.reason(),
        seconds: started.elapsed().as_secs_f64(),
        bytes_written: stats.bytes.load(Ordering::Relaxed),
        first_failures,
    })
}

struct Ctx<'a, 's> {
    spec: &'a Spec,
    out: &'a OutDir,
    cfg: &'a RunConfig,
    cancel: &'a Arc<Cancel>,
    stats: &'a Arc<Stats>,
    sink: &'a Mutex<Sink<'s>>,
    idents: &'a [(TaskId, u64)],
    failed_tasks: &'a AtomicU64,
    supervisor: Option<&'a crate::command::Supervisor>,
}

impl Ctx<'_, '_> {
    fn run_task(&self, index: u64, tx: &mut crossbeam_channel::Sender<WriteJob>) {
        if self.cancel.is_draining() {
            return;
        }
        let (id, seed) = self.idents[index as usize];
        self.stats.set_running(Some(id));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let t0 = Instant::now();
            let mut outputs = Outputs::new(match &self.spec.task {
                TaskKind::Model(m) => m.save.clone(),
                TaskKind::Command(_) => None,
            });
            let result = self.attempt(index, id, seed, &mut outputs);
            let seconds = t0.elapsed().as_secs_f64();
            match result {
                Ok(()) if !outputs.arrays.is_empty() => {
                    let job = WriteJob { index, seconds, metrics: outputs.metrics, arrays: outputs.arrays };
                    // Blocks when the disk is slower than the workers: memory stays bounded.
                    let _ = tx.send(job);
                    break;
                }
                Ok(()) => {
                    self.record(index, seconds, Ok(&outputs.metrics), true);
                    break;
                }
                // An interrupted task is left pending: `--resume` runs it again.
                Err(f) if f.class == FailureClass::Interrupted => break,
                Err(f) => {
                    let last = attempt > self.cfg.retries || self.cancel.is_draining();
                    self.record(index, seconds, Err(&f), last);
                    if last {
                        break;
                    }
                    self.stats.retried.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.stats.set_running(None);
    }

    fn attempt(&self, index: u64, id: TaskId, seed: u64, outputs: &mut Outputs) -> Result<(), TaskFailure> {
        let (point, replicate) = self.spec.grid.locate(index);
        match &self.spec.task {
            TaskKind::Model(mt) => {
                thread_local! {
                    static VALUES: std::cell::RefCell<Vec<crate::Value>> = const { std::cell::RefCell::new(Vec::new()) };
                }
                VALUES.with(|v| {
                    let mut values = v.borrow_mut();
                    mt.values_at(&self.spec.grid, point, &mut values);
                    let params = Params::new(&mt.specs, &values);
                    if let Err(m) = mt.model.check(&params) {
                        return Err(TaskFailure::new(FailureClass::Error, format!("invalid parameters: {m}")));
                    }
                    let mut rng = TaskRng::seed_from_u64(seed);
                    match panic::catch(|| mt.model.run(&params, &mut rng, outputs)) {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(e)) => Err(TaskFailure::new(FailureClass::Error, e.0)),
                        Err(msg) => Err(TaskFailure::new(FailureClass::Panic, msg)),
                    }
                })
            }
            TaskKind::Command(cmd) => {
                let grid = &self.spec.grid;
                let values: Vec<String> = (0..grid.columns.len()).map(|c| grid.value(point, c).to_string()).collect();
                let task = id.to_string();
                let dir = self.out.task_dir(&task);
                let inv = crate::command::Invocation {
                    spec: cmd,
                    columns: &grid.columns,
                    values: &values,
                    seed,
                    replicate,
                    task: &task,
                    out_dir: &dir,
                };
                let supervisor = self.supervisor.expect("a supervisor runs command sweeps");
                for (k, v) in supervisor.run(&inv)? {
                    outputs.metric(k, v);
                }
                Ok(())
            }
        }
    }

    /// Records an attempt in the store and the journal (in that order, under one lock).
    fn record(
        &self,
        index: u64,
        seconds: f64,
        result: Result<&Vec<(Cow<'static, str>, Metric)>, &TaskFailure>,
        last: bool,
    ) {
        let id = self.idents[index as usize].0;
        let mut s = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let s = &mut *s;
        let metrics_iter = result.map(|m| m.iter().map(|(k, v)| (k.as_ref(), v)));
        let attempt = s.store.apply(index, None, seconds, metrics_iter);
        if let Err(e) = s.journal.append(id, attempt, seconds, result.map(|m| m.as_slice())) {
            self.cancel.drain(StopReason::Io(format!("cannot append to {}: {e}", s.journal.path().display())));
            s.error.get_or_insert(e);
        }
        if last {
            self.stats.mark_finish(result.is_ok());
            if let Err(f) = result {
                if s.first_failures.len() < KEEP_FAILURES {
                    s.first_failures.push((id, f.to_string()));
                }
                let n = self.failed_tasks.fetch_add(1, Ordering::Relaxed) + 1;
                if self.cfg.max_failures.is_some_and(|m| n >= m) {
                    self.cancel.drain(StopReason::MaxFailures(n));
                }
            }
        }
    }

    /// On an I/O thread: writes a task's arrays, then records it done (or failed).
    fn write_outputs(&self, job: WriteJob) {
        let id = self.idents[job.index as usize].0;
        let dir = self.out.task_dir(&id.to_string());
        let written = (|| -> io::Result<u64> {
            std::fs::create_dir_all(&dir)?;
            crate::io::remove_stale_temps(&dir);
            let mut bytes = 0;
            for (name, array) in &job.arrays {
                bytes += crate::io::write_npy_atomic(&dir, name, array)
                    .map_err(|e| io::Error::new(e.kind(), format!("writing {}/{name}.npy: {e}", dir.display())))?;
            }
            Ok(bytes)
        })();
        match written {
            Ok(bytes) => {
                self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
                self.record(job.index, job.seconds, Ok(&job.metrics), true);
            }
            Err(e) => {
                let f = TaskFailure::new(FailureClass::Io, e.to_string());
                self.record(job.index, job.seconds, Err(&f), true);
                if is_fatal(&e) {
                    self.cancel.drain(StopReason::Io(e.to_string()));
                }
            }
        }
    }
}

/// Errors after which no other task could write its outputs either.
fn is_fatal(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT | libc::EROFS | libc::EACCES | libc::EPERM))
        || e.kind() == io::ErrorKind::StorageFull
        || e.kind() == io::ErrorKind::PermissionDenied
        || e.to_string().contains("No space left")
}
