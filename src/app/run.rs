//! `sweep run`.

use crate::cli::RunArgs;
use crate::error::Error;
use crate::exec::{RunConfig, RunOutcome, Stats};
use crate::model::Registry;
use crate::outdir::OutDir;
use crate::report::progress::{Mode, Progress};
use crate::session::{prepare, Prepared};
use crate::spec::Spec;
use crate::task::{Cancel, StopReason};
use std::sync::Arc;

pub(super) fn run(a: RunArgs, registry: &Registry) -> Result<i32, Error> {
    let spec = Spec::from_file(&a.spec, registry)?;
    let out = OutDir::new(a.out.clone().unwrap_or_else(|| spec.out.clone()));
    if a.bench {
        return super::bench::bench(&a, spec, out, registry);
    }
    if a.dry_run {
        dry_run(&spec, &out);
        return Ok(crate::exit::SUCCESS);
    }
    let jobs = a.jobs.or_else(|| std::env::var("SLURM_CPUS_PER_TASK").ok().and_then(|v| v.parse().ok()));
    let jobs = jobs.map(|j: usize| j.clamp(1, crate::cli::MAX_JOBS as usize));
    let config = RunConfig {
        jobs: jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1),
        io_threads: a.io_threads.max(1),
        retries: a.retries,
        max_failures: a.max_failures,
        durable: a.durable,
        ..RunConfig::default()
    };
    let mut prepared = prepare(spec, out, a.resume, a.shard, config.jobs)?;
    for w in &prepared.warnings {
        eprintln!("warning: {w}");
    }
    let cancel = Arc::new(Cancel::new());
    let watch = super::signals::install(cancel.clone(), || {}).map_err(|e| Error::io("cannot watch for signals", e))?;
    let stats = Arc::new(Stats::new(config.jobs));
    let progress = Progress::start(stats.clone(), Mode::detect(a.quiet));
    let cpu0 = crate::usage::process_cpu_seconds();
    let outcome = prepared.run(&config, &cancel, &stats);
    watch.finished();
    progress.finish();
    let outcome = outcome?;
    let cpu = crate::usage::process_cpu_seconds() - cpu0;
    Ok(summarize(&a, &prepared, &outcome, cpu, config.jobs))
}

/// Prints the end-of-run summary on stderr and picks the exit code.
fn summarize(a: &RunArgs, p: &Prepared, o: &RunOutcome, cpu: f64, jobs: usize) -> i32 {
    let (done, failed, pending) = p.store.counts();
    let total = p.store.rows.len();
    let resume_cmd = format!(
        "sweep run {} --resume{}{}",
        a.spec.display(),
        a.out.as_ref().map(|o| format!(" --out {}", o.display())).unwrap_or_default(),
        a.shard.map(|s| format!(" --shard {s}")).unwrap_or_default()
    );
    if !a.quiet {
        let rate = (o.done + o.failed) as f64 / o.seconds.max(1e-9);
        let util = 100.0 * cpu / (o.seconds.max(1e-9) * jobs as f64);
        eprintln!(
            "sweep: {total} tasks: {done} done, {failed} failed, {pending} pending | this run: {} done, {} failed in {:.2}s ({rate:.0} tasks/s, {jobs} workers, CPU {util:.0}%){}",
            o.done,
            o.failed,
            o.seconds,
            if o.already_done > 0 { format!(", {} already done", o.already_done) } else { String::new() }
        );
        match p.shard {
            None => eprintln!("sweep: results in {}", p.out.results().display()),
            Some(s) => {
                eprintln!("sweep: shard {s} finished; merge all shards with `sweep collect {}`", p.out.root.display())
            }
        }
    }
    if !o.first_failures.is_empty() {
        eprintln!("sweep: {} task(s) failed in this run; the first:", o.failed);
        for (task, msg) in &o.first_failures {
            let first_line = msg.lines().next().unwrap_or("");
            eprintln!("  {task}: {first_line}");
        }
        eprintln!("  (all failures: sweep status {})", p.out.root.display());
    }
    match o.stopped {
        Some(StopReason::Interrupted) => {
            eprintln!("sweep: interrupted; the journal is consistent. To finish: {resume_cmd}");
        }
        Some(StopReason::MaxFailures(n)) => {
            eprintln!("sweep: stopped after {n} failed tasks (--max-failures). To finish: {resume_cmd}");
        }
        Some(StopReason::Io(ref e)) => {
            eprintln!(
                "sweep: stopped: outputs cannot be written ({e}). Free space or fix permissions, then: {resume_cmd}"
            );
        }
        Some(StopReason::Workers(ref e)) => {
            eprintln!("sweep: stopped: workers keep failing to start: {e}\n  fix the cause, then: {resume_cmd}");
        }
        Some(StopReason::TimeLimit) | None => {}
    }
    // A shard answers for its own tasks only; a whole-grid run for the whole grid.
    let incomplete = o.failed > 0 || (p.shard.is_none() && (failed > 0 || pending > 0));
    if o.stopped.is_none() && incomplete {
        if o.failed > 0 {
            eprintln!("sweep: to rerun the failed tasks: {resume_cmd}");
        } else {
            eprintln!("sweep: {failed} failed, {pending} pending. To rerun them: {resume_cmd}");
        }
    }
    crate::exit::for_run(o.stopped.as_ref(), incomplete)
}

fn dry_run(spec: &Spec, out: &OutDir) {
    let g = &spec.grid;
    println!(
        "{}: {}, {} tasks ({} points x {} replicates), seed {}",
        spec.name,
        spec.task.label(),
        spec.task_count(),
        g.points(),
        g.replicates,
        spec.seed
    );
    println!("out: {}", out.root.display());
    println!("axes:");
    for axis in &g.axes {
        for (name, values) in axis.names.iter().zip(&axis.values) {
            let shown: Vec<String> = if values.len() <= 6 {
                values.iter().map(|v| v.to_string()).collect()
            } else {
                let mut v: Vec<String> = values[..3].iter().map(|v| v.to_string()).collect();
                v.push("...".into());
                v.extend(values[values.len() - 2..].iter().map(|v| v.to_string()));
                v
            };
            let zip =
                if axis.names.len() > 1 { format!(" (zipped with {})", axis.names.join(", ")) } else { String::new() };
            println!("  {name:<12} {} value(s): {}{zip}", values.len(), shown.join(", "));
        }
    }
    println!("first tasks:");
    let mut header = format!("  {:<16}  {:>9}  {:<20}", "task", "replicate", "seed");
    for c in &g.columns {
        header.push_str(&format!("  {c}"));
    }
    println!("{header}");
    for i in 0..spec.task_count().min(10) {
        let (id, seed) = spec.identity.task(g, i);
        let (point, rep) = g.locate(i);
        let mut line = format!("  {id}  {rep:>9}  {seed:<20}");
        for c in 0..g.columns.len() {
            line.push_str(&format!("  {}", g.value(point, c)));
        }
        println!("{line}");
    }
}
