//! `sweep run`.

use super::overrides::{load_spec, nothing_to_resume, sets_of, slice_of};
use super::progress::{Mode, Progress};
use crate::cli::RunArgs;
use crate::error::Error;
use crate::exec::{RunConfig, RunOutcome, Stats};
use crate::model::Registry;
use crate::outdir::OutDir;
use crate::session::Prepared;
use crate::spec::Spec;
use crate::task::{Cancel, StopReason};
use crate::usage::{Usage, Who};
use std::sync::Arc;

pub(super) fn run(a: RunArgs, registry: &Registry) -> Result<i32, Error> {
    let mut given = sets_of(&a.sweep.sets, &a.sweep.set);
    given.extend(super::resources::sets(a.threads, a.memory.as_deref()));
    let (spec, _) = load_spec(&a.sweep.spec, &given, a.sweep.out.as_deref(), a.resume, registry)?;
    for w in spec.warnings() {
        eprintln!("warning: {w}");
    }
    let out = OutDir::new(a.sweep.out.clone().unwrap_or_else(|| spec.out.clone()));
    let slice = slice_of(&spec, a.where_.as_deref(), a.limit, a.sample)?;
    let machine = super::resources::machine(&spec, a.gpus.as_deref());
    if a.bench {
        return super::bench::bench(&a, spec, out, registry, &machine);
    }
    // Before anything is written: a request that cannot run here is exit 2.
    let fit = super::resources::fit_on(&spec, &machine, a.sweep.jobs.map(|j| j.get()))?;
    if a.dry_run {
        return super::dry_run::dry_run(&spec, &out, &slice, &super::resources::describe(&fit));
    }
    // Slices are steps of one sweep: a slice continues the sweep of this very spec in `out`
    // without --resume (a sweep of another spec still needs it, and follows the drift rules).
    let resume = a.resume
        || (!slice.is_whole()
            && crate::outdir::Manifest::read(&out).is_ok_and(|m| m.spec_hash == crate::outdir::spec_hash(&spec.text)));
    // Printed even with --quiet, as warnings are: a sweep started from zero by mistake (from
    // the wrong directory) is what it guards against. A shard's first run resumes by design.
    if a.resume && a.shard.is_none() && !out.holds_sweep() {
        eprintln!("{}", nothing_to_resume(&spec, &out, &given, registry));
    }
    let config = RunConfig {
        // What fits (cores ÷ threads, GPUs, memory), SLURM_CPUS_PER_TASK among the cores.
        jobs: fit.jobs.clamp(1, crate::cli::MAX_JOBS as usize),
        slots: fit.slots,
        io_threads: a.sweep.io_threads.unwrap_or(2),
        retries: a.sweep.retries.unwrap_or(0),
        max_failures: a.sweep.max_failures,
        durable: a.durable,
        keep_going: a.keep_going,
        ..RunConfig::default()
    };
    if resume {
        // A resume with nothing to do is told from the checkpoints, without loading the sweep.
        let started = std::time::Instant::now();
        if let Some(f) = crate::session::finished(&spec, &out, a.shard)? {
            for w in &f.warnings {
                eprintln!("warning: {w}");
            }
            let view = View {
                spec: &spec,
                out: &out,
                shard: a.shard,
                slice: !slice.is_whole(),
                counts: (f.selected, 0, 0),
                adaptive: None,
                refine: None,
                no_metrics: false,
            };
            let outcome = RunOutcome {
                already_done: f.selected,
                seconds: started.elapsed().as_secs_f64(),
                ..RunOutcome::default()
            };
            let figures = figures(
                &view,
                &outcome,
                &Resources::now().since(&Resources::now()),
                (config.jobs, config.slots.threads),
            );
            return Ok(summarize(&a, &view, &outcome, &figures, config.jobs));
        }
    }
    // Persistent workers start before the slice is chosen: no more than it can use. Stop
    // signals are watched from before they start: one that comes while they import ends
    // their start-up, exit 130 (#24: it killed sweep by the signal's default action).
    let workers = slice.limit.or(slice.sample).map_or(config.jobs, |n| config.jobs.min(n as usize));
    let cancel = Arc::new(Cancel::new());
    let watch = super::signals::install(cancel.clone(), || {}).map_err(|e| Error::io("cannot watch for signals", e))?;
    let options = crate::session::Options {
        cancel: Some(cancel.clone()),
        slots: config.slots.clone(),
        code_changed: a.code_changed.as_deref().and_then(crate::code::CodeChanged::parse),
        ..Default::default()
    };
    let prepared = crate::session::prepare_with(spec, out, resume, a.shard, workers, options);
    let mut prepared = prepared.inspect_err(|_| watch.finished())?;
    for w in &prepared.warnings {
        eprintln!("warning: {w}");
    }
    let mut config = config;
    if !slice.is_whole() {
        config.selection = crate::exec::Selection::Indices(prepared.choose(&slice));
    }
    let stats = Arc::new(Stats::new(config.jobs));
    let grid = prepared.spec.grid.clone();
    let describe = move |index: u64| super::progress::describe_task(&grid, index);
    let progress = Progress::start(
        stats.clone(),
        if a.progress.is_some() { Mode::Json } else { Mode::detect(a.quiet) },
        Box::new(describe),
    );
    let mut before = Resources::now();
    // Persistent workers have started and imported already; their CPU is counted when they
    // are reaped, after the run: take out what they had used before it (regression: a
    // [python] run of short tasks showed `CPU 957%`, its imports over its seconds).
    before.children.cpu_seconds += prepared.workers_cpu_seconds();
    let outcome = prepared.run(&config, &cancel, &stats);
    watch.finished();
    progress.finish();
    let outcome = outcome?;
    if prepared.shard.is_none() && prepared.spec.arrays == crate::spec::ArrayLayout::Zarr {
        // What the store's build found of `[output] dims` (the .npy layout says it at open).
        for note in crate::store::notes(&prepared.out) {
            eprintln!("warning: {note}");
        }
    }
    let view = View { slice: !slice.is_whole(), ..View::of(&prepared) };
    let figures = figures(&view, &outcome, &Resources::now().since(&before), (config.jobs, config.slots.threads));
    // A failure to write runs.jsonl is a warning: the results do not depend on it.
    if outcome.done + outcome.failed > 0 {
        if let Err(e) = crate::runlog::append(&prepared.out.runs(), &figures) {
            eprintln!("warning: cannot write {}: {e}", prepared.out.runs().display());
        }
    }
    Ok(summarize(&a, &view, &outcome, &figures, config.jobs))
}

/// What the summary says of the sweep after a run.
struct View<'a> {
    spec: &'a Spec,
    out: &'a OutDir,
    shard: Option<crate::cluster::Shard>,
    /// The run was a slice (`--limit`, `--sample`, `--where`): it answers for its own tasks.
    slice: bool,
    /// (done, failed, pending) over the sweep's tasks (a shard run's: its shard's).
    counts: (u64, u64, u64),
    /// Adaptive replicates: points (met the target, stopped at max, not decided).
    adaptive: Option<(u64, u64, u64)>,
    /// `[refine]`: curves (finished, refining, held by a failed point), and whether some
    /// task reported the refined metric.
    refine: Option<((u64, u64, u64), bool)>,
    /// No task reported a metric.
    no_metrics: bool,
}

impl View<'_> {
    fn of(p: &Prepared) -> View<'_> {
        View {
            spec: &p.spec,
            out: &p.out,
            shard: p.shard,
            slice: false,
            counts: p.counts(),
            adaptive: p.store.plan().map(|plan| plan.tally()),
            refine: p
                .spec
                .refine
                .as_ref()
                .map(|r| (crate::results::refined::tally(&p.spec, &p.store), p.store.keys.contains(&r.metric))),
            no_metrics: p.no_metrics(),
        }
    }
}

/// This run's figures: what the summary shows and `runs.jsonl` keeps for `sweep status`.
fn figures(p: &View, o: &RunOutcome, used: &Resources, (jobs, threads): (usize, usize)) -> crate::runlog::RunRecord {
    // Only tasks that are processes: a model's run has no children but the short-lived
    // ones sweep itself starts (git, an interpreter's --version).
    let processes = !p.spec.task.in_process();
    crate::runlog::RunRecord {
        format: crate::runlog::RUNLOG_FORMAT,
        ended: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        shard: p.shard.map(|s| s.to_string()),
        jobs,
        seconds: o.seconds,
        done: o.done,
        failed: o.failed,
        cpu_seconds: used.own.cpu_seconds + used.children.cpu_seconds,
        task_cpu_seconds: if processes { used.children.cpu_seconds } else { 0.0 },
        peak_rss_bytes: used.own.peak_rss_bytes,
        task_peak_rss_bytes: if processes { used.children.peak_rss_bytes } else { 0 },
        threads: processes.then_some(threads),
    }
}

/// CPU time of sweep and of the processes it ran and reaped (commands, workers), and their
/// peak memory.
struct Resources {
    own: Usage,
    children: Usage,
}

impl Resources {
    fn now() -> Resources {
        Resources { own: Usage::of(Who::Process), children: Usage::of(Who::Children) }
    }

    /// The CPU used since `before`; the peaks so far (peaks cannot be differenced).
    fn since(&self, before: &Resources) -> Resources {
        Resources {
            own: Usage {
                cpu_seconds: self.own.cpu_seconds - before.own.cpu_seconds,
                peak_rss_bytes: self.own.peak_rss_bytes,
            },
            children: Usage {
                cpu_seconds: self.children.cpu_seconds - before.children.cpu_seconds,
                peak_rss_bytes: self.children.peak_rss_bytes,
            },
        }
    }
}

/// Prints the end-of-run summary on stderr and picks the exit code.
fn summarize(a: &RunArgs, p: &View, o: &RunOutcome, figures: &crate::runlog::RunRecord, jobs: usize) -> i32 {
    let (done, failed, pending) = p.counts;
    // With adaptive replicates, the replicates no point needed are not tasks of the sweep.
    let total = done + failed + pending;
    let resume_cmd = format!(
        "sweep run {} --resume{}{}",
        a.sweep.spec.display(),
        a.sweep.out.as_ref().map(|o| format!(" --out {}", o.display())).unwrap_or_default(),
        a.shard.map(|s| format!(" --shard {s}")).unwrap_or_default()
    );
    if !a.quiet {
        let finished = o.done + o.failed;
        let pace = match finished {
            0 => String::new(),
            n if o.seconds / (n as f64) * jobs as f64 >= 1.0 => {
                format!(", {} per task", crate::text::duration_short(o.seconds * jobs as f64 / n as f64))
            }
            n => format!(", {:.0} tasks/s", n as f64 / o.seconds.max(1e-9)),
        };
        // CPU only for work done: a resume with nothing to do has none to show.
        let cpu = match finished {
            0 => String::new(),
            _ => format!(", {}", figures.cpu_text()),
        };
        eprintln!(
            "sweep: {}{total} tasks: {done} done, {failed} failed, {pending} pending | this run: {} done, {} failed in {:.2}s ({}{pace}{cpu}){}",
            p.shard.map(|s| format!("shard {s}: ")).unwrap_or_default(),
            o.done,
            o.failed,
            o.seconds,
            crate::text::count(jobs as u64, "worker"),
            if o.already_done > 0 { format!(", {} already done", o.already_done) } else { String::new() }
        );
        if let Some((met, max, open)) = p.adaptive {
            eprintln!(
                "sweep: adaptive replicates: {met} points met the target, {max} stopped at max, {open} not decided (points.csv)"
            );
        }
        if let Some(((finished, open, held), seen)) = p.refine {
            eprintln!(
                "sweep: refine: {}: {finished} finished, {open} refining, {held} held by a failed point (refine.csv)",
                crate::text::count(finished + open + held, "curve")
            );
            if !seen && done > 0 {
                let metric = p.spec.refine.as_ref().map_or("", |r| r.metric.as_str());
                eprintln!(
                    "warning: no task reported the metric `{metric}` that [refine] follows, so the points were \
                     spread by x alone; check its name against results.csv's columns"
                );
            }
        }
        match p.shard {
            None => eprintln!("sweep: results in {}", p.out.results().display()),
            Some(s) => {
                eprintln!("sweep: shard {s} finished; merge all shards with `sweep collect {}`", p.out.root.display())
            }
        }
        let metrics_json = p.spec.task.command().is_some();
        if metrics_json && o.done > 0 && p.no_metrics {
            eprintln!(
                "sweep: note: no task wrote {{out}}/metrics.json, so results.csv has no metric columns \
                 (write a JSON object there to add some)"
            );
        }
    }
    if !o.failure_groups.is_empty() {
        eprintln!("sweep: {} failed in this run:", crate::text::count(o.failed, "task"));
        for g in o.failure_groups.iter().take(5) {
            let params = super::progress::describe_task(&p.spec.grid, g.first);
            let task = p.spec.identity.task(&p.spec.grid, g.first).0;
            let tasks = if g.count == 1 { "1 task".to_string() } else { format!("{} tasks", g.count) };
            eprintln!("  {tasks}: {}; first: {params} (task {task})", g.error);
        }
        let more: u64 = o.failure_groups.iter().skip(5).map(|g| g.count).sum::<u64>() + o.other_failures;
        if more > 0 {
            eprintln!("  and {more} more with other errors");
        }
        eprintln!(
            "  (all failures: sweep status {}; one task: sweep status {} TASK)",
            p.out.root.display(),
            p.out.root.display()
        );
    }
    match o.stopped {
        Some(StopReason::Interrupted) => {
            eprintln!("sweep: interrupted; the journal is consistent. To finish: {resume_cmd}");
        }
        Some(StopReason::MaxFailures(n)) => {
            eprintln!("sweep: stopped after {n} failed tasks (--max-failures). To finish: {resume_cmd}");
        }
        Some(StopReason::FailFast(ref e)) => {
            // The failure list above already shows the error (regression: it was printed twice).
            let listed = o.failure_groups.iter().take(5).any(|g| &g.error == e);
            eprintln!(
                "sweep: stopped: the first {} tasks all failed with the same error{}, and none was done;\n  \
                 the rest would most likely fail too. Fix the cause, then: {resume_cmd}\n  \
                 (to run every task anyway: add --keep-going)",
                crate::exec::FAIL_FAST_AFTER,
                if listed { " (above)".to_string() } else { format!(":\n  {e}") }
            );
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
    // A shard or a slice answers for its own tasks only; a whole-grid run for the whole grid.
    let incomplete = o.failed > 0 || (p.shard.is_none() && !p.slice && (failed > 0 || pending > 0));
    if p.slice && o.stopped.is_none() && o.failed == 0 && !a.quiet {
        match (failed, pending) {
            (0, 0) => eprintln!("sweep: the slice is done, and with it the sweep"),
            (0, _) => eprintln!(
                "sweep: the slice is done; {} of the grid's {total} {} still pending. To run them: {resume_cmd}",
                crate::text::count(pending, "task"),
                if pending == 1 { "is" } else { "are" }
            ),
            _ => eprintln!(
                "sweep: the slice is done; of the grid's {total} tasks, {pending} are still pending and {failed} failed. \
                 To run them: {resume_cmd}"
            ),
        }
    }
    if o.stopped.is_none() && incomplete {
        if o.failed > 0 {
            eprintln!("sweep: to rerun the failed tasks: {resume_cmd}");
        } else {
            eprintln!("sweep: {failed} failed, {pending} pending. To rerun them: {resume_cmd}");
        }
    }
    crate::exit::for_run(o.stopped.as_ref(), incomplete)
}
