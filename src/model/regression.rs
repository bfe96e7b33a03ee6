//! `regression`: simulate y = Xβ + ε at a target signal-to-noise ratio and fit it by OLS.

use crate::model::{Model, OutputSpec, Outputs, ParamSpec, Params, TaskError, TaskRng};
use nalgebra::{DMatrix, DVector};
use ndarray::{Array1, Array2};
use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal, StudentT};

/// The noise distributions `noise` can name.
const NOISE_KINDS: &[&str] = &["normal", "student_t", "uniform", "laplace"];

/// Linear regression data y = Xβ + ε with X ~ N(0, 1), β fixed, ε scaled to a target SNR,
/// fitted by ordinary least squares (Householder QR).
pub struct Regression;

impl Model for Regression {
    fn name(&self) -> &str {
        "regression"
    }
    fn summary(&self) -> &str {
        "Linear model y = X*beta + noise at a target signal-to-noise ratio, fitted by OLS"
    }
    fn details(&self) -> &str {
        "Draws the n x p design X with i.i.d. N(0,1) entries (row by row), then n noise draws. \
         The true coefficients are beta_j = (-1)^j * (1 + j)/p for j = 0..p-1 \
         (p = 3: 1/3, -2/3, 1). The noise is eps = sigma*z with z of mean 0 and variance 1: \
         normal N(0,1); student_t T(df)*sqrt((df-2)/df), so df > 2; uniform U(-sqrt(3), sqrt(3)); \
         laplace Exp(1)/sqrt(2) with a random sign. sigma^2 = |beta|^2/snr, where |beta|^2 is \
         the population variance of X*beta, so Var(X*beta)/Var(eps) = snr in expectation. \
         beta_hat is the least-squares solution from a QR factorisation of X (no intercept). \
         snr_achieved is the ratio of the sample variances (ddof = 1) of X*beta and eps in this \
         draw; r2 = 1 - RSS/sum((y - mean(y))^2), about snr/(1 + snr) for n >> p."
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::int("n", 200, "", "observations (rows of X)"),
            ParamSpec::int("p", 5, "", "predictors (columns of X)"),
            ParamSpec::float("snr", 1.0, "", "target Var(X*beta)/Var(eps)"),
            ParamSpec::choice("noise", "normal", NOISE_KINDS, "noise distribution"),
            ParamSpec::float("df", 5.0, "", "degrees of freedom of student_t noise (> 2)"),
        ]
    }
    fn arrays(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::new("x", "", "the n x p design matrix"),
            OutputSpec::new("y", "", "the n responses"),
            OutputSpec::new("beta", "", "the p true coefficients"),
            OutputSpec::new("beta_hat", "", "the p least-squares estimates"),
            OutputSpec::new("residuals", "", "y - X*beta_hat"),
        ]
    }
    fn metrics(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::new("snr_achieved", "", "sample Var(X*beta)/Var(eps) of this draw"),
            OutputSpec::new("beta_rmse", "", "root mean square of beta_hat - beta"),
            OutputSpec::new("r2", "", "coefficient of determination of the fit"),
        ]
    }
    fn check(&self, p: &Params) -> Result<(), String> {
        validate(p)
    }
    fn run(&self, p: &Params, rng: &mut TaskRng, out: &mut Outputs) -> Result<(), TaskError> {
        validate(p)?;
        let (n, k) = (p.i64("n") as usize, p.i64("p") as usize);
        let noise = Noise::new(p.str("noise"), p.f64("df"))?;
        let beta = DVector::from_vec(true_beta(k));
        let sigma = (beta.norm_squared() / p.f64("snr")).sqrt();

        let mut draws = crate::model::size::try_vec(n * k, "the draws of X")?;
        draws.extend((0..n * k).map(|_| rng.sample::<f64, _>(StandardNormal)));
        let x = DMatrix::from_row_slice(n, k, &draws);
        let eps = DVector::from_iterator(n, (0..n).map(|_| sigma * noise.sample(rng)));
        let signal = &x * &beta;
        let y = &signal + &eps;

        let qr = x.clone().qr();
        let qty = qr.q().transpose() * &y;
        let beta_hat = qr
            .r()
            .solve_upper_triangular(&qty)
            .ok_or("regression: X is rank deficient, the least-squares fit is not unique")?;
        let residuals = &y - &x * &beta_hat;

        let y_mean = y.mean();
        let tss: f64 = y.iter().map(|v| (v - y_mean).powi(2)).sum();
        out.metric("snr_achieved", sample_var(&signal) / sample_var(&eps));
        out.metric("beta_rmse", ((&beta_hat - &beta).norm_squared() / k as f64).sqrt());
        out.metric("r2", 1.0 - residuals.norm_squared() / tss);

        if out.wants("x") {
            out.array("x", Array2::from_shape_fn((n, k), |(i, j)| x[(i, j)]));
        }
        for (name, v) in [("y", &y), ("beta", &beta), ("beta_hat", &beta_hat), ("residuals", &residuals)] {
            if out.wants(name) {
                out.array(name, Array1::from_iter(v.iter().copied()));
            }
        }
        Ok(())
    }
}

/// The parameter checks shared by `check` (first grid points) and `run` (every task).
fn validate(p: &Params) -> Result<(), String> {
    let (n, k) = (p.i64("n"), p.i64("p"));
    if k < 1 {
        return Err(format!("p must be at least 1, not {k}"));
    }
    if n <= k {
        return Err(format!("n must be greater than p for a least-squares fit (n = {n}, p = {k})"));
    }
    // X, its draws, its QR factors and copies: a few n x p matrices.
    crate::model::size::check_floats(|| format!("n = {n}, p = {k}"), 4.0 * n as f64 * k as f64)?;
    let snr = p.f64("snr");
    if !(snr > 0.0 && snr.is_finite()) {
        return Err(format!("snr must be a finite number > 0, not {snr}"));
    }
    let df = p.f64("df");
    if p.str("noise") == "student_t" && (df.is_nan() || df <= 2.0) {
        return Err(format!("student_t noise needs df > 2 for a finite variance, not df = {df}"));
    }
    Ok(())
}

/// β_j = (−1)^j · (1 + j)/p for j = 0..p.
fn true_beta(p: usize) -> Vec<f64> {
    (0..p)
        .map(|j| {
            let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
            sign * (1 + j) as f64 / p as f64
        })
        .collect()
}

/// Sample variance with ddof = 1.
fn sample_var(v: &DVector<f64>) -> f64 {
    let m = v.mean();
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

/// A noise distribution standardised to mean 0 and variance 1.
enum Noise {
    Normal,
    /// T(df) and the factor sqrt((df − 2)/df) that gives it unit variance.
    StudentT(StudentT<f64>, f64),
    Uniform,
    Laplace,
}

impl Noise {
    fn new(kind: &str, df: f64) -> Result<Self, TaskError> {
        Ok(match kind {
            "normal" => Noise::Normal,
            "student_t" => {
                let t = StudentT::new(df).map_err(|e| TaskError(format!("student_t(df = {df}): {e}")))?;
                Noise::StudentT(t, ((df - 2.0) / df).sqrt())
            }
            "uniform" => Noise::Uniform,
            "laplace" => Noise::Laplace,
            other => return Err(format!("unknown noise kind `{other}`").into()),
        })
    }

    fn sample(&self, rng: &mut TaskRng) -> f64 {
        match self {
            Noise::Normal => rng.sample(StandardNormal),
            Noise::StudentT(t, scale) => t.sample(rng) * scale,
            // U(−a, a) has variance a²/3.
            Noise::Uniform => (2.0 * rng.random::<f64>() - 1.0) * 3f64.sqrt(),
            // Laplace(0, b) has variance 2b²; b = 1/√2.
            Noise::Laplace => {
                let e: f64 = rng.sample(Exp1);
                let e = e * std::f64::consts::FRAC_1_SQRT_2;
                if rng.random::<bool>() {
                    e
                } else {
                    -e
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn beta_pattern() {
        assert_eq!(true_beta(3), vec![1.0 / 3.0, -2.0 / 3.0, 1.0]);
    }

    /// Each noise kind has mean 0 and variance 1: over 200 000 draws the sample mean is
    /// within 0.02 (≥ 9 standard errors) and the variance within 5% (the t(5) variance
    /// estimate has a heavy tail, so this is looser than for the others).
    #[test]
    fn noise_is_standardised() {
        for kind in NOISE_KINDS {
            let noise = Noise::new(kind, 5.0).unwrap();
            let mut rng = TaskRng::seed_from_u64(7);
            let n = 200_000;
            let v: Vec<f64> = (0..n).map(|_| noise.sample(&mut rng)).collect();
            let mean = v.iter().sum::<f64>() / n as f64;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            assert!(mean.abs() < 0.02, "{kind}: mean {mean}");
            assert!((var - 1.0).abs() < 0.05, "{kind}: variance {var}");
        }
    }
}
