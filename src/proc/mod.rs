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
mod sentinel;
mod watchdog;

/// A tag unique to this process: its pid and when it started, in hex. It names this run's
/// attempt directories and marks its children (`SWEEP_RUN_ID`).
pub fn run_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        format!("{:x}{:08x}", std::process::id(), nanos as u32)
    })
}

pub use group::{
    block_sigpipe, describe_exit, die_with_parent, prefer_for_oom, prefer_self_for_oom, signal_group, signal_name,
    wait_exited, TASK_OOM_SCORE_ADJ,
};
pub use launch::Launch;
pub use own::{launch, signal_own, spawn, Own};
pub use reaper::{become_subreaper, collect_orphans};
pub use sentinel::{Sentinel, RUN_VAR};
pub use watchdog::{Clock, Kernel, Signaller, Stop, SystemClock, WatchHandle, Watchdog};
