//! `[output] dims`: names for the dimensions of saved arrays, checked in the spec, written
//! into the store, and never a reason to rerun a task.

mod common;
use common::*;

/// The reaction model with fixed RK4 steps: every task returns the same `t`.
const FIXED: &str = "[model]\nname = \"reaction\"\nsolver = \"rk4\"\nt_final = 1.0\ndt = 0.05\n\
                     [params]\nk = [0.5, 1.0, 2.0]\n";
/// The reaction model with adaptive RK45 steps: `t` differs from task to task.
const ADAPTIVE: &str = "[model]\nname = \"reaction\"\nt_final = 1.0\n[params]\nk = [0.5, 1.0, 2.0]\n";

fn output(layout: &str, dims: &str) -> String {
    format!("[output]\narrays = \"{layout}\"\ndims = {dims}\n")
}

/// The store's metadata of `out`: (root attributes, the consolidated metadata by array).
fn store_meta(env: &Env, out: &str) -> (serde_json::Value, serde_json::Value) {
    let meta: serde_json::Value = serde_json::from_str(&env.read(&format!("{out}/store.zarr/zarr.json"))).unwrap();
    (meta["attributes"].clone(), meta["consolidated_metadata"]["metadata"].clone())
}

fn dims_of(all: &serde_json::Value, name: &str) -> Vec<String> {
    serde_json::from_value(all[name]["dimension_names"].clone()).unwrap_or_else(|_| panic!("no array {name}: {all}"))
}

#[test]
fn bad_dims_are_spec_errors_that_name_the_place_and_the_fix() {
    let python = "[python]\nfunction = \"m.py:f\"\n[params]\nk = [1, 2]\n[sample]\nmethod = \"random\"\nn = 2\nx = [0, 1]\n[output]\n";
    let model = "[model]\nname = \"reaction\"\nsave = [\"c\"]\n[params]\nk = [1, 2]\n[output]\n";
    let command = "[command]\nargv = [\"true\"]\n[params]\nk = [1, 2]\n[output]\n";
    let cases = [
        (python, "dims = { c = [\"2t\"] }", "e.toml:10:15", "`2t` is not a dimension name"),
        (python, "dims = { c = [\"k\"] }", "e.toml:10:15", "would clash with a swept parameter `k`"),
        (python, "dims = { c = [\"x\"] }", "e.toml:10:15", "would clash with a swept parameter `x`"),
        (python, "dims = { c = [\"replicate\"] }", "e.toml:10:15", "sweep's own `replicate`"),
        (python, "dims = { c = [\"sample\"] }", "e.toml:10:15", "sweep's own `sample`"),
        (python, "dims = { c = [\"t\", \"t\"] }", "e.toml:10:20", "`c` names dimension `t` twice"),
        (python, "dims = { c = [\"t\"], t = [\"s\"] }", "e.toml:10:15", "`c` runs along `t`, which is also an array"),
        (python, "dims = { c = \"t\" }", "e.toml:10:14", "must be a list"),
        (model, "dims = { t = [\"t\"] }", "e.toml:7:10", "`dims` names `t`, which `save` leaves out"),
        (model, "dims = { x = [\"t\"] }", "e.toml:7:10", "model `reaction` has no such array"),
        (command, "dims = { c = [\"t\"] }", "e.toml:6:8", "a [command] writes its own files"),
    ];
    for (head, line, place, message) in cases {
        let env = Env::with("m.py", "def f(k):\n    return {}\n");
        env.write("e.toml", &format!("{head}{line}\n"));
        let err = env.fails(&["run", "e.toml", "--out", "o"], 2);
        assert!(err.contains(place) && err.contains(message), "{line}: {err}");
        assert!(err.contains("help:"), "{line}: no fix given: {err}");
        assert!(!env.path("o").exists(), "{line}: something was written");
    }
}

#[test]
fn dry_run_shows_the_dims_with_the_implied_coordinate() {
    let env = Env::with("r.toml", &format!("{FIXED}{}", output("npy", "{ c = [\"t\"] }")));
    let shown = env.succeeds(&["run", "r.toml", "--dry-run"]);
    assert!(shown.contains("array dims: c [t], t [t]"), "{shown}");
}

#[test]
fn a_t_every_task_returns_alike_is_the_coordinate_of_the_dimension_in_the_store() {
    let env = Env::with("r.toml", &format!("{FIXED}{}", output("zarr", "{ c = [\"t\"] }")));
    let err = env.succeeds_stderr(&["run", "r.toml", "--out", "o"]);
    assert!(!err.contains("warning"), "{err}");
    let (attrs, all) = store_meta(&env, "o");
    assert_eq!(dims_of(&all, "c"), ["k", "replicate", "t"]);
    assert_eq!(dims_of(&all, "t"), ["t"]);
    assert_eq!(all["t"]["shape"], serde_json::json!([21]));
    assert_eq!(attrs["sweep_coords"], serde_json::json!(["t"]));
    assert!(attrs.get("sweep_notes").is_none(), "{attrs}");
}

#[test]
fn an_adaptive_t_is_a_variable_along_t_step_and_the_run_says_why() {
    let env = Env::with("r.toml", &format!("{ADAPTIVE}{}", output("zarr", "{ c = [\"t\"] }")));
    let err = env.succeeds_stderr(&["run", "r.toml", "--out", "o"]);
    assert!(err.contains("warning: `t` is not the same in every done task"), "{err}");
    assert!(err.contains("t_eval") && err.contains("c = [\"step\"], t = [\"step\"]"), "{err}");
    let (attrs, all) = store_meta(&env, "o");
    assert_eq!(dims_of(&all, "c"), ["k", "replicate", "t_step"]);
    assert_eq!(dims_of(&all, "t"), ["k", "replicate", "t_step"]);
    assert_eq!(attrs["sweep_coords"], serde_json::json!([]));
    assert!(all.get("c_len").is_some() && all.get("t_len").is_some(), "ragged arrays keep <name>_len");
}

#[test]
fn collect_of_shards_says_what_the_run_end_says_of_dims() {
    let env = Env::with("r.toml", &format!("{ADAPTIVE}{}", output("zarr", "{ c = [\"t\"] }")));
    for i in 0..2 {
        let err = env.succeeds_stderr(&["run", "r.toml", "--out", "o", "--shard", &format!("{i}/2")]);
        assert!(!err.contains("warning"), "a shard builds no store: {err}");
    }
    let err = env.succeeds_stderr(&["collect", "o"]);
    assert!(err.contains("warning: `t` is not the same in every done task"), "{err}");
}

#[test]
fn naming_the_dimension_apart_makes_t_a_variable_along_it_without_a_warning() {
    let dims = "{ c = [\"step\"], t = [\"step\"] }";
    let env = Env::with("r.toml", &format!("{ADAPTIVE}{}", output("zarr", dims)));
    let err = env.succeeds_stderr(&["run", "r.toml", "--out", "o"]);
    assert!(!err.contains("warning"), "{err}");
    let (_, all) = store_meta(&env, "o");
    assert_eq!(dims_of(&all, "t"), ["k", "replicate", "step"]);
    assert_eq!(dims_of(&all, "c"), ["k", "replicate", "step"]);
}

#[test]
fn an_array_with_more_dims_than_its_data_keeps_its_data_and_default_names_in_the_store() {
    let env = Env::with("r.toml", &format!("{FIXED}{}", output("zarr", "{ c = [\"t\", \"x\"] }")));
    let err = env.succeeds_stderr(&["run", "r.toml", "--out", "o"]);
    assert!(
        err.contains("warning: array `c` has 1 dimension (shape (21,)), but [output] dims gives it 2: [t, x]"),
        "{err}"
    );
    let (_, all) = store_meta(&env, "o");
    assert_eq!(dims_of(&all, "c"), ["k", "replicate", "c_dim0"]);
    assert_eq!(all["c"]["shape"], serde_json::json!([3, 1, 21]));
    // `t` is still the coordinate of `t`, which `c` (named apart) no longer runs along.
    assert_eq!(dims_of(&all, "t"), ["t"]);
}

#[test]
fn changing_dims_on_resume_reruns_nothing_and_renames_the_dimensions() {
    for layout in ["npy", "zarr"] {
        let env = Env::with("r.toml", &format!("{FIXED}{}", output(layout, "{ c = [\"t\"] }")));
        env.succeeds(&["run", "r.toml", "--out", "o", "-q"]);
        let journal = env.read("o/journal.jsonl");
        env.write("r.toml", &format!("{FIXED}{}", output(layout, "{ c = [\"time\"], t = [\"time\"] }")));
        let err = env.succeeds_stderr(&["run", "r.toml", "--out", "o", "--resume"]);
        assert!(err.contains("the spec changed but its 3 tasks did not"), "{layout}: {err}");
        assert!(err.contains("this run: 0 done"), "{layout}: {err}");
        let after = env.read("o/journal.jsonl");
        let records = |j: &str| journal_lines(j).iter().filter(|v| v.get("t").is_some()).count();
        assert_eq!(records(&after), records(&journal), "{layout}: a task ran again");
        let manifest: serde_json::Value = serde_json::from_str(&env.read("o/manifest.json")).unwrap();
        assert_eq!(manifest["dims"], serde_json::json!({"c": ["time"], "t": ["time"], "time": ["time"]}));
        if layout == "zarr" {
            let (attrs, all) = store_meta(&env, "o");
            assert_eq!(dims_of(&all, "c"), ["k", "replicate", "time"]);
            assert_eq!(dims_of(&all, "t"), ["k", "replicate", "time"]);
            assert_eq!(attrs["sweep_coords"], serde_json::json!([]));
        }
    }
}

#[test]
fn a_coordinate_kept_once_in_the_store_is_read_back_when_the_grid_grows() {
    let Some(()) = require_tool("zarr", zarr()) else { return };
    let grown = FIXED.replace("k = [0.5, 1.0, 2.0]", "k = [0.5, 1.0, 2.0, 3.0]");
    let env = Env::with("z.toml", &format!("{FIXED}{}", output("zarr", "{ c = [\"t\"] }")));
    env.succeeds(&["run", "z.toml", "--out", "z", "-q"]);
    // The staging files are gone: the next build reads the done tasks' `t` from the store.
    assert!(staging_is_empty(&env, "z"));
    env.write("z.toml", &format!("{grown}{}", output("zarr", "{ c = [\"t\"] }")));
    env.write("n.toml", &format!("{grown}{}", output("npy", "{ c = [\"t\"] }")));
    env.succeeds(&["run", "z.toml", "--out", "z", "-q", "--resume"]);
    env.succeeds(&["run", "n.toml", "--out", "n", "-q"]);
    let (attrs, _) = store_meta(&env, "z");
    assert_eq!(attrs["sweep_coords"], serde_json::json!(["t"]));
    same_dataset(&env, "z", "n");
}

#[test]
fn both_layouts_open_as_one_dataset_with_named_dimensions() {
    let Some(()) = require_tool("zarr", zarr()) else { return };
    for dims in ["{ c = [\"t\"] }", "{ c = [\"time\"] }", "{ c = [\"s\"], t = [\"s\"] }"] {
        let env = Env::with("z.toml", &format!("{FIXED}{}", output("zarr", dims)));
        env.write("n.toml", &format!("{FIXED}{}", output("npy", dims)));
        env.succeeds(&["run", "z.toml", "--out", "z", "-q"]);
        env.succeeds(&["run", "n.toml", "--out", "n", "-q"]);
        same_dataset(&env, "z", "n");
    }
}

fn staging_is_empty(env: &Env, out: &str) -> bool {
    std::fs::read_dir(env.path(&format!("{out}/staging"))).map_or(true, |mut d| d.next().is_none())
}

/// tests/store/same_dataset.py: the store reads as the .npy layout does through sweep.open.
fn same_dataset(env: &Env, zarr_out: &str, npy_out: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/store/same_dataset.py");
    let out = std::process::Command::new("python3")
        .args([script, &env.abs(zarr_out), &env.abs(npy_out)])
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), stderr(&out));
}
