//! `--resume` and fault tolerance: kills, torn journals, retries, failure limits,
//! signals, the lock, spec changes, disk full.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// Tasks that write arrays and take long enough to be killed mid-run.
const ARRAYS: &str =
    "seed = 3\nreplicates = 30\n[model]\nname = \"spin\"\narray_len = 64\n[params]\nmicros = [3000, 6000]\n";

fn kill9(child: &mut std::process::Child) {
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
}

fn signal(child: &std::process::Child, sig: i32) {
    unsafe { libc::kill(child.id() as i32, sig) };
}

fn wait_for_journal(env: &Env, rel: &str) {
    let t0 = Instant::now();
    while !env.path(rel).exists() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn kill_9_at_ten_moments_then_resume_is_byte_identical() {
    let env = Env::new();
    env.write("a.toml", ARRAYS);
    env.sweep(&["run", "a.toml", "--out", "clean", "-q"]).assert().success();
    env.sweep(&["run", "a.toml", "--out", "k", "-q", "--jobs", "2"]).assert().success().get_output();
    std::fs::remove_dir_all(env.path("k")).unwrap();
    // Kill points spread over the run (it takes ~150 ms): each round kills a resumed run.
    for (round, delay_ms) in [5u64, 12, 20, 31, 44, 58, 70, 85, 100, 120].into_iter().enumerate() {
        let mut args = vec!["run", "a.toml", "--out", "k", "-q", "--jobs", "2"];
        if round > 0 {
            args.push("--resume");
        }
        let mut child = env.spawn(&args);
        std::thread::sleep(Duration::from_millis(delay_ms));
        kill9(&mut child);
    }
    env.sweep(&["run", "a.toml", "--out", "k", "-q", "--resume"]).assert().success();
    assert_eq!(npy_files(&env.path("clean")), npy_files(&env.path("k")));
    let drop = ["seconds", "attempts"];
    assert_eq!(
        without_columns(&env.read("clean/results.csv"), &drop),
        without_columns(&env.read("k/results.csv"), &drop)
    );
    assert!(
        temp_files(&env.path("k")).is_empty(),
        "stale temporaries are cleaned up: {:?}",
        temp_files(&env.path("k"))
    );
}

#[test]
fn a_torn_journal_line_is_ignored_with_a_warning() {
    let env = Env::new();
    env.write("m.toml", "replicates = 6\n[model]\nname = \"spin\"\n");
    env.sweep(&["run", "m.toml", "-q"]).assert().success();
    let journal = env.read("runs/m/journal.jsonl");
    // Drop the last two records and leave half of one, as a kill mid-write would.
    let lines: Vec<&str> = journal.lines().collect();
    let keep = lines[..lines.len() - 2].join("\n") + "\n" + &lines[lines.len() - 2][..20];
    std::fs::write(env.path("runs/m/journal.jsonl"), keep).unwrap();
    let o = env.sweep(&["run", "m.toml", "--resume"]).assert().success().get_output().clone();
    assert!(stderr(&o).contains("incomplete journal line"), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 done"), "only the two lost tasks ran: {}", stderr(&o));
    assert!(env.results("runs/m").iter().all(|r| r["status"] == "done"));
}

#[test]
fn retries_rerun_a_failed_task_with_the_same_seed() {
    let env = Env::new();
    env.write("f.toml", "replicates = 4\n[model]\nname = \"spin\"\nfail_rate = 1.0\n");
    env.sweep(&["run", "f.toml", "-q", "--retries", "2"]).assert().code(1);
    let rows = env.results("runs/f");
    assert!(rows.iter().all(|r| r["status"] == "failed" && r["attempts"] == "3"), "{rows:?}");
    let journal = env.read("runs/f/journal.jsonl");
    assert_eq!(journal.lines().filter(|l| l.contains("\"status\":\"failed\"")).count(), 12);
    // The same draw fails every attempt: the inputs are the task's.
    let first = rows[0]["error"].clone();
    assert!(journal.lines().filter(|l| l.contains(&rows[0]["task"])).all(|l| l.contains(&first[..30])));
    // A resume counts on from the attempts already made.
    env.sweep(&["run", "f.toml", "-q", "--resume"]).assert().code(1);
    assert!(env.results("runs/f").iter().all(|r| r["attempts"] == "4"));
}

#[test]
fn max_failures_stops_starting_tasks() {
    let env = Env::new();
    env.write("f.toml", "replicates = 200\n[model]\nname = \"spin\"\nfail_rate = 1.0\nmicros = 1000\n");
    let o = env.sweep(&["run", "f.toml", "--max-failures", "5", "--jobs", "1"]).assert().code(1).get_output().clone();
    assert!(stderr(&o).contains("--max-failures") && stderr(&o).contains("--resume"), "{}", stderr(&o));
    let rows = env.results("runs/f");
    let failed = rows.iter().filter(|r| r["status"] == "failed").count();
    assert!((5..=6).contains(&failed), "stopped right after 5 failures, got {failed}");
    assert!(rows.iter().filter(|r| r["status"] == "pending").count() >= 190);
}

#[test]
fn sigint_once_stops_cleanly_and_resumes() {
    let env = Env::new();
    env.write("s.toml", "replicates = 400\n[model]\nname = \"spin\"\nmicros = 5000\n");
    let mut child = env.spawn(&["run", "s.toml", "--jobs", "2"]);
    wait_for_journal(&env, "runs/s/journal.jsonl");
    std::thread::sleep(Duration::from_millis(150));
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
    env.sweep(&["run", "s.toml", "-q", "--resume"]).assert().success();
    assert!(env.results("runs/s").iter().all(|r| r["status"] == "done"));
}

#[test]
fn the_lock_refuses_a_second_run_and_a_killed_run_leaves_no_stale_lock() {
    let env = Env::new();
    env.write("s.toml", "replicates = 2000\n[model]\nname = \"spin\"\nmicros = 2000\n");
    let mut first = env.spawn(&["run", "s.toml", "--jobs", "1"]);
    wait_for_journal(&env, "runs/s/journal.jsonl");
    let o = env.sweep(&["run", "s.toml", "--resume"]).assert().code(2).get_output().clone();
    assert!(stderr(&o).contains("another sweep run is using"), "{}", stderr(&o));
    let st = env.sweep(&["status", "runs/s"]).assert().code(1).get_output().clone();
    assert!(String::from_utf8_lossy(&st.stdout).contains("a run is in progress"));
    kill9(&mut first);
    let st = env.sweep(&["status", "runs/s"]).assert().code(1).get_output().clone();
    assert!(String::from_utf8_lossy(&st.stdout).contains("no run in progress"));
    env.sweep(&["run", "s.toml", "-q", "--resume", "--jobs", "2"]).assert().success();
}

#[test]
fn extending_the_spec_runs_only_new_tasks() {
    let env = Env::new();
    let base = "seed = 1\nreplicates = 2\n[model]\nname = \"spin\"\n[params]\nmicros = [0, 10]\n";
    env.write("s.toml", base);
    env.sweep(&["run", "s.toml", "-q"]).assert().success();
    let before = env.results("runs/s");
    // More values, a new axis holding the fixed value, more replicates.
    let extended =
        base.replace("[0, 10]", "[0, 10, 20]").replace("replicates = 2", "replicates = 3") + "array_len = [0]\n";
    env.write("s.toml", &extended);
    let o = env.sweep(&["run", "s.toml", "--resume"]).assert().success().get_output().clone();
    assert!(stderr(&o).contains("this run: 5 done"), "9 tasks, 4 already done: {}", stderr(&o));
    let after = env.results("runs/s");
    assert_eq!(after.len(), 9);
    for r in &before {
        let same = after.iter().find(|a| a["task"] == r["task"]).expect("old task kept");
        assert_eq!((&same["seed"], &same["value"], &same["attempts"]), (&r["seed"], &r["value"], &"1".to_string()));
    }
}

#[test]
fn a_change_to_existing_tasks_is_refused() {
    let env = Env::new();
    let base = "seed = 1\n[model]\nname = \"spin\"\nmicros = 5\n[params]\narray_len = [0, 1]\n";
    env.write("s.toml", base);
    env.sweep(&["run", "s.toml", "-q"]).assert().success();
    let journal = env.read("runs/s/journal.jsonl");
    env.write("s.toml", &base.replace("seed = 1", "seed = 2").replace("micros = 5", "micros = 6"));
    let o = env.sweep(&["run", "s.toml", "--resume"]).assert().code(2).get_output().clone();
    let err = stderr(&o);
    assert!(err.contains("seed changed from 1 to 2") && err.contains("`micros` changed from 5 to 6"), "{err}");
    assert!(err.contains("--out"), "{err}");
    assert_eq!(journal, env.read("runs/s/journal.jsonl"));
    env.sweep(&["run", "s.toml", "-q", "--out", "new"]).assert().success();
}

#[test]
fn status_counts_and_lists_failures() {
    let env = Env::new();
    env.write("f.toml", "replicates = 30\n[model]\nname = \"spin\"\nfail_rate = 0.3\n[params]\nmicros = [1]\n");
    env.sweep(&["run", "f.toml", "-q"]).assert().code(1);
    let rows = env.results("runs/f");
    let failed = rows.iter().filter(|r| r["status"] == "failed").count();
    let o = env.sweep(&["status", "runs/f"]).assert().code(1).get_output().clone();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("done     {}", 30 - failed)) && out.contains(&format!("failed   {failed}")), "{out}");
    assert!(out.contains("micros=1") && out.contains("injected failure"), "{out}");
    // Status also takes the spec.
    env.sweep(&["status", "f.toml"]).assert().code(1);
    let ok = Env::new();
    ok.write("g.toml", "[model]\nname = \"spin\"\n");
    ok.sweep(&["run", "g.toml", "-q"]).assert().success();
    ok.sweep(&["status", "runs/g"]).assert().success();
}

#[test]
fn string_values_never_make_paths_outside_the_out_directory() {
    let env = Env::new();
    env.write("p.toml", "[command]\nargv = [\"true\"]\n[params]\nname = [\"../../x\", \"/etc/passwd\", \"a/b\"]\n");
    env.sweep(&["run", "p.toml", "-q"]).assert().success();
    let dirs: Vec<String> = std::fs::read_dir(env.path("runs/p/tasks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert_eq!(dirs.len(), 3);
    assert!(dirs.iter().all(|d| d.len() == 16 && d.chars().all(|c| c.is_ascii_hexdigit())), "{dirs:?}");
    assert!(!env.path("x").exists());
}

/// Disk full: on a real small tmpfs when we can mount one (root), else through the
/// I/O layer's fault seam. The affected tasks fail with the OS error, the run stops
/// with exit 1, and after space is freed `--resume` completes the sweep.
#[test]
fn disk_full_fails_tasks_and_resume_completes() {
    let env = Env::new();
    let spec = "seed = 2\nreplicates = 60\n[model]\nname = \"spin\"\narray_len = 20000\n";
    env.write("d.toml", spec);
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
    let o = cmd.assert().code(1).get_output().clone();
    let err = stderr(&o);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let journal = env.read(&format!("{out}/journal.jsonl"));
    assert!(journal.contains("\"class\":\"io\""), "the affected tasks are failed, never done");
    let done_before = journal.matches("\"status\":\"done\"").count();
    assert!(done_before < 60);
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
    env.sweep(&["run", "d.toml", "--out", resumed, "-q", "--resume"]).assert().success();
    assert!(env.results(resumed).iter().all(|r| r["status"] == "done"));
    env.sweep(&["run", "d.toml", "--out", "clean", "-q"]).assert().success();
    assert_eq!(npy_files(&env.path("clean")), npy_files(&env.path(resumed)));
}
