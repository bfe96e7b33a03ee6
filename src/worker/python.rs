//! `[python]`: the driver that runs inside each Python worker (python/sweep/_worker.py,
//! embedded in the binary) and the command line that starts it.
//!
//! The driver's source travels in an environment variable, which it removes at once, so
//! that the command line stays short (`ps` shows `python3 -c <loader> --function ...`) and
//! nothing is written to disk; its frames are named `sweep-worker` in tracebacks.

use super::PythonFunction;
use std::path::Path;

/// The driver's source.
pub const DRIVER: &str = include_str!("../../python/sweep/_worker.py");

/// The environment variable that carries [`DRIVER`] to the interpreter.
pub const DRIVER_VAR: &str = "SWEEP_WORKER_DRIVER";
/// The variable that tells the driver which interpreter runs it and why that one
/// (`/usr/bin/python3 (python3 on PATH, ...)`), for its start-up errors.
pub const CHOSEN_VAR: &str = "SWEEP_PYTHON_CHOSEN";

/// What `python -c` runs: the driver, taken out of the environment.
const LOADER: &str = "import os, sys; exec(compile(os.environ.pop('SWEEP_WORKER_DRIVER'), 'sweep-worker', 'exec'))";

/// The worker's command line for `f`, its paths relative to `base`, called with `params`.
pub fn argv(f: &PythonFunction, base: &Path, params: &[String]) -> Vec<String> {
    vec![
        f.interpreter.display().to_string(),
        "-c".into(),
        LOADER.into(),
        "--function".into(),
        f.function.clone(),
        "--base".into(),
        base.display().to_string(),
        "--params".into(),
        serde_json::to_string(params).expect("strings serialize"),
    ]
}
