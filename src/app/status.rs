//! `sweep status` and `sweep collect`.

use crate::cli::{CollectArgs, StatusArgs};
use crate::error::Error;
use crate::model::Registry;
use crate::outdir::Lock;
use crate::results::{Detail, Status};
use crate::session::{load, torn_warnings};
use crate::spec::Spec;
use std::path::{Path, PathBuf};

/// One run's line: what it did, and its CPU and peak memory.
fn describe_run(r: &crate::runlog::RunRecord) -> String {
    let mut text = format!(
        "{} done, {} failed in {:.2}s on {} workers{}, {}",
        r.done,
        r.failed,
        r.seconds,
        r.jobs,
        r.shard.as_deref().map(|s| format!(" (shard {s})")).unwrap_or_default(),
        r.cpu_text()
    );
    if r.task_peak_rss_bytes == 0 {
        text.push_str(&format!(", peak {}", crate::text::bytes(r.peak_rss_bytes)));
    }
    text
}

/// The out directory of a status target: a directory, or a spec file's out directory.
fn out_dir(target: &Path, registry: &Registry) -> Result<PathBuf, Error> {
    if target.is_file() {
        Ok(Spec::from_file(target, registry)?.out)
    } else {
        Ok(target.to_path_buf())
    }
}

pub(super) fn status(a: StatusArgs, registry: &Registry) -> Result<i32, Error> {
    let dir = out_dir(&a.target, registry)?;
    let (spec, out, store, scan) = load(&dir, registry)?;
    for w in torn_warnings(&scan) {
        eprintln!("warning: {w}");
    }
    if let Some(task) = &a.task {
        return super::task_status::show(&spec, &out, &store, task);
    }
    let (done, failed, pending) = store.counts();
    // With adaptive replicates, the replicates no point needed are not tasks of the sweep.
    println!("{}: {} ({}), {} tasks", out.root.display(), spec.name, spec.task.label(), done + failed + pending);
    println!("  done     {done}");
    println!("  failed   {failed}");
    println!("  pending  {pending}");
    if let (Some(rule), Some(plan)) = (&spec.adaptive, store.plan()) {
        let (met, max, open) = plan.tally();
        println!("  points   {}: {met} met the target, {max} stopped at max, {open} not decided", plan.needed.len());
        println!("  adaptive {}", rule.describe());
    }
    println!(
        "  lock     {}",
        if Lock::is_held(&out) { "held: a run is in progress" } else { "free: no run in progress" }
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
        let mut shown = 0;
        for (i, row) in store.rows.iter().enumerate() {
            if row.status != Status::Failed {
                continue;
            }
            if shown == a.limit {
                println!("  ... and {} more (--limit)", failed as usize - shown);
                break;
            }
            shown += 1;
            let (point, rep) = g.locate(i as u64);
            let params: Vec<String> =
                g.columns.iter().enumerate().map(|(c, n)| format!("{n}={}", g.value(point, c))).collect();
            let (class, msg) = match &row.detail {
                Detail::Failed(c, m) => (c.as_str(), m.lines().next().unwrap_or("")),
                _ => ("", ""),
            };
            let aside = if row.deaths >= 2 { "  (set aside: --resume skips it)" } else { "" };
            println!(
                "  {}  {} replicate={rep}  attempts={}  {class}: {msg}{aside}",
                store.idents[i].0,
                params.join(" "),
                row.attempts
            );
        }
    }
    Ok(crate::exit::for_tasks(failed, pending))
}

pub(super) fn collect(a: CollectArgs, registry: &Registry) -> Result<i32, Error> {
    let (spec, out, store, scan) = load(&a.dir, registry)?;
    for w in torn_warnings(&scan) {
        eprintln!("warning: {w}");
    }
    crate::session::write_results(&spec, &store, &out)?;
    let (done, failed, pending) = store.counts();
    eprintln!("sweep: wrote {} ({done} done, {failed} failed, {pending} pending)", out.results().display());
    Ok(crate::exit::for_tasks(failed, pending))
}
