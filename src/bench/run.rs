//! Timing a sample of a sweep's tasks through the real scheduler.
//!
//! Each repetition runs in its own scratch out directory, so the sweep in the real out
//! directory (its journal, results and arrays) is never read or written. The scratch
//! directory is removed when the repetition ends, however it ends (short of the process
//! being killed).

use super::report::Repeat;
use crate::error::{Error, IoContext};
use crate::exec::{RunConfig, RunOutcome, Selection, Stats};
use crate::model::Registry;
use crate::outdir::OutDir;
use crate::session::{prepare_with, Prepared};
use crate::spec::Spec;
use crate::task::Cancel;
use crate::usage::{peak_rss_bytes, Usage, Who};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Prefix of the scratch directories a benchmark creates next to the out directory.
pub const SCRATCH_PREFIX: &str = crate::io::SCRATCH_PREFIXES[0];

/// The scratch directory for repetition `n` of a benchmark whose results go to `out`:
/// `<parent of out>/.sweep-bench-<pid>-<n>`, on the same filesystem as `out` so that
/// writing arrays costs what it will cost in the real run.
pub fn scratch_dir(out: &Path, n: usize) -> PathBuf {
    crate::io::scratch_parent(out).join(format!("{SCRATCH_PREFIX}{}-{n}", std::process::id()))
}

/// One timed run of a sample.
#[derive(Clone, Debug)]
pub struct Timed {
    /// What the report needs.
    pub repeat: Repeat,
    /// What the scheduler reported (done and failed counts, why it stopped).
    pub outcome: RunOutcome,
}

/// Removes a scratch directory when dropped.
struct Scratch<'a>(&'a Path);

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0);
    }
}

/// Runs the tasks at grid `indices` of `spec` once, with `jobs` workers and `io_threads`
/// I/O threads, in the scratch out directory `scratch` (which must not exist or be empty),
/// and removes `scratch` afterwards.
///
/// The spec is parsed again from its text (with `registry`) for the scratch run. Only the
/// scheduler's work is timed: preparing the scratch directory and removing it are not.
/// The repeat's CPU seconds are this process's (workers, I/O threads and all) plus those of
/// the task processes reaped meanwhile (commands, and persistent workers, which end with
/// the run), its peak RSS is the process-wide high-water mark after the run (see
/// [`peak_rss_bytes`]), its task peak RSS the largest task process's, and its bytes are
/// those of the arrays written. Failed tasks count as run; `cancel` stops the run
/// early (check `outcome.stopped`). `started`, when given, is set when the timed part
/// begins, after workers have started and imported: a caller that limits a run's time
/// counts from there.
pub fn measure(spec: &Spec, registry: &Registry, sample: &Sample<'_>, cancel: &Arc<Cancel>) -> Result<Timed, Error> {
    let copy = Spec::parse(&spec.path, &spec.text, registry)?;
    let (timed, ()) = run_sample(copy, sample, cancel, |_| ())?;
    Ok(timed)
}

/// Where and how a benchmark sample runs.
#[derive(Clone, Copy)]
pub struct Sample<'a> {
    /// The scratch out directory: vacant before, removed after.
    pub scratch: &'a Path,
    /// Worker threads.
    pub jobs: usize,
    /// What each worker's tasks get (threads, GPUs).
    pub slots: &'a crate::resources::Slots,
    /// Threads writing array outputs.
    pub io_threads: usize,
    /// The grid indices of the tasks to run.
    pub indices: &'a [u64],
    /// Set when the timed part begins (see [`measure`]).
    pub started: Option<&'a std::sync::OnceLock<Instant>>,
}

/// Runs the tasks at grid `indices` of `spec` as [`measure`] does, in the scratch out
/// directory `scratch`, and calls `inspect` with the scratch sweep (its store, journal and
/// task directories) before `scratch` is removed: `sweep verify` compares those outputs with
/// the real sweep's. `spec` is used as given, so a caller can change how its tasks run
/// (another thread count in their environment) and keep where its inputs resolve.
pub fn run_sample<T>(
    copy: Spec,
    sample: &Sample<'_>,
    cancel: &Arc<Cancel>,
    inspect: impl FnOnce(&Prepared) -> T,
) -> Result<(Timed, T), Error> {
    let Sample { scratch, jobs, slots, io_threads, indices, started } = *sample;
    let vacant = match std::fs::read_dir(scratch) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => !scratch.exists(),
    };
    if !vacant {
        return Err(Error::Usage(format!("the benchmark's scratch directory {} is in use", scratch.display())));
    }
    let _cleanup = Scratch(scratch);
    // The sample runs on the store of every task (`execute` with a list of its indices).
    let mut prepared = prepare_with(
        copy,
        OutDir::new(scratch),
        false,
        None,
        jobs,
        crate::session::Options { windows: false, cancel: None, slots: slots.clone(), code_changed: None },
    )?;
    let config = RunConfig {
        jobs: jobs.max(1),
        io_threads: io_threads.max(1),
        retries: 0,
        max_failures: None,
        selection: Selection::Indices(indices.to_vec()),
        durable: false,
        // A benchmark measures every task of its sample, failing or not.
        keep_going: true,
        slots: slots.clone(),
    };
    let stats = Arc::new(Stats::new(config.jobs));
    let cpu = || Usage::of(Who::Process).cpu_seconds + Usage::of(Who::Children).cpu_seconds;
    // Persistent workers were started (and did their imports) before the timed part.
    let cpu0 = cpu() + prepared.workers_cpu_seconds();
    let t0 = Instant::now();
    if let Some(s) = started {
        let _ = s.set(t0);
    }
    let spare = std::mem::take(&mut prepared.spare);
    let (mut run, store) = prepared.runner(config, cancel, &stats);
    let outcome = run.whole(store, spare).context(|| format!("benchmark run in {}", scratch.display()))?;
    let seconds = t0.elapsed().as_secs_f64();
    // Persistent workers end (and are reaped) with the run, so their CPU is counted here.
    let cpu_seconds = (cpu() - cpu0).max(0.0);
    let task_peak_rss_bytes = match prepared.spec.task.in_process() {
        true => 0,
        false => Usage::of(Who::Children).peak_rss_bytes,
    };
    let repeat = Repeat {
        seconds,
        cpu_seconds,
        peak_rss_bytes: peak_rss_bytes(),
        task_peak_rss_bytes,
        bytes_written: outcome.bytes_written,
    };
    let seen = inspect(&prepared);
    drop(prepared);
    Ok((Timed { repeat, outcome }, seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin_spec(dir: &Path) -> Spec {
        let text = "name = \"t\"\nreplicates = 30\n[model]\nname = \"spin\"\nsave = [\"data\"]\n\
                    [params]\nmicros = 100\narray_len = [4, 8]\n";
        let path = dir.join("t.toml");
        std::fs::write(&path, text).unwrap();
        Spec::from_file(&path, &Registry::builtin()).unwrap()
    }

    #[test]
    fn scratch_dirs_sit_next_to_the_out_directory() {
        let pid = std::process::id();
        assert_eq!(scratch_dir(Path::new("runs/a"), 3), PathBuf::from(format!("runs/.sweep-bench-{pid}-3")));
        assert_eq!(scratch_dir(Path::new("a"), 0), PathBuf::from(format!("./.sweep-bench-{pid}-0")));
    }

    fn at<'a>(scratch: &'a Path, jobs: usize, indices: &'a [u64], slots: &'a crate::resources::Slots) -> Sample<'a> {
        Sample { scratch, jobs, slots, io_threads: 1, indices, started: None }
    }

    #[test]
    fn measure_runs_exactly_the_sample_and_removes_the_scratch_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = spin_spec(tmp.path());
        let scratch = scratch_dir(&tmp.path().join("out"), 0);
        let sample = crate::bench::sample_indices(spec.task_count(), 12, spec.seed);
        let cancel = Arc::new(Cancel::new());
        let t = measure(&spec, &Registry::builtin(), &at(&scratch, 2, &sample, &Default::default()), &cancel).unwrap();
        assert_eq!((t.outcome.done, t.outcome.failed, t.outcome.to_run), (12, 0, 12));
        assert!(t.repeat.seconds > 0.0 && t.repeat.bytes_written > 0 && t.repeat.peak_rss_bytes > 0);
        assert!(!scratch.exists());
        assert!(!tmp.path().join("out").exists());
    }

    #[test]
    fn a_scratch_directory_that_holds_something_is_refused_and_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = spin_spec(tmp.path());
        let scratch = tmp.path().join("busy");
        std::fs::create_dir(&scratch).unwrap();
        std::fs::write(scratch.join("keep.txt"), "x").unwrap();
        let cancel = Arc::new(Cancel::new());
        assert!(measure(&spec, &Registry::builtin(), &at(&scratch, 1, &[0], &Default::default()), &cancel).is_err());
        assert!(scratch.join("keep.txt").exists());
    }
}
