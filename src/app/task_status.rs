//! `sweep status DIR TASK`: one task in full: its parameters and seed, every attempt the
//! journals hold, its files, and the end of the stderr of its last attempt.

use crate::error::Error;
use crate::grid::TaskId;
use crate::journal::{journal_files, scan, ScanStats};
use crate::outdir::OutDir;
use crate::results::{Detail, TaskTable};
use crate::spec::Spec;
use std::path::PathBuf;

/// Lines of stderr shown.
const STDERR_LINES: usize = 20;

pub(super) fn show(spec: &Spec, out: &OutDir, store: &TaskTable, wanted: &str) -> Result<i32, Error> {
    let wanted = wanted.to_ascii_lowercase();
    let matches: Vec<usize> = store
        .idents
        .iter()
        .enumerate()
        .filter(|(_, (id, _))| id.to_string().starts_with(&wanted))
        .map(|(i, _)| i)
        .collect();
    let index = match matches.as_slice() {
        [i] => *i,
        [] => {
            return Err(Error::Usage(format!("no task of {} has an id starting with `{wanted}`", out.root.display())))
        }
        many => {
            return Err(Error::Usage(format!(
                "{} tasks have an id starting with `{wanted}`; give more digits",
                many.len()
            )))
        }
    };
    let (id, seed) = store.idents[index];
    let row = &store.rows[index];
    println!("task {id}");
    println!("  parameters  {}", super::progress::describe_task(&spec.grid, index as u64));
    println!("  seed        {seed} (seed32 {})", crate::grid::seed32(seed));
    match store.plan() {
        // A replicate that adaptive replicates never asked for is no task of the sweep.
        Some(plan) if !plan.contains(store, index as u64) => {
            let (point, _) = spec.grid.locate(index as u64);
            println!(
                "  status      not needed: adaptive replicates have asked this point for {} replicates",
                plan.needed[point as usize]
            );
        }
        _ => println!("  status      {}", row.status.as_str()),
    }
    match &row.detail {
        Detail::Failed(class, msg) => println!("  error       {class}: {msg}"),
        d if !d.metrics().is_empty() => {
            let m: Vec<String> =
                d.metrics().iter().map(|(k, v)| format!("{}={}", store.keys[*k as usize], metric_text(v))).collect();
            println!("  metrics     {}", m.join(" "));
        }
        _ => {}
    }
    println!("attempts:");
    for (attempt, line) in attempts(out, id) {
        println!("  {attempt:>3}  {line}");
    }
    let dirs = dirs(out, id);
    if !dirs.is_empty() {
        println!("files:");
        for d in &dirs {
            println!("  {}", d.display());
        }
    }
    if let Some(stderr) = dirs.iter().rev().map(|d| d.join("stderr.txt")).find(|p| p.is_file()) {
        let tail = crate::command::tail_lines(&stderr, STDERR_LINES);
        if !tail.is_empty() {
            println!("end of {}:", stderr.display());
            for l in tail.lines() {
                println!("  {l}");
            }
        }
    }
    Ok(crate::exit::SUCCESS)
}

fn metric_text(m: &crate::model::Metric) -> String {
    let mut s = String::new();
    m.write_text(&mut s);
    s
}

/// Every journaled attempt of `id`, in journal order: (number, what happened).
fn attempts(out: &OutDir, id: TaskId) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for f in journal_files(&out.root).unwrap_or_default() {
        let _ = scan(&f, &mut ScanStats::default(), |r| {
            if r.task != id {
                return;
            }
            let what = match (&r.failure, r.done) {
                (_, true) => format!("done in {:.3} s", r.seconds),
                (Some((class, msg)), _) => format!("failed after {:.3} s: {class}: {msg}", r.seconds),
                (None, false) => "failed".into(),
            };
            found.push((r.attempt, what));
        });
    }
    found
}

/// The task's directories: failed attempts' (oldest first), then its done one.
fn dirs(out: &OutDir, id: TaskId) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let prefix = format!("{id}-");
    if let Ok(rd) = std::fs::read_dir(out.root.join("attempts")) {
        let mut found: Vec<(u32, PathBuf)> = rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let rest = name.strip_prefix(&prefix)?;
                Some((rest.split('-').next()?.parse().ok()?, e.path()))
            })
            .collect();
        found.sort();
        dirs.extend(found.into_iter().map(|(_, p)| p));
    }
    let done = out.task_dir(&id.to_string());
    if done.is_dir() {
        dirs.push(done);
    }
    dirs
}
