//! SLURM batch scripts for a sharded sweep: generation ([`render`], pure) and submission
//! ([`submit`], runs `sbatch`).
//!
//! A sweep of `N` shards becomes one job array (or several, when `N` is larger than the
//! cluster's `MaxArraySize`) whose element `I` runs
//!
//! ```text
//! 'SWEEP_BIN' run 'SPEC' --out 'OUT' --shard "$SLURM_ARRAY_TASK_ID/N" --resume \
//!     --jobs "${SLURM_CPUS_PER_TASK:-C}" RUN_ARGS...   # or --jobs J when SlurmOptions::jobs is set
//! ```
//!
//! and a final job, submitted with `--dependency=afterany:<array job ids>`, that runs
//! `'SWEEP_BIN' collect 'OUT'`.
//!
//! Each element asks SLURM for `SIGUSR1` [`SIGNAL_LEAD_SECS`] seconds before its wall-time
//! (`--signal=B:USR1@120`, sent to the batch shell, which forwards it to `sweep`). `sweep`
//! stops gracefully on it; the element then requeues itself (`--requeue`, at most
//! [`SlurmOptions::max_requeues`] times) and, thanks to `--resume`, carries on where it
//! stopped. Element logs go to `LOG_DIR/%x-%A_%a.out` (job name, array job id, index),
//! appended to across requeues.

use std::fmt::Write as _;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// SLURM's default `MaxArraySize`: array indices must be below it (so at most 1001 elements).
pub const DEFAULT_MAX_ARRAY_SIZE: u32 = 1001;

/// Seconds before the wall-time at which an element is sent `SIGUSR1`.
pub const SIGNAL_LEAD_SECS: u32 = 120;

/// [`default_shards`] aims for at least this many tasks per CPU of a shard.
pub const TASKS_PER_CPU: u64 = 64;

/// [`default_shards`] never chooses more shards than this.
pub const MAX_DEFAULT_SHARDS: u32 = 1000;

/// What to run and how to ask SLURM for it. Build with [`SlurmOptions::new`] and adjust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlurmOptions {
    /// The spec file (absolute path).
    pub spec: PathBuf,
    /// The `sweep` binary the elements run (absolute path, reachable from the nodes).
    pub sweep_bin: PathBuf,
    /// The out directory shared by all shards (absolute path, on a shared file system).
    pub out: PathBuf,
    /// How many shards (array elements) to split the grid into, at least 1.
    pub shards: u32,
    /// At most this many elements of each array job run at once (`--array=...%M`).
    pub throttle: Option<u32>,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time`, the wall-time of each element (any form SLURM accepts, e.g. `2:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task` of each element, and its `sweep run --jobs` unless [`Self::jobs`]
    /// is set; at least 1.
    pub cpus_per_task: u32,
    /// `sweep run --jobs` of each element when it should not follow `SLURM_CPUS_PER_TASK`.
    pub jobs: Option<u32>,
    /// `--mem` of each element (e.g. `4G`).
    pub mem: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// Extra `#SBATCH` lines for every job (the arrays and the collect job), written without
    /// the `#SBATCH ` prefix, e.g. `--qos=long`. Written verbatim.
    pub extra: Vec<String>,
    /// Extra `sweep run` arguments, e.g. `["--retries", "2"]`; each is shell-quoted.
    pub run_args: Vec<String>,
    /// The cluster's `MaxArraySize` (see [`parse_max_array_size`]): more shards than this are
    /// split over several array jobs.
    pub max_array_size: u32,
    /// The job name (`--job-name`); the collect job is `<job_name>-collect`.
    pub job_name: String,
    /// Where the jobs' logs go (absolute path; [`submit`] creates it).
    pub log_dir: PathBuf,
    /// How many times an element stopped by its wall-time requeues itself; 0 never.
    pub max_requeues: u32,
}

impl SlurmOptions {
    /// Options with defaults: 1 CPU per task, no throttle, partition, time, memory, account
    /// or extras, [`DEFAULT_MAX_ARRAY_SIZE`], job name `sweep`, logs in `OUT/slurm-logs`,
    /// and at most 3 requeues.
    pub fn new(spec: PathBuf, sweep_bin: PathBuf, out: PathBuf, shards: u32) -> Self {
        let log_dir = out.join("slurm-logs");
        Self {
            spec,
            sweep_bin,
            out,
            shards,
            throttle: None,
            partition: None,
            time: None,
            cpus_per_task: 1,
            jobs: None,
            mem: None,
            account: None,
            extra: Vec::new(),
            run_args: Vec::new(),
            max_array_size: DEFAULT_MAX_ARRAY_SIZE,
            job_name: "sweep".to_string(),
            log_dir,
            max_requeues: 3,
        }
    }
}

/// One array job: shards `first_shard..first_shard + len`, as array indices `0..len`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayScript {
    /// The shard that array index 0 runs; index `i` runs shard `first_shard + i`.
    pub first_shard: u32,
    /// The number of elements (array indices `0..len`).
    pub len: u32,
    /// The batch script.
    pub text: String,
}

impl ArrayScript {
    /// The shards this array job runs.
    pub fn shards(&self) -> Range<u32> {
        self.first_shard..self.first_shard + self.len
    }
}

/// The scripts of a sharded sweep: the array jobs, then the collect job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The array jobs, in shard order; together they run every shard once.
    pub arrays: Vec<ArrayScript>,
    /// The collect job's script, to be submitted with `--dependency=afterany:<array ids>`
    /// (see [`dependency`]).
    pub collect: String,
    /// The job name (file names of the written scripts start with it).
    pub job_name: String,
    /// The log directory, which must exist before the jobs start.
    pub log_dir: PathBuf,
}

/// Why options cannot be turned into scripts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlurmError {
    /// A path that the nodes must find is relative.
    #[error("the {what} path must be absolute: {}", path.display())]
    NotAbsolute {
        /// Which path ("spec", "sweep binary", "out", "log directory").
        what: &'static str,
        /// The path given.
        path: PathBuf,
    },
    /// A count that must be at least 1 is 0.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// A value contains a line break or NUL, which cannot go into a batch script line.
    #[error("the {what} contains a line break or NUL: {value:?}")]
    BadChar {
        /// Which value.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// The job name is empty or contains '/' (it becomes part of log file names).
    #[error("invalid job name {0:?}: it must be non-empty and contain no '/'")]
    JobName(String),
}

/// Default number of shards for `task_count` tasks run with `cpus_per_task` CPUs each: coarse,
/// so that each element has enough work to be worth its ~1 s of scheduling (at least
/// [`TASKS_PER_CPU`] tasks per CPU), between 1 and [`MAX_DEFAULT_SHARDS`].
pub fn default_shards(task_count: u64, cpus_per_task: u32) -> u32 {
    let per_shard = TASKS_PER_CPU * u64::from(cpus_per_task.max(1));
    (task_count / per_shard).clamp(1, u64::from(MAX_DEFAULT_SHARDS)) as u32
}

/// `MaxArraySize` from the output of `scontrol show config` (a line `MaxArraySize = 1001`).
pub fn parse_max_array_size(scontrol_show_config_output: &str) -> Option<u32> {
    scontrol_show_config_output.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        if key.trim() != "MaxArraySize" {
            return None;
        }
        value.trim().parse().ok()
    })
}

/// Runs `scontrol show config` and returns the cluster's `MaxArraySize`; `None` when
/// `scontrol` is missing, fails, or does not report it.
pub fn query_max_array_size() -> Option<u32> {
    let out = Command::new("scontrol").args(["show", "config"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    parse_max_array_size(&String::from_utf8_lossy(&out.stdout))
}

/// A path in single quotes for a shell, always quoted.
fn quote_path(p: &Path) -> String {
    crate::text::shell_quote_always(&p.to_string_lossy())
}

/// Quotes an `#SBATCH` option value: `sbatch` splits these lines on white space and treats
/// double quotes and backslashes specially (and `#` as a comment outside quotes).
fn sbatch_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-+=.,:/@%[]".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', r"\\").replace('"', "\\\""))
    }
}

/// A directory for a SLURM file-name pattern: `%` doubled so that it is taken literally.
fn pattern_dir(p: &Path) -> String {
    p.to_string_lossy().replace('%', "%%")
}

fn check(opts: &SlurmOptions) -> Result<(), SlurmError> {
    for (what, path) in
        [("spec", &opts.spec), ("sweep binary", &opts.sweep_bin), ("out", &opts.out), ("log directory", &opts.log_dir)]
    {
        if !path.is_absolute() {
            return Err(SlurmError::NotAbsolute { what, path: path.clone() });
        }
        no_breaks(what, &path.to_string_lossy())?;
    }
    for (what, n) in [
        ("the number of shards", opts.shards),
        ("cpus per task", opts.cpus_per_task),
        ("MaxArraySize", opts.max_array_size),
        ("the throttle", opts.throttle.unwrap_or(1)),
        ("the number of jobs", opts.jobs.unwrap_or(1)),
    ] {
        if n == 0 {
            return Err(SlurmError::Zero(what));
        }
    }
    for (what, v) in
        [("partition", &opts.partition), ("time", &opts.time), ("mem", &opts.mem), ("account", &opts.account)]
    {
        if let Some(v) = v {
            no_breaks(what, v)?;
        }
    }
    for v in &opts.extra {
        no_breaks("extra #SBATCH line", v)?;
    }
    for v in &opts.run_args {
        // Quoting would carry a line break through, but it would be surprising; refuse it.
        no_breaks("sweep run argument", v)?;
    }
    if opts.job_name.is_empty() || opts.job_name.contains('/') {
        return Err(SlurmError::JobName(opts.job_name.clone()));
    }
    no_breaks("job name", &opts.job_name)
}

fn no_breaks(what: &'static str, value: &str) -> Result<(), SlurmError> {
    if value.contains(['\n', '\r', '\0']) {
        return Err(SlurmError::BadChar { what, value: value.to_string() });
    }
    Ok(())
}

/// The `#SBATCH` lines shared by the arrays and the collect job.
fn common_lines(s: &mut String, opts: &SlurmOptions, with_mem: bool) {
    for (flag, v) in [
        ("partition", &opts.partition),
        ("time", &opts.time),
        ("mem", if with_mem { &opts.mem } else { &None }),
        ("account", &opts.account),
    ] {
        if let Some(v) = v {
            let _ = writeln!(s, "#SBATCH --{flag}={}", sbatch_quote(v));
        }
    }
    for line in &opts.extra {
        let line = line.trim();
        let line = line.strip_prefix("#SBATCH").map_or(line, str::trim_start);
        let _ = writeln!(s, "#SBATCH {line}");
    }
}

/// Renders the batch scripts of a sharded sweep (pure: nothing is written or run).
///
/// Shards are split into array jobs of at most `max_array_size` elements, with array
/// indices `0..len` in each (indices must stay below `MaxArraySize`); array job `k` runs
/// shards `k * max_array_size + index`. `throttle` applies to each array job separately.
pub fn render(opts: &SlurmOptions) -> Result<Plan, SlurmError> {
    check(opts)?;
    let n = opts.shards;
    let chunk = opts.max_array_size;
    let chunks = n.div_ceil(chunk);
    let bin = quote_path(&opts.sweep_bin);
    let out = quote_path(&opts.out);
    let logs = pattern_dir(&opts.log_dir);
    let name = sbatch_quote(&opts.job_name);
    let run_args: String = opts.run_args.iter().map(|a| format!(" {}", crate::text::shell_quote(a))).collect();

    let arrays = (0..chunks)
        .map(|k| {
            let first = k * chunk;
            let len = chunk.min(n - first);
            let mut s = String::from("#!/bin/bash\n");
            let _ = writeln!(
                s,
                "# sweep: shards {first}..={} of {n} (array job {} of {chunks}); \
                 array index i runs shard {first} + i.",
                first + len - 1,
                k + 1
            );
            let _ = writeln!(s, "#SBATCH --job-name={name}");
            let throttle = opts.throttle.map(|m| format!("%{m}")).unwrap_or_default();
            let _ = writeln!(s, "#SBATCH --array=0-{}{throttle}", len - 1);
            let _ = writeln!(s, "#SBATCH --output={}", sbatch_quote(&format!("{logs}/%x-%A_%a.out")));
            s.push_str("#SBATCH --open-mode=append\n");
            s.push_str("#SBATCH --ntasks=1\n");
            let _ = writeln!(s, "#SBATCH --cpus-per-task={}", opts.cpus_per_task);
            let _ = writeln!(s, "#SBATCH --signal=B:USR1@{SIGNAL_LEAD_SECS}");
            s.push_str("#SBATCH --requeue\n");
            common_lines(&mut s, opts, true);
            let shard = if first == 0 {
                format!("\"$SLURM_ARRAY_TASK_ID/{n}\"")
            } else {
                format!("\"$(({first} + SLURM_ARRAY_TASK_ID))/{n}\"")
            };
            s.push_str("set -u\n\n");
            s.push_str(
                "# SLURM sends USR1 to this shell before the wall-time; pass it on to sweep,\n\
                 # which stops gracefully.\n\
                 stopped=0\n\
                 trap 'stopped=1; kill -USR1 \"$child\" 2>/dev/null' USR1\n",
            );
            let jobs = match opts.jobs {
                Some(j) => j.to_string(),
                None => format!("\"${{SLURM_CPUS_PER_TASK:-{}}}\"", opts.cpus_per_task),
            };
            let _ = writeln!(
                s,
                "{bin} run {spec} --out {out} --shard {shard} --resume --jobs {jobs}{run_args} &",
                spec = quote_path(&opts.spec),
            );
            s.push_str(
                "child=$!\n\
                 wait \"$child\"\n\
                 while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; done\n\
                 wait \"$child\"\n\
                 rc=$?\n",
            );
            let _ = writeln!(
                s,
                "if [ \"$stopped\" = 1 ] && [ \"${{SLURM_RESTART_COUNT:-0}}\" -lt {max} ]; then\n    \
                 echo \"sweep: stopped before the wall-time; requeueing (restart $((${{SLURM_RESTART_COUNT:-0}} + 1)) of {max})\" >&2\n    \
                 scontrol requeue \"${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}\"\n\
                 fi\n\
                 exit \"$rc\"",
                max = opts.max_requeues,
            );
            ArrayScript { first_shard: first, len, text: s }
        })
        .collect();

    let mut c = String::from("#!/bin/bash\n");
    let _ = writeln!(c, "# sweep: collects the {n} shards; submit with --dependency=afterany:<array job ids>.");
    let _ = writeln!(c, "#SBATCH --job-name={}", sbatch_quote(&format!("{}-collect", opts.job_name)));
    let _ = writeln!(c, "#SBATCH --output={}", sbatch_quote(&format!("{logs}/%x-%j.out")));
    c.push_str("#SBATCH --open-mode=append\n");
    c.push_str("#SBATCH --ntasks=1\n");
    c.push_str("#SBATCH --cpus-per-task=1\n");
    common_lines(&mut c, opts, true);
    let _ = writeln!(c, "exec {bin} collect {out}");

    Ok(Plan { arrays, collect: c, job_name: opts.job_name.clone(), log_dir: opts.log_dir.clone() })
}

/// The `--dependency` value that starts a job after all of `job_ids` have ended, whatever
/// their outcome: `afterany:ID1:ID2...`.
pub fn dependency(job_ids: &[String]) -> String {
    let mut s = String::from("afterany");
    for id in job_ids {
        s.push(':');
        s.push_str(id);
    }
    s
}

/// The job id in the output of `sbatch --parsable` (`ID` or `ID;CLUSTER`).
pub fn parse_job_id(sbatch_parsable_stdout: &str) -> Option<String> {
    let line = sbatch_parsable_stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let id = line.split(';').next()?.trim();
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
}

/// The ids of submitted jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// The array jobs, in the order of [`Plan::arrays`].
    pub arrays: Vec<String>,
    /// The collect job.
    pub collect: String,
    /// The script files that were submitted (arrays, then the collect job).
    pub scripts: Vec<PathBuf>,
}

impl Submitted {
    /// Every job id: the arrays, then the collect job.
    pub fn all(&self) -> Vec<String> {
        let mut v = self.arrays.clone();
        v.push(self.collect.clone());
        v
    }
}

/// Why submitting failed.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// A script or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A SLURM command could not be started.
    #[error("cannot run {program}: {source} (is SLURM installed and on PATH?)")]
    Spawn {
        /// The program.
        program: String,
        /// The error.
        source: io::Error,
    },
    /// `sbatch` failed or printed no job id. Jobs submitted before it are in `submitted`.
    #[error(
        "sbatch {} failed ({status}): {message}{}",
        script.display(),
        already(submitted)
    )]
    Sbatch {
        /// The script.
        script: PathBuf,
        /// The exit status, or "no job id in its output".
        status: String,
        /// What sbatch said.
        message: String,
        /// Jobs submitted before the failure (cancel them with `scancel`).
        submitted: Vec<String>,
    },
    /// `squeue` failed.
    #[error("squeue failed ({status}): {message}")]
    Squeue {
        /// The exit status.
        status: String,
        /// What squeue said.
        message: String,
    },
}

fn already(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!("; already submitted: {} (cancel them with: scancel {})", ids.join(", "), ids.join(" "))
    }
}

/// Writes the plan's scripts into `dir` (created if needed) as `<job_name>-array-<k>.sbatch`
/// and `<job_name>-collect.sbatch`; returns their paths, arrays first.
pub fn write_scripts(plan: &Plan, dir: &Path) -> Result<Vec<PathBuf>, SubmitError> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SubmitError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(werr(dir))?;
    let mut paths = Vec::new();
    let named = plan
        .arrays
        .iter()
        .enumerate()
        .map(|(k, a)| (format!("{}-array-{k}.sbatch", plan.job_name), &a.text))
        .chain(std::iter::once((format!("{}-collect.sbatch", plan.job_name), &plan.collect)));
    for (name, text) in named {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(werr(&path))?;
        paths.push(path);
    }
    Ok(paths)
}

/// Writes the scripts into `script_dir` (see [`write_scripts`]), creates the log directory,
/// and submits them with `sbatch --parsable`: the array jobs, then the collect job with
/// `--dependency=afterany:<array job ids>`. Returns the job ids.
pub fn submit(plan: &Plan, script_dir: &Path) -> Result<Submitted, SubmitError> {
    submit_with(plan, script_dir, Path::new("sbatch"))
}

/// [`submit`] with a given `sbatch` program (a path, or a name looked up on `PATH`).
pub fn submit_with(plan: &Plan, script_dir: &Path, sbatch: &Path) -> Result<Submitted, SubmitError> {
    let scripts = write_scripts(plan, script_dir)?;
    std::fs::create_dir_all(&plan.log_dir)
        .map_err(|source| SubmitError::Write { path: plan.log_dir.clone(), source })?;
    let (collect_script, array_scripts) = scripts.split_last().expect("the collect script is always written");
    let mut ids: Vec<String> = Vec::new();
    for script in array_scripts {
        let id = run_sbatch(sbatch, &[], script, &ids)?;
        ids.push(id);
    }
    let dep = format!("--dependency={}", dependency(&ids));
    let collect = run_sbatch(sbatch, &[dep.as_str()], collect_script, &ids)?;
    Ok(Submitted { arrays: ids, collect, scripts })
}

fn run_sbatch(sbatch: &Path, args: &[&str], script: &Path, submitted: &[String]) -> Result<String, SubmitError> {
    let out = Command::new(sbatch)
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .map_err(|source| SubmitError::Spawn { program: sbatch.display().to_string(), source })?;
    let fail = |status: String, message: String| SubmitError::Sbatch {
        script: script.to_path_buf(),
        status,
        message,
        submitted: submitted.to_vec(),
    };
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if !out.status.success() {
        return Err(fail(out.status.to_string(), stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    parse_job_id(&stdout).ok_or_else(|| fail("no job id in its output".into(), format!("{}{stderr}", stdout.trim())))
}

/// Whether any of `job_ids` is still queued or running, according to `squeue`. Jobs that
/// SLURM has already forgotten count as ended.
///
/// Without accounting, `sacct` does not work and finished jobs leave `scontrol show job`
/// after `MinJobAge`, so polling this is the reliable way to wait for jobs.
pub fn any_queued(job_ids: &[String]) -> Result<bool, SubmitError> {
    if job_ids.is_empty() {
        return Ok(false);
    }
    let out = Command::new("squeue")
        .args(["-h", "-o", "%i", "-j", &job_ids.join(",")])
        .output()
        .map_err(|source| SubmitError::Spawn { program: "squeue".into(), source })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if stderr.contains("Invalid job id") {
            return Ok(false);
        }
        return Err(SubmitError::Squeue { status: out.status.to_string(), message: stderr.trim().to_string() });
    }
    Ok(!String::from_utf8_lossy(&out.stdout).trim().is_empty())
}

/// Polls [`any_queued`] every `poll` until none of `job_ids` is queued or running.
pub fn wait_for(job_ids: &[String], poll: Duration) -> Result<(), SubmitError> {
    while any_queued(job_ids)? {
        std::thread::sleep(poll);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(shards: u32) -> SlurmOptions {
        let mut o = SlurmOptions::new("/data/grid.toml".into(), "/opt/bin/sweep".into(), "/scratch/out".into(), shards);
        o.cpus_per_task = 4;
        o
    }

    fn lines(s: &str) -> Vec<&str> {
        s.lines().collect()
    }

    fn sbatch_lines(s: &str) -> Vec<&str> {
        s.lines().filter(|l| l.starts_with("#SBATCH ")).collect()
    }

    #[test]
    fn one_array_runs_every_shard_with_explicit_count() {
        let plan = render(&opts(10)).unwrap();
        assert_eq!(plan.arrays.len(), 1);
        let a = &plan.arrays[0];
        assert_eq!((a.first_shard, a.len, a.shards()), (0, 10, 0..10));
        assert!(a.text.starts_with("#!/bin/bash\n"));
        assert_eq!(
            sbatch_lines(&a.text),
            [
                "#SBATCH --job-name=sweep",
                "#SBATCH --array=0-9",
                "#SBATCH --output=/scratch/out/slurm-logs/%x-%A_%a.out",
                "#SBATCH --open-mode=append",
                "#SBATCH --ntasks=1",
                "#SBATCH --cpus-per-task=4",
                "#SBATCH --signal=B:USR1@120",
                "#SBATCH --requeue",
            ]
        );
        assert!(lines(&a.text).contains(
            &"'/opt/bin/sweep' run '/data/grid.toml' --out '/scratch/out' \
              --shard \"$SLURM_ARRAY_TASK_ID/10\" --resume --jobs \"${SLURM_CPUS_PER_TASK:-4}\" &"
        ));
        assert!(a.text.contains("scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\""));
        assert!(a.text.contains("-lt 3 ]"));
        assert!(a.text.ends_with("exit \"$rc\"\n"));
    }

    #[test]
    fn throttle_resources_and_extras() {
        let mut o = opts(5);
        o.throttle = Some(2);
        o.partition = Some("debug".into());
        o.time = Some("1-00:00:00".into());
        o.mem = Some("4G".into());
        o.account = Some("proj 1".into());
        o.extra = vec!["--qos=long".into(), "#SBATCH --constraint=\"a|b\"".into()];
        o.run_args = vec!["--retries".into(), "2".into(), "--note".into(), "it's here".into()];
        o.job_name = "my run".into();
        let plan = render(&o).unwrap();
        let a = &plan.arrays[0].text;
        let sb = sbatch_lines(a);
        assert_eq!(sb[0], "#SBATCH --job-name=\"my run\"");
        assert_eq!(sb[1], "#SBATCH --array=0-4%2");
        assert_eq!(
            &sb[8..],
            [
                "#SBATCH --partition=debug",
                "#SBATCH --time=1-00:00:00",
                "#SBATCH --mem=4G",
                "#SBATCH --account=\"proj 1\"",
                "#SBATCH --qos=long",
                "#SBATCH --constraint=\"a|b\"",
            ]
        );
        assert!(a.contains("--resume --jobs \"${SLURM_CPUS_PER_TASK:-4}\" --retries 2 --note 'it'\\''s here' &\n"));
        let c = sbatch_lines(&plan.collect);
        assert!(c.contains(&"#SBATCH --job-name=\"my run-collect\""));
        assert!(c.contains(&"#SBATCH --partition=debug"));
        assert!(c.contains(&"#SBATCH --qos=long"));
        assert!(!c.iter().any(|l| l.contains("--array") || l.contains("--signal")));
    }

    #[test]
    fn explicit_jobs_replace_slurm_cpus_per_task() {
        let mut o = opts(2);
        o.jobs = Some(3);
        let a = render(&o).unwrap().arrays.remove(0).text;
        assert!(a.contains("--shard \"$SLURM_ARRAY_TASK_ID/2\" --resume --jobs 3 &\n"), "{a}");
        assert!(a.contains("#SBATCH --cpus-per-task=4\n"));
        o.jobs = Some(0);
        assert_eq!(render(&o).unwrap_err().to_string(), "the number of jobs must be at least 1");
    }

    #[test]
    fn more_shards_than_max_array_size_are_chunked_with_offsets() {
        let mut o = opts(2500);
        o.throttle = Some(50);
        let plan = render(&o).unwrap();
        let got: Vec<_> = plan.arrays.iter().map(|a| (a.first_shard, a.len)).collect();
        assert_eq!(got, [(0, 1001), (1001, 1001), (2002, 498)]);
        let array_line = |a: &ArrayScript| {
            sbatch_lines(&a.text).into_iter().find(|l| l.starts_with("#SBATCH --array=")).unwrap().to_string()
        };
        assert_eq!(array_line(&plan.arrays[0]), "#SBATCH --array=0-1000%50");
        assert_eq!(array_line(&plan.arrays[1]), "#SBATCH --array=0-1000%50");
        assert_eq!(array_line(&plan.arrays[2]), "#SBATCH --array=0-497%50");
        assert!(plan.arrays[0].text.contains("--shard \"$SLURM_ARRAY_TASK_ID/2500\""));
        assert!(plan.arrays[1].text.contains("--shard \"$((1001 + SLURM_ARRAY_TASK_ID))/2500\""));
        assert!(plan.arrays[2].text.contains("--shard \"$((2002 + SLURM_ARRAY_TASK_ID))/2500\""));
        // Every shard exactly once, every index below MaxArraySize.
        let all: Vec<u32> = plan.arrays.iter().flat_map(ArrayScript::shards).collect();
        assert_eq!(all, (0..2500).collect::<Vec<_>>());
        assert!(plan.arrays.iter().all(|a| a.len <= 1001));
    }

    #[test]
    fn exactly_max_array_size_shards_is_one_array() {
        assert_eq!(render(&opts(1001)).unwrap().arrays.len(), 1);
        assert_eq!(render(&opts(1002)).unwrap().arrays.len(), 2);
        let mut o = opts(3);
        o.max_array_size = 1;
        let plan = render(&o).unwrap();
        assert_eq!(plan.arrays.len(), 3);
        assert!(plan.arrays[2].text.contains("#SBATCH --array=0-0\n"));
        assert!(plan.arrays[2].text.contains("--shard \"$((2 + SLURM_ARRAY_TASK_ID))/3\""));
    }

    #[test]
    fn collect_job_runs_collect_on_the_out_dir() {
        let plan = render(&opts(3)).unwrap();
        assert_eq!(
            lines(&plan.collect)[2..],
            [
                "#SBATCH --job-name=sweep-collect",
                "#SBATCH --output=/scratch/out/slurm-logs/%x-%j.out",
                "#SBATCH --open-mode=append",
                "#SBATCH --ntasks=1",
                "#SBATCH --cpus-per-task=1",
                "exec '/opt/bin/sweep' collect '/scratch/out'",
            ]
        );
        assert_eq!(dependency(&["12".into(), "15".into()]), "afterany:12:15");
    }

    #[test]
    fn paths_are_quoted_for_the_shell_and_for_sbatch() {
        let mut o = SlurmOptions::new("/d/it's a grid.toml".into(), "/b/sweep".into(), "/o/100% $HOME".into(), 2);
        o.log_dir = "/o/log 50%".into();
        let a = render(&o).unwrap().arrays.remove(0).text;
        assert!(a.contains("'/b/sweep' run '/d/it'\\''s a grid.toml' --out '/o/100% $HOME' "));
        assert!(a.contains("#SBATCH --output=\"/o/log 50%%/%x-%A_%a.out\"\n"));
    }

    #[test]
    fn invalid_options_are_refused() {
        let err = |f: &dyn Fn(&mut SlurmOptions)| {
            let mut o = opts(4);
            f(&mut o);
            render(&o).unwrap_err().to_string()
        };
        assert_eq!(err(&|o| o.spec = "grid.toml".into()), "the spec path must be absolute: grid.toml");
        assert_eq!(err(&|o| o.log_dir = "logs".into()), "the log directory path must be absolute: logs");
        assert_eq!(err(&|o| o.shards = 0), "the number of shards must be at least 1");
        assert_eq!(err(&|o| o.throttle = Some(0)), "the throttle must be at least 1");
        assert_eq!(err(&|o| o.cpus_per_task = 0), "cpus per task must be at least 1");
        assert_eq!(err(&|o| o.max_array_size = 0), "MaxArraySize must be at least 1");
        assert_eq!(
            err(&|o| o.extra = vec!["--a\n--b".into()]),
            "the extra #SBATCH line contains a line break or NUL: \"--a\\n--b\""
        );
        assert_eq!(
            err(&|o| o.job_name = "a/b".into()),
            "invalid job name \"a/b\": it must be non-empty and contain no '/'"
        );
    }

    #[test]
    fn default_shards_are_coarse() {
        assert_eq!(default_shards(0, 1), 1);
        assert_eq!(default_shards(1, 1), 1);
        assert_eq!(default_shards(127, 1), 1);
        assert_eq!(default_shards(128, 1), 2);
        assert_eq!(default_shards(10_000, 1), 156);
        assert_eq!(default_shards(10_000, 4), 39);
        assert_eq!(default_shards(10_000, 0), 156);
        assert_eq!(default_shards(1 << 40, 1), 1000);
        assert_eq!(default_shards(u64::MAX, u32::MAX), 1000);
        for (tasks, cpus) in [(500u64, 1u32), (64_000, 2), (1_000_000, 8), (12_345, 3)] {
            let n = default_shards(tasks, cpus);
            assert!((1..=1000).contains(&n));
            assert!(n == 1 || tasks / u64::from(n) >= 64 * u64::from(cpus), "{tasks} tasks, {cpus} cpus: {n}");
        }
    }

    #[test]
    fn max_array_size_from_scontrol_show_config() {
        let out = "Configuration data as of 2026-11-22T02:18:55\n\
                   MailProg                = /bin/true\n\
                   MaxArraySize            = 1001\n\
                   MaxBatchRequeue         = 5\n";
        assert_eq!(parse_max_array_size(out), Some(1001));
        assert_eq!(parse_max_array_size("MaxArraySize=40001\n"), Some(40001));
        assert_eq!(parse_max_array_size("MaxBatchRequeue = 5\n"), None);
        assert_eq!(parse_max_array_size("MaxArraySize = (null)\n"), None);
        assert_eq!(parse_max_array_size(""), None);
    }

    #[test]
    fn job_ids_from_sbatch_parsable() {
        assert_eq!(parse_job_id("42\n").as_deref(), Some("42"));
        assert_eq!(parse_job_id("42;cluster\n").as_deref(), Some("42"));
        assert_eq!(parse_job_id("sbatch: error\n"), None);
        assert_eq!(parse_job_id(""), None);
    }

    #[cfg(unix)]
    #[test]
    fn submit_runs_sbatch_on_arrays_then_collect_with_dependency() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls");
        let fake = dir.path().join("sbatch");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\necho \"$@\" >> '{}'\nn=$(wc -l < '{}')\necho \"$((100 + n));cluster\"\n",
                calls.display(),
                calls.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut o = opts(5);
        o.max_array_size = 2;
        o.log_dir = dir.path().join("logs");
        let plan = render(&o).unwrap();
        let scripts = dir.path().join("scripts");
        let sub = submit_with(&plan, &scripts, &fake).unwrap();
        assert_eq!(sub.arrays, ["101", "102", "103"]);
        assert_eq!(sub.collect, "104");
        assert_eq!(sub.all().len(), 4);
        assert!(o.log_dir.is_dir());
        let s = |name: &str| scripts.join(name).display().to_string();
        assert_eq!(
            std::fs::read_to_string(&calls).unwrap(),
            format!(
                "--parsable {}\n--parsable {}\n--parsable {}\n--parsable --dependency=afterany:101:102:103 {}\n",
                s("sweep-array-0.sbatch"),
                s("sweep-array-1.sbatch"),
                s("sweep-array-2.sbatch"),
                s("sweep-collect.sbatch"),
            )
        );
        assert_eq!(std::fs::read_to_string(&sub.scripts[3]).unwrap(), plan.collect);

        std::fs::write(&fake, "#!/bin/sh\necho 'sbatch: error: invalid partition' >&2\nexit 1\n").unwrap();
        let err = submit_with(&plan, &scripts, &fake).unwrap_err().to_string();
        assert!(err.contains("sbatch: error: invalid partition"), "{err}");
    }
}
