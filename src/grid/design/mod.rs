//! Space-filling designs (`[sample]`): `n` points over named ranges, from a scrambled
//! Sobol or Halton sequence, a Latin hypercube, or independent uniform draws.
//!
//! Every design is a pure function of its method, ranges and the master seed. Sobol,
//! Halton and random points depend on their index alone, so the first `n` points of a
//! design of `n + k` are those of the design of `n` (what lets `--resume` extend one); a
//! Latin hypercube's strata depend on `n`, so every point moves when `n` changes.

mod halton;

use crate::value::Value;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;
use sha2::{Digest, Sha256};

/// The most points a Sobol design may have (the limit of `sobol_burley`'s index).
pub const MAX_SOBOL_POINTS: u64 = 1 << 16;
/// The most points of any other design: its values are generated when the spec is read.
pub const MAX_POINTS: u64 = 1_000_000;
/// The most values (points × ranges) a design may hold: they are kept in memory, with each
/// value's canonical form for task ids (386 MB for a million points of 3 ranges; see
/// docs/sampling.md).
pub const MAX_VALUES: u64 = 4_000_000;
/// The most ranges a design may have (Sobol's direction numbers, Halton's primes).
pub const MAX_DIMENSIONS: usize = 256;

/// How a design places its points in the unit cube.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Owen-scrambled Sobol (Burley's hash-based scrambling); balanced at powers of two.
    Sobol,
    /// Halton with random digit permutations in each dimension.
    Halton,
    /// A Latin hypercube: one point in each of `n` equal strata of every dimension.
    Lhs,
    /// Independent uniform points.
    Random,
}

impl Method {
    /// Every method, as a spec spells it.
    pub const NAMES: [&'static str; 4] = ["sobol", "halton", "lhs", "random"];

    /// The method a spec names, if any.
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s {
            "sobol" => Method::Sobol,
            "halton" => Method::Halton,
            "lhs" => Method::Lhs,
            "random" => Method::Random,
            _ => return None,
        })
    }

    /// As a spec spells it.
    pub fn name(self) -> &'static str {
        match self {
            Method::Sobol => "sobol",
            Method::Halton => "halton",
            Method::Lhs => "lhs",
            Method::Random => "random",
        }
    }

    /// Whether raising `n` keeps every earlier point.
    pub fn extendable(self) -> bool {
        self != Method::Lhs
    }

    /// The most points this method may have.
    pub fn max_points(self) -> u64 {
        match self {
            Method::Sobol => MAX_SOBOL_POINTS,
            _ => MAX_POINTS,
        }
    }
}

/// How a unit coordinate maps onto a parameter's range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Uniform in `[lo, hi)`: `[lo, hi]` in a spec.
    Uniform(f64, f64),
    /// Uniform in log10 between `lo` and `hi` (same sign, neither 0): `{ log = [lo, hi] }`.
    Log(f64, f64),
    /// The integers `lo..=hi`, each equally likely: `{ int = [lo, hi] }`.
    Int(i64, i64),
}

impl Scale {
    /// The value at unit coordinate `u` in `[0, 1)`.
    pub fn at(&self, u: f64) -> Value {
        match *self {
            Scale::Uniform(lo, hi) => Value::Float(lo + u * (hi - lo)),
            Scale::Log(lo, hi) => {
                let (a, b) = (lo.abs().log10(), hi.abs().log10());
                Value::Float(lo.signum() * 10f64.powf(a + u * (b - a)))
            }
            Scale::Int(lo, hi) => {
                let width = (hi as i128 - lo as i128 + 1) as f64;
                let k = ((u * width).floor() as i128).min(hi as i128 - lo as i128);
                Value::Int((lo as i128 + k) as i64)
            }
        }
    }

    /// `("uniform" | "log" | "int", lo, hi)`, for the manifest and `--dry-run`.
    pub fn describe(&self) -> (&'static str, f64, f64) {
        match *self {
            Scale::Uniform(lo, hi) => ("uniform", lo, hi),
            Scale::Log(lo, hi) => ("log", lo, hi),
            Scale::Int(lo, hi) => ("int", lo as f64, hi as f64),
        }
    }
}

/// A validated `[sample]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// How the points are placed.
    pub method: Method,
    /// How many points.
    pub n: u64,
    /// The sampled parameters, in spec order.
    pub names: Vec<String>,
    /// Each parameter's range.
    pub scales: Vec<Scale>,
}

/// The seed of a design: the first 8 bytes (little-endian) of
/// SHA-256("sweep-sample-v1\n" + master seed as 8 bytes LE). Every method draws from it, so
/// a new master seed gives a new, independent design.
pub fn design_seed(master: u64) -> u64 {
    let mut h = Sha256::new();
    h.update(b"sweep-sample-v1\n");
    h.update(master.to_le_bytes());
    u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

impl Design {
    /// `unit[d][i]`: point `i`'s coordinate in dimension `d`, in `[0, 1)`.
    pub fn unit(&self, master: u64) -> Vec<Vec<f64>> {
        let seed = design_seed(master);
        let n = self.n as usize;
        let dims = self.scales.len();
        match self.method {
            Method::Sobol => (0..dims)
                .map(|d| {
                    (0..n)
                        .map(|i| {
                            let u = sobol_burley::sample(i as u32, d as u32, seed as u32);
                            // The f32 stands for its cell [u, u + 2^-24): take the cell's
                            // middle, so that no point sits on a stratum's edge.
                            f64::from(u) + 0.5 / f64::from(1u32 << 24)
                        })
                        .collect()
                })
                .collect(),
            Method::Halton => (0..dims).map(|d| halton::Scrambled::new(d, seed).take(n)).collect(),
            Method::Lhs => (0..dims)
                .map(|d| {
                    let mut rng = ChaCha12Rng::seed_from_u64(seed);
                    rng.set_stream(d as u64);
                    let mut strata: Vec<u64> = (0..self.n).collect();
                    // Fisher-Yates, written out so the permutation is this crate's own
                    // and never changes with a dependency's version.
                    for i in (1..n).rev() {
                        strata.swap(i, rng.random_range(0..=i));
                    }
                    strata
                        .into_iter()
                        .map(|s| (s as f64 + rng.sample::<f64, _>(rand::distr::Open01)) / self.n as f64)
                        .collect()
                })
                .collect(),
            Method::Random => {
                let mut unit = vec![Vec::with_capacity(n); dims];
                for i in 0..n {
                    // One stream per point: point i is the same whatever n is.
                    let mut rng = ChaCha12Rng::seed_from_u64(seed);
                    rng.set_stream(i as u64);
                    for col in unit.iter_mut() {
                        col.push(rng.random::<f64>());
                    }
                }
                unit
            }
        }
    }

    /// `values[d][i]`: point `i`'s value of parameter `d`.
    pub fn values(&self, master: u64) -> Vec<Vec<Value>> {
        self.unit(master)
            .into_iter()
            .zip(&self.scales)
            .map(|(us, s)| us.into_iter().map(|u| s.at(u)).collect())
            .collect()
    }

    /// Why the design may not be what the user wants, if it may not.
    pub fn warning(&self) -> Option<String> {
        (self.method == Method::Sobol && !self.n.is_power_of_two()).then(|| {
            let below = 1u64 << (63 - self.n.leading_zeros());
            format!(
                "[sample] n = {} is not a power of two: a Sobol design is balanced at powers of two \
                 (each range split into n equal strata holds one point each); use n = {below} or {}",
                self.n,
                below * 2
            )
        })
    }

    /// The design as JSON, for the manifest:
    /// `{"method", "n", "ranges": {name: [scale, lo, hi]}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let ranges: serde_json::Map<String, serde_json::Value> = self
            .names
            .iter()
            .zip(&self.scales)
            .map(|(name, s)| {
                let (kind, lo, hi) = s.describe();
                (name.clone(), serde_json::json!([kind, lo, hi]))
            })
            .collect();
        serde_json::json!({ "method": self.method.name(), "n": self.n, "ranges": ranges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(method: Method, n: u64, scales: Vec<Scale>) -> Design {
        let names = (0..scales.len()).map(|d| format!("p{d}")).collect();
        Design { method, n, names, scales }
    }

    /// Whether each column of `unit` puts exactly one point in each of n equal strata.
    fn one_per_stratum(unit: &[Vec<f64>]) -> bool {
        unit.iter().all(|col| {
            let n = col.len();
            let mut seen = vec![false; n];
            col.iter().all(|u| {
                let s = (u * n as f64).floor() as usize;
                s < n && !std::mem::replace(&mut seen[s], true)
            })
        })
    }

    #[test]
    fn sobol_at_powers_of_two_and_lhs_at_any_n_are_stratified() {
        let five = vec![Scale::Uniform(0.0, 1.0); 5];
        for m in 0..=12 {
            let d = design(Method::Sobol, 1 << m, five.clone());
            assert!(one_per_stratum(&d.unit(7)), "sobol 2^{m}");
        }
        for n in [1, 2, 3, 10, 97, 1000] {
            assert!(one_per_stratum(&design(Method::Lhs, n, five.clone()).unit(7)), "lhs {n}");
        }
        // Halton and random points are not stratified: the check can fail.
        assert!(!one_per_stratum(&design(Method::Random, 64, five).unit(7)));
    }

    #[test]
    fn sobol_points_at_powers_of_two_fill_every_elementary_box_of_two_dimensions() {
        // The first two Sobol dimensions are a (0, 2)-sequence: 2^m points put exactly one
        // point in each box 2^-a wide and 2^-(m-a) high; Owen scrambling keeps that.
        let m = 8;
        let unit = design(Method::Sobol, 1 << m, vec![Scale::Uniform(0.0, 1.0); 2]).unit(11);
        for a in 0..=m {
            let mut seen = vec![false; 1 << m];
            for (u, v) in unit[0].iter().zip(&unit[1]) {
                let (x, y) = ((u * (1 << a) as f64) as usize, (v * (1 << (m - a)) as f64) as usize);
                assert!(!std::mem::replace(&mut seen[(x << (m - a)) | y], true), "a = {a}");
            }
        }
    }

    #[test]
    fn extendable_methods_keep_their_first_points() {
        for method in [Method::Sobol, Method::Halton, Method::Random] {
            let small = design(method, 100, vec![Scale::Uniform(0.0, 1.0); 3]).unit(3);
            let big = design(method, 300, vec![Scale::Uniform(0.0, 1.0); 3]).unit(3);
            for (s, b) in small.iter().zip(&big) {
                assert_eq!(s[..], b[..100], "{method:?}");
            }
        }
        let small = design(Method::Lhs, 100, vec![Scale::Uniform(0.0, 1.0)]).unit(3);
        let big = design(Method::Lhs, 101, vec![Scale::Uniform(0.0, 1.0)]).unit(3);
        assert_ne!(small[0][..], big[0][..100]);
    }

    #[test]
    fn the_master_seed_alone_decides_the_points() {
        for method in [Method::Sobol, Method::Halton, Method::Lhs, Method::Random] {
            let d = design(method, 64, vec![Scale::Uniform(0.0, 1.0); 2]);
            assert_eq!(d.unit(1), d.unit(1), "{method:?}");
            assert_ne!(d.unit(1), d.unit(2), "{method:?}");
        }
    }

    #[test]
    fn scales_map_the_unit_interval() {
        assert_eq!(Scale::Uniform(2.0, 4.0).at(0.5), Value::Float(3.0));
        let Value::Float(x) = Scale::Log(1e-3, 1.0).at(0.5) else { panic!() };
        assert!((x.log10() + 1.5).abs() < 1e-12);
        let Value::Float(x) = Scale::Log(-1.0, -1e-2).at(0.5) else { panic!() };
        assert!((x + 0.1).abs() < 1e-12);
        assert_eq!(Scale::Int(1, 8).at(0.0), Value::Int(1));
        assert_eq!(Scale::Int(1, 8).at(0.999_999), Value::Int(8));
        assert_eq!(Scale::Int(1, 8).at(0.125), Value::Int(2));
        assert_eq!(Scale::Int(i64::MIN, i64::MAX).at(0.0), Value::Int(i64::MIN));
    }

    #[test]
    fn sobol_warns_off_powers_of_two_only() {
        assert!(design(Method::Sobol, 256, vec![Scale::Uniform(0.0, 1.0)]).warning().is_none());
        let w = design(Method::Sobol, 300, vec![Scale::Uniform(0.0, 1.0)]).warning().unwrap();
        assert!(w.contains("n = 256 or 512"), "{w}");
        assert!(design(Method::Halton, 300, vec![Scale::Uniform(0.0, 1.0)]).warning().is_none());
    }
}
