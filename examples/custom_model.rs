//! A model defined in user code: a stochastic SIR epidemic, swept over the transmission
//! rate `beta` × the recovery rate `gamma` × replicates with the library API.
//!
//! ```sh
//! cargo run --example custom_model            # into a temporary directory
//! cargo run --example custom_model -- runs/sir # or into a directory you name (kept)
//! ```
//!
//! The model is a chain-binomial (Reed–Frost type) SIR in daily steps: on each day every
//! susceptible is infected with probability 1 − exp(−beta·I/N) and every infected person
//! recovers with probability 1 − exp(−gamma), both drawn from the task's RNG, so each
//! replicate is a different epidemic and the whole sweep is reproducible from its seed.
//!
//! An infected person stays infectious for 1/(1 − exp(−gamma)) days on average, so the basic
//! reproduction number is R0 = beta/(1 − exp(−gamma)) (≈ beta/gamma for small gamma), and a
//! large outbreak infects the fraction z of the population that solves z = 1 − exp(−R0·z).
//! The program prints the replicate means of each grid point next to that z and exits
//! non-zero if a mean attack rate is more than 0.02 away from it.

use rand_distr::{Binomial, Distribution};
use std::collections::BTreeMap;
use std::path::PathBuf;
use sweep::model::{Model, OutputSpec, Outputs, ParamSpec, Params, TaskError, TaskRng};
use sweep::Sweep;

/// The stochastic SIR model.
struct Sir;

impl Model for Sir {
    fn name(&self) -> &str {
        "sir"
    }
    fn summary(&self) -> &str {
        "Chain-binomial SIR epidemic in daily steps"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::float("beta", 0.3, "1/day", "transmission rate"),
            ParamSpec::float("gamma", 0.1, "1/day", "recovery rate"),
            ParamSpec::int("n_pop", 10_000, "", "population size"),
            ParamSpec::int("i0", 10, "", "people infected on day 0"),
            ParamSpec::int("days", 200, "day", "days simulated"),
        ]
    }
    fn arrays(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::new("i", "", "people infected on each day, days 0..=days")]
    }
    fn metrics(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::new("peak_infected", "", "largest number infected on one day"),
            OutputSpec::new("peak_day", "day", "the first day with that number"),
            OutputSpec::new("attack_rate", "", "fraction of the population ever infected"),
        ]
    }
    fn check(&self, p: &Params) -> Result<(), String> {
        let (n, i0) = (p.i64("n_pop"), p.i64("i0"));
        if !(1..=n).contains(&i0) {
            return Err(format!("i0 must be between 1 and n_pop = {n}"));
        }
        if !(p.f64("beta") >= 0.0 && p.f64("gamma") > 0.0) {
            return Err("beta must be >= 0 and gamma > 0".into());
        }
        if p.i64("days") < 1 {
            return Err("days must be at least 1".into());
        }
        Ok(())
    }
    fn run(&self, p: &Params, rng: &mut TaskRng, out: &mut Outputs) -> Result<(), TaskError> {
        let (beta, gamma) = (p.f64("beta"), p.f64("gamma"));
        let n = p.i64("n_pop") as u64;
        let days = p.i64("days") as usize;
        let p_recover = 1.0 - (-gamma).exp();
        let (mut s, mut i) = (n - p.i64("i0") as u64, p.i64("i0") as u64);
        let mut infected = Vec::with_capacity(days + 1);
        infected.push(i as f64);
        for _ in 0..days {
            let p_infect = 1.0 - (-beta * i as f64 / n as f64).exp();
            let new_i = Binomial::new(s, p_infect).map_err(|e| e.to_string())?.sample(rng);
            let new_r = Binomial::new(i, p_recover).map_err(|e| e.to_string())?.sample(rng);
            s -= new_i;
            i = i + new_i - new_r;
            infected.push(i as f64);
        }
        let (peak_day, peak) =
            infected.iter().enumerate().fold((0, 0.0), |b, (d, &x)| if x > b.1 { (d, x) } else { b });
        out.metric("peak_infected", peak as i64);
        out.metric("peak_day", peak_day);
        out.metric("attack_rate", (n - s) as f64 / n as f64);
        out.array("i", ndarray::Array1::from(infected));
        Ok(())
    }
}

/// The sweep: 3 beta × 2 gamma × 4 replicates = 24 epidemics.
const SPEC: &str = r#"
seed = 11
replicates = 4

[model]
name = "sir"
n_pop = 10000
i0 = 10
days = 200

[params]
beta = [0.3, 0.5, 0.8]
gamma = [0.1, 0.2]
"#;

/// The root z > 0 of z = 1 − exp(−r0·z) (the final size of a large outbreak; 0 if r0 ≤ 1).
fn final_size(r0: f64) -> f64 {
    if r0 <= 1.0 {
        return 0.0;
    }
    let mut z: f64 = 1.0;
    for _ in 0..200 {
        z = 1.0 - (-r0 * z).exp();
    }
    z
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The out directory: the first argument, or a temporary one removed at exit.
    let temp = tempfile::tempdir()?;
    let out: PathBuf = std::env::args_os().nth(1).map_or_else(|| temp.path().join("sir"), PathBuf::from);

    let summary = Sweep::from_toml("sir", SPEC).model(Sir).out(&out).run()?;
    println!("sir: {} tasks done, {} failed; results in {}", summary.done, summary.failed, summary.results.display());
    if summary.failed > 0 || summary.pending > 0 {
        return Err("some tasks did not finish".into());
    }

    // Read results.csv back and average the replicates of each (beta, gamma).
    let mut rdr = csv::Reader::from_path(&summary.results)?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name).ok_or(format!("no column `{name}`"));
    let (c_beta, c_gamma) = (col("beta")?, col("gamma")?);
    let (c_attack, c_peak, c_day) = (col("attack_rate")?, col("peak_infected")?, col("peak_day")?);
    // (beta, gamma) as text keys keep the grid's values exactly; the sums are per column.
    let mut groups: BTreeMap<(String, String), [f64; 4]> = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec?;
        let g = groups.entry((rec[c_beta].to_string(), rec[c_gamma].to_string())).or_default();
        g[0] += rec[c_attack].parse::<f64>()?;
        g[1] += rec[c_peak].parse::<f64>()?;
        g[2] += rec[c_day].parse::<f64>()?;
        g[3] += 1.0;
    }

    println!(
        "{:>5} {:>5} {:>5} {:>12} {:>10} {:>13} {:>9}",
        "beta", "gamma", "R0", "final size", "attack", "peak infected", "peak day"
    );
    let mut worst: f64 = 0.0;
    for ((beta, gamma), [attack, peak, day, reps]) in &groups {
        let r0 = beta.parse::<f64>()? / (1.0 - (-gamma.parse::<f64>()?).exp());
        let z = final_size(r0);
        let attack = attack / reps;
        worst = worst.max((attack - z).abs());
        println!("{beta:>5} {gamma:>5} {r0:>5.2} {z:>12.4} {attack:>10.4} {:>13.0} {:>9.1}", peak / reps, day / reps);
    }
    // 10,000 people: the final size of one outbreak varies by O(1/sqrt(n_pop)) = 0.01 around z.
    if worst > 0.02 {
        return Err(format!("a mean attack rate is {worst:.4} away from the final-size equation (> 0.02)").into());
    }
    println!("attack rates agree with the final-size equation (largest difference {worst:.4})");
    Ok(())
}
