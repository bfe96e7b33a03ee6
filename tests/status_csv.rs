//! `sweep status OUT --csv FILE`: the results table as of now, read from the journals while
//! a run may be going. It has results.csv's columns and format, and it only reads: no lock
//! taken, nothing written in the out directory, a journal line still being appended passed
//! over.

mod common;
use common::{parse_csv, wait_until, Env};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Twelve slow tasks; x = 3 fails.
const SLOW: &str = r#"
[command]
shell = '''sleep 0.5; [ {x} = 3 ] && { echo broken >&2; exit 4; }; echo '{"y": {x}.5}' > {out}/metrics.json'''
[params]
x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
"#;

/// Per task the journal records done, its `y`; per task it records failed, its class.
fn journal_outcomes(env: &Env, out: &str) -> (BTreeMap<String, f64>, BTreeMap<String, String>) {
    let text = std::fs::read_to_string(env.path(&format!("{out}/journal.jsonl"))).unwrap_or_default();
    let (mut done, mut failed) = (BTreeMap::new(), BTreeMap::new());
    for v in common::journal_lines(&text) {
        let Some(task) = v.get("t").and_then(|t| t.as_str()) else { continue };
        match v.get("m") {
            Some(m) => drop(done.insert(task.to_string(), m["y"].as_f64().unwrap())),
            None => drop(failed.insert(task.to_string(), v["c"].as_str().unwrap().to_string())),
        }
    }
    (done, failed)
}

fn tasks_with(rows: &[BTreeMap<String, String>], status: &str) -> BTreeSet<String> {
    rows.iter().filter(|r| r["status"] == status).map(|r| r["task"].clone()).collect()
}

#[test]
fn status_csv_during_a_run_has_the_journal_rows_so_far_and_after_it_is_results_csv_byte_for_byte() {
    let env = Env::with("s.toml", SLOW);
    let mut run = env.spawn(&["run", "s.toml", "--out", "out", "-q", "--jobs", "2"]);
    wait_until("the run to journal three tasks", Duration::from_secs(60), || {
        assert!(run.try_wait().unwrap().is_none(), "the run ended before the snapshot");
        env.journaled_done("out").len() >= 3
    });
    let (before, _) = journal_outcomes(&env, "out");
    let snap = env.exits(&["status", "out", "--csv", "-"], 0);
    let (after, failed_after) = journal_outcomes(&env, "out");
    assert!(run.try_wait().unwrap().is_none(), "the run ended during the snapshot: make the tasks slower");
    assert!(!env.path("out/results.csv").exists(), "a run writes results.csv at its end only");

    let rows = parse_csv(&snap.stdout);
    assert_eq!(rows.len(), 12, "a row per task, pending ones too:\n{}", snap.stdout);
    let done = tasks_with(&rows, "done");
    let keys = |m: &BTreeMap<String, f64>| m.keys().cloned().collect::<BTreeSet<_>>();
    assert!(keys(&before).is_subset(&done) && done.is_subset(&keys(&after)), "done rows are the journal's");
    for r in rows.iter().filter(|r| r["status"] == "done") {
        assert_eq!(r["y"].parse::<f64>().unwrap(), after[&r["task"]], "the metric as journaled: {r:?}");
    }
    for r in rows.iter().filter(|r| r["status"] == "failed") {
        assert_eq!((r["class"].as_str(), r["x"].as_str()), (failed_after[&r["task"]].as_str(), "3"));
    }
    let pending: Vec<_> = rows.iter().filter(|r| r["status"] == "pending").collect();
    assert!(!pending.is_empty(), "the run was not over");
    assert!(pending.iter().all(|r| r["attempts"] == "0" && r["seconds"].is_empty() && r["y"].is_empty()));
    assert!(
        snap.stderr.contains(&format!("a run is going in out: {} of 12 tasks done", done.len())),
        "{}",
        snap.stderr
    );
    assert!(!snap.stderr.contains("warning"), "{}", snap.stderr);

    assert_eq!(run.wait().unwrap().code(), Some(1), "x = 3 failed");
    let results = env.read("out/results.csv");
    assert_eq!(env.exits(&["status", "out", "--csv", "-"], 0).stdout, results, "stdout, after the end");
    env.exits(&["status", "out", "--csv", "now.csv"], 0);
    assert_eq!(env.read("now.csv"), results, "FILE");
}

/// A finished sweep of three quick tasks in `out`.
fn finished() -> Env {
    let env = Env::with("q.toml", "[model]\nname = \"spin\"\n[params]\nmicros = [1, 2, 3]\n");
    env.exits(&["run", "q.toml", "--out", "out", "-q"], 0);
    env
}

#[test]
fn status_csv_passes_over_a_torn_last_journal_line_in_silence_only_while_a_run_holds_the_lock() {
    let env = finished();
    let results = env.read("out/results.csv");
    let journal = env.path("out/journal.jsonl");
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("{\"t\":\"0123456789abcdef\",\"i\":1,\"a\":2,\"s\":0.0");
    std::fs::write(&journal, text).unwrap();

    let stopped = env.exits(&["status", "out", "--csv", "-"], 0);
    assert_eq!(stopped.stdout, results);
    assert!(stopped.stderr.contains("ignored an incomplete journal line"), "a killed run's: {}", stopped.stderr);

    let out = sweep::outdir::OutDir::new(env.path("out"));
    let lock = sweep::outdir::Lock::acquire(&out, None).unwrap();
    let live = env.exits(&["status", "out", "--csv", "-"], 0);
    drop(lock);
    assert_eq!(live.stdout, results);
    assert!(!live.stderr.contains("warning"), "the line a run is appending: {}", live.stderr);
    assert!(live.stderr.contains("a run is going in out: 3 of 3 tasks done"), "{}", live.stderr);
}

/// Every path under `dir` with its size and modification time.
fn listing(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64, std::time::SystemTime)> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let m = e.metadata().unwrap();
        all.push((e.path(), m.len(), m.modified().unwrap()));
        if m.is_dir() {
            all.extend(listing(&e.path()));
        }
    }
    all.sort();
    all
}

#[test]
fn status_csv_writes_nothing_in_the_out_directory_and_refuses_a_file_there() {
    let env = finished();
    let before = listing(&env.path("out"));
    env.exits(&["status", "out", "--csv", "-"], 0);
    env.exits(&["status", "out", "--csv", "elsewhere.csv"], 0);
    assert!(env.path("elsewhere.csv").is_file());
    for file in ["out/results.csv", "out/tasks/now.csv"] {
        let err = env.fails(&["status", "out", "--csv", file], 2);
        assert!(err.contains("writes nothing inside the out directory out"), "{err}");
    }
    assert_eq!(listing(&env.path("out")), before, "the out directory as it was");
}

#[test]
fn status_csv_of_a_stopped_run_says_that_resume_runs_the_rest() {
    let env = Env::with("s.toml", SLOW);
    env.kill_9_mid_run("s.toml", "out", 1, 12);
    let done = env.journaled_done("out");
    let snap = env.exits(&["status", "out", "--csv", "-"], 0);
    assert_eq!(tasks_with(&parse_csv(&snap.stdout), "done"), done);
    assert!(snap.stderr.contains("no run is going: `sweep run SPEC --resume` runs the rest"), "{}", snap.stderr);
}

#[test]
fn status_csv_of_finished_adaptive_and_zarr_sweeps_is_their_results_csv_byte_for_byte() {
    // Both are read from a store of every task (not a window at a time): adaptive replicates
    // list only the replicates the sweep needed, and a zarr sweep's arrays are checked.
    let adaptive = "seed = 1\n\
        replicates = { min = 5, max = 150, round = 5, until = { metric = \"mean\", ci95_rel = 0.001 } }\n\
        [model]\nname = \"fin\"\nn_samples = 100\nsave = []\n[params]\nh_std = [1.0, 2.5, 5.0, 10.0]\n";
    let zarr = "[model]\nname = \"fin\"\nn_samples = 10\n[output]\narrays = \"zarr\"\n[params]\nh_std = [1.0, 2.5]\n";
    for (name, spec) in [("adaptive", adaptive), ("zarr", zarr)] {
        let env = Env::with("s.toml", spec);
        env.exits(&["run", "s.toml", "--out", "out", "-q"], 0);
        assert_eq!(env.succeeds(&["status", "out", "--csv", "-"]), env.read("out/results.csv"), "{name}");
    }
}
