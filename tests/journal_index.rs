//! A journal record's grid index (`"i"`) is checked against its task id on every read
//! path: a record whose index names another task's place is a warning, and its tasks run
//! again; it never makes another task done with foreign values (#24).

mod common;
use common::*;

/// 24 tasks, all of which succeed.
const SPEC: &str =
    "name = \"j\"\nseed = 4\nreplicates = 6\n[model]\nname = \"spin\"\n[params]\nmicros = [0, 1, 2, 3]\n";

/// A sweep in `out` with its first 12 tasks done, and a copy of task 0's done record
/// appended with `"i"` naming task 20 (not done): a forged or damaged index.
fn forged(env: &Env, out: &str, window: &str) {
    let mut cmd = env.sweep(&["run", "j.toml", "--out", out, "-q", "--limit", "12"]);
    exits(cmd.env("SWEEP_RUN_WINDOW", window), 0);
    let path = env.path(&format!("{out}/journal.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap();
    let first = journal_lines(&text).into_iter().find(|v| v["i"] == 0).expect("task 0's record");
    let mut copy = first.clone();
    copy["i"] = 20.into();
    std::fs::write(&path, format!("{text}{copy}\n")).unwrap();
}

#[test]
fn a_forged_index_in_a_run_by_windows_makes_no_task_done() {
    let env = Env::with("j.toml", SPEC);
    env.succeeds(&["run", "j.toml", "--out", "clean", "-q"]);
    forged(&env, "f", "4");
    let mut cmd = env.sweep(&["run", "j.toml", "--out", "f", "--resume"]);
    let out = exits(cmd.env("SWEEP_RUN_WINDOW", "4"), 0);
    assert!(out.stderr.contains("ignored 1 journal record whose grid index"), "{}", out.stderr);
    assert!(out.stderr.contains("12 already done"), "{}", out.stderr);
    let results = |o: &str| without_columns(&env.read(&format!("{o}/results.csv")), &["seconds"]);
    assert_eq!(results("f"), results("clean"), "task 20 ran with its own values");
}

#[test]
fn status_does_not_count_a_record_with_a_forged_index() {
    let env = Env::with("j.toml", SPEC);
    forged(&env, "f", "1000");
    let out = env.exits(&["status", "f"], 1);
    assert!(out.stdout.contains("done     12\n"), "{}", out.stdout);
    assert!(out.stdout.contains("pending  12\n"), "{}", out.stdout);
    assert!(out.stderr.contains("ignored 1 journal record whose grid index"), "{}", out.stderr);
}
