//! `[output] arrays = "zarr"`: the store reads as the .npy layout does, shows missing tasks,
//! and has the same bytes after kill -9 and `--resume`, and after shards and `collect`.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The reaction model: a ragged adaptive-step trajectory `c`, a zipped axis, string values.
const REACTION: &str = "seed = 3\nreplicates = 2\nzip = [[\"k\", \"c0\"]]\n[model]\nname = \"reaction\"\n\
    t_final = 5.0\nsave = [\"t\", \"c\"]\n[params]\nk = [0.1, 0.5, 1.5]\nc0 = [0.5, 1.0, 2]\n\
    solver = [\"rk45\", \"rk4\"]\n";
const ZARR: &str = "[output]\narrays = \"zarr\"\n";

fn same_dataset(env: &Env, zarr_out: &str, npy_out: &str, extra: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/store/same_dataset.py");
    let out = std::process::Command::new("python3")
        .args([script, &env.abs(zarr_out), &env.abs(npy_out)])
        .args(extra)
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), stderr(&out));
}

fn store_files(env: &Env, out: &str) -> BTreeMap<PathBuf, Vec<u8>> {
    let files = all_files(&env.path(&format!("{out}/store.zarr")));
    assert!(files.len() > 10, "{:?}", files.keys());
    files
}

#[test]
fn the_store_reads_as_the_npy_layout_with_ragged_arrays_and_a_zipped_axis() {
    let Some(()) = require_tool("zarr", zarr()) else { return };
    let env = Env::with("n.toml", REACTION);
    env.write("z.toml", &format!("{REACTION}{ZARR}"));
    env.succeeds(&["run", "n.toml", "--out", "n", "-q"]);
    env.succeeds(&["run", "z.toml", "--out", "z", "-q"]);
    assert!(!env.path("z/tasks").exists(), "the store replaces tasks/");
    same_dataset(&env, "z", "n", &[]);
}

#[test]
fn tasks_not_done_are_missing_in_the_store() {
    let Some(()) = require_tool("zarr", zarr()) else { return };
    let spec = "seed = 5\nreplicates = 20\n[model]\nname = \"spin\"\narray_len = 3\nsave = [\"data\"]\n\
                [params]\nfail_rate = [0.0, 0.5]\n";
    let env = Env::with("n.toml", spec);
    env.write("z.toml", &format!("{spec}{ZARR}"));
    env.exits(&["run", "n.toml", "--out", "n", "-q", "--keep-going"], 1);
    env.exits(&["run", "z.toml", "--out", "z", "-q", "--keep-going"], 1);
    same_dataset(&env, "z", "n", &["missing"]);
}

#[test]
fn kill_9_then_resume_gives_a_byte_identical_store() {
    let spec = format!(
        "seed = 3\nreplicates = 150\n[model]\nname = \"spin\"\narray_len = 64\n[params]\nmicros = [5000, 15000]\n{ZARR}"
    );
    let env = Env::with("a.toml", &spec);
    env.succeeds(&["run", "a.toml", "--out", "clean", "-q"]);
    env.kill_9_mid_run("a.toml", "k", 3, 300);
    env.succeeds(&["run", "a.toml", "--out", "k", "-q", "--resume"]);
    assert_eq!(store_files(&env, "k"), store_files(&env, "clean"));
}

#[test]
fn four_shards_and_collect_give_the_store_of_one_run() {
    let env = Env::with("z.toml", &format!("{REACTION}{ZARR}"));
    env.succeeds(&["run", "z.toml", "--out", "one", "-q"]);
    for i in 0..4 {
        env.succeeds(&["run", "z.toml", "--out", "sharded", "-q", "--shard", &format!("{i}/4")]);
    }
    env.succeeds_stderr(&["collect", "sharded"]);
    assert_eq!(store_files(&env, "sharded"), store_files(&env, "one"));
}

#[test]
fn a_link_planted_as_the_store_is_refused() {
    let env = Env::with("z.toml", &format!("{REACTION}{ZARR}"));
    env.succeeds(&["run", "z.toml", "--out", "o", "-q"]);
    std::fs::remove_dir_all(env.path("o/store.zarr")).unwrap();
    std::os::unix::fs::symlink(env.path("elsewhere"), env.path("o/store.zarr")).unwrap();
    let err = env.fails(&["run", "z.toml", "--out", "o", "-q", "--resume"], 2);
    assert!(err.contains("store.zarr is a symbolic link"), "{err}");
}

#[test]
fn a_command_cannot_use_the_store() {
    let env = Env::with("c.toml", &format!("[command]\nargv = [\"true\"]\n[params]\nx = [1, 2]\n{ZARR}"));
    let err = env.fails(&["run", "c.toml", "-q"], 2);
    assert!(err.contains("needs a built-in model, [python] or [worker]"), "{err}");
}

/// A Python function returning float (ragged), integer and boolean arrays; n = 3 fails.
const PYTHON: &str = "import numpy as np\n\ndef f(n, *, rng):\n    if n == 3:\n        raise ValueError('no')\n    \
    return {'m': float(rng.normal()), 'xs': rng.normal(size=n), 'counts': np.arange(n, dtype=np.int32), \
    'flags': np.ones(2, dtype=bool)}\n";

#[test]
fn a_python_functions_arrays_go_to_the_store_and_read_as_the_npy_layout() {
    let Some(()) = require_tool("zarr", zarr()) else { return };
    let spec = "seed = 2\nreplicates = 2\n[python]\nfunction = 'm.py:f'\n[params]\nn = [1, 2, 3, 5]\n";
    let env = Env::with("m.py", PYTHON);
    env.write("n.toml", spec);
    env.write("z.toml", &format!("{spec}{ZARR}"));
    env.exits(&["run", "n.toml", "--out", "n", "-q", "--keep-going"], 1);
    env.exits(&["run", "z.toml", "--out", "z", "-q", "--keep-going"], 1);
    // Only what is not an array stays in tasks/ (nothing here: the function prints nothing).
    assert!(all_files(&env.path("z")).keys().all(|p| !p.to_string_lossy().ends_with(".npy")));
    same_dataset(&env, "z", "n", &["missing"]);
    // Regression: every task whose arrays all went to the store left an empty tasks/<task>/.
    let empty: Vec<_> = std::fs::read_dir(env.path("z/tasks"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_none()))
        .map(|e| e.file_name())
        .collect();
    assert!(empty.is_empty(), "empty task directories: {empty:?}");
}

#[test]
fn a_non_numeric_array_fails_its_task_with_the_store() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with("m.py", "import numpy as np\n\ndef f(x):\n    return {'s': np.array(['a', 'b'])}\n");
    env.write("z.toml", &format!("[python]\nfunction = 'm.py:f'\n[params]\nx = [1]\n{ZARR}"));
    env.exits(&["run", "z.toml", "-q"], 1);
    let row = &env.results("runs/z")[0];
    assert!(row["error"].contains("array `s` is not numeric"), "{row:?}");
}

#[test]
fn changing_the_layout_on_resume_is_refused() {
    let env = Env::with("z.toml", &format!("{REACTION}{ZARR}"));
    env.succeeds(&["run", "z.toml", "--out", "o", "-q"]);
    env.write("n.toml", REACTION);
    let err = env.fails(&["run", "n.toml", "--out", "o", "-q", "--resume"], 2);
    assert!(err.contains("`[output] arrays` changed from \"zarr\" to \"npy\""), "{err}");
}

#[test]
fn report_status_and_verify_work_on_a_store_sweep() {
    let env = Env::with("z.toml", &format!("{REACTION}{ZARR}"));
    env.succeeds(&["run", "z.toml", "--out", "o", "-q"]);
    env.succeeds(&["status", "o"]);
    env.succeeds(&["report", "o"]);
    assert!(env.path("o/report.html").exists());
    env.succeeds(&["verify", "o", "--sample", "3"]);
}

#[test]
fn a_full_disk_fails_tasks_then_resume_completes_the_same_store() {
    let spec = format!("seed = 2\nreplicates = 40\n[model]\nname = \"spin\"\narray_len = 8\n{ZARR}");
    let env = Env::with("z.toml", &spec);
    env.succeeds(&["run", "z.toml", "--out", "clean", "-q"]);
    let out = exits(env.sweep(&["run", "z.toml", "--out", "full", "-q"]).env("SWEEP_FAULT_ENOSPC_AFTER", "10"), 1);
    assert!(out.stderr.contains("No space left"), "{}", out.stderr);
    let rows = env.results("full");
    let done = rows.iter().filter(|r| r["status"] == "done").count();
    assert!((1..40).contains(&done), "{done}");
    env.succeeds(&["run", "z.toml", "--out", "full", "-q", "--resume"]);
    assert_eq!(store_files(&env, "full"), store_files(&env, "clean"));
}

#[test]
fn a_built_store_replaces_its_staging_files_and_rebuilds_from_itself() {
    let env = Env::with("z.toml", &format!("{REACTION}{ZARR}"));
    env.succeeds(&["run", "z.toml", "--out", "o", "-q"]);
    let first = store_files(&env, "o");
    assert!(files(&env.path("o/staging")).is_empty(), "{:?}", files(&env.path("o/staging")));
    // Nothing left to run: the store is built again, from the store alone.
    env.succeeds(&["run", "z.toml", "--out", "o", "-q", "--resume"]);
    assert_eq!(store_files(&env, "o"), first);
}

#[test]
fn a_store_of_a_newer_format_is_refused_not_rebuilt() {
    let small = REACTION.replace("solver = [\"rk45\", \"rk4\"]", "solver = [\"rk45\"]");
    let env = Env::with("z.toml", &format!("{small}{ZARR}"));
    env.succeeds(&["run", "z.toml", "--out", "o", "-q"]);
    // A grown grid: the build must read the done tasks' arrays back from the old store.
    env.write("z.toml", &format!("{REACTION}{ZARR}"));
    let meta = env.path("o/store.zarr/zarr.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    let newer = text.replace("\"sweep_store_format\": 2", "\"sweep_store_format\": 99");
    assert_ne!(newer, text, "the store records its format: {text}");
    std::fs::write(&meta, &newer).unwrap();
    let before = store_files(&env, "o");
    let out = exits(&mut env.sweep(&["run", "z.toml", "--out", "o", "-q", "--resume"]), 1);
    assert!(out.stderr.contains("written by a newer sweep (store format 99); upgrade sweep"), "{}", out.stderr);
    assert_eq!(store_files(&env, "o"), before, "the newer store is left as it was");
}

#[test]
fn ctrl_c_then_resume_gives_the_store_of_one_run() {
    let spec = format!(
        "seed = 3\nreplicates = 150\n[model]\nname = \"spin\"\narray_len = 64\n[params]\nmicros = [5000, 15000]\n{ZARR}"
    );
    let env = Env::with("a.toml", &spec);
    env.succeeds(&["run", "a.toml", "--out", "clean", "-q"]);
    let mut child = env.spawn(&["run", "a.toml", "--out", "k", "-q", "--jobs", "2"]);
    wait_until("the run to journal a task", Duration::from_secs(30), || !env.journaled_done("k").is_empty());
    signal(&child, libc::SIGINT);
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(env.path("k/store.zarr/zarr.json").exists(), "an interrupted run builds the store of what is done");
    env.succeeds(&["run", "a.toml", "--out", "k", "-q", "--resume"]);
    assert_eq!(store_files(&env, "k"), store_files(&env, "clean"));
}

#[test]
fn extending_the_grid_on_resume_gives_the_store_of_the_extended_sweep() {
    let small = REACTION.replace("solver = [\"rk45\", \"rk4\"]", "solver = [\"rk45\"]");
    let env = Env::with("z.toml", &format!("{small}{ZARR}"));
    env.succeeds(&["run", "z.toml", "--out", "grown", "-q"]);
    env.write("z.toml", &format!("{REACTION}{ZARR}"));
    env.succeeds(&["run", "z.toml", "--out", "grown", "-q", "--resume"]);
    env.succeeds(&["run", "z.toml", "--out", "fresh", "-q"]);
    // Old tasks are read back from the first store, at their new places in the grid.
    assert_eq!(store_files(&env, "grown"), store_files(&env, "fresh"));
}

#[test]
fn adaptive_replicates_stage_each_round_and_build_one_store() {
    let env = Env::with(
        "z.toml",
        &format!(
            "seed = 1\nreplicates = {{ min = 2, max = 6, round = 2, until = {{ metric = \"value\", ci95_rel = 0.01 }} }}\n\
             [model]\nname = \"spin\"\narray_len = 4\n[params]\nmicros = [0, 1]\n{ZARR}"
        ),
    );
    env.succeeds(&["run", "z.toml", "--out", "o", "-q"]);
    assert!(env.path("o/store.zarr/data/zarr.json").exists());
    assert!(files(&env.path("o/staging")).is_empty());
}

#[test]
fn collect_never_follows_a_link_planted_in_the_store() {
    let env = Env::with("z.toml", &format!("{REACTION}{ZARR}"));
    env.succeeds(&["run", "z.toml", "--out", "o", "-q"]);
    let secret = env.write("secret.json", "{\"zarr_format\": 3}");
    std::fs::remove_file(env.path("o/store.zarr/zarr.json")).unwrap();
    std::os::unix::fs::symlink(&secret, env.path("o/store.zarr/zarr.json")).unwrap();
    let out = exits(&mut env.sweep(&["collect", "o"]), 1);
    assert!(out.stderr.contains("store.zarr/zarr.json"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "{\"zarr_format\": 3}");
}

#[test]
fn string_metrics_are_string_variables_of_the_store() {
    let Some(()) = require_tool("zarr", zarr()) else { return };
    let env = Env::with(
        "m.py",
        "import numpy as np\n\ndef f(n):\n    if n == 3:\n        raise ValueError('no')\n    return {'label': 'n%d' % n, 'xs': np.arange(n)}\n",
    );
    env.write("z.toml", &format!("[python]\nfunction = 'm.py:f'\n[params]\nn = [1, 2, 3]\n{ZARR}"));
    env.exits(&["run", "z.toml", "-q", "--keep-going"], 1);
    let check = "import xarray as xr, sys\nds = xr.open_zarr(sys.argv[1])\n\
                 assert [str(v) for v in ds.label.values.ravel()] == ['n1', 'n2', ''], ds.label.values\nprint('ok')\n";
    let out =
        std::process::Command::new("python3").args(["-c", check, &env.abs("runs/z/store.zarr")]).output().unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), stderr(&out));
}

#[test]
fn replicates_an_adaptive_point_never_needed_are_not_needed_in_the_store() {
    let Some(()) = require_tool("zarr", zarr()) else { return };
    // A target every point meets at once: replicates 2..6 are never needed.
    let env = Env::with(
        "z.toml",
        &format!(
            "seed = 1\nreplicates = {{ min = 2, max = 6, round = 2, until = {{ metric = \"value\", ci95_abs = 10.0 }} }}\n\
             [model]\nname = \"spin\"\narray_len = 4\n[params]\nmicros = [0, 1]\n{ZARR}"
        ),
    );
    env.succeeds(&["run", "z.toml", "-q"]);
    let check = "import xarray as xr, sys\nds = xr.open_zarr(sys.argv[1])\ns = ds.status.values\n\
                 assert (s[:, :2] == 'done').all() and (s[:, 2:] == 'not needed').all(), s\nprint('ok')\n";
    let out =
        std::process::Command::new("python3").args(["-c", check, &env.abs("runs/z/store.zarr")]).output().unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), stderr(&out));
}
