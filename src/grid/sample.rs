//! Choosing a spread sample of tasks: which tasks a benchmark runs, and `--sample`.
//!
//! A benchmark times a sample of the grid, not the whole of it. Taking the first `n` tasks
//! would bias the timing towards one corner of parameter space (often the cheap or the
//! expensive one), so the sample is *stratified*: the index range `[0, task_count)` is cut
//! into `n` strata of (almost) equal width and one index is drawn from each, at a position
//! chosen by a ChaCha8 generator seeded from `seed`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Returns `n` distinct task indices in `[0, task_count)`, sorted ascending, spread over the
/// whole grid: stratum `i` is `[⌊i·T/n⌋, ⌊(i+1)·T/n⌋)` and exactly one index is drawn from
/// each stratum. The same arguments always give the same sample.
///
/// When `n >= task_count` every index is returned; when `n == 0` the sample is empty.
pub fn sample_indices(task_count: u64, n: u64, seed: u64) -> Vec<u64> {
    if n >= task_count {
        return (0..task_count).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let bound = |i: u64| -> u64 {
        // Exact in u128: i ≤ n < task_count ≤ u64::MAX, so the product fits.
        (u128::from(i) * u128::from(task_count) / u128::from(n)) as u64
    };
    (0..n)
        .map(|i| {
            let lo = bound(i);
            let hi = bound(i + 1);
            // n < task_count makes every stratum at least one index wide.
            debug_assert!(hi > lo);
            rng.random_range(lo..hi)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_arguments_give_the_same_sample() {
        for &(t, n, seed) in &[(1000, 10, 1), (7, 3, 42), (1 << 40, 100, 9)] {
            assert_eq!(sample_indices(t, n, seed), sample_indices(t, n, seed));
        }
    }

    #[test]
    fn different_seeds_usually_give_different_samples() {
        assert_ne!(sample_indices(1_000_000, 20, 1), sample_indices(1_000_000, 20, 2));
    }

    #[test]
    fn indices_are_sorted_distinct_and_in_range() {
        for &(t, n) in &[(10, 9), (11, 10), (1000, 37), (12345, 1000), (u64::MAX, 50)] {
            let s = sample_indices(t, n, 7);
            assert_eq!(s.len() as u64, n);
            assert!(s.windows(2).all(|w| w[0] < w[1]), "not strictly increasing: {s:?}");
            assert!(s.iter().all(|&i| i < t));
        }
    }

    #[test]
    fn every_stratum_has_exactly_one_pick() {
        let (t, n) = (10_007u64, 64u64);
        for seed in 0..20 {
            let s = sample_indices(t, n, seed);
            for i in 0..n {
                let lo = i * t / n;
                let hi = (i + 1) * t / n;
                let in_stratum = s.iter().filter(|&&x| lo <= x && x < hi).count();
                assert_eq!(in_stratum, 1, "stratum {i} [{lo}, {hi}) seed {seed}");
            }
        }
    }

    #[test]
    fn the_sample_covers_the_whole_grid() {
        let (t, n) = (1_000_000u64, 25u64);
        let width = t.div_ceil(n);
        let s = sample_indices(t, n, 3);
        // Not the first n: the picks reach the last stratum.
        assert!(*s.last().unwrap() >= t - width);
        assert!(s[0] < width);
        // Consecutive picks sit in adjacent strata, so they are less than two widths apart.
        assert!(s.windows(2).all(|w| w[1] - w[0] < 2 * width));
    }

    #[test]
    fn asking_for_at_least_the_whole_grid_returns_it_all() {
        assert_eq!(sample_indices(5, 5, 1), vec![0, 1, 2, 3, 4]);
        assert_eq!(sample_indices(5, 100, 1), vec![0, 1, 2, 3, 4]);
        assert_eq!(sample_indices(0, 3, 1), Vec::<u64>::new());
        assert_eq!(sample_indices(10, 0, 1), Vec::<u64>::new());
    }
}
