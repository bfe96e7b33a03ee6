//! Running the selected tasks of a grid: a rayon pool of workers, a bounded pool of
//! I/O threads for array outputs, one journal thread, retries, failure limits, cancellation.

use super::attempt::Place;
use super::config::{RunOutcome, Selection};
use super::crashes::{Crashed, Mode, Running, DEATHS_TO_SET_ASIDE};
use super::journal_queue::{Checkpoints, Durability, JournalQueue, MachineSafe, ProcessSafe, Staged};
use super::lane::Lane;
use super::recorder::{Limits, Recorder};
use super::workers::WorkerRun;
use super::writer::{WriteJob, Writer, QUEUE_PER_THREAD};
use super::{panic, Run};
use crate::grid::TaskId;
use crate::journal::JournalWriter;
use crate::outdir::OutDir;
use crate::proc::Watchdog;
use crate::results::{Row, Status, TaskTable};
use crate::spec::ArrayLayout;
use crate::task::{Cancel, FailureClass};
use crate::worker::Worker;
use crossbeam_channel::bounded;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// The tasks a run runs, in the order it runs them.
struct Order {
    /// The selected tasks that are not done, in grid order.
    to_run: Vec<u64>,
    /// Selected tasks done before the run.
    already_done: u64,
    /// Attempts earlier runs made of tasks in `to_run` (absent: none).
    prior: HashMap<u64, u32>,
    /// Tasks with a `crash` attempt, or suspected of two deaths: they run first, one at a
    /// time, so that if one takes sweep down again, it alone is to blame (see
    /// [`super::crashes`]).
    alone: Vec<u64>,
    /// Tasks that were running when sweep died unexplained: they run next, side by side
    /// with nothing else.
    group: Vec<u64>,
    /// The others, when there are suspects (else `to_run` is the rest).
    others: Vec<u64>,
}

/// The tasks that ran when sweep died unexplained (see [`super::crashes`]).
#[derive(Default)]
struct Suspected {
    /// Suspected for the first time: to run as a group.
    group: Vec<TaskId>,
    /// Still running when sweep died again while they ran as a group: to run alone.
    alone: Vec<TaskId>,
}

impl Order {
    fn new(selection: &Selection, idents: &[(TaskId, u64)], rows: &[Row], suspected: &Suspected) -> Order {
        let (to_run, already_done, prior) = choose(selection, idents, rows);
        let died = prior.keys().any(|&i| rows[i as usize].deaths > 0);
        let (mut alone, mut group, mut others) = (Vec::new(), Vec::new(), Vec::new());
        if died || !suspected.group.is_empty() || !suspected.alone.is_empty() {
            // Up to a task per worker slot each, looked up for every task to run.
            let (alone_ids, group_ids): (HashSet<TaskId>, HashSet<TaskId>) =
                (suspected.alone.iter().copied().collect(), suspected.group.iter().copied().collect());
            for &i in &to_run {
                let id = idents[i as usize].0;
                if rows[i as usize].deaths > 0 || alone_ids.contains(&id) {
                    alone.push(i);
                } else if group_ids.contains(&id) {
                    group.push(i);
                } else {
                    others.push(i);
                }
            }
        }
        Order { to_run, already_done, prior, alone, group, others }
    }

    /// The tasks after the suspects.
    fn rest(&self) -> &[u64] {
        match self.alone.is_empty() && self.group.is_empty() {
            true => &self.to_run,
            false => &self.others,
        }
    }
}

/// What of a run [`Run::part`] does: all of it, or one window of a big grid's.
#[derive(Clone, Copy)]
pub(super) enum Part<'c> {
    /// The whole run (`store` holds every task of the grid).
    Whole,
    /// One window of the grid (`store` holds its tasks, see [`TaskTable::range`]) in a run of
    /// window after window (see [`super::windows`]): the tasks that ran when sweep crashed
    /// were read before the first window; with `counted`, the run's total for its progress
    /// was counted before the first window too; `streak`, the failures alike in a row that
    /// stop a run (see [`FAIL_FAST_AFTER`](super::FAIL_FAST_AFTER)), goes from window to window.
    Window { crashed: Option<&'c Crashed>, counted: bool, streak: &'c Mutex<(String, u32)> },
}

impl Run<'_> {
    /// Runs the selected, not-yet-done tasks of the sweep, recording each attempt in the
    /// journal and in `store`. Returns when every selected task has finished or the run was
    /// stopped.
    ///
    /// `spare` are workers of a `[python]` or `[worker]` sweep started beforehand (to check
    /// that they start before the out directory is touched); the run uses them first.
    pub fn whole(&mut self, store: &mut TaskTable, spare: Vec<Worker>) -> io::Result<RunOutcome> {
        self.part(store, spare, Part::Whole)
    }

    /// [`whole`](Self::whole), of the whole grid or of one window of it.
    pub(super) fn part(&mut self, store: &mut TaskTable, spare: Vec<Worker>, part: Part<'_>) -> io::Result<RunOutcome> {
        panic::install_hook();
        let started = Instant::now();
        let running_path = running_path(self.out, self.cfg.selection.shard());
        let (sentinel, suspected) = self.begin(store, part, &running_path)?;
        let (spec, cfg, cancel, stats) = (self.spec, &self.cfg, &self.cancel, &self.stats);
        let store_base = store.base;
        let (idents, rows) = store.split();
        let order = Order::new(&cfg.selection, idents, rows.rows, &suspected);
        // A model can take sweep down from inside; any task can kill it from outside.
        let running = Running::create(&running_path, stats)?;
        // Added, not set: the rounds of adaptive replicates run one after another on one `Stats`.
        if !matches!(part, Part::Window { counted: true, .. }) {
            stats.to_run.fetch_add(order.to_run.len() as u64, Ordering::Relaxed);
        }

        let queue = JournalQueue::default();
        let spec_hash = crate::outdir::spec_hash(&spec.text);
        let mut checkpoints = self.fold.as_mut().map(|ledger| Checkpoints::new(ledger, &spec_hash));
        let streak = match part {
            Part::Window { streak, .. } => streak.lock().map(|s| s.clone()).unwrap_or_default(),
            Part::Whole => Default::default(),
        };
        let limits = Limits { max_failures: cfg.max_failures, fail_fast: !cfg.keep_going, streak };
        let recorder = Recorder::new(rows, idents, store_base, &queue, stats, cancel, limits);
        let pool = spec.task.worker().is_none().then(|| pool(cfg.jobs)).transpose()?;
        let supervisor = spec.task.command().map(|_| {
            let supervisor = crate::command::Supervisor::new(cancel.clone());
            supervisor.limit_memory(cfg.slots.memory);
            supervisor
        });
        let out_abs = OutDir::new(std::path::absolute(&self.out.root)?);
        let workers = spec.task.worker().map(|_| prepare_workers(&out_abs, cancel)).transpose()?;
        if let Some((watchdog, _)) = &workers {
            watchdog.limit_memory(cfg.slots.memory);
        }
        let place = Place { spec, out: &out_abs, supervisor: supervisor.as_deref(), slots: &cfg.slots };
        let staging = (spec.arrays == ArrayLayout::Zarr)
            .then(|| crate::store::StagingWriter::new(&out_abs.staging(), crate::proc::run_tag()));
        let writer = Writer { out: &out_abs, idents, recorder: &recorder, cancel, bytes: &stats.bytes };
        let lane = Lane {
            place: &place,
            cfg,
            cancel,
            stats,
            idents,
            base: store_base,
            prior: &order.prior,
            staging: staging.as_ref(),
        };
        let mut durability = durability(cfg.durable, self.out, staging.as_ref())?;
        let journal = &mut *self.journal;
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
            match (spec.task.worker(), &workers) {
                (Some(ws), Some((watchdog, tag))) => {
                    drop(tx);
                    let mut spare = Some(spare);
                    let mut part = |tasks: &[u64], mode: Mode| {
                        running.set_mode(mode);
                        let run = WorkerRun::new(
                            &lane,
                            ws,
                            &recorder,
                            watchdog,
                            tasks,
                            spare.take().unwrap_or_default(),
                            tag,
                        );
                        match mode {
                            Mode::Alone => run.alone(),
                            _ => run.threads(cfg.jobs),
                        }
                    };
                    if !order.alone.is_empty() {
                        part(&order.alone, Mode::Alone);
                    }
                    if !order.group.is_empty() {
                        part(&order.group, Mode::Group);
                    }
                    running.set_mode(Mode::Side);
                    let run =
                        WorkerRun::new(&lane, ws, &recorder, watchdog, order.rest(), spare.unwrap_or_default(), tag);
                    run.threads(cfg.jobs);
                }
                _ => {
                    let pool = pool.as_ref().expect("built for tasks on the pool");
                    lane.pool(pool, [&order.alone, &order.group, order.rest()], tx, &recorder, &running)
                }
            }
            // The I/O threads drain the queue and exit once every sender is gone; then no
            // record can follow the end marker.
            for t in io {
                let _ = t.join();
            }
            queue.end();
            journal_thread.join().unwrap_or_else(|_| Some(io::Error::other("the journal thread panicked")))
        });

        drop(supervisor);
        drop(workers);
        running.finish(stats);
        if let Some(s) = sentinel {
            s.finish();
        }
        // The journal thread flushed all it wrote. Flushed, not fsynced: the journal survives
        // a killed process as it is; after a machine crash, records the OS had not yet written
        // are simply run again by `--resume`.
        if let Part::Window { streak, .. } = part {
            *streak.lock().unwrap_or_else(|e| e.into_inner()) = recorder.streak();
        }
        let (first_failures, failure_groups, other_failures) = recorder.into_failures();
        if let Some(e) = journal_error {
            return Err(e);
        }
        Ok(RunOutcome {
            already_done: order.already_done,
            to_run: order.to_run.len() as u64,
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

    /// Before a run's tasks: removes abandoned attempt directories, records the deaths of
    /// the tasks that ran when sweep crashed (see [`super::crashes`]) and returns the tasks
    /// that ran when it died unexplained (suspects, to run alone), and (for tasks in
    /// processes of their own)
    /// makes sweep the reaper of its orphans and starts the sentinel that ends the run's
    /// processes with sweep, however sweep ends.
    fn begin(
        &mut self,
        store: &mut TaskTable,
        part: Part<'_>,
        running_path: &std::path::Path,
    ) -> io::Result<(Option<crate::proc::Sentinel>, Suspected)> {
        let window = matches!(part, Part::Window { .. });
        let shard = self.cfg.selection.shard();
        super::attempt_dirs::remove_abandoned(self.out, store, shard, crate::proc::run_tag(), window);
        let crashed = match part {
            Part::Whole => Running::crashed(running_path),
            Part::Window { crashed, .. } => crashed.cloned(),
        };
        let mut suspected = Suspected::default();
        match crashed {
            Some(c) if c.blames() => record_deaths(&c, store, self.journal, self.fold)?,
            Some(c) if c.mode == Mode::Group => suspected.alone = c.tasks,
            Some(c) => suspected.group = c.tasks,
            None => {}
        }
        std::fs::create_dir_all(self.out.root.join("attempts"))?;
        if self.spec.task.in_process() {
            return Ok((None, suspected));
        }
        crate::proc::become_subreaper()?;
        Ok((Some(crate::proc::Sentinel::start(crate::proc::run_tag())?), suspected))
    }
}

/// The pool of `jobs` threads that runs models and commands.
fn pool(jobs: usize) -> io::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .thread_name(|i| format!("sweep-worker-{i}"))
        .build()
        .map_err(io::Error::other)
}

/// When a journal record may be written: after its files are in the process's hands, on
/// disk (`--durable`), or in the staging file.
fn durability<'s>(
    durable: bool,
    out: &OutDir,
    staging: Option<&'s crate::store::StagingWriter>,
) -> io::Result<Box<dyn Durability + 's>> {
    let mut durability: Box<dyn Durability + 's> = match durable {
        true => Box::new(MachineSafe { root: std::fs::File::open(&out.root)? }),
        false => Box::new(ProcessSafe),
    };
    if let Some(staging) = staging {
        durability = Box::new(Staged { staging, inner: durability });
    }
    Ok(durability)
}

/// The watchdog and the directories of a persistent-worker run, and the tag that tells its
/// attempt directories from other runs'.
fn prepare_workers(out: &OutDir, cancel: &Arc<Cancel>) -> io::Result<(Watchdog, String)> {
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

/// Records a failed attempt of class `crash` for each task that ran when sweep died, if
/// they are to blame (see [`Crashed::blames`]).
fn record_deaths(
    crashed: &Crashed,
    store: &mut TaskTable,
    journal: &mut JournalWriter,
    fold: &mut Option<crate::results::Ledger>,
) -> io::Result<()> {
    let message = match crashed.signal {
        0 => "sweep was killed while this task ran alone (by SIGKILL, the OOM killer or the task itself), \
              after it had died twice while this task ran"
            .to_string(),
        s => {
            let signal = crate::proc::signal_name(s).map_or_else(|| format!("signal {s}"), str::to_string);
            format!("sweep crashed ({signal}) while this task ran")
        }
    };
    let failure = crate::task::TaskFailure::new(FailureClass::Crash, message);
    let mut lines = Vec::new();
    // Up to a task per worker slot: one scan of the table, with no id map.
    let tasks: HashSet<TaskId> = crashed.tasks.iter().copied().collect();
    let found: Vec<u64> =
        (store.idents.iter().enumerate()).filter(|(_, (id, _))| tasks.contains(id)).map(|(i, _)| i as u64).collect();
    for index in found {
        let row = &store.rows[index as usize];
        if row.status == Status::Done {
            continue;
        }
        let attempt = row.attempts + 1;
        let (id, _) = store.idents[index as usize];
        crate::journal::format_death(&mut lines, id, store.base + index, attempt, &failure);
        store.apply(index, attempt, 0.0, Err::<std::iter::Empty<(&str, &crate::model::Metric)>, _>(&failure));
        store.note_death(index);
        if let Some(own) = fold {
            own.apply(store.base + index, attempt, true, Err((failure.class, &failure.message)));
        }
    }
    journal.append_formatted(&lines)?;
    journal.flush()
}
