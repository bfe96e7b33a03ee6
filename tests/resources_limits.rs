//! Resource slots at their limits: a task that outgrows its memory, requests that cannot
//! run here (exit 2, nothing written), what `sweep slurm` asks for, and `--bench` on too
//! few worker counts to fit a curve.

mod common;
use common::slots::sweep_on;
use common::*;

/// Allocates `mb` MiB and touches every page, then sleeps.
const HOG: &str = "import sys, time\nn = int(sys.argv[1]) << 20\nx = bytearray(n)\nx[::4096] = b'1' * len(x[::4096])\ntime.sleep(1.0)\n";

#[test]
fn a_command_that_outgrows_its_memory_fails_alone_with_the_limit_and_its_peak() {
    let Some(()) = require_tool("python3", python_modules("sys")) else { return };
    let env = Env::with("hog.py", HOG);
    env.write(
        "s.toml",
        "[command]\nargv = [\"python3\", \"hog.py\", \"{mb}\"]\n[params]\nmb = [10, 400, 11, 12]\n[resources]\nmemory = \"200 MiB\"\n",
    );
    let err = exits(&mut sweep_on(&env, Some(2), &["run", "s.toml"]), 1).stderr;
    let rows = env.results("runs/s");
    let failed: Vec<_> = rows.iter().filter(|r| r["status"] != "done").collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert_eq!(failed[0]["mb"], "400");
    let error = &failed[0]["error"];
    assert!(error.starts_with("stopped: its processes grew to "), "{error}");
    assert!(error.contains("past its limit of 200 MiB ([resources] memory)"), "{error}");
    assert!(err.contains("1 task: memory: stopped"), "{err}");
    assert!(env.read("runs/s/journal.jsonl").contains("\"memory\""));
}

#[test]
fn a_python_worker_that_outgrows_its_memory_is_replaced_and_the_others_are_done() {
    let Some(()) = require_tool("python3", python_modules("json")) else { return };
    let env = Env::with(
        "hog.py",
        "import os\n\ndef simulate(mb):\n    x = bytearray(mb << 20)\n    x[::4096] = b'1' * len(x[::4096])\n    \
         import time; time.sleep(0.6)\n    return {'pid': os.getpid()}\n",
    );
    env.write(
        "s.toml",
        "[python]\nfunction = \"hog.py:simulate\"\n[params]\nmb = [1, 2, 300, 3, 4, 5]\n[resources]\nmemory = \"150 MiB\"\n",
    );
    exits(&mut sweep_on(&env, Some(2), &["run", "s.toml", "--jobs", "1", "-q"]), 1);
    let rows = env.results("runs/s");
    let failed: Vec<_> = rows.iter().filter(|r| r["status"] != "done").collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert_eq!(failed[0]["mb"], "300");
    assert!(failed[0]["error"].contains("past its limit of 150 MiB"), "{}", failed[0]["error"]);
    // One slot: the tasks after the hog ran in a new worker.
    let pid = |mb: &str| rows.iter().find(|r| r["mb"] == mb).unwrap()["pid"].clone();
    assert_ne!(pid("1"), pid("5"), "the worker was replaced");
}

#[test]
fn sweep_is_never_the_oom_killers_choice_over_a_task() {
    let Some(()) = require_tool("python3", python_modules("sys")) else { return };
    // Read at once by the command, and by a worker's task: set before either program runs.
    let env =
        Env::with("adj.py", "def simulate(k):\n    return {'adj': int(open('/proc/self/oom_score_adj').read())}\n");
    let shell = "echo '{\\\"adj\\\": '$(cat /proc/self/oom_score_adj)'}' > {out}/metrics.json";
    env.write("c.toml", &format!("[command]\nshell = \"{shell}\"\n[params]\nk = [1, 2, 3]\n"));
    env.write("p.toml", "[python]\nfunction = \"adj.py:simulate\"\n[params]\nk = [1, 2, 3]\n");
    for spec in ["c.toml", "p.toml"] {
        let out = format!("out-{spec}");
        exits(&mut sweep_on(&env, Some(2), &["run", spec, "-o", &out, "-q"]), 0);
        let adj: Vec<String> = env.results(&out).iter().map(|r| r["adj"].clone()).collect();
        assert_eq!(adj, ["1000", "1000", "1000"], "{spec}");
    }
}

/// `sweep run s.toml ARGS` exits 2 on a pretend 4-core, 8 GiB machine; returns stderr.
#[track_caller]
fn refused(spec: &str, args: &[&str], gpus_env: Option<&str>) -> String {
    let env = Env::with("s.toml", &format!("[command]\nargv = [\"true\"]\n[params]\nk = [1, 2]\n{spec}"));
    let mut all = vec!["run", "s.toml"];
    all.extend(args);
    let mut cmd = sweep_on(&env, Some(4), &all);
    cmd.env("SWEEP_TEST_MEMORY", "8 GiB");
    if let Some(g) = gpus_env {
        cmd.env("CUDA_VISIBLE_DEVICES", g);
    }
    let err = exits(&mut cmd, 2).stderr;
    assert!(!env.path("runs").exists(), "nothing is written: {err}");
    err
}

#[test]
fn requests_that_cannot_run_here_exit_2_saying_why_before_anything_is_written() {
    let cases: [(&str, &[&str], Option<&str>, &str); 7] = [
        ("", &["--threads", "8"], None, "threads = 8, but this machine gives sweep 4 cores (SWEEP_TEST_CORES)"),
        (
            "",
            &["--threads", "2", "--jobs", "3"],
            None,
            "--jobs 3 does not fit: 2 tasks at once (4 cores (SWEEP_TEST_CORES) ÷ 2 threads); use --jobs 2",
        ),
        ("[resources]\ngpus = 1\n", &[], Some("-1"), "gpus = 1, but no GPU is available (CUDA_VISIBLE_DEVICES)"),
        (
            "[resources]\ngpus = 2\n",
            &["--gpus", "0,1,2"],
            None,
            "--jobs 2 does not fit: 1 task at once (3 GPUs ÷ 2 per task)",
        ),
        ("", &["--memory", "16 GiB"], None, "memory = 16 GiB per task, but 8 GiB is available to sweep"),
        (
            "",
            &["--memory", "3 GiB", "--jobs", "3"],
            None,
            "--jobs 3 does not fit: 2 tasks at once (8 GiB available ÷ 3 GiB per task)",
        ),
        (
            "[resources]\nthreads = 2\n",
            &["--jobs", "4"],
            None,
            "s.toml: [resources] cannot run here: --jobs 4 does not fit",
        ),
    ];
    for (spec, args, gpus, want) in cases {
        let mut args = args.to_vec();
        if spec.contains("gpus = 2") {
            args.extend(["--jobs", "2"]);
        }
        let err = refused(spec, &args, gpus);
        assert!(err.contains(want), "{spec} {args:?}:\n{err}");
    }
}

#[test]
fn bad_resources_values_are_spec_errors_with_their_line() {
    for (table, want) in [
        ("threads = 0", "s.toml:6:11"),
        ("memory = \"6 GB of RAM\"", "`memory`: `6 GB of RAM` has an unknown unit `GB of RAM`"),
        ("gpus = -1", "`gpus` must be between 0 and 4096"),
        ("cores = 4", "unknown key `cores`"),
    ] {
        let err = refused(&format!("[resources]\n{table}\n"), &[], None);
        assert!(err.contains(want), "{table}:\n{err}");
        assert!(err.contains("s.toml:6:"), "{table}: the line of [resources]' key:\n{err}");
    }
}

#[test]
fn the_slurm_script_asks_for_threads_gpus_and_memory_times_jobs() {
    let env = Env::with(
        "s.toml",
        "[command]\nargv = [\"true\"]\n[params]\nk = { range = [0, 8] }\n[resources]\nthreads = 4\nmemory = \"6 GiB\"\ngpus = 1\n",
    );
    let script = env.succeeds(&["slurm", "s.toml", "--jobs", "2", "--shards", "2"]);
    for line in ["#SBATCH --cpus-per-task=8\n", "#SBATCH --gres=gpu:2\n", "#SBATCH --mem=12288M\n"] {
        assert!(script.contains(line), "{line}{script}");
    }
    assert!(script.contains("--resume --jobs 2 &"), "{script}");
    // Without [resources]: one core per task, as before.
    let plain = Env::with("s.toml", "[command]\nargv = [\"true\"]\n[params]\nk = [1, 2]\n");
    let script = plain.succeeds(&["slurm", "s.toml", "--jobs", "2", "--shards", "1"]);
    assert!(script.contains("#SBATCH --cpus-per-task=2\n") && !script.contains("--gres"), "{script}");
}

#[test]
fn bench_on_two_worker_counts_reports_the_measurements_and_fits_no_curve() {
    let env = Env::with("s.toml", "[command]\nargv = [\"true\"]\n[params]\nk = { range = [0, 6] }\n");
    let args = ["run", "s.toml", "--bench", "--bench-jobs", "1,2", "--bench-tasks", "4", "--bench-repeat", "1", "-q"];
    let out = exits(&mut sweep_on(&env, Some(2), &args), 0).stdout;
    assert!(out.contains("fit: none (a fit needs runs at three or more worker counts"), "{out}");
    assert!(!out.contains("predicted speedup"), "{out}");
}

#[test]
fn bench_counts_in_slots_and_refuses_a_count_that_does_not_fit() {
    let env = Env::with(
        "s.toml",
        "[command]\nargv = [\"true\"]\n[params]\nk = { range = [0, 6] }\n[resources]\nthreads = 2\n",
    );
    let args = ["run", "s.toml", "--bench", "--bench-tasks", "4", "--bench-repeat", "1"];
    // 4 cores ÷ 2 threads: the default counts stop at 2 slots.
    let err = exits(&mut sweep_on(&env, Some(4), &args), 0).stderr;
    assert!(err.contains("(jobs 1,2; "), "{err}");
    let err = exits(&mut sweep_on(&env, Some(4), &[&args[..], &["--bench-jobs", "1,3"]].concat()), 2).stderr;
    assert!(err.contains("--jobs 3 does not fit: 2 tasks at once (4 cores (SWEEP_TEST_CORES) ÷ 2 threads)"), "{err}");
}
