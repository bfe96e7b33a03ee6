//! Running a sweep on a cluster: split the grid into shards by task id ([`shard`]) and run
//! each shard as one element of a SLURM job array ([`slurm`]), followed by a job that
//! collects the shards' results.
//!
//! Every shard runs `sweep run SPEC --out OUT --shard I/N --resume` into the same out
//! directory, so a shard that is stopped (wall-time, preemption, node failure) and run again
//! only does the tasks it has not finished.

pub mod shard;
pub mod slurm;

pub use shard::{shard_of, Shard, ShardError};
pub use slurm::{default_shards, parse_max_array_size, render, submit, Plan, SlurmOptions};
