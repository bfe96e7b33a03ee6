//! Scrambled Halton points: the radical inverse of the index in the `d`-th prime base,
//! each digit position with its own random permutation of the digits (as
//! `scipy.stats.qmc.Halton(scramble=True)` does). The `halton` crate has no scrambling,
//! and without it the high dimensions of a Halton sequence are strongly correlated.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;

/// The `d`-th prime (0-based: 2, 3, 5, ...).
fn prime(d: usize) -> u64 {
    let mut found = 0;
    let mut p = 1u64;
    while found <= d {
        p += 1;
        if (2..).take_while(|q| q * q <= p).all(|q| !p.is_multiple_of(q)) {
            found += 1;
        }
    }
    p
}

/// One dimension of a scrambled Halton sequence.
pub(super) struct Scrambled {
    base: u64,
    /// `perms[k]`: the permutation of digit position `k` (the `base^-(k+1)` place).
    perms: Vec<Vec<u64>>,
}

impl Scrambled {
    /// Dimension `dim` of the sequence scrambled by `seed`.
    pub fn new(dim: usize, seed: u64) -> Self {
        let base = prime(dim);
        // Every place down to f64's resolution below 1, so that a point's value does not
        // depend on how many points there are (the leading zeros are permuted too).
        let places = (52.0 / (base as f64).log2()).floor() as usize;
        let mut rng = ChaCha12Rng::seed_from_u64(seed ^ 0x4861_6c74_6f6e);
        rng.set_stream(dim as u64);
        let perms = (0..places)
            .map(|_| {
                let mut p: Vec<u64> = (0..base).collect();
                for i in (1..p.len()).rev() {
                    p.swap(i, rng.random_range(0..=i));
                }
                p
            })
            .collect();
        Self { base, perms }
    }

    /// Point `i`, in `[0, 1)`.
    pub fn at(&self, mut i: u64) -> f64 {
        let b = self.base as f64;
        let (mut x, mut place) = (0.0, 1.0 / b);
        for perm in &self.perms {
            x += perm[(i % self.base) as usize] as f64 * place;
            i /= self.base;
            place /= b;
        }
        x.min(1.0 - f64::EPSILON)
    }

    /// The first `n` points.
    pub fn take(&self, n: usize) -> Vec<f64> {
        (0..n as u64).map(|i| self.at(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_and_unscrambled_digits() {
        assert_eq!((0..6).map(prime).collect::<Vec<_>>(), [2, 3, 5, 7, 11, 13]);
        assert_eq!(prime(255), 1619);
        // With identity permutations the radical inverse is Halton's own: 1/2, 1/4, 3/4.
        let mut h = Scrambled::new(0, 1);
        h.perms.iter_mut().for_each(|p| *p = (0..2).collect());
        assert_eq!(h.take(4), [0.0, 0.5, 0.25, 0.75]);
    }

    #[test]
    fn base_b_points_fill_the_b_strata() {
        // The first b^k points of a scrambled van der Corput sequence in base b put one
        // point in each of b^k strata: digit permutations keep that.
        for dim in [0, 1, 4] {
            let h = Scrambled::new(dim, 9);
            let n = (h.base * h.base) as usize;
            let mut seen = vec![false; n];
            for u in h.take(n) {
                let s = (u * n as f64) as usize;
                assert!(!std::mem::replace(&mut seen[s], true), "dim {dim}");
            }
        }
    }
}
