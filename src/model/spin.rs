//! `spin`: a model for tests and benchmarks.

use crate::model::{Model, OutputSpec, Outputs, ParamSpec, Params, TaskError, TaskRng};
use ndarray::Array1;
use rand::Rng;
use std::time::{Duration, Instant};

/// Busy-waits `micros`, optionally draws an array, and fails or panics at a given rate.
pub struct Spin;

impl Model for Spin {
    fn name(&self) -> &str {
        "spin"
    }
    fn summary(&self) -> &str {
        "Test and benchmark model: CPU work, an optional random array, injected failures"
    }
    fn details(&self) -> &str {
        "Draws value = U(0,1) first; then fails when a second draw is below fail_rate, panics \
         when a third is below panic_rate (both decided by the task's RNG, so the same tasks \
         fail on every run), busy-waits micros microseconds, and writes array_len uniform draws \
         as `data`."
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::int("micros", 0, "us", "CPU time to burn"),
            ParamSpec::int("array_len", 0, "", "length of the `data` array (0: no array)"),
            ParamSpec::float("fail_rate", 0.0, "", "probability the task returns an error"),
            ParamSpec::float("panic_rate", 0.0, "", "probability the task panics"),
        ]
    }
    fn arrays(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::new("data", "", "array_len draws from U(0,1)")]
    }
    fn metrics(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::new("value", "", "the task's first U(0,1) draw")]
    }
    fn check(&self, p: &Params) -> Result<(), String> {
        if p.i64("micros") < 0 || p.i64("array_len") < 0 {
            return Err("micros and array_len must be >= 0".into());
        }
        crate::model::size::check_floats(|| format!("array_len = {}", p.i64("array_len")), p.i64("array_len") as f64)
    }
    fn run(&self, p: &Params, rng: &mut TaskRng, out: &mut Outputs) -> Result<(), TaskError> {
        let value: f64 = rng.random();
        let fail: f64 = rng.random();
        let panic: f64 = rng.random();
        if fail < p.f64("fail_rate") {
            return Err(format!("injected failure (draw {fail:.4} < fail_rate)").into());
        }
        if panic < p.f64("panic_rate") {
            panic!("injected panic (draw {panic:.4} < panic_rate)");
        }
        let micros = p.i64("micros") as u64;
        if micros > 0 {
            let until = Instant::now() + Duration::from_micros(micros);
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        let n = p.i64("array_len") as usize;
        if n > 0 && out.wants("data") {
            let mut data = crate::model::size::try_vec(n, "the `data` array")?;
            data.extend((0..n).map(|_| rng.random::<f64>()));
            out.array("data", Array1::from(data));
        }
        out.metric("value", value);
        Ok(())
    }
}
