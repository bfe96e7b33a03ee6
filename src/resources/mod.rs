//! Resource slots: what a task asks for (`[resources]`: threads, memory, GPUs), what the
//! machine has, how many tasks fit at once, and what each slot's processes are given.
//!
//! Pure and below the rooms that run processes: `proc` reads group memory from here, the
//! spec parses sizes with it, and the run hands each slot its variables.

mod env;
mod fit;
mod machine;
mod rss;
mod size;

pub use env::{SWEEP_THREADS, THREAD_VARS};
pub use fit::{fit, Fit, Request, Slots};
pub use machine::{parse_devices, Machine, TEST_CORES_VAR, TEST_MEMORY_VAR};
pub use rss::group_rss;
pub use size::{format_size, parse_size};
