//! Tests that need a tool this crate does not build (python3 with numpy, Chromium, a
//! SLURM cluster) go through [`require_tool`]: where the tool is missing they skip
//! visibly, or fail where the tool is required.

use std::io::Write as _;
use std::process::Command;

/// `found` is the tool (or `Err(why it is missing)`). Returns the tool when it is there.
///
/// When it is missing and not required, prints `SKIPPED <test>: <why>` on stderr (written
/// to the process's stderr, past the test harness's output capture, so it shows in a plain
/// `cargo test`) and returns `None`: the test returns early. When it is missing and
/// required, the test fails with the reason.
///
/// A tool is required when `SWEEP_REQUIRE_<TOOL>=1` (e.g. `SWEEP_REQUIRE_SLURM=1`), or when
/// `CI=true` unless `SWEEP_REQUIRE_<TOOL>=0` opts that one tool out.
#[track_caller]
pub fn require_tool<T>(tool: &str, found: Result<T, String>) -> Option<T> {
    let why = match found {
        Ok(t) => return Some(t),
        Err(why) => why,
    };
    let var = format!("SWEEP_REQUIRE_{}", tool.to_uppercase());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let required = match std::env::var(&var).as_deref() {
        Ok("1") => Some(format!("{var}=1")),
        Ok("0") => None,
        _ if ci => Some("CI=true".to_string()),
        _ => None,
    };
    if let Some(by) = required {
        panic!("{by} but {tool} is missing: {why}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED {}: {why} (set {var}=1 to fail instead)", current_test());
    None
}

/// The running test's name: the harness names each test's thread after it (but runs the
/// tests on the main thread with `--test-threads=1`; then the test binary's name).
fn current_test() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .map(|stem| stem.rsplit_once('-').map_or(stem.clone(), |(name, _hash)| name.to_string()))
            .unwrap_or_else(|| "a test".to_string()),
    }
}

/// Whether `python3` can import `modules` (comma-separated, as in an `import` line).
pub fn python_modules(modules: &str) -> Result<(), String> {
    match Command::new("python3").args(["-c", &format!("import {modules}")]).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(_) => Err(format!("python3 cannot import {modules} (pip install {})", modules.replace(',', ""))),
        Err(e) => Err(format!("cannot run python3: {e}")),
    }
}

/// Whether `python3` can import numpy.
pub fn numpy() -> Result<(), String> {
    python_modules("numpy")
}

/// Whether `python3` can import numpy and scipy (the `[python]` tests' models use both).
pub fn scipy() -> Result<(), String> {
    python_modules("numpy, scipy")
}

/// Whether `python3` can import numpy and pandas (tests that read results.csv as users do).
pub fn pandas() -> Result<(), String> {
    python_modules("numpy, pandas")
}

/// Whether `python3` can import numpy, xarray and zarr (zarr-python 3): the store tests.
pub fn zarr() -> Result<(), String> {
    python_modules("numpy, xarray, zarr")
}
