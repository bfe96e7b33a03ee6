//! Statistical validation of the `regression` and `kinetic_fit` built-in models, through
//! the public library API only. Every task `i` is seeded with `TaskRng::seed_from_u64(i)`,
//! so these tests are deterministic; the tolerances are nonetheless set from the sampling
//! error of each statistic (stated next to each check), not tuned to the seeds.

mod common;
use common::model::{metric, model, run_task};
use std::path::Path;
use sweep::model::Registry;
use sweep::Value;

/// Mean and sample standard deviation (ddof = 1).
fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Runs `draws` tasks (seeds 0..draws) and collects one metric.
fn metric_over(name: &str, overrides: &[(&str, Value)], draws: u64, metric_name: &str) -> Vec<f64> {
    let m = model(name);
    (0..draws).map(|i| metric(&run_task(&*m, overrides, i, &[]).unwrap(), metric_name)).collect()
}

const NOISE_KINDS: [&str; 4] = ["normal", "student_t", "uniform", "laplace"];

/// Excess kurtosis of each standardised noise kind (student_t with the default df = 5:
/// 6/(df − 4) = 6; uniform −6/5; laplace 3).
fn excess_kurtosis(kind: &str) -> f64 {
    match kind {
        "normal" => 0.0,
        "student_t" => 6.0,
        "uniform" => -1.2,
        "laplace" => 3.0,
        _ => unreachable!(),
    }
}

/// The achieved SNR and r2, averaged over 200 draws of n = 200, p = 5, for each requested
/// SNR and noise kind (each configuration with its own seeds, so the checks are independent).
///
/// snr_achieved = s²(Xβ)/s²(ε) with independent numerator and denominator; the numerator
/// is unbiased for ‖β‖², but 1/s²(ε) is biased up by Var(s²)/σ⁴ ≈ (2 + κ)/n to first
/// order (κ: the noise's excess kurtosis), 1% for normal noise and 4% for t(5). So the
/// mean is compared with snr·(1 + (2 + κ)/n), and must lie within 4 standard errors of it
/// (the standard error estimated from the 200 draws themselves, 0.8–1.4% of snr).
///
/// Mean r2 must be within 0.03 of snr/(1 + snr): fitting p = 5 coefficients to n = 200
/// points raises r2 by about (p − 1)/(n − 1)/(1 + snr) ≤ 0.014 in expectation, and the
/// standard error of the mean is below 0.004.
#[test]
fn regression_achieved_snr_and_r2_match_request() {
    let (n, draws) = (200, 200);
    let m = model("regression");
    let mut seed = 0;
    for snr in [0.5, 2.0, 10.0] {
        for kind in NOISE_KINDS {
            let ov = [("snr", Value::Float(snr)), ("noise", Value::from(kind))];
            let (mut achieved, mut r2) = (Vec::new(), Vec::new());
            for _ in 0..draws {
                let out = run_task(&*m, &ov, seed, &[]).unwrap();
                achieved.push(metric(&out, "snr_achieved"));
                r2.push(metric(&out, "r2"));
                seed += 1;
            }
            let (mean, std) = mean_std(&achieved);
            let se = std / (draws as f64).sqrt();
            let expected = snr * (1.0 + (2.0 + excess_kurtosis(kind)) / n as f64);
            let (r2_mean, _) = mean_std(&r2);
            let r2_expected = snr / (1.0 + snr);
            eprintln!(
                "snr {snr:>4} {kind:>9}: mean achieved {mean:.4} (expected {expected:.4}, \
                 se {se:.4}, z = {:+.2}); mean r2 {r2_mean:.4} (snr/(1+snr) = {r2_expected:.4})",
                (mean - expected) / se
            );
            assert!(
                (mean - expected).abs() < 4.0 * se,
                "snr {snr}, {kind}: mean achieved {mean} vs {expected} ± 4·{se}"
            );
            assert!((r2_mean - r2_expected).abs() < 0.03, "snr {snr}, {kind}: r2 {r2_mean} vs {r2_expected}");
        }
    }
}

/// β̂'s RMSE falls like 1/√n: the mean RMSE over 100 draws at n = 100 is 3 to 5.5 times
/// that at n = 1600. (OLS theory gives √((1600 − p − 1)/(100 − p − 1)) ≈ 4.1 for p = 5;
/// each mean of 100 RMSEs has a relative standard error of about 3%.)
#[test]
fn regression_beta_rmse_shrinks_like_inverse_sqrt_n() {
    let rmse = |n: i64| {
        let v = metric_over("regression", &[("n", Value::Int(n))], 100, "beta_rmse");
        mean_std(&v).0
    };
    let (small, large) = (rmse(100), rmse(1600));
    let ratio = small / large;
    eprintln!("beta_rmse: n=100 {small:.4}, n=1600 {large:.4}, ratio {ratio:.3}");
    assert!((3.0..=5.5).contains(&ratio), "ratio {ratio}");
}

/// Only the arrays asked for are recorded, with the documented shapes.
#[test]
fn regression_records_wanted_arrays() {
    let m = model("regression");
    let out = run_task(&*m, &[("n", Value::Int(50)), ("p", Value::Int(3))], 1, &["x", "beta"]).unwrap();
    let shapes: Vec<(&str, Vec<usize>)> = out.arrays().iter().map(|(n, a)| (n.as_str(), a.shape().to_vec())).collect();
    assert_eq!(shapes, vec![("x", vec![50, 3]), ("beta", vec![3])]);
    let beta = &out.arrays()[1].1;
    assert_eq!(beta.iter().copied().collect::<Vec<_>>(), vec![1.0 / 3.0, -2.0 / 3.0, 1.0]);

    let all = ["x", "y", "beta", "beta_hat", "residuals"];
    let out = run_task(&*m, &[], 1, &all).unwrap();
    let names: Vec<&str> = out.arrays().iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, all);
}

/// The same seed gives the same task; check rejects impossible parameters.
#[test]
fn regression_is_deterministic_and_checked() {
    let m = model("regression");
    let a = run_task(&*m, &[("noise", Value::from("laplace"))], 9, &[]).unwrap();
    let b = run_task(&*m, &[("noise", Value::from("laplace"))], 9, &[]).unwrap();
    assert_eq!(a.metrics(), b.metrics());

    for bad in [
        vec![("n", Value::Int(5)), ("p", Value::Int(5))],
        vec![("p", Value::Int(0))],
        vec![("snr", Value::Float(0.0))],
        vec![("noise", Value::from("student_t")), ("df", Value::Float(2.0))],
    ] {
        let err = run_task(&*m, &bad, 0, &[]).err();
        assert!(err.is_some(), "{bad:?} was accepted");
    }
    // df only matters for student_t noise.
    assert!(run_task(&*m, &[("df", Value::Float(1.0))], 0, &[]).is_ok());
}

/// The acceptance criterion: over 100 tasks with k = linspace(0.1, 2, 100) and 5%
/// noise (defaults otherwise), the mean of k_rel_error is within ±2% and its standard
/// deviation between 5% and 15%.
#[test]
fn kinetic_fit_recovers_k() {
    let m = model("kinetic_fit");
    let mut rel = Vec::new();
    let mut z = Vec::new();
    for i in 0..100u64 {
        let k = 0.1 + (2.0 - 0.1) * i as f64 / 99.0;
        let out = run_task(&*m, &[("k", Value::Float(k)), ("noise", Value::Float(0.05))], i, &[])
            .unwrap_or_else(|e| panic!("k = {k}: {e}"));
        rel.push(metric(&out, "k_rel_error"));
        z.push((metric(&out, "k_fit") - k) / metric(&out, "k_stderr"));
    }
    let (mean, std) = mean_std(&rel);
    let (z_mean, z_std) = mean_std(&z);
    eprintln!(
        "kinetic_fit: k_rel_error mean {:+.4}, std {:.4}; (k_fit - k)/k_stderr mean {z_mean:+.3}, \
         std {z_std:.3}",
        mean, std
    );
    assert!(mean.abs() <= 0.02, "mean k_rel_error {mean}");
    assert!((0.05..=0.15).contains(&std), "std of k_rel_error {std}");
}

/// k_stderr is calibrated where the fit's model holds: at k = 0.2 (C(t_max) = 0.14·c0, so
/// no observation is clipped at 0) the standardised errors (k_fit − k)/k_stderr over 400
/// tasks have mean 0 ± 0.2 and standard deviation 0.9 to 1.25 (about 1.06 expected: s² has
/// 18 degrees of freedom; the standard error of a standard deviation from 400 draws is
/// 0.04). Faster decays are not tested here: the clipped tail makes RSS/(n − 2)
/// underestimate the noise, and k_stderr with it (see the model's details).
#[test]
fn kinetic_fit_stderr_is_calibrated_without_clipping() {
    let m = model("kinetic_fit");
    let z: Vec<f64> = (0..400)
        .map(|i| {
            let out = run_task(&*m, &[("k", Value::Float(0.2))], i, &[]).unwrap();
            (metric(&out, "k_fit") - 0.2) / metric(&out, "k_stderr")
        })
        .collect();
    let (mean, std) = mean_std(&z);
    eprintln!("kinetic_fit at k = 0.2: (k_fit - k)/k_stderr mean {mean:+.3}, std {std:.3}");
    assert!(mean.abs() < 0.2, "mean {mean}");
    assert!((0.9..=1.25).contains(&std), "std {std}");
}

/// Arrays, the fitted curve, determinism and parameter checks of `kinetic_fit`.
#[test]
fn kinetic_fit_outputs_and_checks() {
    let m = model("kinetic_fit");
    let out = run_task(&*m, &[], 3, &["t", "c_obs", "c_fit"]).unwrap();
    let arr = |name: &str| out.arrays().iter().find(|(n, _)| n == name).unwrap().1.clone();
    let (t, c_obs, c_fit) = (arr("t"), arr("c_obs"), arr("c_fit"));
    assert_eq!(t.len(), 20);
    assert_eq!((t[0], t[19]), (0.0, 10.0));
    assert!(c_obs.iter().all(|&c| c >= 0.0));
    let (k_fit, c0_fit) = (metric(&out, "k_fit"), metric(&out, "c0_fit"));
    assert!((c_fit[5] - c0_fit * (-k_fit * t[5]).exp()).abs() < 1e-12);
    let again = run_task(&*m, &[], 3, &[]).unwrap();
    assert_eq!(out.metrics(), again.metrics());
    assert!(again.arrays().is_empty());

    for bad in [
        ("n_points", Value::Int(2)),
        ("k", Value::Float(0.0)),
        ("t_max", Value::Float(-1.0)),
        ("noise", Value::Float(-0.1)),
    ] {
        assert!(run_task(&*m, std::slice::from_ref(&bad), 0, &[]).is_err(), "{bad:?} was accepted");
    }
}

/// The example specs in `sweeps/` parse against the built-in models.
#[test]
fn example_specs_parse() {
    let registry = Registry::builtin();
    for file in ["sweeps/regression.toml", "sweeps/kinetic_fit.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let spec = sweep::spec::Spec::from_file(&path, &registry).unwrap_or_else(|e| panic!("{file}: {e}"));
        eprintln!("{file}: {} tasks", spec.task_count());
        assert!(spec.task_count() > 0);
    }
}
