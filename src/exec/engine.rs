//! Running the selected tasks of a grid: a rayon pool of workers, a bounded pool of
//! I/O threads for array outputs, one journal, retries, failure limits, cancellation.

use super::journal_queue::JournalQueue;
use super::panic;
use super::Stats;
use crate::grid::TaskId;
use crate::journal::JournalWriter;
use crate::model::{Metric, Outputs, Params, TaskRng};
use crate::outdir::OutDir;
use crate::results::{Status, Store};
use crate::spec::{ModelTask, Spec, TaskKind};
use crate::task::{Cancel, FailureClass, StopReason, TaskFailure};
use crossbeam_channel::bounded;
use rand::SeedableRng;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// What the run records under its lock: every attempt's row, and the first failures.
struct Sink<'a> {
    store: &'a mut Store,
    first_failures: Vec<(TaskId, String)>,
}

/// A finished attempt of task `index`.
#[derive(Clone, Copy)]
struct Attempt {
    index: u64,
    /// Its number, counting earlier runs' attempts.
    number: u32,
    seconds: f64,
    /// The task's last attempt (not retried).
    last: bool,
    at: Instant,
}

/// A finished attempt waiting to be recorded in the store; its journal line is already
/// formatted in the batch's `lines`.
struct Pending {
    attempt: Attempt,
    /// Done: the range of its metrics in the batch's `metrics`. Failed: why.
    result: Result<std::ops::Range<usize>, TaskFailure>,
}

/// Finished attempts, handed to the shared journal and store together.
#[derive(Default)]
struct Records {
    items: Vec<Pending>,
    /// The metrics of the done items, one after another.
    metrics: Vec<(Cow<'static, str>, Metric)>,
    /// Their journal lines.
    lines: Vec<u8>,
}

impl Records {
    /// Adds an attempt of task `id` and formats its journal line (outside any lock); done
    /// attempts' metrics are moved out of `result`.
    fn push(&mut self, id: TaskId, a: Attempt, result: Result<&mut Vec<(Cow<'static, str>, Metric)>, TaskFailure>) {
        let result = match result {
            Ok(ms) => {
                let start = self.metrics.len();
                self.metrics.append(ms);
                let range = start..self.metrics.len();
                crate::journal::format_record(
                    &mut self.lines,
                    id,
                    a.number,
                    a.seconds,
                    Ok(&self.metrics[range.clone()]),
                );
                Ok(range)
            }
            Err(f) => {
                crate::journal::format_record(&mut self.lines, id, a.number, a.seconds, Err(&f));
                Err(f)
            }
        };
        self.items.push(Pending { attempt: a, result });
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn clear(&mut self) {
        self.items.clear();
        self.metrics.clear();
        self.lines.clear();
    }
}

/// Records are handed to the shared journal and store in batches, so workers running
/// tiny tasks do not take the shared lock per task. A batch is handed over when it is
/// full, old, after a slow task or a failure, and when the worker's job ends (drop), so a
/// record waits at most a few milliseconds unless the tasks themselves are that short.
struct Batch<'c, 'a, 's> {
    ctx: &'c Ctx<'a, 's>,
    records: Records,
    since: Option<Instant>,
    /// The worker's output collector, reused task after task.
    outputs: Option<Outputs>,
    /// The worker's model parameters, kept task after task.
    params: ParamBuf,
}

/// A worker's model parameter values, kept from task to task: replicates of one point
/// follow each other and reuse them, and another point changes only the swept ones.
#[derive(Default)]
struct ParamBuf {
    values: Vec<crate::Value>,
    /// The grid point `values` holds, once filled.
    point: Option<u64>,
}

impl ParamBuf {
    /// The values of `mt`'s parameters at grid point `point`.
    fn at(&mut self, mt: &ModelTask, grid: &crate::grid::Grid, point: u64) -> &[crate::Value] {
        match self.point {
            None => mt.values_at(grid, point, &mut self.values),
            Some(p) if p != point => mt.update_values(grid, point, &mut self.values),
            Some(_) => {}
        }
        self.point = Some(point);
        &self.values
    }
}

const BATCH_LEN: usize = 256;
const BATCH_AGE: Duration = Duration::from_millis(20);

impl<'c, 'a, 's> Batch<'c, 'a, 's> {
    fn new(ctx: &'c Ctx<'a, 's>) -> Self {
        Batch { ctx, records: Records::default(), since: None, outputs: None, params: ParamBuf::default() }
    }

    /// Call after pushing a record at `at`: hands the batch over when it is due.
    fn pushed(&mut self, at: Instant, urgent: bool) {
        let since = *self.since.get_or_insert(at);
        if urgent || self.records.items.len() >= BATCH_LEN || at.saturating_duration_since(since) >= BATCH_AGE {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.records.is_empty() {
            self.ctx.record_many(&mut self.records);
        }
        self.since = None;
    }
}

impl Clone for Batch<'_, '_, '_> {
    /// A new, empty batch for a split of the work (records stay with their batch).
    fn clone(&self) -> Self {
        Batch::new(self.ctx)
    }
}

impl Drop for Batch<'_, '_, '_> {
    fn drop(&mut self) {
        self.flush();
    }
}

struct WriteJob {
    index: u64,
    attempt: u32,
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
    let rows = &store.rows;
    let n = rows.len() as u64;
    // One pass: the selected tasks not yet done run; the selected ones already done are counted.
    let already = AtomicU64::new(0);
    let tried_before = AtomicBool::new(false);
    let pending = |i: u64| {
        let row = &rows[i as usize];
        if row.status == Status::Done {
            already.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if row.attempts > 0 {
            tried_before.store(true, Ordering::Relaxed);
        }
        true
    };
    let to_run: Vec<u64> = match &cfg.selection {
        Selection::Indices(v) => v.iter().copied().filter(|&i| i < n && pending(i)).collect(),
        Selection::All => (0..n).into_par_iter().filter(|&i| pending(i)).collect(),
        Selection::Shard(s) => {
            (0..n).into_par_iter().filter(|&i| s.contains(idents[i as usize].0) && pending(i)).collect()
        }
    };
    let already_done = already.into_inner();
    // Attempts earlier runs made (failed tasks run again); this run numbers its own after them.
    let prior: HashMap<u64, u32> = match tried_before.into_inner() {
        true => to_run.iter().filter_map(|&i| Some((i, rows[i as usize].attempts)).filter(|&(_, a)| a > 0)).collect(),
        false => HashMap::new(),
    };
    stats.to_run.store(to_run.len() as u64, Ordering::Relaxed);

    let failed_tasks = AtomicU64::new(0);
    let sink = Mutex::new(Sink { store, first_failures: Vec::new() });
    let queue = JournalQueue::default();
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
        journal: &queue,
        idents: &idents,
        prior: &prior,
        failed_tasks: &failed_tasks,
        supervisor: supervisor.as_deref(),
    };

    let journal_error = std::thread::scope(|scope| {
        let writer = std::thread::Builder::new()
            .name("sweep-journal".into())
            .spawn_scoped(scope, || queue.write_loop(journal, cancel))
            .expect("spawn the journal thread");
        let (tx, rx) = bounded::<WriteJob>(cfg.io_threads.max(1) * 4);
        let io: Vec<_> = (0..cfg.io_threads.max(1))
            .map(|i| {
                let rx = rx.clone();
                let ctx = &ctx;
                std::thread::Builder::new()
                    .name(format!("sweep-io-{i}"))
                    .spawn_scoped(scope, move || {
                        for job in rx {
                            ctx.write_outputs(job);
                        }
                    })
                    .expect("spawn an I/O thread")
            })
            .collect();
        drop(rx);
        pool.install(|| {
            to_run
                .par_iter()
                .with_max_len(1024)
                .for_each_with((tx, Batch::new(&ctx)), |(tx, batch), &i| ctx.run_task(i, tx, batch));
        });
        // The I/O threads drain the queue and exit once every sender is gone; then no record
        // can follow the end marker.
        for t in io {
            let _ = t.join();
        }
        queue.end();
        writer.join().unwrap_or_else(|_| Some(io::Error::other("the journal thread panicked")))
    });

    // The journal thread flushed all it wrote. Flushed, not fsynced: the journal survives a
    // killed process as it is; after a machine crash, records the OS had not yet written are
    // simply run again by `--resume`.
    let Sink { store, first_failures } = sink.into_inner().unwrap_or_else(|e| e.into_inner());
    store.idents = idents;
    if let Some(e) = journal_error {
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
    /// Lines for the journal thread.
    journal: &'a JournalQueue,
    idents: &'a [(TaskId, u64)],
    prior: &'a HashMap<u64, u32>,
    failed_tasks: &'a AtomicU64,
    supervisor: Option<&'a crate::command::Supervisor>,
}

impl Ctx<'_, '_> {
    fn run_task(&self, index: u64, tx: &mut crossbeam_channel::Sender<WriteJob>, batch: &mut Batch) {
        if self.cancel.is_draining() {
            return;
        }
        let (id, seed) = self.idents[index as usize];
        let before = self.prior.get(&index).copied().unwrap_or(0);
        let mut t0 = Instant::now();
        self.stats.set_running(Some((id, t0)));
        let mut attempt = 0;
        loop {
            attempt += 1;
            // One collector per worker job: cloning the shared `save` list per task would make
            // the workers contend on its reference count.
            let outputs = batch.outputs.get_or_insert_with(|| {
                Outputs::new(match &self.spec.task {
                    TaskKind::Model(m) => m.save.clone(),
                    TaskKind::Command(_) => None,
                })
            });
            outputs.clear();
            let result = self.attempt(index, (id, seed), outputs, &mut batch.params);
            let at = Instant::now();
            let seconds = at.duration_since(t0).as_secs_f64();
            let slow = seconds > 1e-3;
            match result {
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

    /// Runs one attempt, with the worker's output collector and parameter values.
    fn attempt(
        &self,
        index: u64,
        (id, seed): (TaskId, u64),
        outputs: &mut Outputs,
        params: &mut ParamBuf,
    ) -> Result<(), TaskFailure> {
        let (point, replicate) = self.spec.grid.locate(index);
        match &self.spec.task {
            TaskKind::Model(mt) => {
                let params = Params::new(&mt.specs, params.at(mt, &self.spec.grid, point));
                if let Err(m) = mt.model.check(&params) {
                    return Err(TaskFailure::new(FailureClass::Error, format!("invalid parameters: {m}")));
                }
                let mut rng = TaskRng::seed_from_u64(seed);
                match panic::catch(|| mt.model.run(&params, &mut rng, outputs)) {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(TaskFailure::new(FailureClass::Error, e.0)),
                    Err(msg) => Err(TaskFailure::new(FailureClass::Panic, msg)),
                }
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

    /// Records attempts in the store (under the shared lock), then queues their journal
    /// lines, and empties `records`.
    fn record_many(&self, records: &mut Records) {
        let mut guard = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let s = &mut *guard;
        let (mut done, mut failed) = (0, 0);
        for Pending { attempt: a, result } in &records.items {
            let metrics = result.as_ref().map(|r| records.metrics[r.clone()].iter().map(|(k, v)| (k.as_ref(), v)));
            s.store.apply(a.index, a.number, a.seconds, metrics);
            match result {
                _ if !a.last => {}
                Ok(_) => done += 1,
                Err(f) => {
                    failed += 1;
                    let id = self.idents[a.index as usize].0;
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
        if let Some(last) = records.items.last() {
            self.stats.mark_finished(done, failed, last.attempt.at);
        }
        drop(guard);
        self.journal.push(&records.lines);
        records.clear();
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
        let mut metrics = job.metrics;
        let result = match &written {
            Ok(bytes) => {
                self.stats.bytes.fetch_add(*bytes, Ordering::Relaxed);
                Ok(&mut metrics)
            }
            Err(e) => Err(TaskFailure::new(FailureClass::Io, e.to_string())),
        };
        let mut records = Records::default();
        let a = Attempt { index: job.index, number: job.attempt, seconds: job.seconds, last: true, at: Instant::now() };
        records.push(id, a, result);
        self.record_many(&mut records);
        if let Err(e) = written {
            if is_fatal(&e) {
                self.cancel.drain(StopReason::Io(e.to_string()));
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
