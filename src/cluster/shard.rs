//! Shards: a stable partition of the grid by task id.

use crate::grid::TaskId;
use std::fmt;

/// Shard `index` of `count` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 0-based.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

/// The shard of task `id` among `count`: ids are uniform 64-bit hashes, so this is
/// balanced and stable when the grid grows.
pub fn shard_of(id: TaskId, count: u32) -> u32 {
    ((id.0 as u128 * count as u128) >> 64) as u32
}

impl Shard {
    /// Whether task `id` belongs to this shard.
    pub fn contains(&self, id: TaskId) -> bool {
        shard_of(id, self.count) == self.index
    }

    /// "shard-I-of-N": the stem of this shard's journal and lock files.
    pub fn file_stem(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not I/N (e.g. 0/4)"))?;
        let index: u32 = i.trim().parse().map_err(|_| format!("shard index `{i}` is not a number"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("shard count `{n}` is not a number"))?;
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!("shard index {index} is out of range for {count} shards (0-based: 0..={})", count - 1));
        }
        Ok(Shard { index, count })
    }
}
