//! `sweep status` and `sweep collect`.

use crate::cli::{CollectArgs, StatusArgs};
use crate::error::Error;
use crate::error::IoContext;
use crate::model::Registry;
use crate::outdir::Lock;
use crate::outdir::{spec_hash, OutDir};
use crate::results::{Detail, Status, TaskTable};
use crate::session::{load_journals, open_saved, torn_warnings};
use crate::spec::Spec;
use std::path::{Path, PathBuf};

/// One run's line: what it did, and its CPU and peak memory.
fn describe_run(r: &crate::runlog::RunRecord) -> String {
    let mut text = format!(
        "{} done, {} failed in {:.2}s on {}{}, {}",
        r.done,
        r.failed,
        r.seconds,
        crate::text::count(r.jobs as u64, "worker"),
        r.shard.as_deref().map(|s| format!(" (shard {s})")).unwrap_or_default(),
        r.cpu_text()
    );
    if r.task_peak_rss_bytes == 0 {
        text.push_str(&format!(", peak {}", crate::text::bytes(r.peak_rss_bytes)));
    }
    text
}

/// The out directory of a status target: a directory, or a spec file's out directory.
pub(super) fn out_dir(target: &Path, registry: &Registry) -> Result<PathBuf, Error> {
    if target.is_file() {
        Ok(Spec::from_file(target, registry)?.out)
    } else {
        Ok(target.to_path_buf())
    }
}

/// A failed task as `sweep status` lists it.
struct FailedTask<'a> {
    index: u64,
    attempts: u32,
    deaths: u8,
    class: &'a str,
    message: &'a str,
}

pub(super) fn status(a: StatusArgs, registry: &Registry) -> Result<i32, Error> {
    let dir = out_dir(&a.target, registry)?;
    let (spec, out) = open_saved(&dir, registry)?;
    // The fast way: checkpoints and journal tails, a few bits per task. Adaptive replicates
    // need metrics (which replicates are tasks), and one task's detail needs its records.
    // Staging files (a killed run's) may have lost arrays of done tasks: the slow way checks.
    let staged = spec.arrays == crate::spec::ArrayLayout::Zarr
        && crate::store::staging_files(&out.staging()).is_ok_and(|f| !f.is_empty());
    if a.task.is_none() && !spec.in_rounds() && !staged {
        let folded = crate::checkpoint::fold_dir(&out.root, &spec, &spec_hash(&spec.text))
            .context(|| format!("cannot read the journal in {}", dir.display()))?;
        if let Some(f) = folded {
            for w in torn_warnings(&f.scan).into_iter().chain(f.warnings) {
                eprintln!("warning: {w}");
            }
            let failed = f.ledger.failed().iter().map(|(&index, f)| FailedTask {
                index,
                attempts: f.attempts,
                deaths: f.deaths,
                class: f.class.as_str(),
                message: &f.message,
            });
            return Ok(show(&a, &spec, &out, f.ledger.counts(), Vec::new(), failed));
        }
    }
    let (mut store, scan) = load_store(&spec, &out)?;
    for w in torn_warnings(&scan) {
        eprintln!("warning: {w}");
    }
    if spec.arrays == crate::spec::ArrayLayout::Zarr {
        let shown = out.root.display();
        let journals =
            crate::journal::journal_files(&out.root).context(|| format!("cannot read the journal in {shown}"))?;
        let lost = crate::store::lost_arrays(&out, &journals)
            .context(|| format!("cannot read the staged arrays in {shown}"))?;
        if let Some(m) = lost.message() {
            eprintln!("warning: {m}");
            store.undo(&lost.tasks, &format!("its arrays were lost ({}); it runs again on --resume", lost.why));
        }
    }
    if let Some(task) = &a.task {
        return super::task_status::show(&spec, &out, &store, task);
    }
    let mut adaptive = Vec::new();
    if let (Some(rule), Some(plan)) = (&spec.adaptive, store.plan()) {
        let (met, max, open) = plan.tally();
        adaptive.push(format!(
            "  points   {}: {met} met the target, {max} stopped at max, {open} not decided",
            plan.needed.len()
        ));
        adaptive.push(format!("  adaptive {}", rule.describe()));
    }
    if let Some(rule) = &spec.refine {
        let (finished, open, held) = crate::results::refined::tally(&spec, &store);
        let n = finished + open + held;
        adaptive.push(format!("  curves   {n}: {finished} finished, {open} refining, {held} held by a failed point"));
        adaptive.push(format!("  refine   {}", rule.describe()));
    }
    let failed = store.rows.iter().enumerate().filter(|(_, r)| r.status == Status::Failed).map(|(i, row)| {
        let (class, message) = match &row.detail {
            Detail::Failed(c, m) => (c.as_str(), m.as_ref()),
            _ => ("", ""),
        };
        FailedTask { index: i as u64, attempts: row.attempts, deaths: row.deaths, class, message }
    });
    Ok(show(&a, &spec, &out, store.counts(), adaptive, failed))
}

/// Every task's state, the slow way: each journal record placed through its task's id.
fn load_store(spec: &Spec, out: &OutDir) -> Result<(TaskTable, crate::journal::ScanStats), Error> {
    let mut store = TaskTable::new(spec);
    let read = || format!("cannot read the journal in {}", out.root.display());
    let (scan, _) = load_journals(out, &mut store, None).context(read)?;
    crate::session::settle_refine(spec, out, &mut store).context(read)?;
    Ok((store, scan))
}

/// Prints the status of the sweep in `out` and returns the exit code; `adaptive`: lines
/// about adaptive replicates.
fn show<'f>(
    a: &StatusArgs,
    spec: &Spec,
    out: &OutDir,
    (done, failed, pending): (u64, u64, u64),
    adaptive: Vec<String>,
    failures: impl Iterator<Item = FailedTask<'f>>,
) -> i32 {
    // With adaptive replicates, the replicates no point needed are not tasks of the sweep.
    println!("{}: {} ({}), {} tasks", out.root.display(), spec.name, spec.task.label(), done + failed + pending);
    println!("  done     {done}");
    println!("  failed   {failed}");
    println!("  pending  {pending}");
    for line in adaptive {
        println!("{line}");
    }
    let (code, env) = crate::code::status(&out.root);
    for line in code {
        println!("{line}");
    }
    for w in env {
        eprintln!("warning: {w}");
    }
    println!(
        "  lock     {}",
        if Lock::is_held(out) { "held: a run is in progress" } else { "free: no run in progress" }
    );
    let runs = crate::runlog::read(&out.runs());
    if let Some(last) = runs.last() {
        println!("  runs     {}; last: {}", runs.len(), describe_run(last));
        if runs.len() > 1 {
            let cpu: f64 = runs.iter().map(|r| r.cpu_seconds).sum();
            let tasks: f64 = runs.iter().map(|r| r.task_cpu_seconds).sum();
            let aside = if tasks > 0.0 {
                format!(" (task processes {})", crate::text::duration_short(tasks))
            } else {
                String::new()
            };
            println!("  CPU      {} over all runs{aside}", crate::text::duration_short(cpu));
        }
    }
    if let Some(v) = crate::verify::VerifyRecord::read(&out.verify()) {
        println!("  verified {}", v.summary());
    }
    if failed > 0 {
        println!("failed tasks:");
        let g = &spec.grid;
        for (shown, f) in failures.enumerate() {
            if shown == a.limit {
                println!("  ... and {} more (--limit)", failed as usize - shown);
                break;
            }
            let (point, rep) = g.locate(f.index);
            let params: Vec<String> =
                g.columns.iter().enumerate().map(|(c, n)| format!("{n}={}", g.value(point, c))).collect();
            let aside = if f.deaths >= 2 { "  (set aside: --resume skips it)" } else { "" };
            println!(
                "  {}  {} replicate={rep}  attempts={}  {}: {}{aside}",
                spec.identity.task(g, f.index).0,
                params.join(" "),
                f.attempts,
                f.class,
                f.message.lines().next().unwrap_or("")
            );
        }
    }
    crate::exit::for_tasks(failed, pending)
}

pub(super) fn collect(a: CollectArgs, registry: &Registry) -> Result<i32, Error> {
    let (spec, out) = open_saved(&a.dir, registry)?;
    if a.code_changed.is_none() {
        if let Some(why) = crate::code::collect_refusal(&out.root) {
            return Err(Error::Usage(why));
        }
    }
    let written = crate::session::write_results_from_journals(&spec, &out)?;
    for w in &written.warnings {
        eprintln!("warning: {w}");
    }
    let (done, failed, pending) = written.counts;
    eprintln!("sweep: wrote {} ({done} done, {failed} failed, {pending} pending)", out.results().display());
    Ok(crate::exit::for_tasks(failed, pending))
}
