//! Regression tests for the ways one task, a planted file or a careless spec could sink a
//! sweep or turn something stale into a result. Each is named for what broke.

mod common;
use common::*;
use std::time::Duration;

/// A spin sweep of 10,001 tasks whose last grid point (past the points validation checks)
/// asks for an array of 10^11 floats.
fn oversized_spec() -> String {
    let n = 10_001;
    let rates: Vec<String> = (0..n).map(|i| format!("{:e}", i as f64 * 1e-12)).collect();
    let lens: Vec<String> = (0..n).map(|i| if i + 1 == n { "100000000000".into() } else { "0".into() }).collect();
    format!(
        "zip = [[\"fail_rate\", \"array_len\"]]\n[model]\nname = \"spin\"\n[params]\nfail_rate = [{}]\narray_len = [{}]\n",
        rates.join(", "),
        lens.join(", ")
    )
}

#[test]
fn an_oversized_task_fails_alone_and_resume_does_not_abort() {
    let env = Env::with("big.toml", &oversized_spec());
    let err = env.fails(&["run", "big.toml", "-q"], 1);
    assert!(err.contains("array_len = 100000000000 needs") && err.contains("more than this machine has"), "{err}");
    let rows = env.results("runs/big");
    assert_eq!(rows.iter().filter(|r| r["status"] == "done").count(), 10_000);
    let failed: Vec<_> = rows.iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!((failed.len(), failed[0]["array_len"].as_str()), (1, "100000000000"));
    // Again and again: it fails the same way, never aborting the process.
    env.fails(&["run", "big.toml", "-q", "--resume"], 1);
    env.fails(&["run", "big.toml", "-q", "--resume"], 1);
}

#[test]
fn a_size_that_can_never_fit_is_a_spec_error_with_its_line() {
    let env =
        Env::with("fin.toml", "[model]\nname = \"fin\"\n[params]\nn_samples = [1000, 2000, 100000000000, 5000]\n");
    let err = env.fails(&["run", "fin.toml"], 2);
    assert!(err.contains("n_samples = 100000000000 needs") && err.contains("fin.toml:4:"), "{err}");
    assert!(!env.path("runs").exists());
}

/// A command sweep whose tasks each start a background child and a `setsid` daemon, then
/// append to a log slowly; `MARK` in their environment finds them in /proc.
fn daemon_spec(dir: &str) -> String {
    format!(
        "[command]\nshell = 'sleep 300 & setsid sleep 300 & for i in 1 2 3 4 5 6 7 8 9 10; do echo {{x}} $i >> {{out}}/log.txt; sleep 0.1; done'\nenv = {{ MARK = \"{dir}\" }}\n[params]\nx = [1, 2, 3, 4, 5, 6]\n"
    )
}

fn sweep_of_daemons_dies_with(sig: i32) {
    let env = Env::new();
    let mark = env.abs("");
    env.write("d.toml", &daemon_spec(&mark));
    let mut run = env.spawn(&["run", "d.toml", "--jobs", "2"]);
    wait_until("tasks and their daemons running", Duration::from_secs(20), || processes_with_env(&mark).len() >= 4);
    signal(&run, sig);
    let status = run.wait().unwrap();
    if sig == libc::SIGHUP {
        assert_eq!(status.code(), Some(130), "SIGHUP stops sweep as Ctrl-C does");
    }
    let gone = poll_until(Duration::from_secs(2), || processes_with_env(&mark).is_empty());
    assert!(gone, "still alive 2 s after the signal: {:?}", processes_with_env(&mark));
    // A resume at once gives what an uninterrupted run gives: no orphan writes on.
    env.succeeds(&["run", "d.toml", "--jobs", "2", "--resume", "-q"]);
    env.succeeds(&["run", "d.toml", "--jobs", "2", "--out", "whole", "-q"]);
    let logs = |out: &str| -> Vec<String> {
        let mut v: Vec<String> =
            env.results(out).iter().map(|r| env.read(&format!("{out}/tasks/{}/log.txt", r["task"]))).collect();
        v.sort();
        v
    };
    assert_eq!(logs("runs/d"), logs("whole"));
    assert!(logs("whole").iter().all(|l| l.lines().count() == 10));
    assert!(poll_until(Duration::from_secs(2), || processes_with_env(&mark).is_empty()), "daemons outlived the run");
}

#[test]
fn kill_9_of_a_command_sweep_leaves_no_task_child_or_setsid_daemon_alive() {
    sweep_of_daemons_dies_with(libc::SIGKILL);
}

#[test]
fn sighup_of_a_command_sweep_stops_it_gracefully_and_leaves_nothing_alive() {
    sweep_of_daemons_dies_with(libc::SIGHUP);
}

#[test]
fn a_setsid_daemon_does_not_outlive_a_sweep_that_ends_normally() {
    let env = Env::new();
    let mark = env.abs("");
    env.write(
        "d.toml",
        &format!("[command]\nshell = 'setsid sleep 300 &'\nenv = {{ MARK = \"{mark}\" }}\n[params]\nx = [1, 2]\n"),
    );
    env.succeeds(&["run", "d.toml", "-q"]);
    assert!(
        poll_until(Duration::from_secs(2), || processes_with_env(&mark).is_empty()),
        "{:?}",
        processes_with_env(&mark)
    );
}

#[test]
fn a_symlinked_stdout_txt_planted_in_a_task_dir_is_never_written_through() {
    let env = Env::with("c.toml", "[command]\nshell = 'echo {x}; test {x} != 2 || test -e go'\n[params]\nx = [1, 2]\n");
    env.fails(&["run", "c.toml", "-q"], 1);
    let failed = env.results("runs/c").into_iter().find(|r| r["x"] == "2").unwrap();
    let victim = env.write("precious.txt", "keep me\n");
    let dir = env.path(&format!("runs/c/tasks/{}", failed["task"]));
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("stdout.txt")).unwrap();
    env.write("go", "");
    env.succeeds(&["run", "c.toml", "-q", "--resume"]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n", "the link's target is untouched");
    assert_eq!(std::fs::read_to_string(dir.join("stdout.txt")).unwrap(), "2\n");
    assert!(!dir.join("stdout.txt").is_symlink());
}

#[test]
fn a_symlink_where_sweep_keeps_its_own_files_is_refused() {
    let env = Env::with("c.toml", "[command]\nargv = ['true']\n[params]\nx = [1]\n");
    env.succeeds(&["run", "c.toml", "-q"]);
    std::fs::rename(env.path("runs/c/tasks"), env.path("elsewhere")).unwrap();
    std::os::unix::fs::symlink(env.path("elsewhere"), env.path("runs/c/tasks")).unwrap();
    let err = env.fails(&["run", "c.toml", "--resume"], 2);
    assert!(err.contains("tasks is a symbolic link"), "{err}");
}

#[test]
fn metrics_named_like_sweeps_columns_or_a_parameter_fail_the_task() {
    let env = Env::new();
    for (i, key) in ["task", "status", "seed", "error", "k"].iter().enumerate() {
        let spec = format!(
            "[command]\nshell = 'echo \"{{{{\\\"{key}\\\": 1, \\\"fine\\\": 2}}}}\" > {{out}}/metrics.json'\n[params]\nk = [1]\n"
        );
        env.write(&format!("m{i}.toml"), &spec);
        env.fails(&["run", &format!("m{i}.toml"), "-q"], 1);
        let text = env.read(&format!("runs/m{i}/results.csv"));
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let mut unique = header.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), header.len(), "no duplicate header: {header:?}");
        let row = &env.results(&format!("runs/m{i}"))[0];
        assert_eq!(row["status"], "failed");
        assert!(row["error"].contains(&format!("metric `{key}` has the name of")), "{row:?}");
    }
}

#[test]
fn a_non_ascii_character_in_a_duration_is_a_spec_error_not_a_panic() {
    let env = Env::with("t.toml", "[command]\nargv = ['true']\ntimeout = \"10 sécondes\"\n[params]\nx = [1]\n");
    let err = env.fails(&["run", "t.toml"], 2);
    assert!(err.contains("`timeout` is not a duration") && err.contains("t.toml:3:"), "{err}");
}

#[test]
fn a_spec_that_is_not_utf8_is_reported_with_its_line() {
    let env = Env::new();
    std::fs::write(env.path("bad.toml"), b"[model]\nname = \"spin\"\n# caf\xe9\n").unwrap();
    let err = env.fails(&["run", "bad.toml"], 2);
    assert!(err.contains("not UTF-8") && err.contains("bad.toml:3:"), "{err}");
}

#[test]
fn a_name_that_escapes_runs_is_refused() {
    for name in ["../../x", "/tmp/x", "a/b", "..", "x\\u0000y"] {
        let env = Env::with("n.toml", &format!("name = \"{name}\"\n[model]\nname = \"spin\"\n"));
        let err = env.fails(&["run", "n.toml"], 2);
        assert!(err.contains("`name` must be a plain file name"), "{name}: {err}");
        assert_eq!(files(env.dir.path()), [std::path::PathBuf::from("n.toml")], "{name}: nothing written");
    }
}

#[test]
fn a_value_given_twice_is_a_spec_error_instead_of_tasks_run_twice() {
    let env = Env::with("d.toml", "[model]\nname = \"spin\"\n[params]\nmicros = [5, 7, 5]\n");
    let err = env.fails(&["run", "d.toml"], 2);
    assert!(
        err.contains("parameter `micros` has the value 5 twice (values 1 and 3)") && err.contains("d.toml:4:"),
        "{err}"
    );
    // Zipped parameters may repeat values; only a repeated tuple is refused.
    env.write("z.toml", "zip = [[\"micros\", \"array_len\"]]\n[model]\nname = \"spin\"\n[params]\nmicros = [5, 5]\narray_len = [1, 2]\n");
    env.succeeds(&["run", "z.toml", "-q"]);
}

#[test]
fn shards_of_another_count_are_refused_in_the_same_out_dir() {
    let env = Env::with("s.toml", "[model]\nname = \"spin\"\n[params]\nmicros = { range = [0, 40] }\n");
    env.succeeds(&["run", "s.toml", "--shard", "0/2", "-q"]);
    let err = env.fails(&["run", "s.toml", "--shard", "1/3", "--resume"], 2);
    assert!(err.contains("holds shards of a 2-way split"), "{err}");
    // Another shard of the same split needs no --resume.
    env.succeeds(&["run", "s.toml", "--shard", "1/2", "-q"]);
    env.succeeds(&["collect", "runs/s"]);
    assert!(env.results("runs/s").iter().all(|r| r["status"] == "done"));
}

#[test]
fn a_changed_save_list_on_resume_is_refused_with_the_difference() {
    let env = Env::with("r.toml", "[model]\nname = \"reaction\"\nsave = [\"c\"]\n[params]\nk = [0.5, 1.0]\n");
    env.succeeds(&["run", "r.toml", "-q"]);
    env.write("r.toml", "[model]\nname = \"reaction\"\nsave = [\"t\", \"c\"]\n[params]\nk = [0.5, 1.0, 2.0]\n");
    let err = env.fails(&["run", "r.toml", "--resume"], 2);
    assert!(err.contains("`save` changed from [c] to [t, c]"), "{err}");
}

#[test]
fn absurd_thread_counts_are_refused_not_a_panic() {
    let env = Env::with("s.toml", "[model]\nname = \"spin\"\n");
    for args in [["--io-threads", "100000"], ["--jobs", "100000"], ["--jobs", "0"]] {
        let err = env.fails(&["run", "s.toml", args[0], args[1]], 2);
        assert!(err.contains(args[1]) && err.contains(args[0]), "{err}");
    }
}

#[test]
fn a_first_ctrl_c_lets_running_commands_finish() {
    let env =
        Env::with("c.toml", "[command]\nshell = 'sleep 0.5; echo done > {out}/f.txt'\n[params]\nx = [1, 2, 3, 4]\n");
    let mut run = env.spawn(&["run", "c.toml", "--jobs", "2"]);
    wait_until("two commands running", Duration::from_secs(10), || {
        std::fs::read_dir(env.path("runs/c/attempts")).is_ok_and(|d| d.count() >= 2)
    });
    signal(&run, libc::SIGINT);
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let done: Vec<_> = env.results("runs/c").into_iter().filter(|r| r["status"] == "done").collect();
    assert_eq!(done.len(), 2, "the two running commands finished; no new one started");
}
