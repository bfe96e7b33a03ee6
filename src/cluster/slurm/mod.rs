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

mod options;
mod script;
mod submit;

pub use options::{
    default_shards, parse_max_array_size, query_max_array_size, SlurmError, SlurmOptions, DEFAULT_MAX_ARRAY_SIZE,
    MAX_DEFAULT_SHARDS, TASKS_PER_CPU,
};
pub use script::{render, ArrayScript, Plan, SIGNAL_LEAD_SECS};
pub use submit::{
    any_queued, dependency, parse_job_id, submit, submit_with, wait_for, write_scripts, SubmitError, Submitted,
};
