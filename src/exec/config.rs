//! What a run is asked to do, and what it did.

pub use super::recorder::FailureGroup;
use crate::grid::TaskId;
use crate::task::StopReason;

/// Which tasks of the grid a run considers.
#[derive(Clone, Debug, Default)]
pub enum Selection {
    /// Every task.
    #[default]
    All,
    /// The tasks of shard `index` of `count` (see [`crate::cluster::Shard`]).
    Shard(crate::cluster::Shard),
    /// These grid indices (a benchmark sample).
    Indices(Vec<u64>),
}

impl Selection {
    /// The shard, when the run is one.
    pub fn shard(&self) -> Option<crate::cluster::Shard> {
        match self {
            Selection::Shard(s) => Some(*s),
            _ => None,
        }
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Worker threads.
    pub jobs: usize,
    /// Threads writing array outputs.
    pub io_threads: usize,
    /// Extra attempts for a failed task within the run.
    pub retries: u32,
    /// Stop starting tasks after this many have failed.
    pub max_failures: Option<u64>,
    /// Which tasks.
    pub selection: Selection,
    /// Survive a machine crash, not only a dead process: each journal record reaches the disk
    /// after the files it vouches for (see [`crate::exec`]'s `--durable`).
    pub durable: bool,
    /// Go on when the first tasks all fail alike (`--keep-going`); by default such a run
    /// stops after [`FAIL_FAST_AFTER`](crate::exec::FAIL_FAST_AFTER) of them.
    pub keep_going: bool,
    /// What each worker slot's task processes get: threads, GPUs, a memory limit
    /// (`[resources]`).
    pub slots: crate::resources::Slots,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            io_threads: 2,
            retries: 0,
            max_failures: None,
            selection: Selection::All,
            durable: false,
            keep_going: false,
            slots: crate::resources::Slots::default(),
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    /// Tasks selected that were already done before the run.
    pub already_done: u64,
    /// Tasks the run set out to do.
    pub to_run: u64,
    /// Tasks it finished done.
    pub done: u64,
    /// Tasks it finished failed.
    pub failed: u64,
    /// Why it stopped early, if it did.
    pub stopped: Option<StopReason>,
    /// Wall time.
    pub seconds: f64,
    /// Bytes of arrays written.
    pub bytes_written: u64,
    /// The first failures: (task, message).
    pub first_failures: Vec<(TaskId, String)>,
    /// This run's failures grouped by error, most frequent first.
    pub failure_groups: Vec<FailureGroup>,
    /// Failed tasks whose error is in no group (too many distinct errors).
    pub other_failures: u64,
}
