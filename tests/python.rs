//! `[python]` and `[worker]`: a user's function on persistent workers, with real python3,
//! numpy and scipy.

mod common;
use common::*;
use std::path::Path;
use std::time::Duration;

/// The first-order reaction through scipy's solve_ivp, returning a trajectory whose length
/// varies with k (adaptive steps).
const REACTION_PY: &str = r#"
import numpy as np
from scipy.integrate import solve_ivp

def simulate(k, c0, *, rng, out):
    sol = solve_ivp(lambda t, c: -k * c, (0.0, 10.0), [c0])
    c = sol.y[0]
    return {"conversion": 1.0 - c[-1] / c0, "steps": len(sol.t), "noise": float(rng.normal()), "t": sol.t, "c": c}
"#;

const REACTION_TOML: &str = r#"
seed = 3
replicates = 2
[python]
function = "reaction.py:simulate"
[params]
k = [0.1, 0.5, 2.0]
c0 = [1.0, 2.0]
"#;

/// An Env with `reaction.py` and `grid.toml`, when python3 has numpy and scipy.
fn reaction() -> Option<Env> {
    require_tool("scipy", scipy())?;
    let env = Env::with("reaction.py", REACTION_PY);
    env.write("grid.toml", REACTION_TOML);
    Some(env)
}

/// Runs a Python script with the out directory as its argument; it prints "ok".
#[track_caller]
fn python_check(env: &Env, script: &str, out: &str) {
    let path = env.write("check.py", script);
    let o = std::process::Command::new("python3").arg(&path).arg(env.path(out)).output().unwrap();
    assert!(o.status.success() && text(&o.stdout).contains("ok"), "{}\n{}", text(&o.stdout), stderr(&o));
}

#[test]
fn metrics_and_arrays_of_a_scipy_function_reach_results_csv_and_npy() {
    let Some(env) = reaction() else { return };
    env.succeeds(&["run", "grid.toml", "-q"]);
    python_check(
        &env,
        r#"
import csv, math, os, sys
import numpy as np
from scipy.integrate import solve_ivp
out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
assert len(rows) == 12, len(rows)
lengths = set()
for r in rows:
    assert r["status"] == "done" and r["class"] == "" and r["error"] == "", r
    k, c0 = float(r["k"]), float(r["c0"])
    t = np.load(os.path.join(out, "tasks", r["task"], "t.npy"))
    c = np.load(os.path.join(out, "tasks", r["task"], "c.npy"))
    sol = solve_ivp(lambda t, c: -k * c, (0.0, 10.0), [c0])
    assert np.array_equal(t, sol.t) and np.array_equal(c, sol.y[0]), r
    assert float(r["conversion"]) == 1.0 - sol.y[0][-1] / c0
    assert int(r["steps"]) == len(t)
    # The documented rng: numpy's PCG64 seeded with the task's seed.
    assert float(r["noise"]) == np.random.Generator(np.random.PCG64(int(r["seed"]))).normal()
    lengths.add(len(t))
assert len(lengths) > 1, lengths
print("ok")
"#,
        "runs/grid",
    );
}

#[test]
fn an_exception_a_crash_a_segfault_and_a_timeout_fail_only_their_task() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with(
        "bad.py",
        r#"
import os, signal, time
def f(x):
    if x == 1: raise ValueError(f"x must not be {x}")
    if x == 2: os._exit(3)
    if x == 3: os.kill(os.getpid(), signal.SIGSEGV)
    if x == 4: time.sleep(60)
    return {"y": x * x}
"#,
    );
    env.write(
        "bad.toml",
        "[python]\nfunction = \"bad.py:f\"\ntimeout = \"1s\"\ngrace = \"1s\"\n[params]\nx = [0, 1, 2, 3, 4, 5, 6]\n",
    );
    let started = std::time::Instant::now();
    let err = env.fails(&["run", "bad.toml", "--jobs", "2"], 1);
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    let rows = env.results("runs/bad");
    let by_x = |x: &str| rows.iter().find(|r| r["x"] == x).unwrap().clone();
    for (x, class, error) in [
        ("1", "error", "ValueError: x must not be 1"),
        ("2", "crash", "the worker died: exit status 3"),
        ("3", "crash", "the worker died: killed by signal 11 (SIGSEGV)"),
        ("4", "timeout", "timed out after 1s"),
    ] {
        let r = by_x(x);
        assert_eq!((r["status"].as_str(), r["class"].as_str(), r["error"].as_str()), ("failed", class, error), "{r:?}");
    }
    for x in ["0", "5", "6"] {
        let r = by_x(x);
        assert_eq!(r["status"], "done", "{r:?}");
        assert_eq!(r["y"], (x.parse::<i64>().unwrap().pow(2)).to_string());
    }
    assert!(err.contains("ValueError: x must not be 1"), "{err}");
    // The full traceback is kept with the failed attempt's files.
    let attempts = env.path("runs/bad/attempts");
    let tracebacks: Vec<String> = files(&attempts)
        .into_iter()
        .filter(|p| p.ends_with("stderr.txt"))
        .map(|p| std::fs::read_to_string(attempts.join(p)).unwrap())
        .collect();
    assert!(
        tracebacks
            .iter()
            .any(|t| t.contains("Traceback") && t.contains("bad.py\", line 4") && t.contains("ValueError")),
        "{tracebacks:?}"
    );
}

#[test]
fn an_import_error_at_start_up_exits_2_with_the_traceback_before_any_task() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with("model.py", "import numpy\nimport scipyy\n\ndef f(x):\n    return {}\n");
    env.write("grid.toml", "[python]\nfunction = \"model.py:f\"\n[params]\nx = [1, 2]\n");
    let err = env.fails(&["run", "grid.toml"], 2);
    assert!(err.contains("ModuleNotFoundError: No module named 'scipyy'"), "{err}");
    // The interpreter that ran, and why it was the one (#30).
    assert!(err.contains("(in the interpreter /") && err.contains("set `python` in [python]"), "{err}");
    assert!(err.contains("$VIRTUAL_ENV") || err.contains("python3 on PATH"), "{err}");
    assert!(err.contains("Traceback (most recent call last)") && err.contains("model.py\", line 2"), "{err}");
    assert!(err.contains("--> grid.toml:2:12") && err.contains("function = \"model.py:f\""), "{err}");
    assert!(!env.path("runs").exists(), "nothing is written when the worker cannot start");
    // Fixed, the same command runs (no --resume needed: nothing was left behind).
    env.write("model.py", "def f(x):\n    return {'y': x}\n");
    env.succeeds(&["run", "grid.toml", "-q"]);
}

#[test]
fn a_function_that_cannot_take_the_call_is_refused_at_start_up() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with("m.py", "def f(x, y):\n    return {}\n\ndef g(**kw):\n    return {}\n");
    env.write("a.toml", "[python]\nfunction = \"m.py:f\"\n[params]\nx = [1]\n");
    let err = env.fails(&["run", "a.toml"], 2);
    assert!(err.contains("f() requires `y`, which is not a parameter of this sweep"), "{err}");
    env.write("b.toml", "[python]\nfunction = \"m.py:h\"\n[params]\nx = [1]\n");
    let err = env.fails(&["run", "b.toml"], 2);
    assert!(err.contains("has no function `h`"), "{err}");
    env.write("c.toml", "[python]\nfunction = \"missing.py:f\"\n[params]\nx = [1]\n");
    let err = env.fails(&["run", "c.toml"], 2);
    assert!(err.contains("no Python file") && err.contains("missing.py"), "{err}");
    env.write("d.toml", "[python]\nfunction = \"m.py:g\"\n[params]\nseed = [1]\n");
    let err = env.fails(&["run", "d.toml"], 2);
    assert!(err.contains("may not be called `seed`"), "{err}");
}

#[test]
fn sigkill_of_sweep_leaves_no_worker_alive_after_2_s() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with(
        "slow.py",
        "import subprocess, time\ndef f(x):\n    subprocess.Popen(['sleep', '300'])\n    time.sleep(300)\n    return {}\n",
    );
    env.write("slow.toml", "[python]\nfunction = \"slow.py:f\"\n[params]\nx = [1, 2, 3, 4]\n");
    let base = env.dir.path().canonicalize().unwrap().display().to_string();
    let mut sweep = env.spawn(&["run", "slow.toml", "--jobs", "2"]);
    wait_until("two workers running", Duration::from_secs(30), || processes_mentioning(&base).len() >= 2);
    kill9(&mut sweep);
    let gone = poll_until(Duration::from_secs(2), || processes_mentioning(&base).is_empty());
    assert!(gone, "still alive 2 s after kill -9 of sweep: {:?}", processes_mentioning(&base));
}

#[test]
fn print_and_c_level_writes_inside_the_function_do_not_disturb_the_results() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with(
        "noisy.py",
        r#"
import ctypes, os, sys
libc = ctypes.CDLL(None)
def f(x):
    print('{"id": 999, "metrics": {"y": -1}}')
    print("to stderr", x, file=sys.stderr)
    os.write(1, b"raw fd 1\n")
    libc.printf(b"printf %d\n", x)
    libc.fflush(None)
    return {"y": x + 1}
"#,
    );
    env.write("noisy.toml", "[python]\nfunction = \"noisy.py:f\"\n[params]\nx = [1, 2, 3, 4, 5, 6]\n");
    env.succeeds(&["run", "noisy.toml", "-q"]);
    for r in env.results("runs/noisy") {
        assert_eq!(r["status"], "done", "{r:?}");
        assert_eq!(r["y"], (r["x"].parse::<i64>().unwrap() + 1).to_string());
        let dir = env.path(&format!("runs/noisy/tasks/{}", r["task"]));
        let out = std::fs::read_to_string(dir.join("stdout.txt")).unwrap();
        assert!(
            out.contains("\"id\": 999") && out.contains("raw fd 1") && out.contains(&format!("printf {}", r["x"])),
            "{out}"
        );
        assert_eq!(std::fs::read_to_string(dir.join("stderr.txt")).unwrap(), format!("to stderr {}\n", r["x"]));
    }
}

/// results.csv without the columns that depend on timing, and every .npy.
fn outputs(env: &Env, out: &str) -> (String, std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>) {
    (without_columns(&env.read(&format!("{out}/results.csv")), &["seconds", "attempts"]), npy_files(&env.path(out)))
}

#[test]
fn results_are_identical_at_jobs_1_and_2_and_after_kill_9_and_resume() {
    let Some(env) = reaction() else { return };
    // Slow enough (10 ms a task) that the kill lands mid-run on a busy machine.
    env.write(
        "slow.py",
        "import time\nfrom reaction import simulate as fast\ndef simulate(k, c0, *, rng, out):\n    time.sleep(0.01)\n    return fast(k, c0, rng=rng, out=out)\n",
    );
    env.write(
        "grid.toml",
        "seed = 3\nreplicates = 4\n[python]\nfunction = \"slow.py:simulate\"\n[params]\nk = { linspace = [0.1, 2.0, 25] }\nc0 = [1.0, 2.0]\n",
    );
    env.succeeds(&["run", "grid.toml", "--jobs", "1", "--out", "one", "-q"]);
    env.succeeds(&["run", "grid.toml", "--jobs", "2", "--out", "two", "-q"]);
    let one = outputs(&env, "one");
    assert_eq!(one.1.len(), 400, "t.npy and c.npy for each of 200 tasks");
    assert_eq!(one, outputs(&env, "two"));

    let mut run = env.spawn(&["run", "grid.toml", "--jobs", "2", "--out", "killed"]);
    wait_until("a first journal record", Duration::from_secs(60), || !env.journaled_done("killed").is_empty());
    kill9(&mut run);
    let done = env.journaled_done("killed").len();
    assert!(done > 0 && done < 200, "the kill landed mid-run: {done} of 200 done");
    env.succeeds(&["run", "grid.toml", "--jobs", "2", "--out", "killed", "--resume", "-q"]);
    assert_eq!(one, outputs(&env, "killed"));
}

#[test]
fn a_worker_is_replaced_after_max_tasks_per_worker() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with("pid.py", "import os\ndef f(x):\n    return {'pid': os.getpid()}\n");
    env.write(
        "pid.toml",
        "[python]\nfunction = \"pid.py:f\"\nmax_tasks_per_worker = 3\n[params]\nx = { range = [0, 12] }\n",
    );
    env.succeeds(&["run", "pid.toml", "--jobs", "1", "-q"]);
    let rows = env.results("runs/pid");
    let pids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["pid"].as_str()).collect();
    assert_eq!(pids.len(), 4, "12 tasks, 3 per worker: {pids:?}");
}

#[test]
fn a_crash_is_retried_on_a_fresh_worker() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    // The first attempt of x = 2 kills its worker; the retry (attempt 2) succeeds.
    let env = Env::with(
        "flaky.py",
        "import os, time\nfrom pathlib import Path\ndef f(x, *, out):\n    time.sleep(0.05)  # long enough that requests go one at a time\n    mark = out.parent / f'seen-{x}'\n    if x == 2 and not mark.exists():\n        mark.touch()\n        os._exit(9)\n    return {'y': x}\n",
    );
    env.write("flaky.toml", "[python]\nfunction = \"flaky.py:f\"\n[params]\nx = [1, 2, 3]\n");
    env.succeeds(&["run", "flaky.toml", "--retries", "1", "--jobs", "1", "-q"]);
    let rows = env.results("runs/flaky");
    let two = rows.iter().find(|r| r["x"] == "2").unwrap();
    assert_eq!((two["status"].as_str(), two["attempts"].as_str()), ("done", "2"), "{two:?}");
    assert!(rows.iter().all(|r| r["status"] == "done"));
}

#[test]
fn the_raw_protocol_worker_from_the_docs_runs() {
    let worker = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/examples/raw_worker.py");
    let source = std::fs::read_to_string(&worker).unwrap();
    let chapter = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/tasks.md")).unwrap();
    assert!(chapter.contains(source.trim()), "docs/tasks.md shows python/examples/raw_worker.py as it is");
    assert!(source.lines().count() < 30, "under 30 lines");
    let env = Env::with(
        "raw.toml",
        &format!("[worker]\nargv = [\"python3\", {:?}]\n[params]\nx = [1, 2, 3]\n", worker.display().to_string()),
    );
    env.succeeds(&["run", "raw.toml", "-q"]);
    let ys: Vec<String> = env.results("runs/raw").iter().map(|r| r["y"].clone()).collect();
    assert_eq!(ys, ["1", "4", "9"]);
}

#[test]
fn a_spec_with_a_python_function_runs_from_another_directory() {
    let Some(env) = reaction() else { return };
    std::fs::create_dir_all(env.path("port")).unwrap();
    std::fs::rename(env.path("reaction.py"), env.path("port/reaction.py")).unwrap();
    std::fs::rename(env.path("grid.toml"), env.path("port/grid.toml")).unwrap();
    env.succeeds(&["run", "port/grid.toml", "-q"]);
    assert!(env.results("runs/grid").iter().all(|r| r["status"] == "done"));
}

#[test]
fn workers_started_side_by_side_outlive_the_threads_that_waited_for_them() {
    // Regression: workers died with SIGKILL (their parent-death signal) when the short-lived
    // threads that started them ended, and every task of a --jobs 2 run crashed.
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with("sq.py", "import time\ndef f(x):\n    time.sleep(0.05)\n    return {'y': x * x}\n");
    env.write("sq.toml", "[python]\nfunction = \"sq.py:f\"\n[params]\nx = { range = [0, 20] }\n");
    env.succeeds(&["run", "sq.toml", "--jobs", "2", "-q"]);
    assert!(env.results("runs/sq").iter().all(|r| r["status"] == "done"));
}

#[test]
fn tasks_sent_again_after_a_crash_keep_their_output_once() {
    // Regression: when a worker died with several tiny tasks in flight, those sent again
    // reused their attempt directories, and what they had printed the first time (their
    // replies still unsent) was appended to again: every line twice in stdout.txt.
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with(
        "pr.py",
        "import os\ndef f(x):\n    print(f'task {x}')\n    if x % 100 == 99:\n        os._exit(3)\n    return {'y': x}\n",
    );
    env.write("pr.toml", "[python]\nfunction = \"pr.py:f\"\n[params]\nx = { range = [0, 300] }\n");
    env.fails(&["run", "pr.toml", "--jobs", "1", "-q"], 1);
    let rows = env.results("runs/pr");
    let failed: Vec<&str> = rows.iter().filter(|r| r["status"] != "done").map(|r| r["x"].as_str()).collect();
    assert_eq!(failed, ["99", "199", "299"]);
    for r in rows.iter().filter(|r| r["status"] == "done") {
        let printed = std::fs::read_to_string(env.path(&format!("runs/pr/tasks/{}/stdout.txt", r["task"]))).unwrap();
        assert_eq!(printed, format!("task {}\n", r["x"]), "{r:?}");
    }
}
