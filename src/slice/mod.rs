//! Slices: a run of part of the grid (`--limit`, `--sample`, `--where`) into the sweep's
//! own out directory, which a later `--resume` completes.
//!
//! A slice is a restriction of the tasks a run considers, as a shard is; unlike a shard it
//! is chosen among the tasks still pending, so each slice of a sweep runs new tasks, and the
//! results of all of them are one sweep's, byte for byte.

mod expr;
mod lex;

pub use expr::Filter;

use crate::grid::{sample_indices, Grid};
use rayon::prelude::*;

/// Which of the pending tasks a run takes.
#[derive(Debug, Clone, Default)]
pub struct Slice {
    /// `--where`: only tasks that satisfy it.
    pub filter: Option<Filter>,
    /// `--limit N`: the first N, in grid order.
    pub limit: Option<u64>,
    /// `--sample N`: N spread over the grid, as `--bench` chooses its sample.
    pub sample: Option<u64>,
}

impl Slice {
    /// Whether the slice is the whole grid (no flag given).
    pub fn is_whole(&self) -> bool {
        self.filter.is_none() && self.limit.is_none() && self.sample.is_none()
    }

    /// The flags that made the slice, as given (for messages).
    pub fn flags(&self) -> String {
        let mut v = Vec::new();
        if let Some(f) = &self.filter {
            v.push(format!("--where {}", crate::text::shell_quote(&f.text)));
        }
        if let Some(n) = self.sample {
            v.push(format!("--sample {n}"));
        }
        if let Some(n) = self.limit {
            v.push(format!("--limit {n}"));
        }
        v.join(" ")
    }

    /// The grid indices of the slice, ascending: the tasks `pending` says are to run that
    /// satisfy the filter, then the first `limit` of them, or `sample` spread over them
    /// (stratified as [`sample_indices`] with `seed`, the sweep's). Memory is the slice's,
    /// not the grid's.
    pub fn choose(&self, grid: &Grid, seed: u64, pending: impl Fn(u64) -> bool + Sync) -> Vec<u64> {
        let n = grid.task_count();
        let wanted = |i: u64| pending(i) && self.filter.as_ref().is_none_or(|f| f.matches(grid, i));
        if let Some(k) = self.limit {
            return (0..n).filter(|&i| wanted(i)).take(usize::try_from(k).unwrap_or(usize::MAX)).collect();
        }
        let Some(k) = self.sample else {
            return (0..n).into_par_iter().filter(|&i| wanted(i)).collect();
        };
        let count = (0..n).into_par_iter().filter(|&i| wanted(i)).count() as u64;
        // The ranks among the wanted tasks, then their grid indices in one pass.
        let ranks = sample_indices(count, k, seed);
        let mut out = Vec::with_capacity(ranks.len());
        let mut next = ranks.iter().copied().peekable();
        let mut rank = 0;
        for i in 0..n {
            let Some(&want) = next.peek() else { break };
            if wanted(i) {
                if rank == want {
                    out.push(i);
                    next.next();
                }
                rank += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Axis;
    use crate::value::Value;

    /// c0 in [0.5, 1.0] x k in [1, 2, 3] x name in ['a', 'b'] x 2 replicates: 24 tasks.
    fn grid() -> Grid {
        let axis = |name: &str, values: Vec<Value>| Axis { names: vec![name.into()], values: vec![values] };
        let axes = vec![
            axis("c0", vec![Value::Float(0.5), Value::Float(1.0)]),
            axis("k", vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
            axis("name", vec![Value::Str("a".into()), Value::Str("b".into())]),
        ];
        Grid::new(vec!["c0".into(), "k".into(), "name".into()], axes, 2).unwrap()
    }

    fn select(expr: &str) -> Vec<u64> {
        let g = grid();
        let slice = Slice { filter: Some(Filter::parse(expr, &g).unwrap()), ..Slice::default() };
        slice.choose(&g, 1, |_| true)
    }

    fn count(expr: &str) -> usize {
        select(expr).len()
    }

    #[test]
    fn conditions_select_what_they_say() {
        let cases: [(&str, usize); 14] = [
            ("c0 == 1.0", 12),
            ("c0 == 1", 12),
            ("k >= 2", 16),
            ("k < 2 or k > 2", 16),
            ("k != 2", 16),
            ("k in [1, 3]", 16),
            ("k not in [1, 3]", 8),
            ("not k in [1, 3]", 8),
            ("c0 == 0.5 and (k == 1 or k == 3)", 8),
            ("name == 'b'", 12),
            ("name == \"b\" and replicate == 1", 6),
            ("replicate == 0", 12),
            ("2 <= k", 16),
            ("name > 'a'", 12),
        ];
        for (expr, want) in cases {
            assert_eq!(count(expr), want, "{expr}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(select("k == 1 or k == 2 and c0 == 0.5"), select("k == 1 or (k == 2 and c0 == 0.5)"));
        assert_ne!(select("k == 1 or k == 2 and c0 == 0.5"), select("(k == 1 or k == 2) and c0 == 0.5"));
    }

    #[test]
    fn errors_point_at_the_offending_text_and_suggest() {
        let g = grid();
        let cases: [(&str, &str, &str); 10] = [
            ("c1 == 1.0", "c1", "did you mean `c0`?"),
            ("c0 = 1.0", "=", "write `==`"),
            ("c0 == 1.0 && k == 1", "&&", "write `and`"),
            ("c0 == 1.5", "1.5", "it takes 0.5, 1"),
            ("name == 1", "1", "compare numbers with numbers"),
            ("(k == 1", "", "close the parenthesis"),
            ("k in 1", "1", "e.g. `k in [0.1, 0.2]`"),
            ("k == 1 c0", "c0", "join conditions"),
            ("name == 'a", "'a", "end it with '"),
            ("k > 3 or c0 < 0", "k > 3 or c0 < 0", "the values: c0 0.5, 1.0; k 1, 2, 3; name a, b; replicate 0 to 1"),
        ];
        for (expr, under, help) in cases {
            let e = Filter::parse(expr, &g).unwrap_err();
            let span = e.span.clone().unwrap();
            assert_eq!(&expr[span.start.min(expr.len())..span.end.min(expr.len())], under, "{expr}: {e}");
            assert!(e.help.as_deref().unwrap_or("").contains(help), "{expr}: {e}");
        }
    }

    #[test]
    fn limit_takes_the_first_pending_in_grid_order() {
        let g = grid();
        let slice = Slice { limit: Some(3), ..Slice::default() };
        assert_eq!(slice.choose(&g, 1, |i| i % 2 == 1), vec![1, 3, 5]);
    }

    #[test]
    fn sample_is_the_bench_sample_on_a_fresh_grid_and_pending_only_later() {
        let g = grid();
        let slice = Slice { sample: Some(5), ..Slice::default() };
        assert_eq!(slice.choose(&g, 7, |_| true), sample_indices(g.task_count(), 5, 7));
        let later = slice.choose(&g, 7, |i| i >= 12);
        assert_eq!(later.len(), 5);
        assert!(later.iter().all(|&i| i >= 12) && later.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn successive_slices_take_every_task_exactly_once() {
        let g = grid();
        let n = g.task_count() as usize;
        let odd_k = Filter::parse("k != 2", &g).unwrap();
        for (filter, limit, sample) in
            [(None, Some(5), None), (None, None, Some(5)), (None, None, Some(1)), (Some(odd_k), None, Some(3))]
        {
            let slice = Slice { filter: filter.clone(), limit, sample };
            let mut done = vec![false; n];
            loop {
                let chosen = slice.choose(&g, 3, |i| !done[i as usize]);
                if chosen.is_empty() {
                    break;
                }
                assert!(chosen.len() <= limit.or(sample).unwrap() as usize);
                for i in chosen {
                    assert!(!std::mem::replace(&mut done[i as usize], true), "task {i} chosen twice");
                }
            }
            let matching = (0..n as u64).filter(|&i| filter.as_ref().is_none_or(|f| f.matches(&g, i)));
            assert!(matching.clone().all(|i| done[i as usize]));
            assert_eq!(done.iter().filter(|d| **d).count(), matching.count());
        }
    }

    #[test]
    fn where_then_limit() {
        let g = grid();
        let filter = Some(Filter::parse("c0 == 1.0", &g).unwrap());
        let slice = Slice { filter, limit: Some(3), sample: None };
        assert_eq!(slice.choose(&g, 1, |_| true), vec![12, 13, 14]);
    }
}
