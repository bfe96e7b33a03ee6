//! `sweep collect` writes `results.csv` a window of the grid at a time, from the journals:
//! it must be byte for byte what the whole store in memory gives, with any number of
//! windows, shards, retries, failures and metrics that tasks report in their own order.

mod common;
use common::Env;
use std::path::Path;

/// Rewrites every journal under `out` as a sweep without grid indices wrote it, which
/// `sweep collect` can only read the slow way: every task's row in memory.
fn strip_indices(out: &Path) {
    let mut journals = vec![out.join("journal.jsonl")];
    if let Ok(rd) = std::fs::read_dir(out.join("journal")) {
        journals.extend(rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "jsonl")));
    }
    journals.iter().filter(|p| p.is_file()).for_each(|p| common::strip_indices(p));
}

/// `sweep collect OUT` a window of `window` tasks at a time; its results.csv.
fn collect(env: &Env, out: &str, window: &str, code: i32) -> String {
    common::exits(env.sweep(&["collect", out]).env("SWEEP_RESULTS_WINDOW", window), code);
    env.read(&format!("{out}/results.csv"))
}

/// Copies the sweep in `from` to `to`.
fn copy(env: &Env, from: &str, to: &str) {
    let status = std::process::Command::new("cp").arg("-a").arg(env.path(from)).arg(env.path(to)).status().unwrap();
    assert!(status.success());
}

#[test]
fn collect_by_windows_writes_what_the_whole_store_writes() {
    let spec = "name = \"w\"\nseed = 21\nreplicates = 7\n[model]\nname = \"spin\"\n\
                [params]\nfail_rate = [0.0, 0.3, 0.8]\nmicros = [0, 1, 2, 3, 4]\n";
    let env = Env::with("w.toml", spec);
    // Shards, then a whole-grid resume with a retry: several journals, several records per task.
    for i in 0..3 {
        env.exits(&["run", "w.toml", "--out", "out", "-q", "--shard", &format!("{i}/3")], 1);
    }
    env.exits(&["run", "w.toml", "--out", "out", "-q", "--resume", "--retries", "1"], 1);
    let run_wrote = env.read("out/results.csv");
    copy(&env, "out", "slow");
    strip_indices(&env.path("slow"));
    let whole = collect(&env, "slow", "1000000", 1);
    assert_eq!(whole, run_wrote, "the store in memory gives what the run wrote");
    for window in ["1", "7", "16", "105", "1000000"] {
        assert_eq!(collect(&env, "out", window, 1), whole, "windows of {window} tasks");
    }
}

#[test]
fn collect_by_windows_orders_reported_metrics_as_the_whole_store_does() {
    // Tasks report metrics in their own order, and some only on some tasks: the columns are
    // placed by the first task in grid order that has each.
    let spec = r#"
[command]
shell = '''case {x} in
  1) echo '{"b": 1, "a": "x,y"}' ;;
  2) echo '{"late": true, "a": 2.5}' ;;
  3) exit 3 ;;
  *) echo '{"a": null, "z": 1e300, "b": -4}' ;;
esac > {out}/metrics.json'''
[params]
x = [1, 2, 3, 4, 5]
"#;
    let env = Env::with("m.toml", spec);
    env.exits(&["run", "m.toml", "--out", "out", "-q", "--jobs", "2"], 1);
    let run_wrote = env.read("out/results.csv");
    assert!(
        run_wrote.starts_with("task,replicate,seed,x,status,attempts,seconds,b,a,late,z,class,error\n"),
        "{run_wrote}"
    );
    for window in ["1", "2", "3", "1000000"] {
        assert_eq!(collect(&env, "out", window, 1), run_wrote, "windows of {window} tasks");
    }
}

#[test]
fn collect_by_windows_reads_a_window_from_far_apart_parts_of_a_journal() {
    // 12,000 tasks (1.5 MB of journal), a fifth failing; the resume's retries land at the
    // end of the journal, far from the first attempts of their windows.
    let spec = "name = \"far\"\nseed = 8\nreplicates = 3000\n[model]\nname = \"spin\"\n\
                [params]\nfail_rate = [0.0, 0.1, 0.2, 0.5]\n";
    let env = Env::with("far.toml", spec);
    env.exits(&["run", "far.toml", "--out", "out", "-q"], 1);
    env.exits(&["run", "far.toml", "--out", "out", "-q", "--resume", "--retries", "2"], 1);
    assert!(std::fs::metadata(env.path("out/journal.jsonl")).unwrap().len() > 1_300_000);
    let run_wrote = env.read("out/results.csv");
    for window in ["1000", "4096", "1000000"] {
        assert_eq!(collect(&env, "out", window, 1), run_wrote, "windows of {window} tasks");
    }
}
