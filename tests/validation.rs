//! Validation of the `fin` and `reaction` built-in models against known answers, through
//! the public library API only: `Model::run` with `TaskRng::seed_from_u64`, and one sweep
//! run end to end with `Sweep`. Each tolerance is stated and justified next to its check.

mod common;
use common::model::{metric, model, task};
use common::{parse_csv, Env};
use sweep::{Sweep, Value};

/// The 20 rate constants linspace(0.01, 2, 20).
fn ks() -> Vec<f64> {
    (0..20).map(|i| 0.01 + (2.0 - 0.01) * i as f64 / 19.0).collect()
}

/// C(t_final)/c0 = exp(−k·t_final), so conversion = 1 − exp(−k·t_final) whatever c0.
fn exact_conversion(k: f64, t_final: f64) -> f64 {
    -(-k * t_final).exp_m1()
}

/// `fin` with its defaults (L = 0.1 m, k = 200 W/(m K), P = 0.04 m, A = 1e-4 m², T0 = 100 C,
/// T_inf = 25 C, h ~ Normal(50, 5)): the textbook mean tip temperature is 73.66 C with a
/// standard deviation of 1.86 C (quadrature over the truncated normal h gives 73.660 and 1.857).
///
/// Tolerances: the mean of 10,000 samples has a standard error of 1.86/√10⁴ ≈ 0.019 C, so
/// ±0.1 C is more than 5 standard errors; the sample standard deviation has a standard
/// error of about 1.86/√(2·10⁴) ≈ 0.013 C (T_tip is close to normal here), so ±0.15 C
/// mostly covers the rounding of the reference value. Eight seeds, each checked on its own.
#[test]
fn fin_defaults_match_the_textbook_mean_and_std() {
    let m = model("fin");
    for seed in 0..8 {
        let out = task(&*m, &[], seed);
        let (mean, std) = (metric(&out, "mean"), metric(&out, "std"));
        eprintln!("fin seed {seed}: mean {mean:.4} C, std {std:.4} C");
        assert!((mean - 73.66).abs() <= 0.1, "seed {seed}: mean {mean} is not within 0.1 of 73.66");
        assert!((std - 1.86).abs() <= 0.15, "seed {seed}: std {std} is not within 0.15 of 1.86");
        // The 95% interval brackets the mean, about ±1.96 standard deviations wide.
        let (lo, hi) = (metric(&out, "p025"), metric(&out, "p975"));
        assert!(lo < mean && mean < hi, "seed {seed}: [{lo}, {hi}] does not bracket {mean}");
        assert!(((hi - lo) / (2.0 * 1.96 * std) - 1.0).abs() < 0.1, "seed {seed}: [{lo}, {hi}] vs std {std}");
    }
}

/// RK45 with the defaults (rtol 1e-9, atol 1e-12, t_final 10 s, c0 = 1 mol/L) over
/// k = linspace(0.01, 2, 20): |conversion − (1 − e^(−k·t_final))| ≤ 1e-6.
///
/// Tolerance: the step controller holds each step's local error below
/// atol + rtol·|C| ≤ 1e-12 + 1e-9; summed over the steps of the run (a few hundred at
/// most) the global error stays below 1e-6 with a wide margin (it is about 1e-10 here), so
/// 1e-6, the tolerance the reaction benchmark also uses, is a loose bound. The error the
/// model itself tracks (`max_abs_error`, against c0·exp(−k·t) at every step) obeys the same
/// bound.
#[test]
fn reaction_rk45_matches_the_analytic_solution() {
    let m = model("reaction");
    let mut worst: f64 = 0.0;
    for k in ks() {
        let out = task(&*m, &[("k", Value::Float(k))], 0);
        let diff = (metric(&out, "conversion") - exact_conversion(k, 10.0)).abs();
        worst = worst.max(diff);
        assert!(diff <= 1e-6, "rk45, k = {k}: |conversion - exact| = {diff:e}");
        assert!(
            metric(&out, "max_abs_error") <= 1e-6,
            "rk45, k = {k}: max_abs_error {}",
            metric(&out, "max_abs_error")
        );
    }
    eprintln!("rk45: largest |conversion - (1 - exp(-k t))| over 20 k: {worst:.3e}");
}

/// RK4 with dt = 1e-3 over the same k: |conversion − (1 − e^(−k·t_final))| ≤ 1e-10.
///
/// Tolerance: one RK4 step multiplies C by 1 + z + z²/2 + z³/6 + z⁴/24 with z = −k·dt,
/// which differs from e^z by about |z|⁵/120 (relative). Over t_final/dt = 10⁴ steps the
/// relative error of C(t_final) is at most t_final·k⁵·dt⁴/120 ≈ 2.7e-12 at k = 2, and the
/// absolute error of C(t) peaks near t = 1/k at about k⁴·dt⁴/(120·e) ≈ 5e-14 (k = 2).
/// Adding rounding over 10⁴ steps (about 10⁴·1e-16 = 1e-12), 1e-10 leaves a factor of 100.
#[test]
fn reaction_rk4_matches_the_analytic_solution() {
    let m = model("reaction");
    let mut worst: f64 = 0.0;
    for k in ks() {
        let ov = [("k", Value::Float(k)), ("solver", Value::from("rk4")), ("dt", Value::Float(1e-3))];
        let out = task(&*m, &ov, 0);
        assert_eq!(metric(&out, "steps"), 10_000.0, "rk4 takes t_final/dt steps");
        let diff = (metric(&out, "conversion") - exact_conversion(k, 10.0)).abs();
        worst = worst.max(diff);
        assert!(diff <= 1e-10, "rk4, k = {k}: |conversion - exact| = {diff:e}");
        assert!(
            metric(&out, "max_abs_error") <= 1e-10,
            "rk4, k = {k}: max_abs_error {}",
            metric(&out, "max_abs_error")
        );
    }
    eprintln!("rk4 (dt = 1e-3): largest |conversion - (1 - exp(-k t))| over 20 k: {worst:.3e}");
}

/// The same RK45 check end to end: a sweep over k = linspace(0.01, 2, 20) and two c0 run
/// with `Sweep`, its `results.csv` read back (floats there round-trip exactly), every
/// conversion within 1e-6 of the analytic one (conversion does not depend on c0).
#[test]
fn reaction_sweep_results_match_the_analytic_solution() {
    let env = Env::new();
    let spec = r#"
seed = 3
[model]
name = "reaction"
save = []
[params]
k = { linspace = [0.01, 2.0, 20] }
c0 = [0.5, 2.0]
"#;
    let summary = Sweep::from_toml("validation", spec).jobs(2).out(env.path("out")).run().unwrap();
    assert_eq!((summary.done, summary.failed, summary.pending), (40, 0, 0));
    let rows = parse_csv(&std::fs::read_to_string(&summary.results).unwrap());
    for r in &rows {
        let k: f64 = r["k"].parse().unwrap();
        let conversion: f64 = r["conversion"].parse().unwrap();
        let diff = (conversion - exact_conversion(k, 10.0)).abs();
        assert!(diff <= 1e-6, "results.csv, k = {k}: |conversion - exact| = {diff:e}");
    }
    assert_eq!(rows.len(), 40);
}
