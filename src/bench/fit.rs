//! Fitting a scalability model to measured throughput.
//!
//! The model is Gunther's Universal Scalability Law (USL):
//!
//! ```text
//! X(N) = λN / (1 + σ(N−1) + κN(N−1))
//! ```
//!
//! where `X(N)` is throughput (tasks per second) with `N` workers, `λ` the throughput of one
//! worker, `σ ≥ 0` the contention (serial) fraction and `κ ≥ 0` the coherency cost. With
//! `κ = 0` it is Amdahl's law, which is used instead when the data cannot support the
//! three-parameter model.
//!
//! # Method
//!
//! 1. **Linearised start.** `N/X(N) = a + b(N−1) + cN(N−1)` with `a = 1/λ`, `b = σ/λ`,
//!    `c = κ/λ` is linear in `(a, b, c)`. It is solved by weighted least squares (weights
//!    `1/(N/X)²`, so every point counts by its relative error; an SVD of the weighted
//!    design), with `b, c ≥ 0` enforced by trying the constrained subsets. Unlike the
//!    textbook form it needs no measurement at `N = 1`.
//! 2. **Refinement on the original scale.** Levenberg–Marquardt over `(λ, σ, κ)` minimises
//!    the sum of squared throughput residuals. The bounds `σ, κ ≥ 0` are kept the same way
//!    as in step 1: each face of the feasible region (`σ` or `κ` or both held at 0) is
//!    fitted without bounds and the best fit that stays feasible is kept.
//! 3. **Model choice.** Amdahl needs two distinct worker counts, the USL three. The USL is
//!    kept only if its `κ` matters within the measured range and it beats Amdahl clearly: by
//!    an F-test (`F > 4`) when there are spare degrees of freedom, otherwise by at least 5%
//!    in the residual sum of squares.

mod least_squares;
mod usl;

use least_squares::{best_lambda, refine};
use serde::{Deserialize, Serialize};
use usl::denominator;

/// Which scalability model a [`Fit`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FitModel {
    /// Universal Scalability Law: contention `σ` and coherency `κ`.
    Usl,
    /// Amdahl's law: contention `σ` only (`κ = 0`).
    Amdahl,
}

impl FitModel {
    /// The model's short display name, `"USL"` or `"Amdahl"`.
    pub fn name(self) -> &'static str {
        match self {
            FitModel::Usl => "USL",
            FitModel::Amdahl => "Amdahl",
        }
    }
}

/// A fitted scalability model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Which model was chosen.
    pub model: FitModel,
    /// Modelled throughput of one worker, in tasks per second (`X(1)`).
    pub lambda: f64,
    /// Contention (serial) fraction `σ ≥ 0`.
    pub sigma: f64,
    /// Coherency cost `κ ≥ 0`; exactly `0` for [`FitModel::Amdahl`].
    pub kappa: f64,
    /// Coefficient of determination of the modelled throughput against the measured points,
    /// on the original (tasks per second) scale. `1` when the points have no spread at all.
    pub r2: f64,
}

impl Fit {
    /// Modelled throughput with `n` workers, in tasks per second.
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / denominator(n, self.sigma, self.kappa)
    }

    /// Modelled speedup with `n` workers relative to one worker: `X(n) / X(1)`.
    pub fn speedup(&self, n: f64) -> f64 {
        n / denominator(n, self.sigma, self.kappa)
    }

    /// The serial fraction, `σ`.
    pub fn serial_fraction(&self) -> f64 {
        self.sigma
    }

    /// The worker count at which modelled throughput peaks, `√((1−σ)/κ)`; `None` when it
    /// never peaks (Amdahl, or `κ = 0`, or `σ ≥ 1`).
    pub fn peak_workers(&self) -> Option<f64> {
        (self.kappa > 0.0 && self.sigma < 1.0).then(|| ((1.0 - self.sigma) / self.kappa).sqrt())
    }
}

/// Fits the USL (or Amdahl's law as a fallback) to `(workers, tasks per second)` points.
/// Several points per worker count (repetitions) are allowed and all of them are used.
///
/// Points whose worker count or throughput is not finite and positive are ignored. Returns
/// `None` when fewer than two distinct worker counts remain, since then nothing about
/// scaling can be said.
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let pts: Vec<(f64, f64)> =
        points.iter().copied().filter(|&(n, x)| n.is_finite() && n > 0.0 && x.is_finite() && x > 0.0).collect();
    let mut distinct: Vec<f64> = pts.iter().map(|p| p.0).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if distinct.len() < 2 {
        return None;
    }
    let n_max = *distinct.last().expect("at least two worker counts");

    let amdahl = refine(&pts, false);
    let mut chosen = amdahl;
    if distinct.len() >= 3 {
        let usl = refine(&pts, true);
        if usl_is_supported(&pts, &amdahl, &usl, n_max) {
            chosen = usl;
        }
    }
    let (sigma, kappa, sse) = chosen;
    let lambda = best_lambda(&pts, sigma, kappa);
    if !(lambda.is_finite() && lambda > 0.0 && sigma.is_finite() && kappa.is_finite()) {
        return None;
    }
    Some(Fit {
        model: if kappa > 0.0 { FitModel::Usl } else { FitModel::Amdahl },
        lambda,
        sigma,
        kappa,
        r2: r_squared(&pts, sse),
    })
}

/// Whether the USL fit `(σ, κ, sse)` should be preferred over the Amdahl one.
fn usl_is_supported(pts: &[(f64, f64)], amdahl: &(f64, f64, f64), usl: &(f64, f64, f64), n_max: f64) -> bool {
    let (_, kappa, sse_u) = *usl;
    let sse_a = amdahl.2;
    let scale: f64 = pts.iter().map(|p| p.1 * p.1).sum();
    // κ must change the model noticeably somewhere in the measured range...
    if !(kappa.is_finite() && kappa * n_max * (n_max - 1.0) > 1e-6) {
        return false;
    }
    // ...and Amdahl must leave something to explain.
    if sse_a <= 1e-20 * scale || sse_u >= sse_a {
        return false;
    }
    let dof = pts.len().saturating_sub(3);
    if dof == 0 || sse_u <= 1e-20 * scale {
        return sse_u < 0.95 * sse_a;
    }
    let f = (sse_a - sse_u) / (sse_u / dof as f64);
    f > 4.0
}

fn r_squared(pts: &[(f64, f64)], sse: f64) -> f64 {
    let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    let ss_tot: f64 = pts.iter().map(|p| (p.1 - mean).powi(2)).sum();
    if ss_tot <= 1e-24 * mean * mean * pts.len() as f64 {
        return 1.0;
    }
    let r2 = 1.0 - sse / ss_tot;
    if r2.is_finite() {
        r2
    } else {
        0.0
    }
}

/// How close to the best throughput [`recommend`] accepts: within 5%.
pub const WITHIN_BEST: f64 = 0.05;

/// The smallest worker count whose median throughput is within 5% ([`WITHIN_BEST`]) of the
/// best measured one. Entries with a non-finite or negative throughput are ignored; with none left the
/// answer is `1`.
pub fn recommend(per_jobs: &[(usize, f64)]) -> usize {
    let valid = || per_jobs.iter().copied().filter(|&(_, x)| x.is_finite() && x >= 0.0);
    let Some(best) = valid().map(|(_, x)| x).max_by(f64::total_cmp) else {
        return 1;
    };
    valid().filter(|&(_, x)| x >= (1.0 - WITHIN_BEST) * best).map(|(jobs, _)| jobs).min().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKERS: [f64; 8] = [1.0, 2.0, 3.0, 4.0, 8.0, 16.0, 32.0, 64.0];

    fn usl(lambda: f64, sigma: f64, kappa: f64, n: f64) -> f64 {
        lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
    }

    /// Deterministic noise in [-amplitude, +amplitude] (a fixed irregular pattern).
    fn noise(i: usize, amplitude: f64) -> f64 {
        const PATTERN: [f64; 11] = [0.3, -0.9, 1.0, -0.2, 0.7, -1.0, 0.1, 0.8, -0.6, -0.4, 0.5];
        1.0 + amplitude * PATTERN[i % PATTERN.len()]
    }

    fn synthetic(lambda: f64, sigma: f64, kappa: f64, workers: &[f64], reps: usize, amplitude: f64) -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        for &n in workers {
            for _ in 0..reps {
                let i = pts.len();
                pts.push((n, usl(lambda, sigma, kappa, n) * noise(i, amplitude)));
            }
        }
        pts
    }

    #[test]
    fn recovers_exact_usl_parameters() {
        for &(sigma, kappa) in &[(0.05, 0.001), (0.2, 0.0001), (0.01, 0.003), (0.0, 0.002)] {
            let pts = synthetic(250.0, sigma, kappa, &WORKERS, 1, 0.0);
            let f = fit(&pts).unwrap();
            assert_eq!(f.model, FitModel::Usl, "σ={sigma} κ={kappa}: {f:?}");
            assert!((f.sigma - sigma).abs() < 1e-6, "σ={sigma} κ={kappa}: {f:?}");
            assert!((f.kappa - kappa).abs() < 1e-8, "σ={sigma} κ={kappa}: {f:?}");
            assert!((f.lambda - 250.0).abs() < 1e-4, "{f:?}");
            assert!(f.r2 > 0.999_999);
        }
    }

    #[test]
    fn recovers_usl_parameters_through_two_percent_noise() {
        for &(sigma, kappa) in &[(0.05, 0.001), (0.2, 0.0001), (0.01, 0.003)] {
            let pts = synthetic(250.0, sigma, kappa, &WORKERS, 3, 0.02);
            let f = fit(&pts).unwrap();
            assert_eq!(f.model, FitModel::Usl, "σ={sigma} κ={kappa}: {f:?}");
            assert!((f.sigma - sigma).abs() < 0.005, "σ={sigma} κ={kappa}: {f:?}");
            assert!((f.kappa - kappa).abs() < 0.1 * kappa, "σ={sigma} κ={kappa}: {f:?}");
            assert!((f.lambda / 250.0 - 1.0).abs() < 0.01, "{f:?}");
            assert!(f.r2 > 0.99, "{f:?}");
        }
    }

    #[test]
    fn needs_no_measurement_at_one_worker() {
        let pts = synthetic(40.0, 0.1, 0.0005, &[2.0, 4.0, 8.0, 16.0, 32.0], 1, 0.0);
        let f = fit(&pts).unwrap();
        assert!((f.sigma - 0.1).abs() < 1e-6 && (f.kappa - 0.0005).abs() < 1e-8);
        assert!((f.throughput(1.0) - 40.0).abs() < 1e-4);
    }

    #[test]
    fn small_worker_counts_like_a_laptop() {
        let pts = synthetic(10.0, 0.08, 0.02, &[1.0, 2.0, 3.0, 4.0], 2, 0.0);
        let f = fit(&pts).unwrap();
        assert_eq!(f.model, FitModel::Usl);
        assert!((f.sigma - 0.08).abs() < 1e-5 && (f.kappa - 0.02).abs() < 1e-6, "{f:?}");
    }

    #[test]
    fn amdahl_data_gives_amdahl() {
        let pts = synthetic(100.0, 0.1, 0.0, &WORKERS, 2, 0.0);
        let f = fit(&pts).unwrap();
        assert_eq!(f.model, FitModel::Amdahl);
        assert_eq!(f.kappa, 0.0);
        assert!((f.sigma - 0.1).abs() < 1e-6, "{f:?}");
    }

    #[test]
    fn noisy_amdahl_data_is_not_overfitted() {
        let pts = synthetic(100.0, 0.1, 0.0, &WORKERS, 3, 0.02);
        let f = fit(&pts).unwrap();
        assert_eq!(f.model, FitModel::Amdahl, "{f:?}");
        assert!((f.sigma - 0.1).abs() < 0.02, "{f:?}");
    }

    #[test]
    fn two_worker_counts_fall_back_to_amdahl() {
        let f = fit(&[(1.0, 100.0), (2.0, 180.0)]).unwrap();
        assert_eq!(f.model, FitModel::Amdahl);
        assert_eq!(f.kappa, 0.0);
        // 2 / (1 + σ) = 1.8
        assert!((f.sigma - 1.0 / 9.0).abs() < 1e-6, "{f:?}");
        assert!((f.lambda - 100.0).abs() < 1e-4, "{f:?}");
        assert!((f.speedup(2.0) - 1.8).abs() < 1e-6);
        assert_eq!(f.serial_fraction(), f.sigma);
        assert_eq!(f.peak_workers(), None);
    }

    #[test]
    fn two_worker_counts_with_retrograde_data_still_fit_amdahl() {
        // Even if throughput falls, two counts cannot identify κ.
        let f = fit(&[(1.0, 100.0), (1.0, 102.0), (4.0, 90.0), (4.0, 95.0)]).unwrap();
        assert_eq!(f.model, FitModel::Amdahl);
        assert!(f.sigma > 1.0);
    }

    #[test]
    fn superlinear_data_clamps_sigma_at_zero() {
        let f = fit(&[(1.0, 10.0), (2.0, 22.0), (4.0, 45.0)]).unwrap();
        assert!(f.sigma >= 0.0 && f.kappa >= 0.0, "{f:?}");
        assert!(f.sigma < 1e-6, "{f:?}");
    }

    #[test]
    fn too_little_data_gives_none() {
        assert_eq!(fit(&[]), None);
        assert_eq!(fit(&[(4.0, 10.0), (4.0, 11.0)]), None);
        assert_eq!(fit(&[(1.0, 10.0), (2.0, f64::NAN), (0.0, 3.0)]), None);
    }

    #[test]
    fn retrograde_usl_has_a_peak() {
        let pts = synthetic(100.0, 0.05, 0.002, &WORKERS, 1, 0.0);
        let f = fit(&pts).unwrap();
        let peak = f.peak_workers().unwrap();
        assert!((peak - (0.95f64 / 0.002).sqrt()).abs() < 1e-3, "{peak}");
        assert!(f.throughput(peak) > f.throughput(peak * 0.8));
        assert!(f.throughput(peak) > f.throughput(peak * 1.25));
    }

    #[test]
    fn fit_round_trips_through_json() {
        let f = fit(&synthetic(100.0, 0.05, 0.002, &WORKERS, 1, 0.0)).unwrap();
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains("\"model\":\"usl\""), "{json}");
        let back: Fit = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn recommend_picks_the_smallest_count_within_five_percent() {
        let m = [(1, 100.0), (2, 190.0), (4, 360.0), (8, 385.0), (16, 390.0)];
        assert_eq!(recommend(&m), 8); // 385 ≥ 0.95 × 390 = 370.5; 360 is not.
        let m = [(1, 100.0), (2, 196.0), (4, 200.0), (8, 150.0)];
        assert_eq!(recommend(&m), 2);
        // Order of the input does not matter; exactly 95% counts as within.
        assert_eq!(recommend(&[(8, 100.0), (4, 95.0), (2, 94.9)]), 4);
    }

    #[test]
    fn recommend_with_nothing_usable_is_one() {
        assert_eq!(recommend(&[]), 1);
        assert_eq!(recommend(&[(4, f64::NAN)]), 1);
    }
}
