//! `sweep run --bench` end to end: what it writes, and what it leaves alone.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// 2 ms tasks, metrics only.
const SPIN: &str = "name = \"spin\"\nreplicates = 100\n[model]\nname = \"spin\"\nsave = []\n[params]\nmicros = 2000\n";

/// Fast tasks that write a small array each.
const ARRAYS: &str = "name = \"arrays\"\nreplicates = 20\n[model]\nname = \"spin\"\nsave = [\"data\"]\n\
                      [params]\nmicros = 0\narray_len = [4, 8]\n";

/// The flags every bench here uses, to keep it fast.
const FAST: [&str; 7] = ["--bench", "--bench-jobs", "1,2", "--bench-tasks", "40", "--bench-repeat", "2"];

fn sweep() -> Command {
    Command::cargo_bin("sweep").unwrap()
}

fn write_spec(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn bench(spec: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let out = sweep().arg("run").arg(spec).arg("--out").arg(out).args(extra).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, into);
            } else {
                into.insert(p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}

fn scratch_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".sweep-bench-"))
        .collect()
}

#[test]
fn bench_json_holds_every_setting_and_repetition() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "spin.toml", SPIN);
    let out_dir = tmp.path().join("out");
    let output = bench(&spec, &out_dir, &FAST);

    let v = read_json(&out_dir.join("bench/bench.json"));
    assert_eq!(v["format"], sweep::bench::BENCH_FORMAT);
    let runs = v["runs"].as_array().unwrap();
    let settings: Vec<(u64, u64)> =
        runs.iter().map(|r| (r["jobs"].as_u64().unwrap(), r["io_threads"].as_u64().unwrap())).collect();
    // Metrics only: the default I/O thread count alone.
    assert_eq!(settings, [(1, 2), (2, 2)]);
    for r in runs {
        assert_eq!(r["tasks"], 40);
        assert_eq!(r["repeats"].as_array().unwrap().len(), 2, "{r}");
        for key in ["seconds_median", "tasks_per_s", "speedup", "efficiency"] {
            assert!(r[key].as_f64().unwrap() > 0.0, "runs[].{key}: {r}");
        }
        let secs = r["seconds_median"].as_f64().unwrap();
        // 40 tasks of 2 ms cannot take less than 80 ms / jobs.
        assert!(secs >= 0.08 / r["jobs"].as_f64().unwrap() * 0.99, "{r}");
    }
    assert!((runs[0]["speedup"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let recommended = v["recommended_jobs"].as_u64().unwrap();
    assert!([1, 2].contains(&recommended));
    assert_eq!(v["tasks_in_grid"], 100);
    assert_eq!(v["sample"].as_array().unwrap().len(), 40);

    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("jobs  io  tasks  median s"), "{stdout}");
    assert!(stdout.contains("fit: "), "{stdout}");
    let cmd = format!("sweep run {} --jobs {recommended} --out {}", spec.display(), out_dir.display());
    assert!(stdout.contains(&cmd), "{stdout}");
    assert_eq!(scratch_dirs(tmp.path()), Vec::<String>::new());
}

#[test]
fn the_plot_is_well_formed_svg() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "spin.toml", SPIN);
    let out_dir = tmp.path().join("out");
    bench(&spec, &out_dir, &FAST);
    let svg = std::fs::read_to_string(out_dir.join("bench/speedup.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(doc.descendants().any(|n| n.text().is_some_and(|t| t.contains("workers"))));
}

#[test]
fn the_sample_is_deterministic_and_spread_over_the_grid() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "arrays.toml", ARRAYS);
    let grid = tmp.path().join("grid");
    sweep().args(["run", "-q", "--out"]).arg(&grid).arg(&spec).assert().success();
    let quick = ["--bench", "--bench-jobs", "1", "--bench-io", "2", "--bench-tasks", "8", "--bench-repeat", "1"];
    bench(&spec, &tmp.path().join("a"), &quick);
    bench(&spec, &tmp.path().join("b"), &quick);
    let sample = |d: &str| read_json(&tmp.path().join(d).join("bench/bench.json"))["sample"].clone();
    assert_eq!(sample("a"), sample("b"));

    // Where the sampled tasks sit in the grid (results.csv lists it in grid order).
    let csv = std::fs::read_to_string(grid.join("results.csv")).unwrap();
    let order: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(order.len(), 40);
    let positions: Vec<usize> = sample("a")
        .as_array()
        .unwrap()
        .iter()
        .map(|id| order.iter().position(|t| *t == id.as_str().unwrap()).expect("a task of the grid"))
        .collect();
    // One pick in each fifth of the grid: not the first 8 tasks.
    for (i, p) in positions.iter().enumerate() {
        assert!((i * 5..(i + 1) * 5).contains(p), "{positions:?}");
    }
}

#[test]
fn an_existing_sweep_is_left_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "arrays.toml", ARRAYS);
    let out_dir = tmp.path().join("out");
    sweep().args(["run", "-q", "--out"]).arg(&out_dir).arg(&spec).assert().success();
    let before = snapshot(&out_dir);
    assert!(before.contains_key(Path::new("journal.jsonl")) && before.contains_key(Path::new("results.csv")));

    let quick = ["--bench", "--bench-jobs", "1,2", "--bench-tasks", "10", "--bench-repeat", "1"];
    bench(&spec, &out_dir, &quick);
    let mut after = snapshot(&out_dir);
    assert!(after.remove(Path::new("bench/bench.json")).is_some());
    assert!(after.remove(Path::new("bench/speedup.svg")).is_some());
    assert!(before == after, "files of the sweep changed");
    assert_eq!(scratch_dirs(tmp.path()), Vec::<String>::new());

    // Tasks that write arrays are also timed with other I/O thread counts.
    let v = read_json(&out_dir.join("bench/bench.json"));
    let ios: Vec<u64> = v["runs"].as_array().unwrap().iter().map(|r| r["io_threads"].as_u64().unwrap()).collect();
    assert_eq!(ios, [1, 2, 4, 1, 2, 4]);
    // The sweep is still complete.
    sweep().arg("status").arg(&out_dir).assert().success();
}

#[test]
fn a_sweep_can_start_where_it_was_benchmarked() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "spin.toml", SPIN.replace("2000", "0").as_str());
    let out_dir = tmp.path().join("fresh/out");
    bench(&spec, &out_dir, &FAST);
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1, "only bench/ was created");
    sweep().args(["run", "-q", "--out"]).arg(&out_dir).arg(&spec).assert().success();
    assert!(out_dir.join("results.csv").is_file() && out_dir.join("bench/bench.json").is_file());
    assert_eq!(scratch_dirs(&tmp.path().join("fresh")), Vec::<String>::new());
}

#[test]
fn a_directory_that_is_not_a_sweep_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "spin.toml", SPIN);
    let out_dir = tmp.path().join("other");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::write(out_dir.join("notes.txt"), "mine").unwrap();
    sweep().arg("run").arg(&spec).arg("--out").arg(&out_dir).args(FAST).assert().code(2);
    assert!(!out_dir.join("bench").exists());
    assert_eq!(scratch_dirs(tmp.path()), Vec::<String>::new());
}

#[test]
fn bench_flags_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "spin.toml", SPIN);
    let run = |args: &[&str]| sweep().arg("run").arg(&spec).args(args).current_dir(tmp.path()).assert().code(2);
    run(&["--bench-jobs", "1,2"]);
    run(&["--bench", "--bench-jobs", "0,2"]);
    run(&["--bench", "--bench-tasks", "0"]);
    run(&["--bench", "--resume"]);
    run(&["--bench", "--jobs", "2"]);
    run(&["--bench", "--dry-run"]);
    assert!(!tmp.path().join("runs").exists());
}
