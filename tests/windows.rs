//! A big grid runs a window of tasks at a time (its memory a window's, not the grid's),
//! which must change nothing a user sees: the same tasks run with the same parameters and
//! seeds, the same journal records, the same `results.csv`, the same resume. Here windows of
//! a few tasks (`SWEEP_RUN_WINDOW`) stand for windows of a million.

mod common;
use common::{exits, journal_lines, without_columns, Env};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

/// 105 tasks, a third of them failing on their seeds' draws.
const SPEC: &str = "name = \"w\"\nseed = 21\nreplicates = 7\n[model]\nname = \"spin\"\n\
                    [params]\nfail_rate = [0.0, 0.3, 0.8]\nmicros = [0, 1, 2, 3, 4]\n";

/// `sweep ARGS` with windows of `window` tasks (`None`: the whole grid at once); its exit code.
fn run(env: &Env, args: &[&str], window: Option<&str>, code: i32) -> String {
    let mut cmd = env.sweep(args);
    if let Some(w) = window {
        cmd.env("SWEEP_RUN_WINDOW", w);
    }
    exits(&mut cmd, code).stderr
}

/// `results.csv` of `out`, timing aside.
fn results(env: &Env, out: &str) -> String {
    without_columns(&env.read(&format!("{out}/results.csv")), &["seconds"])
}

/// The records of `out`'s journal, timing aside, as a multiset: what each attempt of each
/// task said, wherever in the journal.
fn records(env: &Env, out: &str) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for mut v in journal_lines(&env.read(&format!("{out}/journal.jsonl"))) {
        if v.get("t").is_none() {
            continue; // a run's header
        }
        v.as_object_mut().unwrap().remove("s");
        *m.entry(v.to_string()).or_insert(0) += 1;
    }
    m
}

#[test]
fn a_grid_run_a_window_at_a_time_writes_the_journal_and_results_of_a_whole_run() {
    // Regression: a window's tasks ran with the parameters of the grid's first tasks (the
    // model was given the task's place in its window, not in the grid).
    let env = Env::with("w.toml", SPEC);
    run(&env, &["run", "w.toml", "--out", "whole", "-q"], None, 1);
    for window in ["1", "7", "16", "104"] {
        let out = format!("by{window}");
        let said = run(&env, &["run", "w.toml", "--out", &out, "--jobs", "2"], Some(window), 1);
        assert!(said.contains("105 tasks: 62 done, 43 failed, 0 pending"), "windows of {window}: {said}");
        assert_eq!(results(&env, &out), results(&env, "whole"), "windows of {window}");
        assert_eq!(records(&env, &out), records(&env, "whole"), "windows of {window}");
    }
    // Resumed with retries: the failed tasks' earlier attempts count, in every window.
    run(&env, &["run", "w.toml", "--out", "whole", "-q", "--resume", "--retries", "2"], None, 1);
    let said = run(&env, &["run", "w.toml", "--out", "by7", "--resume", "--retries", "2"], Some("7"), 1);
    assert!(said.contains("62 already done"), "{said}");
    assert_eq!(results(&env, "by7"), results(&env, "whole"));
    assert_eq!(records(&env, "by7"), records(&env, "whole"));
    let status = |out: &str| env.exits(&["status", out], 1).stdout.lines().take(4).collect::<Vec<_>>().join("\n");
    assert_eq!(status("by7"), status("whole").replace("whole", "by7"));
}

#[test]
fn shards_run_a_window_at_a_time_collect_to_what_a_whole_run_writes() {
    let env = Env::with("w.toml", SPEC);
    run(&env, &["run", "w.toml", "--out", "whole", "-q"], None, 1);
    for i in 0..3 {
        let shard = format!("{i}/3");
        let said = run(&env, &["run", "w.toml", "--out", "sharded", "--shard", &shard], Some("10"), 1);
        assert!(said.contains(&format!("shard {shard}")), "{said}");
    }
    env.exits(&["collect", "sharded"], 1);
    assert_eq!(results(&env, "sharded"), results(&env, "whole"));
}

#[test]
fn a_run_a_window_at_a_time_killed_with_kill_9_resumes_to_what_an_uninterrupted_run_writes() {
    // 600 tasks of 2 to 4 ms: a run of about a second, killed three times.
    let spec = "name = \"k\"\nseed = 5\nreplicates = 200\n[model]\nname = \"spin\"\n\
                [params]\nmicros = [2000, 3000, 4000]\n";
    let env = Env::with("k.toml", spec);
    run(&env, &["run", "k.toml", "--out", "whole", "-q"], None, 0);
    let journaled = |env: &Env| common::done_tasks(&env.read("killed/journal.jsonl")).len();
    let mut before = 0;
    for round in 0..3 {
        let mut args = vec!["run", "k.toml", "--out", "killed", "-q", "--jobs", "2"];
        if round > 0 {
            args.push("--resume");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_sweep"))
            .current_dir(env.dir.path())
            .args(&args)
            .env("SWEEP_RUN_WINDOW", "64")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        common::wait_until(&format!("round {round} to journal a task"), Duration::from_secs(30), || {
            assert!(child.try_wait().unwrap().is_none(), "round {round}: the run ended before it was killed");
            env.path("killed/journal.jsonl").exists() && journaled(&env) > before + 20
        });
        common::kill9(&mut child);
        before = journaled(&env);
    }
    assert!(before < 600, "the kills came after the last task");
    run(&env, &["run", "k.toml", "--out", "killed", "-q", "--resume"], Some("64"), 0);
    assert_eq!(results(&env, "killed"), results(&env, "whole"));
}

#[test]
fn a_command_sweep_run_a_window_at_a_time_stops_early_only_where_a_whole_run_does() {
    // Regression: a window whose first tasks all failed alike stopped the run (as a run
    // whose first tasks all fail alike stops), though earlier windows had done tasks.
    let xs: Vec<String> = (0..20).map(|x| x.to_string()).collect();
    let spec = String::from("[command]\nshell = '''if [ {x} -lt 10 ]; then echo '{\"y\": {x}}'; else exit 3; fi'''\n")
        + &format!("[params]\nx = [{}]\n", xs.join(", "));
    let env = Env::with("c.toml", &spec);
    let whole = run(&env, &["run", "c.toml", "--out", "whole", "--jobs", "1"], None, 1);
    assert!(whole.contains("20 tasks: 10 done, 10 failed, 0 pending"), "{whole}");
    let by10 = run(&env, &["run", "c.toml", "--out", "by10", "--jobs", "1"], Some("10"), 1);
    assert!(by10.contains("20 tasks: 10 done, 10 failed, 0 pending"), "{by10}");
    assert_eq!(results(&env, "by10"), results(&env, "whole"));
    // And a run whose very first tasks fail alike still stops early, window or not, also
    // when those tasks span windows (regression: each window counted its failures anew).
    let spec = spec.replace("-lt 10", "-ge 10");
    let env = Env::with("c.toml", &spec);
    let whole = run(&env, &["run", "c.toml", "--out", "whole", "--jobs", "1"], None, 1);
    let by3 = run(&env, &["run", "c.toml", "--out", "by3", "--jobs", "1"], Some("3"), 1);
    let pending = |said: &str| {
        let line = said.lines().find(|l| l.contains("20 tasks:"))?;
        Some(line.split(" | ").next()?.to_string())
    };
    assert!(pending(&whole).is_some_and(|l| !l.contains(" 0 pending")), "{whole}");
    assert_eq!(pending(&by3), pending(&whole), "{by3}");
}

#[test]
fn a_metric_first_reported_in_a_later_window_gets_its_column_as_in_a_whole_run() {
    // A new sweep's results.csv is written as its windows end, with the first window's
    // metric columns; a later window that reports another metric (here from x = 7 on, and
    // one that comes before the others in its records) must give the columns of a whole run.
    let xs: Vec<String> = (0..12).map(|x| x.to_string()).collect();
    let spec = String::from(
        "[command]\nshell = '''if [ {x} -lt 7 ]; then echo '{\"b\": {x}, \"a\": 1}'; \
         else echo '{\"early\": \"x,y\", \"b\": {x}}'; fi > {out}/metrics.json'''\n",
    ) + &format!("[params]\nx = [{}]\n", xs.join(", "));
    let env = Env::with("m.toml", &spec);
    run(&env, &["run", "m.toml", "--out", "whole", "-q"], None, 0);
    assert!(env.read("whole/results.csv").lines().next().unwrap().ends_with(",b,a,early,class,error"));
    for window in ["3", "7", "11"] {
        let out = format!("by{window}");
        run(&env, &["run", "m.toml", "--out", &out, "-q"], Some(window), 0);
        assert_eq!(results(&env, &out), results(&env, "whole"), "windows of {window}");
        let left: Vec<String> = std::fs::read_dir(env.path(&out))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".sweep-tmp"))
            .collect();
        assert!(left.is_empty(), "the results.csv given up is not left behind: {left:?}");
    }
}

/// The attempt directories in `out`, without their runs' tags: `<task>-<attempt>`.
fn attempt_dirs(env: &Env, out: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.path(&format!("{out}/attempts")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().rsplit_once('-').unwrap().0.to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn a_resume_by_windows_keeps_the_failed_attempts_of_done_tasks_as_a_whole_run_does() {
    // Regression: a run by windows knows a done task by a bit, not its attempts, and took
    // the directories of its earlier, failed attempts for abandoned ones and removed them.
    let env = Env::new();
    for (out, window) in [("whole", None), ("by3", Some("3"))] {
        let flags = env.path(&format!("flags-{out}"));
        std::fs::create_dir_all(&flags).unwrap();
        let shell = format!(
            "if [ {{x}} = 9 ]; then exit 2; fi; test -e {0}/f{{x}} || {{ touch {0}/f{{x}}; exit 1; }}",
            flags.display()
        );
        env.write(
            "a.toml",
            &format!("[command]\nshell = '''{shell}'''\n[params]\nx = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"),
        );
        run(&env, &["run", "a.toml", "--out", out, "-q", "--retries", "1"], window, 1);
        let before = attempt_dirs(&env, out);
        assert_eq!(before.iter().filter(|n| n.ends_with("-1")).count(), 10, "{before:?}");
        // Task 9 fails again: a resume with work, which looks for abandoned attempts.
        run(&env, &["run", "a.toml", "--out", out, "-q", "--resume"], window, 1);
        let after = attempt_dirs(&env, out);
        assert_eq!(after.len(), before.len() + 1, "{out}: only task 9's new attempt is added: {after:?}");
    }
}
