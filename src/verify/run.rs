//! One verification: rerun the sample in scratch directories beside the out directory,
//! compare, and record the result in `verify.json`.

use super::compare::{files, metrics, Found, TaskFiles};
use super::plan::{self, Pass};
use super::record::{VerifyRecord, KEEP_MISMATCHES, VERIFY_FORMAT};
use super::recorded::{done_records, Done};
use crate::error::{Error, IoContext};
use crate::grid::TaskId;
use crate::model::Registry;
use crate::outdir::Lock;
use crate::results::{Detail, Status};
use crate::session::{load, Prepared};
use crate::spec::Spec;
use crate::task::{Cancel, StopReason};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Prefix of the scratch directories a verification reruns its sample in, beside the out
/// directory: `.sweep-verify-<pid>-<pass>`.
pub const SCRATCH_PREFIX: &str = crate::io::SCRATCH_PREFIXES[1];

/// What to verify, and how.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Done tasks to rerun (at least 1).
    pub sample: u64,
    /// The rerun's worker count; `None`: 1 if the sweep's runs used more, else 2.
    pub jobs: Option<usize>,
    /// Rerun commands and workers only with the thread count they ran with (no second pass).
    pub same_threads: bool,
    /// Done tasks left out of the sample: those a run kept from another version of the
    /// code (`--code-changed keep`), which a rerun of the code as it is now would not match.
    pub skip: std::collections::HashSet<TaskId>,
}

/// One output of a sampled task that does not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The task.
    pub task: TaskId,
    /// Its parameters and replicate: `k=0.5 c0=1 replicate=0`.
    pub params: String,
    /// The pass that found it ([`Pass::label`]).
    pub pass: String,
    /// The metric's name or the file's path in `tasks/<task>/`, or `(task)` when the
    /// rerun failed.
    pub output: String,
    /// What differs.
    pub detail: String,
}

/// What a verification found.
#[derive(Clone, Debug)]
pub struct Verification {
    /// The grid indices rerun.
    pub sample: Vec<u64>,
    /// The reruns.
    pub passes: Vec<Pass>,
    /// Every output that did not match; an output that differs in the first pass is not
    /// reported again by the second.
    pub mismatches: Vec<Mismatch>,
    /// Sampled tasks whose every output matched in every pass.
    pub matched: u64,
    /// Sampled tasks whose records predate checksums (files compared as they are now).
    pub unchecked: u64,
    /// The worker count of the sweep's runs (the largest), if `runs.jsonl` knows it.
    pub run_jobs: Option<usize>,
    /// Stopped by a signal: nothing was recorded.
    pub interrupted: bool,
}

/// Verifies the sweep in `dir` (its spec's models looked up in `registry`): reruns a sample
/// of its done tasks in scratch directories beside it and compares their outputs with the
/// recorded ones. Writes `dir/verify.json` (unless interrupted) and nothing else in `dir`.
/// `scratch` is set to the scratch directory in use, so that a signal handler can remove
/// it before the process exits.
pub fn verify(
    dir: &Path,
    registry: &Registry,
    opts: &VerifyOptions,
    cancel: &Arc<Cancel>,
    scratch: &Mutex<Option<PathBuf>>,
    say: &dyn Fn(String),
) -> Result<Verification, Error> {
    if opts.sample == 0 {
        return Err(Error::Usage("--sample must be at least 1".into()));
    }
    let (spec, out, store, _) = load(dir, registry)?;
    // A run would race with the comparison (and skew nothing but take the cores).
    let _lock = Lock::acquire(&out, None)?;
    crate::io::remove_dead_scratch(&out.root);
    let done: Vec<u64> = (0..store.rows.len() as u64)
        .filter(|&i| store.rows[i as usize].status == Status::Done && !opts.skip.contains(&store.idents[i as usize].0))
        .collect();
    if done.is_empty() {
        return Err(Error::Usage(format!(
            "no task of the sweep in {} is done yet; there is nothing to verify",
            dir.display()
        )));
    }
    let sample = plan::choose(&done, opts.sample, spec.seed);
    let runs = crate::runlog::read(&out.runs());
    let run_jobs = runs.iter().map(|r| r.jobs).max();
    // The same thread count as the sweep's last run (its slots), unless a pass says otherwise.
    let ran_threads = runs.iter().rev().find_map(|r| r.threads);
    let jobs = opts.jobs.unwrap_or_else(|| plan::rerun_jobs(run_jobs));
    let passes = plan::passes(&spec, jobs, opts.same_threads, ran_threads);
    let had = plan::recorded_threads(&spec, ran_threads).and_then(|t| t.trim().parse().ok()).unwrap_or(1);
    let slots = crate::resources::Slots { threads: had, ..Default::default() };
    let wanted: HashMap<TaskId, usize> =
        sample.iter().enumerate().map(|(at, &i)| (store.idents[i as usize].0, at)).collect();
    let recorded =
        done_records(&out.root, &wanted).context(|| format!("cannot read the journal in {}", dir.display()))?;
    let ids: Vec<TaskId> = sample.iter().map(|&i| store.idents[i as usize].0).collect();
    let stored = match spec.arrays {
        crate::spec::ArrayLayout::Zarr => Some(
            crate::store::arrays_of(&out, &ids)
                .context(|| format!("cannot read the arrays of {}", out.store().display()))?,
        ),
        _ => None,
    };

    let mut v = Verification {
        sample,
        passes: passes.clone(),
        mismatches: Vec::new(),
        matched: 0,
        unchecked: 0,
        run_jobs,
        interrupted: false,
    };
    let mut bad = vec![false; v.sample.len()];
    let mut unchecked = vec![false; v.sample.len()];
    for (n, pass) in passes.iter().enumerate() {
        say(format!("rerunning {} of {} done tasks with {}", v.sample.len(), done.len(), pass.label()));
        // A copy of the spec as loaded (its inputs resolving where the sweep was started).
        let mut copy = Spec::parse_saved(&spec.path, &spec.text, registry, spec.base.clone())?;
        copy.name = spec.name.clone();
        // A refined curve's points were chosen as the sweep was read: the copy shares them.
        copy.grid.refine = spec.grid.refine.clone();
        plan::apply(&mut copy, pass);
        let dir = crate::io::scratch_parent(&out.root).join(format!("{SCRATCH_PREFIX}{}-{n}", std::process::id()));
        *scratch.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.clone());
        let inputs =
            Inputs { out: &out.root, sample: &v.sample, wanted: &wanted, recorded: &recorded, stored: stored.as_ref() };
        let at = crate::bench::Sample {
            scratch: &dir,
            jobs: pass.jobs,
            slots: &slots,
            io_threads: 2,
            indices: &v.sample,
            started: None,
        };
        let result = crate::bench::run_sample(copy, &at, cancel, |p| inputs.compare(p));
        scratch.lock().unwrap_or_else(|e| e.into_inner()).take();
        let (timed, found) = result?;
        if matches!(timed.outcome.stopped, Some(StopReason::Interrupted)) {
            v.interrupted = true;
            return Ok(v);
        }
        let (found, old) = found.context(|| format!("cannot read the rerun in {}", dir.display()))?;
        for at in old {
            unchecked[at] = true;
        }
        for (at, f) in found {
            let task = v.sample[at];
            let id = store.idents[task as usize].0;
            // Already found in an earlier pass: the later one adds nothing about it.
            if v.mismatches.iter().any(|m| m.task == id && m.output == f.output) {
                continue;
            }
            bad[at] = true;
            let params = params(&spec, task);
            let detail = match (&pass.threads, plan::recorded_threads(&spec, ran_threads)) {
                // It matched with the run's own thread count: say what it depends on.
                (Some(t), Some(had)) => format!(
                    "depends on the thread count (matches with OMP_NUM_THREADS={had}, as the run had it, not with {t}): {}",
                    f.detail
                ),
                _ => f.detail,
            };
            v.mismatches.push(Mismatch { task: id, params, pass: pass.label(), output: f.output, detail });
        }
    }
    v.matched = bad.iter().filter(|b| !**b).count() as u64;
    v.unchecked = unchecked.iter().filter(|b| **b).count() as u64;
    let record = VerifyRecord {
        format: VERIFY_FORMAT,
        time: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        sample: v.sample.len() as u64,
        jobs,
        passes: passes.iter().map(Pass::label).collect(),
        matched: v.matched,
        mismatches: v.mismatches.len() as u64,
        unchecked: v.unchecked,
        first: v
            .mismatches
            .iter()
            .take(KEEP_MISMATCHES)
            .map(|m| format!("{} {}: {}", m.task, m.output, m.detail))
            .collect(),
    };
    record.write(&out.verify()).context(|| format!("cannot write {}", out.verify().display()))?;
    Ok(v)
}

/// `k=0.5 c0=1 replicate=0` for task `index`.
fn params(spec: &Spec, index: u64) -> String {
    let g = &spec.grid;
    let (point, rep) = g.locate(index);
    let mut parts: Vec<String> =
        g.columns.iter().enumerate().map(|(c, n)| format!("{n}={}", g.value(point, c))).collect();
    parts.push(format!("replicate={rep}"));
    parts.join(" ")
}

/// What the comparison of a rerun needs of the sweep.
struct Inputs<'a> {
    out: &'a Path,
    sample: &'a [u64],
    wanted: &'a HashMap<TaskId, usize>,
    recorded: &'a [Option<Done>],
    /// The sampled tasks' arrays in the array store, when the sweep has one.
    stored: Option<&'a HashMap<TaskId, super::stored::Arrays>>,
}

/// What differs, by position in the sample, and the positions whose records predate
/// checksums.
type Findings = (Vec<(usize, Found)>, Vec<usize>);

impl Inputs<'_> {
    /// Compares the rerun in `p` (still in place) with the records.
    fn compare(&self, p: &Prepared) -> std::io::Result<Findings> {
        let rerun = done_records(&p.out.root, self.wanted)?;
        let ids: Vec<TaskId> = self.sample.iter().map(|&i| p.store.idents[i as usize].0).collect();
        let rerun_arrays = match self.stored {
            Some(_) => crate::store::arrays_of(&p.out, &ids)?,
            None => HashMap::new(),
        };
        let (mut out, mut old) = (Vec::new(), Vec::new());
        for (at, &index) in self.sample.iter().enumerate() {
            let row = &p.store.rows[index as usize];
            let task = p.store.idents[index as usize].0.to_string();
            let (Some(rec), Some(new)) = (&self.recorded[at], &rerun[at]) else {
                // Pending: the rerun stopped before it (when a signal stopped it, the caller
                // drops these findings). Either way it was not shown to reproduce the run.
                let detail = match &row.detail {
                    Detail::Failed(class, msg) => {
                        format!("the rerun failed: {class}: {}", msg.lines().next().unwrap_or(""))
                    }
                    _ => "the rerun stopped before it ran".to_string(),
                };
                out.push((at, Found { output: "(task)".into(), detail }));
                continue;
            };
            out.extend(metrics(&rec.metrics, &new.metrics).into_iter().map(|f| (at, f)));
            if let Some(stored) = self.stored {
                let id = &ids[at];
                out.extend(super::stored::arrays(stored.get(id), rerun_arrays.get(id)).into_iter().map(|f| (at, f)));
            }
            let t = TaskFiles {
                out_dir: &self.out.join("tasks").join(&task),
                rerun_dir: &p.out.task_dir(&task),
                recorded: rec.files.as_deref(),
                rerun: new.files.as_deref(),
            };
            let (found, unchecked) = files(&t);
            out.extend(found.into_iter().map(|f| (at, f)));
            if unchecked {
                old.push(at);
            }
        }
        Ok((out, old))
    }
}
