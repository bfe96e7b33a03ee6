//! `--resume` and fault tolerance: kills, torn journals, retries, failure limits,
//! signals, the lock, spec changes, disk full.

mod common;
use common::*;
use std::time::Duration;

/// Tasks of 5 and 15 ms that write an array each: 400 of them keep two workers busy for
/// 2 s or more. sweep writes its journal out every 200 ms, so a round killed right after
/// its first record has journaled some 20 to 40 tasks, and five rounds leave most undone.
const ARRAYS: &str =
    "seed = 3\nreplicates = 200\n[model]\nname = \"spin\"\narray_len = 64\n[params]\nmicros = [5000, 15000]\n";
const ARRAY_TASKS: usize = 400;

/// How long a run may take to journal its first record on a busy machine.
const START: Duration = Duration::from_secs(30);

#[test]
fn kill_9_mid_run_five_times_then_resume_is_byte_identical() {
    let env = Env::with("a.toml", ARRAYS);
    env.succeeds(&["run", "a.toml", "--out", "clean", "-q"]);
    // The kills land while tasks and array writes are in flight.
    env.kill_9_mid_run("a.toml", "k", 5, ARRAY_TASKS);
    env.succeeds(&["run", "a.toml", "--out", "k", "-q", "--resume"]);
    assert_eq!(npy_files(&env.path("clean")), npy_files(&env.path("k")));
    let drop = ["seconds", "attempts"];
    assert_eq!(
        without_columns(&env.read("clean/results.csv"), &drop),
        without_columns(&env.read("k/results.csv"), &drop)
    );
    assert_eq!(temp_files(&env.path("k")), Vec::<std::path::PathBuf>::new(), "stale temporaries are cleaned up");
}

#[test]
fn a_torn_journal_line_is_ignored_with_a_warning() {
    let env = Env::with("m.toml", "replicates = 6\n[model]\nname = \"spin\"\n");
    env.succeeds(&["run", "m.toml", "-q"]);
    let journal = env.read("runs/m/journal.jsonl");
    // Drop the last two records and leave half of one, as a kill mid-write would.
    let lines: Vec<&str> = journal.lines().collect();
    let keep = lines[..lines.len() - 2].join("\n") + "\n" + &lines[lines.len() - 2][..20];
    std::fs::write(env.path("runs/m/journal.jsonl"), keep).unwrap();
    let err = env.exits(&["run", "m.toml", "--resume"], 0).stderr;
    assert!(err.contains("incomplete journal line"), "{err}");
    assert!(err.contains("this run: 2 done,"), "only the two lost tasks ran: {err}");
    assert!(env.results("runs/m").iter().all(|r| r["status"] == "done"));
}

#[test]
fn retries_rerun_a_failed_task_with_the_same_seed() {
    let env = Env::with("f.toml", "replicates = 4\n[model]\nname = \"spin\"\nfail_rate = 1.0\n");
    env.fails(&["run", "f.toml", "-q", "--retries", "2"], 1);
    let rows = env.results("runs/f");
    assert!(rows.iter().all(|r| r["status"] == "failed" && r["attempts"] == "3"), "{rows:?}");
    let journal = env.read("runs/f/journal.jsonl");
    assert_eq!(journal.lines().filter(|l| l.contains("\"c\":\"error\"")).count(), 12);
    // The same draw fails every attempt: the inputs are the task's.
    let first = rows[0]["error"].clone();
    assert!(journal.lines().filter(|l| l.contains(&rows[0]["task"])).all(|l| l.contains(&first[..30])));
    // A resume counts on from the attempts already made.
    env.fails(&["run", "f.toml", "-q", "--resume"], 1);
    assert!(env.results("runs/f").iter().all(|r| r["attempts"] == "4"));
}

#[test]
fn max_failures_stops_starting_tasks() {
    let env = Env::with("f.toml", "replicates = 200\n[model]\nname = \"spin\"\nfail_rate = 1.0\nmicros = 1000\n");
    let err = env.fails(&["run", "f.toml", "--max-failures", "5", "--jobs", "1"], 1);
    assert!(err.contains("--max-failures") && err.contains("--resume"), "{err}");
    let rows = env.results("runs/f");
    let failed = rows.iter().filter(|r| r["status"] == "failed").count();
    assert!((5..=6).contains(&failed), "stopped right after 5 failures, got {failed}");
    assert!(rows.iter().filter(|r| r["status"] == "pending").count() >= 190);
}

#[test]
fn sigint_once_stops_cleanly_and_resumes() {
    let env = Env::with("s.toml", "replicates = 400\n[model]\nname = \"spin\"\nmicros = 5000\n");
    let mut child = env.spawn(&["run", "s.toml", "--jobs", "2"]);
    wait_until("the run to journal a task", START, || !env.journaled_done("runs/s").is_empty());
    signal(&child, libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("--resume"), "{err}");
    let rows = env.results("runs/s");
    let done = rows.iter().filter(|r| r["status"] == "done").count();
    assert!(done > 0 && done < 400, "{done}");
    assert!(rows.iter().all(|r| r["status"] != "failed"), "interrupted tasks are pending, not failed");
    env.succeeds(&["run", "s.toml", "-q", "--resume"]);
    assert!(env.results("runs/s").iter().all(|r| r["status"] == "done"));
}

#[test]
fn the_lock_refuses_a_second_run_and_a_killed_run_leaves_no_stale_lock() {
    let env = Env::with("s.toml", "replicates = 2000\n[model]\nname = \"spin\"\nmicros = 2000\n");
    let mut first = env.spawn(&["run", "s.toml", "--jobs", "1"]);
    wait_until("the first run's journal", START, || env.path("runs/s/journal.jsonl").exists());
    let err = env.fails(&["run", "s.toml", "--resume"], 2);
    assert!(err.contains("another sweep run is using"), "{err}");
    assert!(env.exits(&["status", "runs/s"], 1).stdout.contains("a run is in progress"));
    assert!(first.try_wait().unwrap().is_none(), "the first run ended before it was killed");
    kill9(&mut first);
    assert!(env.journaled_done("runs/s").len() < 2000, "the first run finished before it was killed");
    assert!(env.exits(&["status", "runs/s"], 1).stdout.contains("no run in progress"));
    env.succeeds(&["run", "s.toml", "-q", "--resume", "--jobs", "2"]);
}

#[test]
fn extending_the_spec_runs_only_new_tasks() {
    let base = "seed = 1\nreplicates = 2\n[model]\nname = \"spin\"\n[params]\nmicros = [0, 10]\n";
    let env = Env::with("s.toml", base);
    env.succeeds(&["run", "s.toml", "-q"]);
    let before = env.results("runs/s");
    // More values, a new axis holding the fixed value, more replicates.
    let extended =
        base.replace("[0, 10]", "[0, 10, 20]").replace("replicates = 2", "replicates = 3") + "array_len = [0]\n";
    env.write("s.toml", &extended);
    let err = env.exits(&["run", "s.toml", "--resume"], 0).stderr;
    assert!(err.contains("this run: 5 done"), "9 tasks, 4 already done: {err}");
    let after = env.results("runs/s");
    assert_eq!(after.len(), 9);
    for r in &before {
        let same = after.iter().find(|a| a["task"] == r["task"]).expect("old task kept");
        assert_eq!((&same["seed"], &same["value"], &same["attempts"]), (&r["seed"], &r["value"], &"1".to_string()));
    }
}

#[test]
fn a_change_to_existing_tasks_is_refused() {
    let base = "seed = 1\n[model]\nname = \"spin\"\nmicros = 5\n[params]\narray_len = [0, 1]\n";
    let env = Env::with("s.toml", base);
    env.succeeds(&["run", "s.toml", "-q"]);
    let journal = env.read("runs/s/journal.jsonl");
    env.write("s.toml", &base.replace("seed = 1", "seed = 2").replace("micros = 5", "micros = 6"));
    let err = env.fails(&["run", "s.toml", "--resume"], 2);
    assert!(err.contains("seed changed from 1 to 2") && err.contains("`micros` changed from 5 to 6"), "{err}");
    assert!(err.contains("--out"), "{err}");
    assert_eq!(journal, env.read("runs/s/journal.jsonl"));
    env.succeeds(&["run", "s.toml", "-q", "--out", "new"]);
}

#[test]
fn status_counts_and_lists_failures() {
    let env =
        Env::with("f.toml", "replicates = 30\n[model]\nname = \"spin\"\nfail_rate = 0.3\n[params]\nmicros = [1]\n");
    env.fails(&["run", "f.toml", "-q"], 1);
    let rows = env.results("runs/f");
    let failed = rows.iter().filter(|r| r["status"] == "failed").count();
    let out = env.exits(&["status", "runs/f"], 1).stdout;
    assert!(out.contains(&format!("done     {}", 30 - failed)) && out.contains(&format!("failed   {failed}")), "{out}");
    assert!(out.contains("micros=1") && out.contains("injected failure"), "{out}");
    // Status also takes the spec.
    env.exits(&["status", "f.toml"], 1);
    let ok = Env::with("g.toml", "[model]\nname = \"spin\"\n");
    ok.succeeds(&["run", "g.toml", "-q"]);
    ok.succeeds(&["status", "runs/g"]);
}

#[test]
fn string_values_never_make_paths_outside_the_out_directory() {
    let env =
        Env::with("p.toml", "[command]\nargv = [\"true\"]\n[params]\nname = [\"../../x\", \"/etc/passwd\", \"a/b\"]\n");
    env.succeeds(&["run", "p.toml", "-q"]);
    let names = |rel: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(env.path(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        v.sort();
        v
    };
    let dirs = names("runs/p/tasks");
    assert_eq!(dirs.len(), 3);
    assert!(dirs.iter().all(|d| d.len() == 16 && d.chars().all(|c| c.is_ascii_hexdigit())), "{dirs:?}");
    // Nothing beside the sweep: "../../x" from a task directory would be runs/x.
    assert_eq!((names(""), names("runs")), (vec!["p.toml".to_string(), "runs".to_string()], vec!["p".to_string()]));
}

/// Disk full: on a real small tmpfs when we can mount one (root), else through the
/// I/O layer's fault seam. The affected tasks fail with the OS error, the run stops
/// with exit 1, and after space is freed `--resume` completes the sweep.
#[test]
fn disk_full_fails_tasks_and_resume_completes() {
    let env = Env::with("d.toml", "seed = 2\nreplicates = 60\n[model]\nname = \"spin\"\narray_len = 20000\n");
    let mnt = env.path("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    let out = if mounted { "small/out" } else { "out" };
    let mut cmd = env.sweep(&["run", "d.toml", "--out", out, "--jobs", "2"]);
    if !mounted {
        eprintln!("note: cannot mount a tmpfs here (not root?); using the ENOSPC fault seam");
        cmd.env("SWEEP_FAULT_ENOSPC_AFTER", "8");
    }
    let err = exits(&mut cmd, 1).stderr;
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let journal = env.read(&format!("{out}/journal.jsonl"));
    assert!(journal.contains("\"c\":\"io\""), "the affected tasks are failed, never done");
    assert!(done_tasks(&journal).len() < 60);
    // Free the space: move the sweep to a roomy disk (or lift the fault) and resume.
    let resumed = if mounted {
        let copy = env.path("roomy");
        let s = std::process::Command::new("cp").arg("-a").arg(env.path(out)).arg(&copy).status().unwrap();
        assert!(s.success());
        let _ = std::process::Command::new("umount").arg(&mnt).status();
        "roomy"
    } else {
        out
    };
    env.succeeds(&["run", "d.toml", "--out", resumed, "-q", "--resume"]);
    assert!(env.results(resumed).iter().all(|r| r["status"] == "done"));
    env.succeeds(&["run", "d.toml", "--out", "clean", "-q"]);
    assert_eq!(npy_files(&env.path("clean")), npy_files(&env.path(resumed)));
}
