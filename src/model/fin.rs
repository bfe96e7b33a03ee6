//! `fin`: Monte Carlo tip temperature of a cooling fin with an uncertain film coefficient.

use crate::model::{Model, OutputSpec, Outputs, ParamSpec, Params, TaskError, TaskRng};
use ndarray::Array1;
use rand_distr::{Distribution, Normal};

/// Tip temperature of a straight fin with an adiabatic tip,
/// T_tip = T_inf + (T0 − T_inf)/cosh(mL), m = √(hP/(kA)), h ~ Normal(h_mean, h_std) > 0.
pub struct Fin;

impl Model for Fin {
    fn name(&self) -> &str {
        "fin"
    }
    fn summary(&self) -> &str {
        "Monte Carlo tip temperature of a cooling fin with an uncertain film coefficient h"
    }
    fn details(&self) -> &str {
        "Draws n_samples film coefficients h ~ Normal(h_mean, h_std), truncated to h > 0 by \
         redrawing, and computes T_tip = T_inf + (T0 - T_inf)/cosh(m*L) with m = sqrt(h*P/(k*A)). \
         With the defaults the mean is about 73.66 C and the standard deviation about 1.86 C."
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::float("T0", 100.0, "C", "base temperature"),
            ParamSpec::float("T_inf", 25.0, "C", "ambient temperature"),
            ParamSpec::float("L", 0.1, "m", "fin length"),
            ParamSpec::float("k", 200.0, "W/(m K)", "thermal conductivity"),
            ParamSpec::float("P", 0.04, "m", "perimeter"),
            ParamSpec::float("A", 1e-4, "m^2", "cross-section area"),
            ParamSpec::float("h_mean", 50.0, "W/(m^2 K)", "mean film coefficient"),
            ParamSpec::float("h_std", 5.0, "W/(m^2 K)", "standard deviation of the film coefficient"),
            ParamSpec::int("n_samples", 10_000, "", "Monte Carlo samples"),
        ]
    }
    fn arrays(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::new("t_tip", "C", "the sampled tip temperatures")]
    }
    fn metrics(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::new("mean", "C", "mean tip temperature"),
            OutputSpec::new("std", "C", "sample standard deviation (ddof = 1)"),
            OutputSpec::new("p025", "C", "2.5th percentile (linear interpolation, as numpy)"),
            OutputSpec::new("p975", "C", "97.5th percentile"),
        ]
    }
    fn check(&self, p: &Params) -> Result<(), String> {
        if p.i64("n_samples") < 2 {
            return Err("n_samples must be at least 2".into());
        }
        // The samples and a sorted copy.
        crate::model::size::check_floats(
            || format!("n_samples = {}", p.i64("n_samples")),
            2.0 * p.i64("n_samples") as f64,
        )?;
        if !is_nonneg(p.f64("h_std")) || !is_pos(p.f64("k")) || !is_pos(p.f64("A")) {
            return Err("h_std must be >= 0, k and A > 0".into());
        }
        if p.f64("h_mean") <= 0.0 && p.f64("h_std") == 0.0 {
            return Err("h_mean must be > 0 when h_std = 0".into());
        }
        Ok(())
    }
    fn run(&self, p: &Params, rng: &mut TaskRng, out: &mut Outputs) -> Result<(), TaskError> {
        let n = p.i64("n_samples") as usize;
        let normal = Normal::new(p.f64("h_mean"), p.f64("h_std")).map_err(|e| e.to_string())?;
        let (t0, t_inf, l) = (p.f64("T0"), p.f64("T_inf"), p.f64("L"));
        let pka = p.f64("P") / (p.f64("k") * p.f64("A"));
        let mut t_tip = crate::model::size::try_vec(n, "the samples")?;
        for _ in 0..n {
            let mut h = normal.sample(rng);
            let mut tries = 0;
            while h <= 0.0 {
                tries += 1;
                if tries > 10_000 {
                    return Err("h ~ Normal(h_mean, h_std) is almost never > 0".into());
                }
                h = normal.sample(rng);
            }
            let m = (h * pka).sqrt();
            t_tip.push(t_inf + (t0 - t_inf) / (m * l).cosh());
        }
        let mean = t_tip.iter().sum::<f64>() / n as f64;
        let var = t_tip.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        let mut sorted = crate::model::size::try_vec(n, "the sorted samples")?;
        sorted.extend_from_slice(&t_tip);
        sorted.sort_by(f64::total_cmp);
        out.metric("mean", mean);
        out.metric("std", var.sqrt());
        out.metric("p025", quantile(&sorted, 0.025));
        out.metric("p975", quantile(&sorted, 0.975));
        out.array("t_tip", Array1::from(t_tip));
        Ok(())
    }
}

/// `x > 0`, false for NaN.
fn is_pos(x: f64) -> bool {
    x > 0.0
}

/// `x >= 0`, false for NaN.
fn is_nonneg(x: f64) -> bool {
    x >= 0.0
}

/// numpy's default (linear) quantile of sorted data.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    #[test]
    fn quantile_matches_numpy() {
        // numpy.quantile([1, 2, 3, 4], 0.25) == 1.75
        assert_eq!(super::quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
    }
}
