//! `kinetic_fit`: fit a first-order decay to one noisy experiment with Levenberg–Marquardt.

use crate::model::{Model, OutputSpec, Outputs, ParamSpec, Params, TaskError, TaskRng};
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::storage::Owned;
use nalgebra::{DVector, Dyn, Matrix2, OMatrix, Vector2, U2};
use ndarray::Array1;
use rand::Rng;
use rand_distr::StandardNormal;

/// Noisy samples of C(t) = c0·e^(−k·t), fitted for (k, c0) by Levenberg–Marquardt.
pub struct KineticFit;

impl Model for KineticFit {
    fn name(&self) -> &str {
        "kinetic_fit"
    }
    fn summary(&self) -> &str {
        "Fits C(t) = c0*exp(-k*t) to one noisy decay experiment by Levenberg-Marquardt"
    }
    fn details(&self) -> &str {
        "Samples C(t) = c0*exp(-k*t) at n_points evenly spaced times on [0, t_max], adds \
         Gaussian noise of standard deviation noise*c0 (one draw per point, in time order) and \
         clips at 0, as a concentration measurement would. It then fits (k, c0) by unweighted \
         least squares with Levenberg-Marquardt, starting from a log-linear fit of the points \
         above 10% of the largest observation. k_stderr is sqrt of the (k, k) entry of \
         (J^T J)^-1 * s^2 with s^2 = RSS/(n_points - 2), J the Jacobian at the optimum; it \
         assumes Gaussian noise of constant variance, so once many points are clipped at 0 \
         (k*t_max above about 5 at 5% noise) it underestimates the scatter of k_fit, by about \
         30-40% for k*t_max = 10-20. A fit that does not converge fails the task."
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::float("k", 1.0, "1/s", "true rate constant"),
            ParamSpec::float("c0", 1.0, "mol/L", "true initial concentration"),
            ParamSpec::int("n_points", 20, "", "number of observations"),
            ParamSpec::float("t_max", 10.0, "s", "time of the last observation"),
            ParamSpec::float("noise", 0.05, "", "noise standard deviation as a fraction of c0"),
        ]
    }
    fn arrays(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::new("t", "s", "observation times"),
            OutputSpec::new("c_obs", "mol/L", "noisy observed concentrations"),
            OutputSpec::new("c_fit", "mol/L", "fitted curve c0_fit*exp(-k_fit*t) at those times"),
        ]
    }
    fn metrics(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::new("k_fit", "1/s", "fitted rate constant"),
            OutputSpec::new("c0_fit", "mol/L", "fitted initial concentration"),
            OutputSpec::new("k_stderr", "1/s", "asymptotic standard error of k_fit"),
            OutputSpec::new("k_rel_error", "", "(k_fit - k)/k, a fraction"),
        ]
    }
    fn check(&self, p: &Params) -> Result<(), String> {
        validate(p)
    }
    fn run(&self, p: &Params, rng: &mut TaskRng, out: &mut Outputs) -> Result<(), TaskError> {
        validate(p)?;
        let (k, c0, noise) = (p.f64("k"), p.f64("c0"), p.f64("noise"));
        let n = p.i64("n_points") as usize;
        let dt = p.f64("t_max") / (n - 1) as f64;
        let mut t = crate::model::size::try_vec(n, "the times")?;
        t.extend((0..n).map(|i| i as f64 * dt));
        let c_obs: Vec<f64> = t
            .iter()
            .map(|&ti| {
                let z: f64 = rng.sample(StandardNormal);
                (c0 * (-k * ti).exp() + noise * c0 * z).max(0.0)
            })
            .collect();

        let fit = fit_decay(&t, &c_obs)?;
        out.metric("k_fit", fit.k);
        out.metric("c0_fit", fit.c0);
        out.metric("k_stderr", fit.k_stderr);
        out.metric("k_rel_error", (fit.k - k) / k);
        if out.wants("c_fit") {
            out.array("c_fit", Array1::from_iter(t.iter().map(|ti| fit.c0 * (-fit.k * ti).exp())));
        }
        out.array("t", Array1::from(t));
        out.array("c_obs", Array1::from(c_obs));
        Ok(())
    }
}

/// The parameter checks shared by `check` (first grid points) and `run` (every task).
fn validate(p: &Params) -> Result<(), String> {
    let positive = |name: &str| {
        let v = p.f64(name);
        if v > 0.0 && v.is_finite() {
            Ok(())
        } else {
            Err(format!("{name} must be a finite number > 0, not {v}"))
        }
    };
    positive("k")?;
    positive("c0")?;
    positive("t_max")?;
    let noise = p.f64("noise");
    if !(noise >= 0.0 && noise.is_finite()) {
        return Err(format!("noise must be a finite number >= 0, not {noise}"));
    }
    let n = p.i64("n_points");
    if n < 3 {
        return Err(format!("n_points must be at least 3 to fit two parameters with an error estimate, not {n}"));
    }
    // t, the data, the fitted curve and the fit's Jacobian (two columns).
    crate::model::size::check_floats(|| format!("n_points = {n}"), 5.0 * n as f64)
}

/// The result of [`fit_decay`].
#[derive(Debug)]
struct DecayFit {
    k: f64,
    c0: f64,
    k_stderr: f64,
}

/// Least-squares fit of c ≈ c0·e^(−k·t) by Levenberg–Marquardt.
fn fit_decay(t: &[f64], c: &[f64]) -> Result<DecayFit, TaskError> {
    let start = initial_guess(t, c);
    let problem = Decay { t, c, p: start };
    let (problem, report) = LevenbergMarquardt::new().minimize(problem);
    if !report.termination.was_successful() {
        return Err(format!(
            "kinetic_fit: Levenberg-Marquardt did not converge ({:?} after {} evaluations, \
             starting from k = {}, c0 = {})",
            report.termination, report.number_of_evaluations, start[0], start[1]
        )
        .into());
    }
    let (k, c0) = (problem.p[0], problem.p[1]);
    let not_finite = || TaskError::from(format!("kinetic_fit: the fit diverged (k = {k}, c0 = {c0})"));
    if !(k.is_finite() && c0.is_finite()) {
        return Err(not_finite());
    }
    let rss = problem.residuals().ok_or_else(not_finite)?.norm_squared();
    let jac = problem.jacobian().ok_or_else(not_finite)?;
    let jtj: Matrix2<f64> = jac.transpose() * &jac;
    let cov =
        jtj.try_inverse().ok_or("kinetic_fit: J^T J is singular at the optimum, the standard error is undefined")?
            * (rss / (t.len() - 2) as f64);
    Ok(DecayFit { k, c0, k_stderr: cov[(0, 0)].sqrt() })
}

/// A starting point: the least-squares line through (t, ln c) for the points above 10% of
/// the largest observation (those near zero are mostly noise, and clipped ones are 0).
/// Falls back to k = 1/t_max, c0 = max(c) when fewer than two points qualify.
fn initial_guess(t: &[f64], c: &[f64]) -> Vector2<f64> {
    let c_max = c.iter().copied().fold(0.0, f64::max);
    let t_span = t.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let fallback = Vector2::new(1.0 / t_span, if c_max > 0.0 { c_max } else { 1.0 });
    let pts: Vec<(f64, f64)> =
        t.iter().zip(c).filter(|(_, &ci)| ci > 0.1 * c_max && ci > 0.0).map(|(&ti, &ci)| (ti, ci.ln())).collect();
    if pts.len() < 2 {
        return fallback;
    }
    let m = pts.len() as f64;
    let (tm, lm) = (pts.iter().map(|p| p.0).sum::<f64>() / m, pts.iter().map(|p| p.1).sum::<f64>() / m);
    let stt: f64 = pts.iter().map(|p| (p.0 - tm).powi(2)).sum();
    let stl: f64 = pts.iter().map(|p| (p.0 - tm) * (p.1 - lm)).sum();
    let slope = stl / stt;
    let guess = Vector2::new(-slope, (lm - slope * tm).exp());
    if guess.iter().all(|v| v.is_finite()) {
        guess
    } else {
        fallback
    }
}

/// The residuals r_i = c0·e^(−k·t_i) − c_i as a function of p = (k, c0).
struct Decay<'a> {
    t: &'a [f64],
    c: &'a [f64],
    p: Vector2<f64>,
}

impl LeastSquaresProblem<f64, Dyn, U2> for Decay<'_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, U2>;
    type ParameterStorage = Owned<f64, U2>;

    fn set_params(&mut self, p: &Vector2<f64>) {
        self.p.copy_from(p);
    }
    fn params(&self) -> Vector2<f64> {
        self.p
    }
    fn residuals(&self) -> Option<DVector<f64>> {
        let (k, c0) = (self.p[0], self.p[1]);
        Some(DVector::from_iterator(self.t.len(), self.t.iter().zip(self.c).map(|(t, c)| c0 * (-k * t).exp() - c)))
    }
    fn jacobian(&self) -> Option<OMatrix<f64, Dyn, U2>> {
        let (k, c0) = (self.p[0], self.p[1]);
        Some(OMatrix::<f64, Dyn, U2>::from_fn(self.t.len(), |i, j| {
            let e = (-k * self.t[i]).exp();
            if j == 0 {
                -self.t[i] * c0 * e
            } else {
                e
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use levenberg_marquardt::differentiate_numerically;

    /// The analytic Jacobian matches central differences to 1e-6 relative.
    #[test]
    fn jacobian_matches_numeric() {
        let t: Vec<f64> = (0..10).map(|i| i as f64 * 0.5).collect();
        let c: Vec<f64> = t.iter().map(|t| 2.0 * (-0.7 * t).exp() + 0.01).collect();
        let mut problem = Decay { t: &t, c: &c, p: Vector2::new(0.5, 1.5) };
        let numeric = differentiate_numerically(&mut problem).unwrap();
        let analytic = problem.jacobian().unwrap();
        assert!((numeric - &analytic).norm() < 1e-6 * analytic.norm());
    }

    /// Noise-free data is fitted exactly (to 1e-8 relative).
    #[test]
    fn exact_data_is_recovered() {
        let t: Vec<f64> = (0..20).map(|i| i as f64 * 10.0 / 19.0).collect();
        let c: Vec<f64> = t.iter().map(|t| 3.0 * (-1.3 * t).exp()).collect();
        let fit = fit_decay(&t, &c).unwrap();
        assert!((fit.k - 1.3).abs() < 1.3e-8, "{fit:?}");
        assert!((fit.c0 - 3.0).abs() < 3e-8, "{fit:?}");
    }
}
