//! `sweep run --bench`: time a sample of the grid's tasks at several worker counts (and
//! I/O thread counts), fit a scalability model, recommend a worker count, and write
//! `<out>/bench/bench.json` and `<out>/bench/speedup.svg`.
//!
//! Every timed run goes through the real scheduler in a scratch out directory next to the
//! out directory (see [`crate::bench::measure`]); a sweep in the out directory is locked
//! for the duration but never read or written.

use crate::bench::{
    measure, render_table, sample_indices, scratch_dir, speedup_points, speedup_svg, summarize, BenchReport, Machine,
    Measurement, Timed,
};
use crate::cli::RunArgs;
use crate::error::{Error, IoContext};
use crate::model::Registry;
use crate::outdir::{Lock, OutDir};
use crate::spec::Spec;
use crate::task::{Cancel, StopReason};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The whole benchmark, pilot included, aims to take about this long by default.
const BUDGET_SECONDS: f64 = 60.0;
/// The pilot runs at most this many tasks...
const PILOT_TASKS: u64 = 20;
/// ...and starts no new one after this many seconds.
const PILOT_SECONDS: f64 = 0.5;
/// The smallest default sample (the whole grid when it is smaller).
const MIN_SAMPLE: u64 = 10;
/// The I/O thread count a plain `sweep run` uses.
const DEFAULT_IO: usize = 2;
/// I/O thread counts tried by default when the tasks write arrays.
const IO_WHEN_WRITING: [usize; 3] = [1, 2, 4];

/// Runs the benchmark for `spec`, writing into `out`; returns the exit code.
pub(super) fn bench(
    a: &RunArgs,
    spec: Spec,
    out: OutDir,
    registry: &Registry,
    slots_machine: &crate::resources::Machine,
) -> Result<i32, Error> {
    let total = spec.task_count();
    if total == 0 {
        return Err(Error::Usage("the grid has no tasks; there is nothing to benchmark".into()));
    }
    let shown = out.root.display().to_string();
    if !out.holds_sweep() && !out.is_vacant() {
        return Err(Error::Usage(format!(
            "{shown} exists and is not a sweep directory; the benchmark writes its results only into a sweep's \
             directory or a new or empty one.\n  choose another with --out DIR"
        )));
    }
    // A run in progress would both skew the timings and race with bench/.
    let _lock = if out.holds_sweep() { Some(Lock::acquire(&out, None)?) } else { None };
    // Scratch directories a killed benchmark or verification left beside it.
    crate::io::remove_dead_scratch(&out.root);

    let machine = Machine::detect();
    let cores = machine.cores;
    // Worker counts are counted in slots: at each count, every task gets its slot (the
    // threads it asks for, else the cores ÷ the count), and no count beyond what fits.
    let fits = super::resources::fit_on(&spec, slots_machine, None)?;
    let asks = spec.resources != crate::resources::Request::default();
    let slots_at = |jobs: usize| super::resources::fit_on(&spec, slots_machine, Some(jobs)).map(|f| f.slots);
    let command = spec.task.command().is_some();
    let say = |msg: String| {
        if !a.quiet {
            eprintln!("bench: {msg}");
        }
    };

    // Checked before the pilot: a count that does not fit is exit 2 with nothing run.
    let jobs = match (a.bench_jobs.is_empty(), asks) {
        (true, true) => default_jobs(fits.jobs, false),
        (true, false) => default_jobs(cores, command),
        (false, _) => sorted(&a.bench_jobs),
    };
    if let Some(&over) = jobs.iter().find(|&&j| slots_at(j).is_err()) {
        return Err(slots_at(over).expect_err("checked above"));
    }
    let cancel = Arc::new(Cancel::new());
    let current: Arc<Mutex<Option<PathBuf>>> = Arc::new(Mutex::new(None));
    {
        // On a second signal the process exits at once: remove the scratch directory first.
        let current = current.clone();
        super::signals::install(cancel.clone(), move || {
            if let Some(dir) = current.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = std::fs::remove_dir_all(dir);
            }
        })
        .map_err(|e| Error::io("cannot watch for signals", e))?;
    }
    let mut next_scratch = 0;
    let mut timed = |jobs: usize,
                     io: usize,
                     sample: &[u64],
                     run_cancel: &Arc<Cancel>,
                     started: Option<&OnceLock<Instant>>|
     -> Result<Timed, Error> {
        let dir = scratch_dir(&out.root, next_scratch);
        next_scratch += 1;
        *current.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.clone());
        let slots = slots_at(jobs)?;
        let at = crate::bench::Sample { scratch: &dir, jobs, slots: &slots, io_threads: io, indices: sample, started };
        let result = measure(&spec, registry, &at, run_cancel);
        current.lock().unwrap_or_else(|e| e.into_inner()).take();
        let t = result?;
        if let Some(StopReason::Io(e)) = &t.outcome.stopped {
            return Err(Error::io(
                "the benchmark stopped: outputs cannot be written",
                std::io::Error::other(e.clone()),
            ));
        }
        Ok(t)
    };
    let interrupted = || -> Result<i32, Error> {
        eprintln!("sweep: benchmark interrupted; nothing was written");
        Ok(crate::exit::INTERRUPTED)
    };

    // Pilot: one worker on a small spread-out sample, to learn the cost of a task (and
    // whether tasks write arrays).
    let pilot_sample = among_tasks(&spec, PILOT_TASKS);
    let pilot = {
        let pilot_cancel = Arc::new(Cancel::new());
        let finished = AtomicBool::new(false);
        let started = OnceLock::new();
        std::thread::scope(|s| {
            s.spawn(|| watch_pilot(&cancel, &pilot_cancel, &finished, &started));
            let r = timed(1, DEFAULT_IO, &pilot_sample, &pilot_cancel, Some(&started));
            finished.store(true, Ordering::Relaxed);
            r
        })?
    };
    if cancel.is_interrupted() {
        return interrupted();
    }
    let pilot_tasks = pilot.outcome.done + pilot.outcome.failed;
    if pilot_tasks == 0 {
        return Err(Error::Usage("the pilot run finished no task; nothing can be timed".into()));
    }
    let per_task = pilot.repeat.seconds / pilot_tasks as f64;
    say(format!(
        "pilot: {} on 1 worker in {:.3} s, about {} per task{}",
        crate::text::count(pilot_tasks as u64, "task"),
        pilot.repeat.seconds,
        crate::text::duration_short(per_task),
        if pilot.repeat.bytes_written > 0 { ", writing arrays" } else { "" }
    ));

    let ios = if !a.bench_io.is_empty() {
        sorted(&a.bench_io)
    } else if pilot.repeat.bytes_written > 0 {
        IO_WHEN_WRITING.to_vec()
    } else {
        vec![DEFAULT_IO]
    };
    let settings: Vec<(usize, usize)> = jobs.iter().flat_map(|&j| ios.iter().map(move |&io| (j, io))).collect();
    let repeats = a.bench_repeat.max(1);
    let n = match a.bench_tasks {
        Some(n) => n.min(total),
        None => {
            let budget = (BUDGET_SECONDS - pilot.repeat.seconds).max(5.0);
            sample_size(total, per_task, &settings, repeats, if command { usize::MAX } else { cores }, budget)
        }
    };
    let sample = among_tasks(&spec, n);
    let n = sample.len() as u64;
    let expected = expected_seconds(n, per_task, &settings, repeats, if command { usize::MAX } else { cores });
    say(format!(
        "timing {n} of {total} tasks at {} (jobs {}; io threads {}), {} each: about {}",
        crate::text::count(settings.len() as u64, "setting"),
        list(&jobs),
        list(&ios),
        if repeats == 1 { "once".to_string() } else { format!("{repeats} times") },
        crate::text::duration_short(expected)
    ));

    let mut measurements = Vec::new();
    let mut failed = 0;
    let mut first_failure = None;
    for &(j, io) in &settings {
        let mut m = Measurement { jobs: j, io_threads: io, tasks: n, repeats: Vec::new() };
        for _ in 0..repeats {
            let t = timed(j, io, &sample, &cancel, None)?;
            if cancel.is_interrupted() {
                return interrupted();
            }
            failed += t.outcome.failed;
            if first_failure.is_none() {
                first_failure = t.outcome.first_failures.first().cloned();
            }
            m.repeats.push(t.repeat);
        }
        let secs: Vec<String> = m.repeats.iter().map(|r| format!("{:.3}", r.seconds)).collect();
        say(format!("jobs {j}, io {io}: {} s", secs.join(" ")));
        measurements.push(m);
    }
    if let Some((task, msg)) = first_failure {
        eprintln!(
            "warning: {} of the sample failed and {} timed as run (first: {task}: {})",
            crate::text::count(failed, "task run"),
            if failed == 1 { "is" } else { "are" },
            msg.lines().next().unwrap_or("")
        );
    }

    let ids: Vec<String> = sample.iter().map(|&i| spec.identity.task(&spec.grid, i).0.to_string()).collect();
    let report = summarize(&a.sweep.spec.display().to_string(), total, ids, &measurements, machine);
    print!("{}", render_table(&report));
    println!("run the sweep with: {}", recommended_command(a, &report));

    let dir = out.bench();
    std::fs::create_dir_all(&dir).context(|| format!("cannot create {}", dir.display()))?;
    let json =
        serde_json::to_string_pretty(&report).map_err(|e| Error::io("cannot encode bench.json", e.into()))? + "\n";
    let path = dir.join("bench.json");
    crate::io::write_atomic(&path, |w| std::io::Write::write_all(w, json.as_bytes()))
        .context(|| format!("cannot write {}", path.display()))?;
    let title = format!("{}: {} on {} cores", spec.name, spec.task.label(), cores);
    let svg = speedup_svg(&speedup_points(&report), report.fit.as_ref(), &title);
    let path = dir.join("speedup.svg");
    crate::io::write_atomic(&path, |w| std::io::Write::write_all(w, svg.as_bytes()))
        .context(|| format!("cannot write {}", path.display()))?;
    say(format!("wrote {} and speedup.svg", dir.join("bench.json").display()));
    Ok(crate::exit::SUCCESS)
}

/// While the pilot runs: stop starting its tasks [`PILOT_SECONDS`] after its timed part
/// began (`started`: not before, since persistent workers may take longer than that to
/// import, and a pilot drained then ran no task), or when the user interrupts the benchmark.
fn watch_pilot(main: &Cancel, pilot: &Cancel, finished: &AtomicBool, started: &OnceLock<Instant>) {
    while !finished.load(Ordering::Relaxed) {
        if main.is_killed() {
            pilot.kill();
        } else if main.is_interrupted() {
            pilot.drain(StopReason::Interrupted);
        } else if started.get().is_some_and(|t0| t0.elapsed().as_secs_f64() > PILOT_SECONDS) {
            pilot.drain(StopReason::TimeLimit);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Default worker counts: 1, 2, 4, ... up to the limit, then the core count and the limit
/// themselves. The limit is the core count, or twice it for command sweeps (commands
/// often wait on I/O).
fn default_jobs(cores: usize, command: bool) -> Vec<usize> {
    let cores = cores.max(1);
    let limit = if command { 2 * cores } else { cores };
    let mut jobs: Vec<usize> =
        std::iter::successors(Some(1usize), |j| j.checked_mul(2)).take_while(|&j| j <= limit).collect();
    jobs.extend([cores, limit]);
    sorted(&jobs)
}

fn sorted(v: &[usize]) -> Vec<usize> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

fn list(v: &[usize]) -> String {
    v.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
}

/// Expected seconds to run `n` tasks of `per_task` seconds at every setting `repeats`
/// times, assuming perfect scaling up to `cores` workers and none beyond.
fn expected_seconds(n: u64, per_task: f64, settings: &[(usize, usize)], repeats: u32, cores: usize) -> f64 {
    n as f64 * per_task * weight(settings, repeats, cores)
}

/// `repeats × Σ 1 / min(jobs, cores)` over the settings.
fn weight(settings: &[(usize, usize)], repeats: u32, cores: usize) -> f64 {
    f64::from(repeats) * settings.iter().map(|&(j, _)| 1.0 / j.clamp(1, cores.max(1)) as f64).sum::<f64>()
}

/// The default sample size: as many tasks as fit in `budget` seconds by
/// A spread sample of `n` of the grid's tasks (see [`sample_indices`]). With `[refine]`,
/// only the start values are tasks before the sweep runs (its other slots hold no point
/// yet), so the sample is drawn among those.
fn among_tasks(spec: &Spec, n: u64) -> Vec<u64> {
    let total = spec.task_count();
    if spec.grid.refine.is_none() {
        return sample_indices(total, n.min(total), spec.seed);
    }
    let pool: Vec<u64> = (0..total).filter(|&i| spec.grid.holds(spec.grid.locate(i).0)).collect();
    let k = n.min(pool.len() as u64);
    sample_indices(pool.len() as u64, k, spec.seed).into_iter().map(|i| pool[i as usize]).collect()
}

/// [`expected_seconds`], at least `min(total, 10)` and at most the whole grid.
fn sample_size(total: u64, per_task: f64, settings: &[(usize, usize)], repeats: u32, cores: usize, budget: f64) -> u64 {
    let cost = per_task * weight(settings, repeats, cores);
    // `as` saturates: a huge quotient means the whole grid.
    let n = if cost > 0.0 { (budget / cost).round() as u64 } else { total };
    n.clamp(total.min(MIN_SAMPLE), total)
}

/// `sweep run SPEC --jobs N` with the I/O threads when they matter and the `--out` given.
fn recommended_command(a: &RunArgs, report: &BenchReport) -> String {
    let jobs = report.recommended_jobs;
    let at: Vec<(usize, f64)> =
        report.runs.iter().filter(|r| r.jobs == jobs).map(|r| (r.io_threads, r.tasks_per_s)).collect();
    let io = recommended_io(&at);
    let mut cmd = format!("sweep run {} --jobs {jobs}", a.sweep.spec.display());
    if io != DEFAULT_IO {
        cmd += &format!(" --io-threads {io}");
    }
    if let Some(out) = &a.sweep.out {
        cmd += &format!(" --out {}", out.display());
    }
    cmd
}

/// Of `(io threads, tasks/s)` at one worker count: the default when it is within 5% of
/// the best, else the fewest threads within 5% of the best.
fn recommended_io(at: &[(usize, f64)]) -> usize {
    let best = at.iter().map(|p| p.1).fold(0.0, f64::max);
    let good = |x: f64| x >= (1.0 - crate::bench::WITHIN_BEST) * best;
    if at.iter().any(|&(io, x)| io == DEFAULT_IO && good(x)) || best <= 0.0 {
        return DEFAULT_IO;
    }
    at.iter().filter(|p| good(p.1)).map(|p| p.0).min().unwrap_or(DEFAULT_IO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_worker_counts_double_up_to_the_cores_and_include_them() {
        assert_eq!(default_jobs(1, false), [1]);
        assert_eq!(default_jobs(2, false), [1, 2]);
        assert_eq!(default_jobs(6, false), [1, 2, 4, 6]);
        assert_eq!(default_jobs(16, false), [1, 2, 4, 8, 16]);
        assert_eq!(default_jobs(6, true), [1, 2, 4, 6, 8, 12]);
        assert_eq!(default_jobs(2, true), [1, 2, 4]);
    }

    #[test]
    fn the_sample_fills_the_budget_within_the_grid() {
        let settings = [(1, 2), (2, 2), (4, 2)];
        // 1 + 1/2 + 1/2 (4 workers count as 2 on 2 cores) = 2 per repeat, 3 repeats: 6 task-times.
        assert_eq!(sample_size(1_000_000, 0.01, &settings, 3, 2, 60.0), 1000);
        assert!((expected_seconds(1000, 0.01, &settings, 3, 2) - 60.0).abs() < 1e-9);
        // Expensive tasks: at least 10; tiny grid: all of it.
        assert_eq!(sample_size(1_000_000, 100.0, &settings, 3, 2, 60.0), 10);
        assert_eq!(sample_size(7, 100.0, &settings, 3, 2, 60.0), 7);
        // Cheap tasks: never more than the grid.
        assert_eq!(sample_size(3000, 1e-6, &settings, 3, 2, 60.0), 3000);
        assert_eq!(sample_size(3000, 0.0, &settings, 3, 2, 60.0), 3000);
        assert_eq!(sample_size(3000, 0.01, &[], 3, 2, 60.0), 3000);
    }

    #[test]
    fn the_default_io_count_is_kept_unless_another_is_clearly_better() {
        assert_eq!(recommended_io(&[(1, 100.0), (2, 97.0), (4, 101.0)]), 2);
        assert_eq!(recommended_io(&[(1, 100.0), (2, 80.0), (4, 99.0)]), 1);
        assert_eq!(recommended_io(&[(1, 50.0), (2, 80.0), (4, 99.0)]), 4);
        assert_eq!(recommended_io(&[(4, 99.0)]), 4);
        assert_eq!(recommended_io(&[]), 2);
    }

    #[test]
    fn durations_read_well() {}
}
