//! `--limit`, `--sample` and `--where`: a slice of the grid into the sweep's own out
//! directory, which a later `--resume` finishes with the results of one full run.

mod common;
use common::*;

/// 3 k x 2 c0 x 2 replicates = 12 tasks, in grid order k slowest, replicate fastest.
const SPEC: &str =
    "name = \"g\"\nseed = 1\nreplicates = 2\n\n[model]\nname = \"reaction\"\nt_final = 1.0\nsave = []\n\n\
                    [params]\nk = [0.1, 0.2, 0.3]\nc0 = [0.5, 1.0]\n";

/// results.csv of `out` without its timing column.
fn results(env: &Env, out: &str) -> String {
    without_columns(&env.read(&format!("{out}/results.csv")), &["seconds"])
}

/// The rows of `out` that are done.
fn done_rows(env: &Env, out: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    env.results(out).into_iter().filter(|r| r["status"] == "done").collect()
}

/// Runs `slice` into runs/g, then `--resume`, and checks that results.csv equals that of one
/// full run, timing aside; returns the slice's stderr.
#[track_caller]
fn slice_then_resume_equals_a_full_run(slice: &[&str], done_by_slice: usize) -> String {
    let env = Env::with("grid.toml", SPEC);
    env.succeeds(&["run", "grid.toml", "--out", "full", "-q"]);
    let err = env.succeeds_stderr(&[&["run", "grid.toml"][..], slice].concat());
    assert_eq!(done_rows(&env, "runs/g").len(), done_by_slice, "{err}");
    let pending = 12 - done_by_slice;
    assert!(err.contains(&format!("the slice is done; {pending} tasks of the grid's 12 are still pending")), "{err}");
    assert!(err.contains("To run them: sweep run grid.toml --resume"), "{err}");
    let status = env.exits(&["status", "runs/g"], 1).stdout;
    assert!(status.contains(&format!("pending  {pending}")), "{status}");
    let resumed = env.succeeds_stderr(&["run", "grid.toml", "--resume"]);
    assert!(resumed.contains(&format!("{done_by_slice} already done")), "{resumed}");
    assert_eq!(results(&env, "runs/g"), results(&env, "full"));
    err
}

#[test]
fn limit_runs_the_first_pending_tasks_and_resume_finishes_as_one_full_run() {
    slice_then_resume_equals_a_full_run(&["--limit", "5"], 5);
}

#[test]
fn sample_runs_tasks_spread_over_the_grid_and_resume_finishes_as_one_full_run() {
    slice_then_resume_equals_a_full_run(&["--sample", "3"], 3);
    // Spread: every value of the slowest axis, not the first three tasks (all k = 0.1).
    let env = Env::with("grid.toml", SPEC);
    env.succeeds(&["run", "grid.toml", "--sample", "3", "-q"]);
    let ks: std::collections::BTreeSet<String> = done_rows(&env, "runs/g").iter().map(|r| r["k"].clone()).collect();
    assert_eq!(ks.len(), 3, "{ks:?}");
}

#[test]
fn where_runs_the_matching_tasks_and_resume_finishes_as_one_full_run() {
    slice_then_resume_equals_a_full_run(&["--where", "c0 == 1.0 and (k < 0.2 or replicate == 1)"], 4);
}

#[test]
fn slices_combine_and_a_second_slice_runs_other_tasks() {
    let env = Env::with("grid.toml", SPEC);
    env.succeeds(&["run", "grid.toml", "--out", "full", "-q"]);
    env.succeeds(&["run", "grid.toml", "--where", "c0 == 1.0", "--limit", "3", "-q"]);
    let done = done_rows(&env, "runs/g");
    assert_eq!(done.len(), 3);
    assert!(done.iter().all(|r| r["c0"] == "1.0"), "{done:?}");
    // The first three in grid order: k = 0.1 (both replicates), then k = 0.2.
    let first: Vec<(&str, &str)> = done.iter().map(|r| (r["k"].as_str(), r["replicate"].as_str())).collect();
    assert_eq!(first, [("0.1", "0"), ("0.1", "1"), ("0.2", "0")]);
    // Another slice takes tasks still pending; a slice continues the sweep of its spec
    // without --resume.
    env.succeeds(&["run", "grid.toml", "--where", "c0 == 1.0", "--limit", "3", "-q"]);
    let done = done_rows(&env, "runs/g");
    assert_eq!(done.len(), 6);
    assert!(done.iter().all(|r| r["c0"] == "1.0"));
    env.succeeds(&["run", "grid.toml", "--where", "c0 != 1.0", "-q"]);
    assert_eq!(results(&env, "runs/g"), results(&env, "full"));
    // Once all is done, a slice has nothing left to run.
    let err = env.succeeds_stderr(&["run", "grid.toml", "--limit", "2"]);
    assert!(err.contains("12 done, 0 failed, 0 pending"), "{err}");
    // A sweep of another spec is not continued without --resume: the run is refused.
    let err = env.fails(&["run", "grid.toml", "--set", "seed=2", "--limit", "2"], 2);
    assert!(err.contains("already holds a sweep; nothing was changed"), "{err}");
}

#[test]
fn dry_run_counts_the_slice_among_the_pending_tasks() {
    let env = Env::with("grid.toml", SPEC);
    let out = env.succeeds(&["run", "grid.toml", "--dry-run", "--where", "c0 == 1.0"]);
    assert!(out.contains("slice (--where 'c0 == 1.0'): 6 tasks of 12"), "{out}");
    let out = env.succeeds(&["run", "grid.toml", "--dry-run", "--where", "k >= 0.2", "--limit", "3"]);
    assert!(out.contains("slice (--where 'k >= 0.2' --limit 3): 3 tasks of 12"), "{out}");
    // The tasks shown are the slice's: k = 0.2 first.
    let first = out.lines().skip_while(|l| !l.starts_with("first tasks:")).nth(2).unwrap();
    assert!(first.ends_with("0.2  0.5"), "{out}");
    assert!(!env.path("runs").exists(), "a dry run writes nothing");
    env.succeeds(&["run", "grid.toml", "--limit", "4", "-q"]);
    let out = env.succeeds(&["run", "grid.toml", "--dry-run", "--where", "k < 0.3"]);
    assert!(out.contains("4 tasks of 12, among those the sweep in out has not done"), "{out}");
}

#[test]
fn where_errors_exit_2_with_a_caret_and_a_suggestion_and_write_nothing() {
    let env = Env::with("grid.toml", SPEC);
    let cases: [(&str, &[&str]); 7] = [
        ("c1 == 1.0", &["`c1` is no parameter of the sweep", "1 | c1 == 1.0", "  | ^^", "did you mean `c0`?"]),
        ("c0 = 1.0", &["`=` is no comparison", "  |    ^", "write `==`"]),
        ("c0 == 1.5", &["no task has the value 1.5 here", "  |       ^^^", "it takes 0.5, 1.0"]),
        ("c0 == 1.0 &&", &["`&&` is not `and`", "write `and`"]),
        ("(k < 0.2", &["expected `)`", "close the parenthesis"]),
        ("k == 'a'", &["this is a string and the other side a number", "  |      ^^^"]),
        (
            "k > 0.5",
            &[
                "no task of the grid satisfies this condition",
                "  | ^^^^^^^",
                "the values: k 0.1, 0.2, 0.3; c0 0.5, 1.0; replicate 0 to 1",
            ],
        ),
    ];
    for (expr, wanted) in cases {
        let err = env.fails(&["run", "grid.toml", "--where", expr], 2);
        for w in wanted {
            assert!(err.contains(w), "--where {expr}: `{w}` not in\n{err}");
        }
        assert!(err.contains("--> --where:1:"), "{err}");
    }
    assert!(!env.path("runs").exists());
}

#[test]
fn slice_flags_refuse_what_they_cannot_do() {
    let env = Env::with("grid.toml", SPEC);
    for args in [
        &["--limit", "0"][..],
        &["--sample", "0"],
        &["--limit", "2", "--sample", "2"],
        &["--limit", "2", "--shard", "0/2"],
        &["--where", "k < 0.2", "--bench"],
    ] {
        env.fails(&[&["run", "grid.toml"][..], args].concat(), 2);
    }
    env.write(
        "adaptive.toml",
        "replicates = { min = 2, max = 4, until = { metric = \"conversion\", ci95_rel = 0.1 } }\n\
         [model]\nname = \"reaction\"\n[params]\nk = [0.1, 0.2]\n",
    );
    let err = env.fails(&["run", "adaptive.toml", "--limit", "1"], 2);
    assert!(err.contains("adaptive replicates"), "{err}");
    assert!(!env.path("runs").exists());
}

#[test]
fn a_slice_with_a_failed_task_exits_1() {
    let env = Env::with("c.toml", "[command]\nshell = 'test {x} -ne 2'\n[params]\nx = [1, 2, 3, 4]\n");
    let err = env.fails(&["run", "c.toml", "--limit", "2"], 1);
    assert!(err.contains("1 task failed in this run"), "{err}");
    assert!(!err.contains("the slice is done"), "{err}");
    let err = env.succeeds_stderr(&["run", "c.toml", "--where", "x > 2", "--resume"]);
    assert!(err.contains("of the grid's 4 tasks, 0 are still pending and 1 failed"), "{err}");
}

#[test]
fn resume_with_no_sweep_says_so_and_points_at_the_specs_own_out_directory() {
    let env = Env::with("proj/grid.toml", SPEC);
    let err = env.succeeds_stderr(&["run", "proj/grid.toml", "--out", "proj/runs/g", "-q"]);
    assert_eq!(err, "");
    // From another directory, `out` resolves elsewhere: the sweep is not there.
    let err = env.succeeds_stderr(&["run", "proj/grid.toml", "--resume", "--limit", "1"]);
    let own = env.path("proj/runs/g");
    let line = format!(
        "sweep: nothing to resume in runs/g: starting a new sweep there; the sweep of this spec is in {}: \
         to resume it, add --out {}\n",
        own.display(),
        own.display()
    );
    assert!(err.starts_with(&line), "{line}\nnot at the start of\n{err}");
    // Where no such sweep exists, the line says only that.
    let env = Env::with("grid.toml", SPEC);
    let err = env.succeeds_stderr(&["run", "grid.toml", "--resume", "--limit", "1", "-q"]);
    assert_eq!(err, "sweep: nothing to resume in runs/g: starting a new sweep there\n", "even with -q");
    let err = env.succeeds_stderr(&["run", "grid.toml", "--resume", "--limit", "1"]);
    assert!(!err.contains("nothing to resume"), "{err}");
}

#[test]
fn slices_of_a_grid_run_a_window_at_a_time_resume_to_the_same_results() {
    let env = Env::with("grid.toml", SPEC);
    env.succeeds(&["run", "grid.toml", "--out", "full", "-q"]);
    let windowed = |args: &[&str]| {
        let mut cmd = env.sweep(&[&["run", "grid.toml", "-q"][..], args].concat());
        exits(cmd.env("SWEEP_RUN_WINDOW", "5"), 0)
    };
    windowed(&["--sample", "4"]);
    windowed(&["--where", "c0 == 0.5", "--limit", "3", "--resume"]);
    assert_eq!(done_rows(&env, "runs/g").len(), 7);
    windowed(&["--resume"]);
    assert_eq!(results(&env, "runs/g"), results(&env, "full"));
}

#[test]
fn a_slice_of_a_python_sweep_starts_no_more_workers_than_it_has_tasks() {
    if require_tool("python3", python_modules("os")).is_none() {
        return;
    }
    // Each worker imports m.py once: its pid in imports.txt counts the workers started.
    let env = Env::with(
        "m.py",
        "import os\nwith open('imports.txt', 'a') as f:\n    f.write(f'{os.getpid()}\\n')\n\ndef f(x):\n    return {'y': x}\n",
    );
    env.write("p.toml", "[python]\nfunction = \"m.py:f\"\n[params]\nx = { range = [0, 20] }\n");
    env.succeeds(&["run", "p.toml", "--limit", "2", "--jobs", "4", "-q"]);
    assert_eq!(env.read("imports.txt").lines().count(), 2);
    assert_eq!(env.results("runs/p").iter().filter(|r| r["status"] == "done").count(), 2);
}
