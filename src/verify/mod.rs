//! `sweep verify`: audits a sweep's determinism. A sample of its done tasks, spread over
//! the grid as `--bench` spreads its own, is run again in a scratch directory beside the
//! out directory, with another worker count (and, for commands and workers, once more with
//! another `OMP_NUM_THREADS`); every metric is compared exactly with the journal's, and
//! every output file by the SHA-256 the journal recorded when the task was done, and with
//! the array store every array the store holds for the task with the rerun's (`stored`).
//!
//! `plan` chooses what to rerun and how (pure), `recorded` reads the done records,
//! `compare` and `npy` say what differs and where first, `record` keeps the last result in
//! `verify.json`, and `run` puts them together.

mod compare;
mod npy;
mod plan;
mod record;
mod recorded;
mod run;
mod stored;

pub use compare::Found;
pub use plan::{choose, passes, recorded_threads, rerun_jobs, Pass, DEFAULT_SAMPLE};
pub use record::{VerifyRecord, VERIFY_FORMAT};
pub use run::{verify, Mismatch, Verification, VerifyOptions, SCRATCH_PREFIX};
