//! Child processes of a run (commands and persistent workers): their process groups, the
//! watchdog that enforces deadlines and cancellation on them, and how their ends are told.
//!
//! Every child is the leader of its own process group, so that a signal reaches the whole
//! tree it starts (a shell's background jobs included), and the terminal's Ctrl-C reaches
//! sweep alone, which decides what the children get.

mod group;
mod launch;
mod own;
mod reaper;
mod registry;
mod sentinel;
mod tag;
mod watchdog;

pub use group::{
    block_sigpipe, describe_exit, die_with_parent, prefer_for_oom, prefer_self_for_oom, signal_group, signal_name,
    wait_exited, TASK_OOM_SCORE_ADJ,
};
pub use launch::Launch;
pub use own::{launch, signal_own, spawn, Own};
pub use reaper::{become_subreaper, collect_orphans};
pub use sentinel::Sentinel;
pub use tag::{run_tag, RUN_VAR};
pub use watchdog::{Clock, Kernel, Signaller, Stop, SystemClock, WatchHandle, Watchdog};
