//! What a sharded sweep asks SLURM for, and the checks that keep every value fit for a
//! batch script line.

use std::path::PathBuf;
use std::process::Command;

/// SLURM's default `MaxArraySize`: array indices must be below it (so at most 1001 elements).
pub const DEFAULT_MAX_ARRAY_SIZE: u32 = 1001;

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
    /// GPUs of each element (`--gres=gpu:N`); 0 asks for none.
    pub gpus: u32,
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
    /// Where the jobs' logs go (absolute path; [`submit`](super::submit) creates it).
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
            gpus: 0,
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

/// Refuses options that would produce a script the nodes cannot run as meant.
pub(super) fn check(opts: &SlurmOptions) -> Result<(), SlurmError> {
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

/// Options as the unit tests want them: absolute paths, and 4 CPUs per task so that a
/// default of 1 cannot pass for the option's value.
#[cfg(test)]
pub(super) fn example(shards: u32) -> SlurmOptions {
    let mut o = SlurmOptions::new("/data/grid.toml".into(), "/opt/bin/sweep".into(), "/scratch/out".into(), shards);
    o.cpus_per_task = 4;
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_options_are_refused() {
        let err = |f: &dyn Fn(&mut SlurmOptions)| {
            let mut o = example(4);
            f(&mut o);
            check(&o).unwrap_err().to_string()
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
}
