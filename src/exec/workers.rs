//! Running tasks on persistent workers (`[python]`, `[worker]`): one thread per worker
//! process, each sending requests and reading replies in order.
//!
//! Tiny tasks are pipelined: while replies come back quickly, a thread keeps several
//! requests in flight, so that the worker never waits for a round trip. When a worker dies
//! or times out with several requests in flight, nobody is blamed yet: they are sent again
//! one at a time to a fresh worker, so that exactly the task that kills a worker fails.

use super::lane::Lane;
use super::recorder::{is_last_try, Attempt, Batch, Recorder};
use super::Stats;
use crate::grid::TaskId;
use crate::model::Metric;
use crate::outdir::OutDir;
use crate::proc::{Stop, Watchdog};
use crate::spec::Spec;
use crate::task::{Cancel, FailureClass, StopReason, TaskFailure};
use crate::worker::protocol::{Reply, Request, Requests};
use crate::worker::{Ended, StartError, Worker, WorkerSpec};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests in flight per worker at most, for tasks much shorter than a round trip.
const MAX_WINDOW: usize = 64;
/// About this much work is kept in flight per worker: enough that a worker never waits
/// for sweep's round trip, while a slow task keeps at most one other waiting behind it
/// (tasks slower than this get a window of one: the round trip is then noise).
const IN_FLIGHT: Duration = Duration::from_millis(10);
/// Workers that fail to start this many times in a row stop the run.
const START_FAILURES: u32 = 3;

/// A done task's metrics, and the checksums of its files when it left a task directory.
/// A reply's metrics, its files' checksums, and how many arrays it staged.
type Done = (Vec<(Cow<'static, str>, Metric)>, Option<Vec<crate::io::FileDigest>>, usize);

/// A task waiting to be sent: its grid index and the attempts this run made of it.
#[derive(Clone, Copy)]
struct Queued {
    index: u64,
    tries: u32,
}

/// A request in flight.
struct InFlight {
    queued: Queued,
    request: u64,
    dir: PathBuf,
    /// When it was sent, or when the reply before it came, whichever is later: when the
    /// worker could start on it.
    sent: Instant,
}

/// What every worker thread shares.
pub(super) struct WorkerRun<'a, 'r, 's> {
    spec: &'a Spec,
    ws: &'a WorkerSpec,
    out: &'a OutDir,
    retries: u32,
    cancel: &'a Cancel,
    stats: &'a Stats,
    idents: &'a [(TaskId, u64)],
    prior: &'a HashMap<u64, u32>,
    recorder: &'r Recorder<'a, 's>,
    watchdog: &'a Watchdog,
    requests: Requests,
    to_run: &'a [u64],
    cursor: AtomicUsize,
    /// Workers started before the run (to check they start), taken first.
    spare: Mutex<Vec<Worker>>,
    /// Distinguishes this run's attempt directories from other runs'.
    tag: &'a str,
    env: Vec<(String, String)>,
    /// What each slot's worker gets (threads, GPUs), for its whole life.
    slots: &'a crate::resources::Slots,
    start_failures: AtomicU32,
    /// The run's staging file when arrays go to the store: the `.npy` files a task writes
    /// are moved there before its directory is promoted.
    staging: Option<&'a crate::store::StagingWriter>,
    /// One request at a time (suspects of killing sweep, see [`super::crashes`]).
    alone: bool,
}

impl<'a, 'r, 's> WorkerRun<'a, 'r, 's> {
    /// The workers' share of `lane`'s run: the tasks `to_run` of worker `ws`, recorded by
    /// `recorder`, with `spare` workers (started beforehand) used first, and attempt
    /// directories tagged `tag`.
    pub fn new(
        lane: &Lane<'a>,
        ws: &'a WorkerSpec,
        recorder: &'r Recorder<'a, 's>,
        watchdog: &'a Watchdog,
        to_run: &'a [u64],
        spare: Vec<Worker>,
        tag: &'a str,
    ) -> Self {
        let spec = lane.place.spec;
        WorkerRun {
            spec,
            ws,
            out: lane.place.out,
            retries: lane.cfg.retries,
            cancel: lane.cancel,
            stats: lane.stats,
            idents: lane.idents,
            prior: lane.prior,
            recorder,
            watchdog,
            requests: Requests::new(&spec.grid, &[]),
            to_run,
            cursor: AtomicUsize::new(0),
            spare: Mutex::new(spare),
            tag,
            env: vec![("SWEEP_RUN_ID".into(), tag.to_string())],
            slots: lane.place.slots,
            start_failures: AtomicU32::new(0),
            staging: lane.staging,
            alone: false,
        }
    }

    /// Runs the tasks one at a time, on one worker: when sweep dies meanwhile, the task
    /// that ran is the one to blame.
    pub fn alone(mut self) {
        self.alone = true;
        self.threads(1);
    }

    /// Runs the tasks on `jobs` worker threads (at most one per task), each with a worker
    /// process of its own, and returns when all have ended.
    pub fn threads(&self, jobs: usize) {
        std::thread::scope(|s| {
            for slot in 0..jobs.max(1).min(self.to_run.len().max(1)) {
                std::thread::Builder::new()
                    .name(format!("sweep-worker-{slot}"))
                    .spawn_scoped(s, move || self.thread(slot))
                    .expect("spawn a worker thread");
            }
        });
    }
    /// Takes up to `n` tasks from the shared queue into `local`.
    fn take(&self, n: usize, local: &mut VecDeque<Queued>) -> bool {
        let start = self.cursor.fetch_add(n, Ordering::Relaxed).min(self.to_run.len());
        let end = (start + n).min(self.to_run.len());
        local.extend(self.to_run[start..end].iter().map(|&index| Queued { index, tries: 0 }));
        end > start
    }

    /// The worker of thread `slot`: started (or restarted) as needed until the queue is
    /// empty or the run stops.
    fn start(&self, slot: usize) -> Option<Worker> {
        // The spare started as this slot (its GPUs are this slot's), else any spare.
        let spare = {
            let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
            let mine = spare.iter().position(|w| w.slot == Some(slot));
            match mine {
                Some(i) => Some(spare.swap_remove(i)),
                None if self.slots.gpus == 0 => spare.pop(),
                None => None,
            }
        };
        if let Some(w) = spare {
            self.watchdog.watch(w.pgid(), None, self.ws.grace);
            w.set_log(&self.log(slot));
            return Some(w);
        }
        loop {
            if self.cancel.is_draining() {
                return None;
            }
            let mut env = self.env.clone();
            env.push(("SWEEP_WORKER".into(), slot.to_string()));
            env.extend(self.slots.env_here(slot, &self.ws.env));
            match Worker::start(self.ws, &env, Some(&self.log(slot)), self.watchdog) {
                Ok(w) => {
                    self.start_failures.store(0, Ordering::Relaxed);
                    return Some(w);
                }
                Err(StartError::Interrupted) => return None,
                Err(e) => {
                    if self.start_failures.fetch_add(1, Ordering::Relaxed) + 1 >= START_FAILURES {
                        let detail = e.detail().trim_end();
                        let detail = if detail.is_empty() { String::new() } else { format!("\n{detail}") };
                        self.cancel.drain(StopReason::Workers(format!("{e}{detail}")));
                        return None;
                    }
                }
            }
        }
    }

    /// One worker thread.
    fn thread(&self, slot: usize) {
        crate::proc::block_sigpipe();
        Stats::use_slot(slot);
        let mut batch = Batch::new(self.recorder);
        let mut local: VecDeque<Queued> = VecDeque::new();
        let mut inflight: VecDeque<InFlight> = VecDeque::new();
        let mut worker: Option<Worker> = None;
        let (mut window, mut isolate) = (1usize, 0usize);
        let mut ewma: Option<f64> = None;
        let mut next_request = 0u64;
        let mut buf = Vec::new();
        loop {
            if worker.is_none() {
                if local.is_empty() && !self.take(1, &mut local) {
                    break;
                }
                match self.start(slot) {
                    Some(w) => worker = Some(w),
                    None => break,
                }
            }
            let w = worker.as_mut().expect("started above");
            let limit = if isolate > 0 || self.alone { 1 } else { window };
            let was_idle = inflight.is_empty();
            buf.clear();
            // Refill once half the window has come back: one write for many requests.
            let refill = inflight.len() <= limit / 2;
            while refill && inflight.len() < limit && !self.cancel.is_draining() {
                if self.ws.max_tasks > 0 && w.answered + inflight.len() as u64 >= self.ws.max_tasks {
                    break;
                }
                if local.is_empty() && !self.take(limit - inflight.len(), &mut local) {
                    break;
                }
                let q = local.pop_front().expect("taken above");
                let ident = self.idents[q.index as usize];
                let number = self.number(q);
                let dir = self.attempt_dir(ident.0, number);
                next_request += 1;
                let request =
                    Request { id: next_request, index: q.index, ident, attempt: number, dir: &dir.to_string_lossy() };
                self.requests.push(&mut buf, &self.spec.grid, request);
                inflight.push_back(InFlight { queued: q, request: next_request, dir, sent: Instant::now() });
            }
            // Marked running before it is sent: a task that kills sweep at once must be
            // found in the crash file (see [`super::crashes`]).
            if let Some(head) = inflight.front() {
                self.stats.set_running(Some((self.idents[head.queued.index as usize].0, head.queued.index, head.sent)));
            }
            if !buf.is_empty() {
                w.send(&buf);
            }
            let Some(head) = inflight.front() else {
                // Nothing more for this worker: it is done, or it has run its max_tasks.
                let more = !self.cancel.is_draining() && (!local.is_empty() || self.take(1, &mut local));
                worker.take().expect("running").finish(self.ws.grace, self.watchdog);
                if more {
                    continue;
                }
                break;
            };
            if was_idle {
                self.watchdog.set_timeout(w.pgid(), self.ws.timeout);
            }
            let due = head.request;
            let got = match w.recv(self.watchdog) {
                // A reply to a request already answered (a worker that sent one twice): it
                // is dropped, and the reply that is due is still awaited. It answered no
                // request, so it does not count toward `max_tasks_per_worker`.
                Ok(reply) if reply.id.is_some_and(|id| id < due) => {
                    w.answered -= 1;
                    continue;
                }
                // A reply past the one due: the reply to `due` went missing, and the worker
                // is broken. It is ended, and what was in flight is sent again one at a time,
                // as after a crash, so that no task is blamed for another's reply (#24).
                Ok(reply) if reply.id.is_some_and(|id| id > due) => {
                    let got = reply.id.unwrap_or_default();
                    let why = format!("a reply with id {got} while request {due} was due");
                    Err(worker.take().expect("running").abandon(self.watchdog, why))
                }
                other => other,
            };
            match got {
                Ok(reply) => {
                    let w = worker.as_mut().expect("it replied");
                    let head = inflight.pop_front().expect("a request is in flight");
                    let now = Instant::now();
                    if let Some(next) = inflight.front_mut() {
                        next.sent = next.sent.max(now);
                    }
                    let output = std::mem::take(&mut w.output);
                    self.watchdog.set_timeout(w.pgid(), if inflight.is_empty() { None } else { self.ws.timeout });
                    let at = now;
                    // The worker's own timing when it gives one: replies that arrive in a
                    // batch would otherwise seem to take no time.
                    let took = reply.seconds.unwrap_or_else(|| at.duration_since(head.sent).as_secs_f64());
                    let e = ewma.map_or(took, |e| 0.8 * e + 0.2 * took);
                    ewma = Some(e);
                    if isolate > 0 {
                        isolate -= 1;
                    } else {
                        window = (IN_FLIGHT.as_secs_f64() / e.max(1e-7)).clamp(1.0, MAX_WINDOW as f64) as usize;
                    }
                    // A reply without an id answers the request due: the worker could not
                    // read it (its `error` says why).
                    let result = self.finish_reply(&head, reply, &output);
                    self.record(&mut batch, &mut local, &head, result, at, took);
                }
                Err(ended) => {
                    worker = None;
                    self.stats.set_running(None);
                    if ended.stop == Some(Stop::Interrupted) {
                        // Killed by a second Ctrl-C: what was in flight stays pending.
                        break;
                    }
                    if inflight.len() == 1 {
                        let head = inflight.pop_front().expect("one in flight");
                        let failure = self.died(&ended);
                        let at = Instant::now();
                        let seconds = at.duration_since(head.sent).as_secs_f64();
                        self.record(&mut batch, &mut local, &head, Err(failure), at, seconds);
                    } else {
                        // Send them again one at a time: the one that kills a worker alone fails.
                        // Each starts again from an empty directory: what it wrote the first
                        // time (its reply unsent) would otherwise be there twice.
                        isolate = inflight.len();
                        window = 1;
                        for f in inflight.drain(..).rev() {
                            let _ = std::fs::remove_dir_all(&f.dir);
                            local.push_front(f.queued);
                        }
                    }
                }
            }
        }
        self.stats.set_running(None);
        if let Some(w) = worker {
            w.finish(self.ws.grace, self.watchdog);
        }
    }

    /// Where worker `slot` writes its stderr.
    fn log(&self, slot: usize) -> PathBuf {
        self.out.root.join("workers").join(format!("worker-{slot}.log"))
    }

    /// The attempt's number, counting earlier runs'.
    fn number(&self, q: Queued) -> u32 {
        self.prior.get(&q.index).copied().unwrap_or(0) + q.tries + 1
    }

    /// A fresh directory name for an attempt (the worker creates it only if it writes files).
    fn attempt_dir(&self, task: TaskId, number: u32) -> PathBuf {
        self.out.root.join("attempts").join(super::attempt_dirs::name(task, number, self.tag))
    }

    /// The failure of a task whose worker ended while it ran.
    fn died(&self, ended: &Ended) -> TaskFailure {
        match (&ended.protocol, ended.stop) {
            (Some(p), _) => TaskFailure::new(FailureClass::Error, format!("worker protocol: {p}")),
            (None, Some(Stop::Timeout)) => TaskFailure::new(
                FailureClass::Timeout,
                format!("timed out after {}", humantime::format_duration(self.ws.timeout.unwrap_or_default())),
            ),
            (None, Some(Stop::Memory { peak, limit })) => crate::task::out_of_memory(peak, limit),
            (None, _) => TaskFailure::new(FailureClass::Crash, format!("the worker died: {}", ended.status)),
        }
    }

    /// A reply's result: its metrics, with its files moved into place and their checksums
    /// (when it left a task directory).
    fn finish_reply(&self, head: &InFlight, reply: Reply, output: &[u8]) -> Result<Done, TaskFailure> {
        if !output.is_empty() {
            append(&head.dir, "stdout.txt", output);
        }
        if let Some(error) = reply.error {
            if let (Some(detail), None) = (&reply.detail, &self.ws.python) {
                append(&head.dir, "stderr.txt", detail.as_bytes());
            }
            return Err(TaskFailure::new(FailureClass::Error, error));
        }
        if let Some(bad) = super::attempt::clash(&reply.metrics, &self.spec.grid.columns) {
            return Err(bad);
        }
        // Output the worker printed on stdout was just written there too.
        let (mut files, mut staged) = (None, 0);
        if reply.files || !reply.arrays.is_empty() || !output.is_empty() {
            // The worker has answered: nothing writes into the attempt's directory any more.
            let task = self.idents[head.queued.index as usize].0;
            (files, staged) = super::attempt_dirs::promote(self.out, &head.dir, task, self.staging)?;
        }
        Ok((reply.metrics.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect(), files, staged))
    }

    /// Records an attempt; a failure with tries left goes back to the front of the queue.
    fn record(
        &self,
        batch: &mut Batch,
        local: &mut VecDeque<Queued>,
        head: &InFlight,
        result: Result<Done, TaskFailure>,
        at: Instant,
        seconds: f64,
    ) {
        let q = head.queued;
        let id = self.idents[q.index as usize].0;
        let number = self.number(q);
        match result {
            Ok((mut metrics, files, staged)) => {
                let a = Attempt { index: q.index, number, seconds, last: true, at };
                batch.records.push_done(id, a, &mut metrics, files.as_deref(), staged);
                batch.pushed(at, seconds > 1e-3);
            }
            Err(f) => {
                let last = is_last_try(q.tries + 1, self.retries, self.cancel);
                batch.records.push(id, Attempt { index: q.index, number, seconds, last, at }, Err(f));
                batch.pushed(at, true);
                if !last {
                    self.stats.retried.fetch_add(1, Ordering::Relaxed);
                    local.push_front(Queued { index: q.index, tries: q.tries + 1 });
                }
            }
        }
    }
}

/// Appends `bytes` to `dir/name`, creating the directory (best effort: output only).
fn append(dir: &Path, name: &str, bytes: &[u8]) {
    use std::io::Write;
    let _ = std::fs::create_dir_all(dir);
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(name)) {
        let _ = f.write_all(bytes);
    }
}
