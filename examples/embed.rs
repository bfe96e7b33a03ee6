//! Running a sweep of a built-in model from Rust: the spec is built in code, run with
//! [`sweep::Sweep`] into a temporary directory, and its `results.csv` read back.
//!
//! ```sh
//! cargo run --example embed
//! ```
//!
//! The `reaction` model integrates dC/dt = −k·C to `t_final` (RK45, rtol 1e-9, atol 1e-12
//! by default), so its `conversion` column must equal 1 − exp(−k·t_final). The program
//! prints both for each k and exits non-zero if any differ by more than 1e-6.

use sweep::Sweep;

/// `t_final` of the spec, in seconds.
const T_FINAL: f64 = 10.0;
/// The largest accepted |conversion − (1 − exp(−k·t_final))|.
const TOLERANCE: f64 = 1e-6;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Like sweeps/reaction.toml, but 5 rate constants, one c0, one replicate, no arrays.
    let spec = format!(
        r#"
seed = 42

[model]
name = "reaction"
t_final = {T_FINAL:?}
solver = "rk45"
save = []

[params]
k = {{ linspace = [0.01, 2.0, 5] }}
"#
    );
    let dir = tempfile::tempdir()?;
    let summary = Sweep::from_toml("embed", &spec).jobs(2).out(dir.path().join("reaction")).run()?;
    println!("embed: {} tasks done, {} failed", summary.done, summary.failed);
    if summary.done != 5 {
        return Err(format!("expected 5 tasks done, got {}", summary.done).into());
    }

    let mut rdr = csv::Reader::from_path(&summary.results)?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name).ok_or(format!("no column `{name}`"));
    let (c_k, c_conv) = (col("k")?, col("conversion")?);
    println!("{:>8} {:>20} {:>20} {:>10}", "k", "conversion", "1 - exp(-k t)", "|diff|");
    let (mut worst, mut all_within): (f64, bool) = (0.0, true);
    for rec in rdr.records() {
        let rec = rec?;
        let k: f64 = rec[c_k].parse()?;
        let conversion: f64 = rec[c_conv].parse()?;
        let exact = 1.0 - (-k * T_FINAL).exp();
        let diff = (conversion - exact).abs();
        worst = worst.max(diff);
        all_within &= diff <= TOLERANCE; // false for NaN too
        println!("{k:>8.4} {conversion:>20.15} {exact:>20.15} {diff:>10.2e}");
    }
    if !all_within {
        return Err(format!("conversion is off the analytic solution by more than {TOLERANCE:e}").into());
    }
    println!("embed: conversion matches 1 - exp(-k*t_final) within {TOLERANCE:e} (largest difference {worst:.2e})");
    Ok(())
}
