//! Shards: a stable split of a grid's tasks into `N` disjoint parts by task id.
//!
//! Task `id` belongs to shard `(id * N) >> 64` (128-bit product). Task ids are the first
//! 8 bytes of a SHA-256, so they are uniform over `u64` and every shard gets about `1/N` of
//! the tasks. A task's shard depends on nothing but its id and `N`: adding values to an
//! axis, reordering the spec or resuming leaves every existing task in the same shard.

use crate::grid::TaskId;
use std::fmt;
use std::str::FromStr;

/// One part of a sharded grid: shard `index` of `count` (0-based), written `I/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Which shard, `0..count`.
    pub index: u32,
    /// How many shards the grid is split into, at least 1.
    pub count: u32,
}

/// The shard (in `0..count`) that task `id` belongs to when the grid is split `count` ways.
///
/// `count` must be at least 1.
pub fn shard_of(id: TaskId, count: u32) -> u32 {
    ((id.0 as u128 * count as u128) >> 64) as u32
}

impl Shard {
    /// Shard `index` of `count`; an error if `count` is 0 or `index >= count`.
    pub fn new(index: u32, count: u32) -> Result<Self, ShardError> {
        if count == 0 {
            return Err(ShardError::ZeroCount);
        }
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Self { index, count })
    }

    /// Whether task `id` belongs to this shard.
    pub fn contains(&self, id: TaskId) -> bool {
        shard_of(id, self.count) == self.index
    }

    /// A file-name form of the shard: `shard-I-of-N`.
    pub fn file_stem(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a shard (`I/N`) cannot be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// The text is not of the form `I/N`.
    #[error("invalid shard '{0}': expected I/N, e.g. 0/4 (0-based shard I of N)")]
    Syntax(String),
    /// `I` or `N` is not a non-negative integer that fits in 32 bits.
    #[error("invalid shard '{text}': '{part}' is not a non-negative integer")]
    Number {
        /// The whole text.
        text: String,
        /// The part that is not a number.
        part: String,
    },
    /// `N` is 0.
    #[error("invalid shard: the number of shards must be at least 1")]
    ZeroCount,
    /// `I >= N`.
    #[error(
        "shard index {index} is out of range for {count} shards (0-based: 0..={})",
        count - 1
    )]
    OutOfRange {
        /// The shard index given.
        index: u32,
        /// The number of shards given.
        count: u32,
    },
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, ShardError> {
        let (i, n) = s.trim().split_once('/').ok_or_else(|| ShardError::Syntax(s.to_string()))?;
        let num = |part: &str| {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ShardError::Number { text: s.to_string(), part: part.to_string() });
            }
            part.parse::<u32>().map_err(|_| ShardError::Number { text: s.to_string(), part: part.to_string() })
        };
        Shard::new(num(i)?, num(n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{Axis, Grid, Identity};
    use crate::value::Value;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn parses_and_displays_i_of_n() {
        let s: Shard = "3/8".parse().unwrap();
        assert_eq!(s, Shard { index: 3, count: 8 });
        assert_eq!(s.to_string(), "3/8");
        assert_eq!(s.file_stem(), "shard-3-of-8");
        assert_eq!(" 0/1 ".parse::<Shard>().unwrap(), Shard { index: 0, count: 1 });
    }

    #[test]
    fn rejects_bad_shards_with_clear_messages() {
        let err = |s: &str| s.parse::<Shard>().unwrap_err().to_string();
        assert_eq!(err("4/4"), "shard index 4 is out of range for 4 shards (0-based: 0..=3)");
        assert_eq!(err("0/0"), "invalid shard: the number of shards must be at least 1");
        assert_eq!(err("3"), "invalid shard '3': expected I/N, e.g. 0/4 (0-based shard I of N)");
        assert_eq!(err("-1/4"), "invalid shard '-1/4': '-1' is not a non-negative integer");
        assert_eq!(err("+1/4"), "invalid shard '+1/4': '+1' is not a non-negative integer");
        assert_eq!(err("1/x"), "invalid shard '1/x': 'x' is not a non-negative integer");
        assert_eq!(err("1/2/3"), "invalid shard '1/2/3': '2/3' is not a non-negative integer");
        assert_eq!(err("0/99999999999"), "invalid shard '0/99999999999': '99999999999' is not a non-negative integer");
    }

    #[test]
    fn extremes_map_to_first_and_last_shard() {
        assert_eq!(shard_of(TaskId(0), 7), 0);
        assert_eq!(shard_of(TaskId(u64::MAX), 7), 6);
        assert_eq!(shard_of(TaskId(u64::MAX), u32::MAX), u32::MAX - 1);
        assert_eq!(shard_of(TaskId(u64::MAX), 1), 0);
    }

    /// Real task ids: one Int axis with `values`, model "spin", master seed 0.
    fn real_ids(values: impl Iterator<Item = i64>) -> Vec<TaskId> {
        let axis = Axis { names: vec!["x".into()], values: vec![values.map(Value::Int).collect()] };
        let grid = Grid::new(vec!["x".into()], vec![axis], 1).unwrap();
        let ident = Identity::new("spin", &[], &grid, 0);
        (0..grid.task_count()).map(|i| ident.task(&grid, i).0).collect()
    }

    fn buckets(ids: &[TaskId], count: u32) -> Vec<HashSet<TaskId>> {
        let mut out = vec![HashSet::new(); count as usize];
        for id in ids {
            out[shard_of(*id, count) as usize].insert(*id);
        }
        out
    }

    #[test]
    fn real_task_ids_are_balanced_over_16_shards() {
        let ids = real_ids(0..10_000);
        let counts: Vec<usize> = buckets(&ids, 16).iter().map(HashSet::len).collect();
        assert_eq!(counts.iter().sum::<usize>(), 10_000);
        for (i, &c) in counts.iter().enumerate() {
            assert!((563..=687).contains(&c), "shard {i} has {c} tasks, not within 10% of 625");
        }
    }

    #[test]
    fn extending_or_reordering_the_grid_keeps_tasks_in_their_shards() {
        let small = real_ids(0..1_000);
        // Twice the values, in the opposite order: every task of `small` is still there.
        let big = real_ids((0..2_000).rev());
        for count in [1, 3, 16, 1000] {
            let (s, b) = (buckets(&small, count), buckets(&big, count));
            for (i, (s, b)) in s.iter().zip(&b).enumerate() {
                assert!(s.is_subset(b), "shard {i}/{count} lost tasks when the grid grew");
            }
        }
    }

    proptest! {
        #[test]
        fn exactly_one_shard_contains_each_id(id in any::<u64>(), count in 1u32..=64) {
            let owners: Vec<u32> = (0..count)
                .filter(|&i| Shard { index: i, count }.contains(TaskId(id)))
                .collect();
            prop_assert_eq!(owners, vec![shard_of(TaskId(id), count)]);
        }

        #[test]
        fn shard_of_is_in_range_and_monotone_in_the_id(a in any::<u64>(), b in any::<u64>(), count in 1u32..) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(shard_of(TaskId(hi), count) < count);
            prop_assert!(shard_of(TaskId(lo), count) <= shard_of(TaskId(hi), count));
        }

        #[test]
        fn display_round_trips(count in 1u32.., index in any::<u32>()) {
            let shard = Shard { index: index % count, count };
            prop_assert_eq!(shard.to_string().parse::<Shard>().unwrap(), shard);
        }
    }
}
