//! Child processes of a run (commands and persistent workers): their process groups, the
//! watchdog that enforces deadlines and cancellation on them, and how their ends are told.
//!
//! Every child is the leader of its own process group, so that a signal reaches the whole
//! tree it starts (a shell's background jobs included), and the terminal's Ctrl-C reaches
//! sweep alone, which decides what the children get.

mod group;
mod watchdog;

pub use group::{describe_exit, signal_group, signal_name, wait_exited};
pub use watchdog::{Clock, Kernel, Signaller, Stop, SystemClock, Watchdog};
