//! `sweep run --dry-run`: what a run would do, without doing it: the task count, the axes,
//! the first tasks, and the first tasks' exact command lines or Python calls.

use crate::command::{CommandSpec, Values};
use crate::error::Error;
use crate::outdir::OutDir;
use crate::slice::Slice;
use crate::spec::{Spec, TaskKind};
use crate::worker::WorkerSpec;

/// Tasks whose call is shown.
const SHOWN_CALLS: usize = 3;

pub(super) fn dry_run(spec: &Spec, out: &OutDir, slice: &Slice, slots: &str) -> Result<i32, Error> {
    let g = &spec.grid;
    match &spec.adaptive {
        None => println!(
            "{}: {}, {} ({} x {}), seed {}",
            spec.name,
            spec.task.label(),
            crate::text::count(spec.task_count(), "task"),
            crate::text::count(g.points(), "point"),
            crate::text::count(u64::from(g.replicates), "replicate"),
            spec.seed
        ),
        Some(a) => {
            println!(
                "{}: {}, {} to {} tasks ({} points x {} to {} replicates), seed {}",
                spec.name,
                spec.task.label(),
                g.points() * a.min as u64,
                spec.task_count(),
                g.points(),
                a.min,
                a.max,
                spec.seed
            );
            println!("adaptive: {}", a.describe());
        }
    }
    if let Some(r) = &spec.refine {
        println!("refine: {}; {} at most", r.describe(), crate::text::count(spec.task_count(), "task"));
    }
    let sets = crate::spec::recorded(&spec.text);
    if !sets.is_empty() {
        let shown: Vec<String> = sets.iter().map(|s| format!("--set {s}")).collect();
        println!("set: {}", shown.join(" "));
    }
    println!("out: {}", out.root.display());
    println!("{slots}");
    if !spec.common_seed.is_empty() {
        println!(
            "common seeds: tasks that differ only in {} share their seed",
            spec.common_seed.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(d) = &spec.design {
        let extends = if d.method.extendable() { "raising n on --resume keeps them" } else { "n is fixed once run" };
        println!(
            "sample: {} design of {} on {} ({extends})",
            d.method.name(),
            crate::text::count(d.n, "point"),
            crate::text::count(d.names.len() as u64, "range"),
        );
    }
    if !spec.dims.is_empty() {
        // Implied entries included: `t = ["t"]` makes a returned `t` the coordinate.
        let shown: Vec<String> = spec.dims.iter().map(|(a, d)| format!("{a} [{}]", d.join(", "))).collect();
        println!("array dims: {}", shown.join(", "));
    }
    println!("axes:");
    for (a, axis) in g.axes.iter().enumerate() {
        for (m, (name, values)) in axis.names.iter().zip(&axis.values).enumerate() {
            // A refined axis's slots past its start values are filled as it runs.
            let refined = g.refine.as_deref().filter(|s| s.axis == a);
            let values = &values[..refined.map_or(values.len(), |s| s.start)];
            let shown: Vec<String> = if values.len() <= 6 {
                values.iter().map(|v| v.to_string()).collect()
            } else {
                let mut v: Vec<String> = values[..3].iter().map(|v| v.to_string()).collect();
                v.push("...".into());
                v.extend(values[values.len() - 2..].iter().map(|v| v.to_string()));
                v
            };
            let zip = match &spec.design {
                Some(d) if g.sample == Some(a) => {
                    let (scale, lo, hi) = d.scales[m].describe();
                    format!(" ({scale} in [{lo}, {hi}], along `sample`)")
                }
                _ if axis.names.len() > 1 => format!(" (zipped with {})", axis.names.join(", ")),
                _ if refined.is_some() => " (each curve's start, refined in rounds)".to_string(),
                _ => String::new(),
            };
            println!("  {name:<12} {}: {}{zip}", crate::text::count(values.len() as u64, "value"), shown.join(", "));
        }
    }
    // The tasks shown: the grid's first, or the slice's.
    let shown: Vec<u64> = match slice.is_whole() {
        true => (0..spec.task_count()).filter(|&i| g.holds(g.locate(i).0)).take(10).collect(),
        false => {
            let done = done_in(spec, out);
            let mut chosen = slice.choose(g, spec.seed, |i| done.as_ref().is_none_or(|l| !l.is_done(i)));
            println!(
                "slice ({}): {} of {}{}",
                slice.flags(),
                crate::text::count(chosen.len() as u64, "task"),
                spec.task_count(),
                if done.is_some() { ", among those the sweep in out has not done" } else { "" }
            );
            chosen.truncate(10);
            chosen
        }
    };
    println!("first tasks:");
    let mut header = format!("  {:<16}  {:>9}  {:<20}", "task", "replicate", "seed");
    for c in &g.columns {
        header.push_str(&format!("  {c}"));
    }
    println!("{header}");
    for &i in &shown {
        let (id, seed) = spec.identity.task(g, i);
        let (point, rep) = g.locate(i);
        let mut line = format!("  {id}  {rep:>9}  {seed:<20}");
        for c in 0..g.columns.len() {
            line.push_str(&format!("  {}", g.value(point, c)));
        }
        println!("{line}");
    }
    match &spec.task {
        TaskKind::Model(m) => {
            let fixed: Vec<String> = m.fixed.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!(
                "model {} with {}",
                m.model.name(),
                if fixed.is_empty() { "nothing fixed".into() } else { fixed.join(" ") }
            );
        }
        TaskKind::Command(cmd) => commands(spec, cmd, out, &shown),
        TaskKind::Worker(ws) => calls(spec, ws, out, &shown)?,
    }
    Ok(crate::exit::SUCCESS)
}

/// The ledger of the sweep in `out`, when it is one of this spec's grid: which tasks a slice
/// leaves out as done.
fn done_in(spec: &Spec, out: &OutDir) -> Option<crate::results::Ledger> {
    let hash = crate::outdir::spec_hash(&spec.text);
    let folded =
        out.holds_sweep().then(|| crate::checkpoint::fold_dir(&out.root, spec, &hash)).and_then(|f| f.ok().flatten());
    folded.map(|f| f.ledger)
}

/// `{out}` of attempt 1 of task `id`: a directory of the run-to-be.
fn attempt_dir(out: &OutDir, id: crate::grid::TaskId) -> String {
    let root = std::path::absolute(&out.root).unwrap_or_else(|_| out.root.clone());
    root.join("attempts").join(format!("{id}-1-<run>")).display().to_string()
}

/// The first tasks' command lines, exactly as they will be run.
fn commands(spec: &Spec, cmd: &CommandSpec, out: &OutDir, shown: &[u64]) {
    let g = &spec.grid;
    println!("commands (in {}):", cmd.cwd.display());
    for &i in shown.iter().take(SHOWN_CALLS) {
        let (id, seed) = spec.identity.task(g, i);
        let (point, replicate) = g.locate(i);
        let params: Vec<String> = (0..g.columns.len()).map(|c| g.value(point, c).to_string()).collect();
        let dir = attempt_dir(out, id);
        let task = id.to_string();
        let v = Values { params: &params, seed, replicate, task: &task, out: &dir };
        let line = match (&cmd.argv, &cmd.shell) {
            (Some(argv), _) => {
                argv.iter().map(|t| crate::text::shell_quote(&t.render(&v, false))).collect::<Vec<_>>().join(" ")
            }
            (None, Some(shell)) => format!("sh -c {}", crate::text::shell_quote(&shell.render(&v, true))),
            (None, None) => String::new(),
        };
        println!("  {line}");
    }
}

/// The first tasks' Python calls (or protocol requests), as a worker will receive them. A
/// `[python]` function's module is imported to learn what its signature asks for, which
/// also checks that it can be.
fn calls(spec: &Spec, ws: &WorkerSpec, out: &OutDir, shown: &[u64]) -> Result<(), Error> {
    let g = &spec.grid;
    let Some(f) = &ws.python else {
        println!("worker: {} (in {})", ws.argv.join(" "), ws.cwd.display());
        println!("first requests:");
        let requests = crate::worker::protocol::Requests::new(g, &[]);
        for &i in shown.iter().take(SHOWN_CALLS) {
            let mut line = Vec::new();
            let ident = spec.identity.task(g, i);
            let dir = attempt_dir(out, ident.0);
            let request = crate::worker::protocol::Request { id: i + 1, index: i, ident, attempt: 1, dir: &dir };
            requests.push(&mut line, g, request);
            print!("  {}", String::from_utf8_lossy(&line));
        }
        return Ok(());
    };
    let workers = crate::session::start_workers(spec, 1, None, &Default::default())?;
    let hello = workers.first().map(|w| w.handshake.clone()).unwrap_or_default();
    drop(workers);
    let python = hello["python"].as_str().unwrap_or("").split_whitespace().next().unwrap_or("?").to_string();
    println!(
        "python {python} ({}), in {}: {}",
        hello["executable"].as_str().unwrap_or(&f.interpreter.display().to_string()),
        ws.cwd.display(),
        f.function
    );
    let name = hello["function"].as_str().unwrap_or("f").to_string();
    let extras: Vec<String> =
        hello["extras"].as_array().into_iter().flatten().filter_map(|e| e.as_str().map(String::from)).collect();
    println!("first calls:");
    for &i in shown.iter().take(SHOWN_CALLS) {
        let (id, seed) = spec.identity.task(g, i);
        let (point, replicate) = g.locate(i);
        let mut args: Vec<String> =
            g.columns.iter().enumerate().map(|(c, n)| format!("{n}={}", python_literal(g.value(point, c)))).collect();
        for e in &extras {
            args.push(match e.as_str() {
                "seed" => format!("seed={seed}"),
                "seed32" => format!("seed32={}", crate::grid::seed32(seed)),
                "rng" => format!("rng=numpy.random.Generator(numpy.random.PCG64({seed}))"),
                "out" => format!("out=PosixPath('{}')", attempt_dir(out, id)),
                "replicate" => format!("replicate={replicate}"),
                "task" => format!("task='{id}'"),
                other => format!("{other}=..."),
            });
        }
        println!("  {name}({})", args.join(", "));
    }
    Ok(())
}

/// A value as Python writes it.
fn python_literal(v: &crate::Value) -> String {
    use crate::Value;
    match v {
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Str(s) => format!("{s:?}"),
        Value::Float(f) if f.is_nan() => "nan".into(),
        Value::Float(f) if f.is_infinite() => {
            if *f > 0.0 {
                "inf".into()
            } else {
                "-inf".into()
            }
        }
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
        other => other.to_string(),
    }
}
