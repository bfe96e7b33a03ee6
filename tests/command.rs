//! Command tasks: placeholders, environment, quoting, failures, timeouts, metrics, resume.

mod common;
use common::*;
use std::time::Duration;

/// `sweep run c.toml -q` on `spec`, which must exit with `code`.
fn run(env: &Env, spec: &str, code: i32) {
    env.write("c.toml", spec);
    env.exits(&["run", "c.toml", "-q"], code);
}

#[test]
fn placeholders_and_environment_reach_the_program() {
    let env = Env::new();
    run(
        &env,
        "[command]\nshell = 'echo {k} {seed} {seed32} {replicate} {task} {out} \"$SWEEP_SEED $SWEEP_SEED32 $SWEEP_TASK $SWEEP_PARAM_K $OMP_NUM_THREADS $MKL_NUM_THREADS\" > {out}/args.txt'\nenv = { MKL_NUM_THREADS = \"3\" }\n[params]\nk = [0.5]\n",
        0,
    );
    let row = &env.results("runs/c")[0];
    let args = env.read(&format!("runs/c/tasks/{}/args.txt", row["task"]));
    let seed32 = (row["seed"].parse::<u64>().unwrap() % (1 << 32)).to_string();
    // {out} is the attempt's own directory, which became tasks/<task>/ when it was done.
    let attempts = std::fs::canonicalize(env.path("runs/c/attempts")).unwrap();
    let want = format!(
        "0.5 {s} {s32} 0 {t} {d}/{t}-1-",
        s = row["seed"],
        s32 = seed32,
        t = row["task"],
        d = attempts.display()
    );
    assert!(args.starts_with(&want), "{args}\n{want}");
    assert!(args.ends_with(&format!(" {s} {seed32} {t} 0.5 1 3\n", s = row["seed"], t = row["task"])), "{args}");
}

#[test]
fn shell_quoting_defeats_injection() {
    let env = Env::new();
    run(
        &env,
        "[command]\nshell = 'echo {v} > {out}/v.txt'\n[params]\nv = [\"'; touch pwned; '\", \"$(touch pwned2)\"]\n",
        0,
    );
    assert!(!env.path("pwned").exists() && !env.path("pwned2").exists());
    let rows = env.results("runs/c");
    assert_eq!(env.read(&format!("runs/c/tasks/{}/v.txt", rows[0]["task"])), "'; touch pwned; '\n");
}

#[test]
fn exit_status_signal_and_timeout_fail_with_clear_messages() {
    let env = Env::new();
    run(
        &env,
        "[command]\nshell = 'case {m} in exit) echo bad input >&2; exit 3;; sig) kill -9 $$;; slow) sleep 30 & echo $! > {out}/bg.pid; sleep 30;; esac'\ntimeout = \"300ms\"\ngrace = \"200ms\"\n[params]\nm = [\"exit\", \"sig\", \"slow\", \"ok\"]\n",
        1,
    );
    let rows = env.results("runs/c");
    let by = |m: &str| rows.iter().find(|r| r["m"] == m).unwrap().clone();
    assert_eq!(by("exit")["class"], "exit");
    assert!(by("exit")["error"].contains("exit status 3") && by("exit")["error"].contains("bad input"));
    assert_eq!(by("sig")["class"], "signal");
    assert!(by("sig")["error"].contains("signal 9"), "{}", by("sig")["error"]);
    assert_eq!(by("slow")["class"], "timeout");
    assert!(by("slow")["error"].contains("timed out after 300ms"));
    assert_eq!(by("ok")["status"], "done");
    // The timed-out task's background child is gone too. It counts as gone once it is a
    // zombie or reaped (its /proc entry then vanishes); SIGKILL lands asynchronously, so a
    // busy machine gets a moment.
    // A failed attempt's files stay in its own directory under attempts/.
    let dir = attempt_dirs(&env.path("runs/c"), &by("slow")["task"]).pop().unwrap();
    let pid: i32 = std::fs::read_to_string(dir.join("bg.pid")).unwrap().trim().parse().unwrap();
    let alive = || {
        let exists = unsafe { libc::kill(pid, 0) } == 0;
        exists && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
    };
    wait_until(&format!("process {pid}, a child of the timed-out task, to be gone"), Duration::from_secs(1), || {
        !alive()
    });
}

#[test]
fn metrics_json_becomes_columns() {
    let env = Env::new();
    let spec = r#"
[command]
argv = ["sh", "-c", "printf '{{\"a\": %s, \"b\": \"s%s\"}}' \"$0\" \"$0\" > \"$1/metrics.json\"", "{x}", "{out}"]
[params]
x = [1, 2]
"#;
    run(&env, spec, 0);
    let rows = env.results("runs/c");
    assert_eq!((rows[1]["a"].as_str(), rows[1]["b"].as_str()), ("2", "s2"));
}

#[test]
fn a_retried_task_starts_in_a_fresh_directory_and_never_reads_an_earlier_attempts_metrics() {
    // Regression: attempt 1 wrote metrics.json and failed; the retry wrote none and its row
    // carried attempt 1's metrics, beside attempt 1's files.
    let env = Env::new();
    let spec = "[command]\nshell = 'if [ -e {out}/../seen ]; then echo ok > {out}/note.txt; else touch {out}/../seen; echo {{\"stale\": 1}} > {out}/metrics.json; exit 1; fi'\n[params]\nx = [1]\n";
    env.write("c.toml", spec);
    env.succeeds(&["run", "c.toml", "-q", "--retries", "1"]);
    let row = &env.results("runs/c")[0];
    assert_eq!((row["status"].as_str(), row["attempts"].as_str()), ("done", "2"));
    assert!(!row.contains_key("stale"), "no metric of the failed attempt: {row:?}");
    let files = files(&env.path(&format!("runs/c/tasks/{}", row["task"])));
    assert_eq!(files, [std::path::PathBuf::from("note.txt"), "stderr.txt".into(), "stdout.txt".into()]);
    let failed = attempt_dirs(&env.path("runs/c"), &row["task"]);
    assert_eq!(failed.len(), 1, "the failed attempt's files are kept apart: {failed:?}");
    assert!(failed[0].join("metrics.json").exists());
}

#[test]
fn resume_after_a_transient_failure_reruns_only_the_failed() {
    let env = Env::new();
    env.write("flag", "");
    let spec = "[command]\nshell = 'echo run >> {out}/runs.txt; if [ {x} = 2 ] && [ -e flag ]; then exit 1; fi'\n[params]\nx = [1, 2, 3]\n";
    run(&env, spec, 1);
    std::fs::remove_file(env.path("flag")).unwrap();
    env.succeeds(&["run", "c.toml", "-q", "--resume"]);
    for r in env.results("runs/c") {
        assert_eq!(r["attempts"], if r["x"] == "2" { "2" } else { "1" }, "{r:?}");
        // Each attempt wrote into a fresh directory: the done one holds one run.
        assert_eq!(env.read(&format!("runs/c/tasks/{}/runs.txt", r["task"])).lines().count(), 1, "{r:?}");
    }
}

#[test]
fn a_python_numpy_script_gives_the_same_numbers_as_by_hand() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let env = Env::new();
    std::fs::create_dir_all(env.path("sweeps/python")).unwrap();
    std::fs::copy(root.join("sweeps/python/decay.py"), env.path("sweeps/python/decay.py")).unwrap();
    std::fs::copy(root.join("sweeps/python.toml"), env.path("sweeps/python.toml")).unwrap();
    env.succeeds(&["run", "sweeps/python.toml", "-q"]);
    let rows = env.results("runs/python");
    assert_eq!(rows.len(), 30);
    let r = &rows[4];
    let by_hand = env.path("by-hand");
    std::fs::create_dir(&by_hand).unwrap();
    let s = std::process::Command::new("python3")
        .arg(env.path("sweeps/python/decay.py"))
        .args(["--k", &r["k"], "--seed", &r["seed"], "--out"])
        .arg(&by_hand)
        .status()
        .unwrap();
    assert!(s.success());
    let hand: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(by_hand.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(hand["c_final"].as_f64().unwrap(), r["c_final"].parse::<f64>().unwrap());
    assert_eq!(
        std::fs::read(by_hand.join("c.npy")).unwrap(),
        std::fs::read(env.path(&format!("runs/python/tasks/{}/c.npy", r["task"]))).unwrap()
    );
}

#[test]
fn a_command_spec_runs_the_same_from_another_directory() {
    // Regression: programs and cwd resolved against the shell's directory, so every task of
    // a spec run from its parent directory failed (`can't open file '.../kinetics.py'`).
    let env = Env::with("port/sim.sh", "echo \"{\\\"x2\\\": $(( $1 * 2 ))}\" > \"$2/metrics.json\"\n");
    env.write("port/kin.toml", "[command]\nargv = [\"sh\", \"sim.sh\", \"{x}\", \"{out}\"]\n[params]\nx = [1, 2]\n");
    env.succeeds(&["run", "port/kin.toml", "-q"]);
    let rows = env.results("runs/kin");
    assert_eq!(rows.iter().map(|r| r["x2"].as_str()).collect::<Vec<_>>(), ["2", "4"]);
}

#[test]
fn a_missing_program_is_a_spec_error_before_any_task() {
    let env = Env::with("port/kin.toml", "[command]\nargv = [\"./missing.sh\", \"{x}\"]\n[params]\nx = [1]\n");
    let err = env.fails(&["run", "port/kin.toml"], 2);
    assert!(err.contains("no program") && err.contains("port/missing.sh") && err.contains("kin.toml:2:"), "{err}");
    env.write("p2.toml", "[command]\nargv = [\"no-such-program-here\"]\n[params]\nx = [1]\n");
    assert!(env.fails(&["run", "p2.toml"], 2).contains("`no-such-program-here` is not on PATH"));
}
