//! `sweep run`: reproducibility, task identity, failure isolation, output layout.

mod common;
use common::*;
use std::collections::BTreeMap;

const SPIN: &str = r#"
name = "s"
seed = 7
replicates = 3
[model]
name = "spin"
[params]
array_len = [4, 8]
micros = [0, 100, 200]
"#;

/// (task → seed, params) of a results.csv.
fn identities(rows: &[BTreeMap<String, String>], params: &[&str]) -> BTreeMap<String, (String, Vec<String>)> {
    rows.iter()
        .map(|r| (r["task"].clone(), (r["seed"].clone(), params.iter().map(|p| r[*p].clone()).collect())))
        .collect()
}

#[test]
fn jobs_1_and_2_give_identical_outputs() {
    let env = Env::with("s.toml", SPIN);
    env.succeeds(&["run", "s.toml", "--jobs", "1", "--out", "one", "-q"]);
    env.succeeds(&["run", "s.toml", "--jobs", "2", "--out", "two", "-q"]);
    let a = npy_files(&env.path("one"));
    assert_eq!(a.len(), 18, "one data.npy per task");
    assert_eq!(a, npy_files(&env.path("two")));
    let drop = ["seconds"];
    assert_eq!(
        without_columns(&env.read("one/results.csv"), &drop),
        without_columns(&env.read("two/results.csv"), &drop)
    );
    assert_eq!(env.results("one").len(), 18);
}

#[test]
fn reordering_keys_and_values_keeps_ids_and_seeds() {
    let env = Env::with("a.toml", SPIN);
    env.write(
        "b.toml",
        "name = \"s\"\nreplicates = 3\nseed = 7\n[params]\nmicros = [200, 0, 100]\narray_len = [8, 4]\n[model]\nname = \"spin\"\n",
    );
    env.succeeds(&["run", "a.toml", "--out", "a", "-q"]);
    env.succeeds(&["run", "b.toml", "--out", "b", "-q"]);
    let p = ["array_len", "micros"];
    assert_eq!(identities(&env.results("a"), &p), identities(&env.results("b"), &p));
    assert_eq!(npy_files(&env.path("a")), npy_files(&env.path("b")));
}

#[test]
fn adding_a_value_keeps_existing_ids_and_seeds() {
    let env = Env::with("a.toml", SPIN);
    env.write("b.toml", &SPIN.replace("micros = [0, 100, 200]", "micros = [0, 100, 150, 200]"));
    env.succeeds(&["run", "a.toml", "--out", "a", "-q"]);
    env.succeeds(&["run", "b.toml", "--out", "b", "-q"]);
    let p = ["array_len", "micros"];
    let (a, b) = (identities(&env.results("a"), &p), identities(&env.results("b"), &p));
    assert_eq!(b.len(), 24);
    for (task, ident) in &a {
        assert_eq!(b.get(task), Some(ident), "task {task} kept its id and seed");
    }
}

#[test]
fn replicates_and_master_seeds_give_different_seeds() {
    let env = Env::with("a.toml", SPIN);
    env.write("b.toml", &SPIN.replace("seed = 7", "seed = 8"));
    env.succeeds(&["run", "a.toml", "--out", "a", "-q"]);
    env.succeeds(&["run", "b.toml", "--out", "b", "-q"]);
    let a = env.results("a");
    let seeds: std::collections::BTreeSet<_> = a.iter().map(|r| r["seed"].clone()).collect();
    assert_eq!(seeds.len(), a.len(), "every task has its own seed");
    let values: std::collections::BTreeSet<_> = a.iter().map(|r| r["value"].clone()).collect();
    assert_eq!(values.len(), a.len(), "replicates draw different values");
    let b = env.results("b");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x["task"], y["task"], "the id does not depend on the master seed");
        assert_ne!(x["seed"], y["seed"], "the seed does");
    }
}

#[test]
fn a_panicking_task_is_isolated() {
    let env = Env::with("p.toml", "replicates = 40\n[model]\nname = \"spin\"\npanic_rate = 0.3\nfail_rate = 0.1\n");
    let err = env.fails(&["run", "p.toml", "-q"], 1);
    assert!(err.contains("failed"), "{err}");
    assert!(!err.contains("panicked at"), "task panics are not dumped on the terminal: {err}");
    let rows = env.results("runs/p");
    let count = |s: &str| rows.iter().filter(|r| r["status"] == s).count();
    assert_eq!(rows.len(), 40);
    assert!(count("failed") > 0 && count("done") > 0);
    assert!(rows.iter().any(|r| r["class"] == "panic" && r["error"].contains("injected panic")));
    assert!(rows.iter().any(|r| r["class"] == "error" && r["error"].contains("injected failure")));
    assert!(rows.iter().filter(|r| r["status"] == "done").all(|r| !r["value"].is_empty()));
}

#[test]
fn metric_only_tasks_create_no_directories() {
    let env = Env::with("m.toml", "replicates = 50\n[model]\nname = \"spin\"\n");
    env.succeeds(&["run", "m.toml", "-q"]);
    assert!(!env.path("runs/m/tasks").exists());
    for f in ["spec.toml", "manifest.json", "journal.jsonl", "results.csv"] {
        assert!(env.path("runs/m").join(f).is_file(), "{f}");
    }
}

#[test]
fn an_existing_sweep_is_never_overwritten() {
    let env = Env::with("m.toml", "replicates = 5\n[model]\nname = \"spin\"\n");
    env.succeeds(&["run", "m.toml", "-q"]);
    let before = env.read("runs/m/results.csv");
    let err = env.fails(&["run", "m.toml"], 2);
    assert!(err.contains("already holds a sweep") && err.contains("--resume"), "{err}");
    assert_eq!(before, env.read("runs/m/results.csv"));
    // A directory with someone else's files is refused too.
    env.write("mine/notes.txt", "mine");
    env.fails(&["run", "m.toml", "--out", "mine"], 2);
    assert_eq!(std::fs::read_dir(env.path("mine")).unwrap().count(), 1);
}

#[test]
fn dry_run_plans_without_running() {
    let env = Env::with(
        "big.toml",
        "replicates = 10\n[model]\nname = \"spin\"\n[params]\nmicros = { range = [0, 1000] }\narray_len = { range = [0, 1000] }\n",
    );
    let text = env.succeeds(&["run", "big.toml", "--dry-run"]);
    assert!(text.contains("10000000 tasks"), "{text}");
    assert!(text.contains("micros") && text.contains("first tasks"), "{text}");
    assert!(!env.path("runs").exists(), "a dry run writes nothing");
}

#[test]
fn zipped_parameters_vary_together() {
    let env = Env::with("z.toml", "zip = [[\"micros\", \"array_len\"]]\n[model]\nname = \"spin\"\n[params]\nmicros = [1, 2, 3]\narray_len = [4, 5, 6]\n");
    env.succeeds(&["run", "z.toml", "-q"]);
    let pairs: Vec<(String, String)> =
        env.results("runs/z").iter().map(|r| (r["micros"].clone(), r["array_len"].clone())).collect();
    assert_eq!(pairs, [("1", "4"), ("2", "5"), ("3", "6")].map(|(a, b)| (a.to_string(), b.to_string())));
}

#[test]
fn reaction_matches_the_analytic_solution() {
    let env = Env::with("r.toml", "[model]\nname = \"reaction\"\nsave = []\n[params]\nk = { linspace = [0.01, 2.0, 7] }\nsolver = [\"rk45\", \"rk4\"]\n");
    env.succeeds(&["run", "r.toml", "-q"]);
    for r in env.results("runs/r") {
        let k: f64 = r["k"].parse().unwrap();
        let conv: f64 = r["conversion"].parse().unwrap();
        assert!((conv - (1.0 - (-k * 10.0f64).exp())).abs() <= 1e-6, "{r:?}");
    }
}

#[test]
fn quiet_prints_nothing_and_otherwise_the_summary_is_printed() {
    let env = Env::with("q.toml", "replicates = 5\n[model]\nname = \"spin\"\n");
    // stderr is a pipe here, not a terminal.
    let quiet = env.exits(&["run", "q.toml", "--quiet", "--out", "quiet"], 0);
    assert_eq!(quiet.stderr, "", "--quiet prints nothing on stderr");
    assert_eq!(quiet.stdout, "", "nor on stdout");

    let err = env.exits(&["run", "q.toml", "--jobs", "2", "--out", "loud"], 0).stderr;
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "the summary and where the results are, no bar:\n{err}");
    assert!(
        lines[0].starts_with("sweep: 5 tasks: 5 done, 0 failed, 0 pending | this run: 5 done, 0 failed in "),
        "{err}"
    );
    assert!(
        lines[0].contains(" (2 workers, ") && lines[0].contains(" tasks/s, CPU ") && lines[0].ends_with("%)"),
        "{err}"
    );
    assert!(!lines[0].contains("(tasks "), "a model's run has no task processes to count: {err}");
    assert_eq!(lines[1], "sweep: results in loud/results.csv");
    assert!(!err.contains('\r') && !err.contains('\x1b'), "no terminal control codes off a terminal: {err:?}");
}

/// `--progress json` (what sweep.run reads): lines of counts on stderr, even with --quiet,
/// never decreasing, the last with every task finished; no bar and no other line with -q.
#[test]
fn progress_json_writes_counts_on_stderr_ending_with_the_final_ones() {
    let env = Env::with("s.toml", SPIN);
    let err = env.succeeds_stderr(&["run", "s.toml", "--out", "o", "-q", "--progress", "json"]);
    let lines: Vec<serde_json::Value> =
        err.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}\n{err}"))).collect();
    assert!(!lines.is_empty(), "{err}");
    let counts: Vec<(u64, u64, u64)> = lines
        .iter()
        .map(|l| {
            let p = &l["progress"];
            (p["done"].as_u64().unwrap(), p["failed"].as_u64().unwrap(), p["total"].as_u64().unwrap())
        })
        .collect();
    assert!(counts.windows(2).all(|w| w[0].0 <= w[1].0), "{counts:?}");
    assert_eq!(*counts.last().unwrap(), (18, 0, 18), "{err}");
}
