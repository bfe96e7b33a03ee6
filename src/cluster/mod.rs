//! Shards and cluster job scripts.

mod shard;

pub use shard::Shard;
