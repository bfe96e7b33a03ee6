//! Grids whose bookkeeping cannot fit in memory are refused with exit 2, naming the size
//! and the limit, before anything is written (#24): they used to abort on a failed
//! allocation (exit 134), leaving `manifest.json` and `spec.toml` behind.

mod common;
use common::*;

#[track_caller]
fn refused_and_nothing_written(env: &Env, spec: &str, says: &str) {
    let err = env.fails(&["run", spec, "--out", "o"], 2);
    assert!(err.contains(says), "{err}");
    assert!(err.contains("of memory") && err.contains("more than this machine has"), "{err}");
    assert!(!env.path("o").exists(), "nothing written");
}

#[test]
fn a_grid_of_10_to_the_12_tasks_exits_2_instead_of_aborting() {
    let env = Env::with(
        "g.toml",
        "replicates = 1000\n[command]\nargv = [\"true\"]\n[params]\na = { range = [0, 1000] }\n\
         b = { range = [0, 1000] }\nc = { range = [0, 1000] }\n",
    );
    refused_and_nothing_written(
        &env,
        "g.toml",
        "the grid has 1000000000000 tasks (1000000000 points × 1000 replicates)",
    );
    // A dry run still counts it.
    let out = env.succeeds(&["run", "g.toml", "--dry-run"]);
    assert!(out.contains("1000000000000") || out.contains("1,000,000,000,000"), "{out}");
}

#[test]
fn an_adaptive_maximum_of_1e9_exits_2_instead_of_aborting() {
    let env = Env::with(
        "a.toml",
        "replicates = { min = 2, max = 1000000000, round = 2, until = { metric = \"value\", ci95_rel = 0.01 } }\n\
         [model]\nname = \"spin\"\n[params]\nmicros = { range = [0, 100] }\n",
    );
    refused_and_nothing_written(&env, "a.toml", "100 points × 1000000000 replicates, the adaptive maximum");
}

/// Three axes of ten million values were made (seconds, gigabytes) before the grid was
/// found too large.
#[test]
fn a_dry_run_of_a_10_to_the_21_task_grid_answers_at_once() {
    let axis = "{ linspace = [0, 1, 10000000] }";
    let env =
        Env::with("h.toml", &format!("[command]\nargv = [\"true\"]\n[params]\nx = {axis}\ny = {axis}\nz = {axis}\n"));
    let t0 = std::time::Instant::now();
    let err = env.fails(&["run", "h.toml", "--dry-run"], 2);
    assert!(err.contains("the parameters give 1000000000000000000000 grid points, more than the"), "{err}");
    assert!(err.contains("h.toml:3:1"), "{err}");
    assert!(t0.elapsed() < std::time::Duration::from_secs(5), "{:?}", t0.elapsed());
}

/// `sweep run /dev/zero --dry-run` read the device until memory ran out.
#[test]
fn a_spec_that_is_not_a_regular_file_or_is_huge_exits_2() {
    let env = Env::new();
    std::fs::create_dir(env.path("dir.toml")).unwrap();
    let fifo = env.path("fifo.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for spec in ["/dev/zero", "dir.toml", "fifo.toml"] {
        let err = env.fails(&["run", spec, "--dry-run"], 2);
        assert!(err.contains("the spec is not a regular file"), "{spec}: {err}");
    }
    env.write("big.toml", &"#".repeat(17 << 20));
    let err = env.fails(&["run", "big.toml", "--dry-run"], 2);
    assert!(err.contains("the spec is more than 16777216 bytes"), "{err}");
    assert!(!env.path("runs").exists());
}
