//! `sweep run --bench` end to end: what it writes, and what it leaves alone.

mod common;
use common::*;
use std::path::Path;

/// 2 ms tasks, metrics only.
const SPIN: &str = "name = \"spin\"\nreplicates = 100\n[model]\nname = \"spin\"\nsave = []\n[params]\nmicros = 2000\n";

/// Fast tasks that write a small array each.
const ARRAYS: &str = "name = \"arrays\"\nreplicates = 20\n[model]\nname = \"spin\"\nsave = [\"data\"]\n\
                      [params]\nmicros = 0\narray_len = [4, 8]\n";

/// The flags every bench here uses, to keep it fast.
const FAST: [&str; 7] = ["--bench", "--bench-jobs", "1,2", "--bench-tasks", "40", "--bench-repeat", "2"];

/// `sweep run SPEC --out OUT --bench...`, which must succeed; returns its stdout.
fn bench(env: &Env, spec: &str, out: &str, flags: &[&str]) -> String {
    env.succeeds(&[&["run", spec, "--out", out], flags].concat())
}

fn read_json(env: &Env, rel: &str) -> serde_json::Value {
    serde_json::from_str(&env.read(rel)).unwrap()
}

/// The benchmark's scratch directories left in `dir`.
fn scratch_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".sweep-bench-"))
        .collect()
}

#[test]
fn bench_json_holds_every_setting_and_repetition() {
    let env = Env::with("spin.toml", SPIN);
    let stdout = bench(&env, "spin.toml", "out", &FAST);

    let v = read_json(&env, "out/bench/bench.json");
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

    assert!(stdout.starts_with("jobs  io  tasks  median s"), "{stdout}");
    assert!(stdout.contains("fit: "), "{stdout}");
    let cmd = format!("sweep run spin.toml --jobs {recommended} --out out");
    assert!(stdout.contains(&cmd), "{stdout}");
    assert_eq!(scratch_dirs(env.dir.path()), Vec::<String>::new());
}

#[test]
fn the_plot_is_well_formed_svg() {
    let env = Env::with("spin.toml", SPIN);
    bench(&env, "spin.toml", "out", &FAST);
    let svg = env.read("out/bench/speedup.svg");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(doc.descendants().any(|n| n.text().is_some_and(|t| t.contains("workers"))));
}

#[test]
fn the_sample_is_deterministic_and_spread_over_the_grid() {
    let env = Env::with("arrays.toml", ARRAYS);
    env.succeeds(&["run", "-q", "--out", "grid", "arrays.toml"]);
    let quick = ["--bench", "--bench-jobs", "1", "--bench-io", "2", "--bench-tasks", "8", "--bench-repeat", "1"];
    bench(&env, "arrays.toml", "a", &quick);
    bench(&env, "arrays.toml", "b", &quick);
    let sample = |d: &str| read_json(&env, &format!("{d}/bench/bench.json"))["sample"].clone();
    assert_eq!(sample("a"), sample("b"));

    // Where the sampled tasks sit in the grid (results.csv lists it in grid order).
    let order: Vec<String> = env.results("grid").iter().map(|r| r["task"].clone()).collect();
    assert_eq!(order.len(), 40);
    let positions: Vec<usize> = sample("a")
        .as_array()
        .unwrap()
        .iter()
        .map(|id| order.iter().position(|t| t == id.as_str().unwrap()).expect("a task of the grid"))
        .collect();
    // One pick in each fifth of the grid: not the first 8 tasks.
    for (i, p) in positions.iter().enumerate() {
        assert!((i * 5..(i + 1) * 5).contains(p), "{positions:?}");
    }
}

#[test]
fn an_existing_sweep_is_left_byte_identical() {
    let env = Env::with("arrays.toml", ARRAYS);
    env.succeeds(&["run", "-q", "--out", "out", "arrays.toml"]);
    let before = all_files(&env.path("out"));
    assert!(before.contains_key(Path::new("journal.jsonl")) && before.contains_key(Path::new("results.csv")));

    let quick = ["--bench", "--bench-jobs", "1,2", "--bench-tasks", "10", "--bench-repeat", "1"];
    bench(&env, "arrays.toml", "out", &quick);
    let mut after = all_files(&env.path("out"));
    assert!(after.remove(Path::new("bench/bench.json")).is_some());
    assert!(after.remove(Path::new("bench/speedup.svg")).is_some());
    assert!(before == after, "files of the sweep changed");
    assert_eq!(scratch_dirs(env.dir.path()), Vec::<String>::new());

    // Tasks that write arrays are also timed with other I/O thread counts.
    let v = read_json(&env, "out/bench/bench.json");
    let ios: Vec<u64> = v["runs"].as_array().unwrap().iter().map(|r| r["io_threads"].as_u64().unwrap()).collect();
    assert_eq!(ios, [1, 2, 4, 1, 2, 4]);
    // The sweep is still complete.
    env.succeeds(&["status", "out"]);
}

#[test]
fn a_sweep_can_start_where_it_was_benchmarked() {
    let env = Env::with("spin.toml", &SPIN.replace("2000", "0"));
    bench(&env, "spin.toml", "fresh/out", &FAST);
    assert_eq!(std::fs::read_dir(env.path("fresh/out")).unwrap().count(), 1, "only bench/ was created");
    env.succeeds(&["run", "-q", "--out", "fresh/out", "spin.toml"]);
    assert!(env.path("fresh/out/results.csv").is_file() && env.path("fresh/out/bench/bench.json").is_file());
    assert_eq!(scratch_dirs(&env.path("fresh")), Vec::<String>::new());
}

#[test]
fn a_directory_that_is_not_a_sweep_is_refused() {
    let env = Env::with("spin.toml", SPIN);
    env.write("other/notes.txt", "mine");
    env.fails(&[&["run", "spin.toml", "--out", "other"], &FAST[..]].concat(), 2);
    assert!(!env.path("other/bench").exists());
    assert_eq!(scratch_dirs(env.dir.path()), Vec::<String>::new());
}

#[test]
fn bench_flags_are_checked() {
    let env = Env::with("spin.toml", SPIN);
    for flags in [
        &["--bench-jobs", "1,2"][..],
        &["--bench", "--bench-jobs", "0,2"],
        &["--bench", "--bench-tasks", "0"],
        &["--bench", "--resume"],
        &["--bench", "--jobs", "2"],
        &["--bench", "--dry-run"],
    ] {
        env.fails(&[&["run", "spin.toml"], flags].concat(), 2);
    }
    assert!(!env.path("runs").exists());
}

#[test]
fn bench_counts_the_cpu_and_memory_of_python_workers() {
    // Regression: --bench counted only sweep's own process, so a [python] sweep showed a
    // near-idle CPU and sweep's few MiB as its peak RSS.
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with(
        "burn.py",
        "import numpy as np\nBIG = np.ones(6_000_000)\n\ndef f(x):\n    s = 0\n    for i in range(1_000_000):\n        s += i\n    return {'y': float(BIG[0]) + x}\n",
    );
    env.write("p.toml", "replicates = 20\n[python]\nfunction = 'burn.py:f'\n[params]\nx = [1]\n");
    bench(&env, "p.toml", "out", &["--bench", "--bench-jobs", "1", "--bench-tasks", "10", "--bench-repeat", "1"]);
    let v = read_json(&env, "out/bench/bench.json");
    let run = &v["runs"][0];
    // The worker holds a 48 MB array; sweep itself does not.
    assert!(run["task_peak_rss_bytes"].as_u64().unwrap() > 40 << 20, "{run}");
    // The worker's busy loops are counted (10 × 1,000,000 Python additions, about 0.4 CPU
    // seconds here; sweep's own share of 10 tasks is a few milliseconds). CPU seconds, not
    // utilisation, so that a loaded machine cannot fail the test.
    assert!(run["repeats"][0]["cpu_seconds"].as_f64().unwrap() > 0.15, "{run}");
}
