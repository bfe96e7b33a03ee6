//! The out directory before a run: refused, created, or checked against the spec it holds
//! (a new sweep, a resumed one, an extended one, or a shard of one).

use crate::cluster::Shard;
use crate::error::{Error, IoContext};
use crate::outdir::{create_new, spec_hash, Lock, Manifest, OutDir};
use crate::spec::Spec;
use std::io;

/// The shard counts (`N` of `shard-I-of-N`) of the shard journals already in `out`.
fn shard_counts(out: &OutDir) -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir(out.root.join("journal")) else { return Vec::new() };
    let mut counts: Vec<u32> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".jsonl")?.rsplit_once("-of-")?.1.parse().ok()
        })
        .collect();
    counts.sort();
    counts.dedup();
    counts
}

/// Refuses, before anything is written, a grid whose bookkeeping cannot fit in this
/// machine's memory: a run by windows keeps a few bits per task (the done bits of the
/// sweep, of its own journal and of `results.csv`'s survey), any other a row per task. The
/// message names the size and the limit.
pub fn check_size(spec: &Spec, windows: bool) -> Result<(), Error> {
    let tasks = spec.task_count();
    let per_task = match windows && crate::exec::in_windows(spec) {
        true => 0.5,
        // Id and seed, the row, and the id → index map a resume builds.
        false => (16 + std::mem::size_of::<crate::results::Row>() + 16) as f64,
    };
    let need = tasks as f64 * per_task;
    let memory = crate::model::size::physical_memory();
    if need <= memory as f64 {
        return Ok(());
    }
    let g = &spec.grid;
    let reps = match &spec.adaptive {
        Some(_) => format!("{} replicates, the adaptive maximum", g.replicates),
        None => format!("{} replicates", g.replicates),
    };
    Err(Error::Usage(format!(
        "{}: the grid has {tasks} tasks ({} points × {reps}); keeping track of them needs {} of memory \
         ({per_task} bytes a task), more than this machine has ({}); make the grid smaller, or split it into \
         several sweeps",
        spec.path.display(),
        g.points(),
        crate::text::bytes(need.min(u64::MAX as f64) as u64),
        crate::text::bytes(memory),
    )))
}

/// Refuses, writing nothing, an out directory that holds a sweep when `resume` is off, or
/// that is neither a sweep nor empty.
pub(super) fn check_dir(spec: &Spec, out: &OutDir, resume: bool, shard: Option<Shard>) -> Result<(), Error> {
    let shown = out.root.display().to_string();
    if let Some(s) = shard {
        let others = shard_counts(out);
        if let Some(n) = others.iter().find(|&&n| n != s.count) {
            return Err(Error::Usage(format!(
                "{shown} holds shards of a {n}-way split; this run is shard {s} of a {}-way split. \
                 Which shard a task belongs to depends on the number of shards, so all shards must \
                 use the same number: --shard I/{n}",
                s.count
            )));
        }
    }
    if out.holds_sweep() {
        // Shards of one sweep start side by side: a shard's first run into a directory that
        // other shards of the same spec and split started needs no --resume.
        let first_of_its_shard = shard.is_some_and(|s| {
            !out.journal(Some(&s.file_stem())).exists()
                && !out.journal(None).exists()
                && Manifest::read(out).is_ok_and(|m| m.spec_hash == spec_hash(&spec.text))
        });
        if !resume && !first_of_its_shard {
            return Err(Error::Usage(format!(
                "{shown} already holds a sweep; nothing was changed.\n  \
                 to finish it:        sweep run {} --resume{}\n  \
                 to start a new one:  sweep run {} --out NEW_DIR",
                spec.path.display(),
                out_flag(spec, out),
                spec.path.display()
            )));
        }
    } else if !out.is_vacant() {
        return Err(Error::Usage(format!(
            "{shown} exists and is not a sweep directory; sweep writes only into a new or empty directory.\n  \
             choose another with --out NEW_DIR"
        )));
    }
    Ok(())
}

/// The first half of [`prepare`]: checks, creates and locks `out` and writes or checks its
/// manifest. `provenance` is called only when a manifest is written (a new or extended
/// sweep): it runs git and interpreters, which a resume of the same spec need not wait for.
pub(super) fn open_dir(
    spec: &Spec,
    out: &OutDir,
    resume: bool,
    shard: Option<Shard>,
    provenance: impl FnOnce() -> serde_json::Value,
) -> Result<(Lock, Vec<String>), Error> {
    check_dir(spec, out, resume, shard)?;
    let shown = out.root.display().to_string();
    std::fs::create_dir_all(&out.root).context(|| format!("cannot create {shown}"))?;
    out.check_no_links().map_err(Error::Usage)?;
    let stem = shard.map(|s| s.file_stem());
    let lock = Lock::acquire(out, stem.as_deref())?;
    if shard.is_none() {
        // Holding the directory exclusively: temporaries here are a killed run's leftovers.
        crate::io::remove_stale_temps(&out.root);
        // And the scratch directories a killed `--bench` or `sweep verify` left beside it.
        crate::io::remove_dead_scratch(&out.root);
    }
    let mut warnings = Vec::new();

    let fresh = Manifest::for_spec(spec);
    match Manifest::read(out) {
        Ok(old) if old.spec_hash == fresh.spec_hash => {}
        Ok(old) => {
            let changes = old.incompatibilities(spec);
            if !changes.is_empty() {
                return Err(Error::Usage(format!(
                    "the spec changes tasks the sweep in {shown} already has:\n{}\n  \
                     nothing was changed. To run the new spec, give it a new directory: --out NEW_DIR",
                    changes.iter().map(|c| format!("  - {c}")).collect::<Vec<_>>().join("\n")
                )));
            }
            if let Some(s) = shard {
                return Err(Error::Usage(format!(
                    "shard {s}: the spec differs from the one the sweep in {shown} was started with \
                     (spec hash {} vs {}); all shards must run the same spec.\n  \
                     to extend the sweep, run it once without --shard: sweep run {} --resume{}",
                    &fresh.spec_hash[..12],
                    &old.spec_hash[..12],
                    spec.path.display(),
                    out_flag(spec, out)
                )));
            }
            let updated = Manifest { created: old.created.clone(), provenance: Some(provenance()), ..fresh };
            crate::io::write_atomic(&out.spec(), |w| io::Write::write_all(w, spec.text.as_bytes()))
                .context(|| format!("cannot write {}", out.spec().display()))?;
            updated.write(out).context(|| format!("cannot write {}", out.manifest().display()))?;
            let (now, before) = (updated.tasks, old.tasks);
            warnings.push(match now.cmp(&before) {
                std::cmp::Ordering::Greater => {
                    format!(
                        "the spec was extended: {now} tasks now ({before} before); only new and unfinished tasks run"
                    )
                }
                // Regression: shrinking the grid was reported as "the spec was extended".
                std::cmp::Ordering::Less => format!(
                    "the spec now has fewer tasks: {now} ({before} before); the others stay in the journal, \
                     and results.csv lists only these {now}"
                ),
                std::cmp::Ordering::Equal => {
                    format!("the spec changed but its {now} tasks did not; only unfinished tasks run")
                }
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // spec.toml first, manifest last: a manifest vouches for a complete directory.
            create_new(&out.spec(), spec.text.as_bytes())
                .context(|| format!("cannot write {}", out.spec().display()))?;
            let fresh = Manifest { provenance: Some(provenance()), ..fresh };
            if !fresh.write_new(out).context(|| format!("cannot write {}", out.manifest().display()))? {
                let other = Manifest::read(out).context(|| format!("cannot read {}", out.manifest().display()))?;
                if other.spec_hash != fresh.spec_hash {
                    return Err(Error::Usage(format!(
                        "another shard started the sweep in {shown} with a different spec; all shards must run the same spec"
                    )));
                }
            }
        }
        Err(e) => return Err(Error::io(format!("cannot read {}", out.manifest().display()), e)),
    }
    Ok((lock, warnings))
}

pub(super) fn out_flag(spec: &Spec, out: &OutDir) -> String {
    if out.root == spec.out {
        String::new()
    } else {
        format!(" --out {}", out.root.display())
    }
}
