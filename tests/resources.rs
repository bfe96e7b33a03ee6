//! Resource slots (`[resources]`, `--threads`, `--gpus`): what each task process sees, how
//! many run at once, and which GPUs each gets, on a pretend machine (`SWEEP_TEST_CORES`).

mod common;
use common::slots::{max_overlap, overlapping, sweep_on};
use common::*;
use std::collections::BTreeMap;

/// Records what a task sees: the eight thread variables, its slot, its GPUs, its process
/// and when it ran. A `[python]` function, a `[command]` script and a raw `[worker]`.
const SEEN_PY: &str = r#"
import json, os, sys, time
VARS = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS", "SWEEP_THREADS"]

def seen(nap=0.0):
    start = time.time()
    time.sleep(nap)
    m = {v.lower(): int(os.environ.get(v, "-1")) for v in VARS}
    gpus = os.environ.get("CUDA_VISIBLE_DEVICES")
    m["gpu"] = int(gpus) if gpus else -1
    m["pci_order"] = int(os.environ.get("CUDA_DEVICE_ORDER") == "PCI_BUS_ID")
    m["worker"] = int(os.environ.get("SWEEP_WORKER", "-1"))
    m["pid"] = os.getpid()
    m["start"], m["end"] = start, time.time()
    return m

def simulate(k, nap=0.0):
    return seen(nap)

if __name__ == "__main__" and sys.argv[1] == "command":
    json.dump(seen(float(sys.argv[3])), open(os.path.join(sys.argv[2], "metrics.json"), "w"))
elif __name__ == "__main__":
    print(json.dumps({"sweep_worker": 1}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        nap = req["params"].get("nap", 0.0)
        print(json.dumps({"id": req["id"], "metrics": seen(nap)}), flush=True)
"#;

const VARS: [&str; 8] = [
    "omp_num_threads",
    "openblas_num_threads",
    "mkl_num_threads",
    "blis_num_threads",
    "veclib_maximum_threads",
    "numexpr_num_threads",
    "numba_num_threads",
    "sweep_threads",
];

/// The task table of each kind, running `seen.py`.
fn table(kind: &str) -> &'static str {
    match kind {
        "command" => "[command]\nargv = [\"python3\", \"seen.py\", \"command\", \"{out}\", \"{nap}\"]\n",
        "python" => "[python]\nfunction = \"seen.py:simulate\"\n",
        "worker" => "[worker]\nargv = [\"python3\", \"seen.py\", \"worker\"]\n",
        _ => unreachable!(),
    }
}

/// An Env with `seen.py` and `s.toml` (`kind`'s table, then `rest`), when python3 runs.
fn seen(kind: &str, rest: &str) -> Option<Env> {
    require_tool("python3", python_modules("json"))?;
    let env = Env::with("seen.py", SEEN_PY);
    env.write("s.toml", &format!("{}{rest}", table(kind)));
    Some(env)
}

fn values(rows: &[BTreeMap<String, String>], column: &str) -> Vec<String> {
    rows.iter().map(|r| r[column].clone()).collect()
}

#[test]
fn every_thread_variable_is_the_slot_thread_count_for_commands_python_and_workers() {
    for kind in ["command", "python", "worker"] {
        let Some(env) = seen(kind, "[params]\nk = [1, 2, 3]\nnap = [0.0]\n") else { return };
        // 6 cores at 2 jobs: 3 threads each, as joblib would give.
        exits(&mut sweep_on(&env, Some(6), &["run", "s.toml", "--jobs", "2", "-q"]), 0);
        let rows = env.results("runs/s");
        for var in VARS {
            assert_eq!(values(&rows, var), ["3", "3", "3"], "{kind}: {var}");
        }
        assert_eq!(values(&rows, "gpu"), ["-1", "-1", "-1"], "{kind}: no GPUs asked for, none set");
    }
}

#[test]
fn threads_default_to_the_cores_at_jobs_1_and_to_1_at_jobs_equal_to_the_cores() {
    let Some(env) = seen("command", "[params]\nk = [1, 2]\nnap = [0.0]\n") else { return };
    for (jobs, threads) in [("1", "4"), ("4", "1")] {
        let out = format!("j{jobs}");
        exits(&mut sweep_on(&env, Some(4), &["run", "s.toml", "--jobs", jobs, "-o", &out, "-q"]), 0);
        let rows = env.results(&out);
        assert_eq!(values(&rows, "omp_num_threads"), [threads, threads], "--jobs {jobs}");
    }
    // Without --jobs: one task per core, one thread each.
    let dry = exits(&mut sweep_on(&env, Some(4), &["run", "s.toml", "--dry-run"]), 0).stdout;
    assert!(dry.contains("slots: 4 workers (4 cores (SWEEP_TEST_CORES)), each 1 thread"), "{dry}");
}

#[test]
fn the_spec_env_wins_a_shell_value_is_inherited_and_an_asked_count_wins_over_it() {
    let rest = "env = { MKL_NUM_THREADS = \"5\" }\n[params]\nk = [1]\nnap = [0.0]\n";
    let Some(env) = seen("command", rest) else { return };
    let run = |extra: &[&str], out: &str| {
        let mut args = vec!["run", "s.toml", "--jobs", "2", "-o", out, "-q"];
        args.extend(extra);
        exits(sweep_on(&env, Some(4), &args).env("OMP_NUM_THREADS", "7"), 0);
        env.results(out).remove(0)
    };
    let default = run(&[], "a");
    assert_eq!((&*default["omp_num_threads"], &*default["mkl_num_threads"]), ("7", "5"));
    assert_eq!(default["openblas_num_threads"], "2");
    let asked = run(&["--threads", "2"], "b");
    assert_eq!((&*asked["omp_num_threads"], &*asked["mkl_num_threads"]), ("2", "5"));
}

#[test]
fn numpy_blas_pool_in_a_python_worker_has_the_slot_size() {
    let Some(()) = require_tool("threadpoolctl", python_modules("numpy, threadpoolctl")) else { return };
    let env = Env::with(
        "blas.py",
        "import os\nimport numpy\nfrom threadpoolctl import threadpool_info\n\n\
         def simulate(k):\n    blas = [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']\n    \
         return {'blas': blas[0], 'threads': int(os.environ['SWEEP_THREADS'])}\n",
    );
    env.write("s.toml", "[python]\nfunction = \"blas.py:simulate\"\n[params]\nk = [1, 2]\n");
    let cores = std::thread::available_parallelism().unwrap().get().to_string();
    // This machine's own cores: OpenBLAS will not start more threads than there are.
    for (args, want) in [(vec!["--jobs", "1"], cores.as_str()), (vec!["--jobs", "1", "--threads", "1"], "1")] {
        let out = format!("o{}", args.len());
        let mut all = vec!["run", "s.toml", "-o", &out, "-q"];
        all.extend(&args);
        exits(&mut sweep_on(&env, None, &all), 0);
        let rows = env.results(&out);
        assert_eq!(values(&rows, "blas"), [want, want], "{args:?}");
        assert_eq!(values(&rows, "threads"), [want, want], "{args:?}");
    }
}

#[test]
fn concurrency_never_exceeds_what_fits_in_cores_or_memory() {
    let rest = "[params]\nk = { range = [0, 8] }\nnap = [0.4]\n";
    let Some(env) = seen("command", rest) else { return };
    // 8 cores ÷ 4 threads: 2 at once.
    exits(&mut sweep_on(&env, Some(8), &["run", "s.toml", "--threads", "4", "-o", "cores", "-q"]), 0);
    let rows = env.results("cores");
    assert_eq!(max_overlap(&rows), 2, "{rows:?}");
    assert_eq!(values(&rows, "omp_num_threads"), ["4"; 8]);
    // 1 GiB ÷ 400 MiB: 2 at once on 16 cores, each with 8 threads (16 cores ÷ 2 jobs).
    let mut cmd = sweep_on(&env, Some(16), &["run", "s.toml", "--memory", "400 MiB", "-o", "memory", "-q"]);
    exits(cmd.env("SWEEP_TEST_MEMORY", "1 GiB"), 0);
    let rows = env.results("memory");
    assert_eq!(max_overlap(&rows), 2, "{rows:?}");
    assert_eq!(values(&rows, "sweep_threads"), ["8"; 8]);
}

#[test]
fn gpu_ids_are_exclusive_among_running_tasks_and_stable_per_worker() {
    for kind in ["python", "command"] {
        let rest = "[params]\nk = { range = [0, 12] }\nnap = [0.2]\n[resources]\ngpus = 1\n";
        let Some(env) = seen(kind, rest) else { return };
        exits(&mut sweep_on(&env, Some(8), &["run", "s.toml", "--gpus", "4,5,7", "-q"]), 0);
        let rows = env.results("runs/s");
        assert_eq!(max_overlap(&rows), 3, "{kind}: three GPUs, three at once: {rows:?}");
        for (i, j) in overlapping(&rows) {
            assert_ne!(rows[i]["gpu"], rows[j]["gpu"], "{kind}: two running tasks share a GPU: {rows:?}");
        }
        assert!(rows.iter().all(|r| ["4", "5", "7"].contains(&r["gpu"].as_str()) && r["pci_order"] == "1"));
        // 8 cores ÷ 3 jobs.
        assert_eq!(values(&rows, "omp_num_threads"), ["2"; 12], "{kind}");
        // One device per slot (SWEEP_WORKER), and per worker process, for life.
        let mut by_pid: BTreeMap<&str, &str> = BTreeMap::new();
        let mut by_slot: BTreeMap<&str, &str> = BTreeMap::new();
        for r in &rows {
            assert_eq!(*by_slot.entry(&r["worker"]).or_insert(&r["gpu"]), r["gpu"], "{kind}: {rows:?}");
            if kind == "python" {
                assert_eq!(*by_pid.entry(&r["pid"]).or_insert(&r["gpu"]), r["gpu"], "{rows:?}");
            }
        }
        assert_eq!(by_slot.keys().copied().collect::<Vec<_>>(), ["0", "1", "2"], "{kind}: {rows:?}");
    }
}

#[test]
fn dry_run_shows_the_slots_and_the_worker_count() {
    let rest = "[params]\nk = [1]\nnap = [0.0]\n[resources]\nthreads = 4\nmemory = \"6 GiB\"\ngpus = 1\n";
    let Some(env) = seen("command", rest) else { return };
    let mut cmd = sweep_on(&env, Some(16), &["run", "s.toml", "--gpus", "0,1,2,3", "--dry-run"]);
    let out = exits(cmd.env("SWEEP_TEST_MEMORY", "64 GiB"), 0).stdout;
    assert!(
        out.contains("slots: 4 workers (16 cores (SWEEP_TEST_CORES) ÷ 4 threads), each 4 threads, up to 6 GiB, 1 GPU; GPUs by worker: 0 | 1 | 2 | 3"),
        "{out}"
    );
}

#[test]
fn without_gpus_the_run_takes_cuda_visible_devices_else_what_nvidia_smi_lists() {
    let rest = "[params]\nk = { range = [0, 4] }\nnap = [0.0]\n[resources]\ngpus = 1\n";
    let Some(env) = seen("command", rest) else { return };
    let gpus_seen = |out: &str| {
        let mut g = values(&env.results(out), "gpu");
        g.sort();
        g.dedup();
        g
    };
    exits(sweep_on(&env, Some(4), &["run", "s.toml", "-o", "cvd", "-q"]).env("CUDA_VISIBLE_DEVICES", "6,7"), 0);
    assert_eq!(gpus_seen("cvd"), ["6", "7"]);
    // A stand-in nvidia-smi that lists three GPUs.
    let smi = env.write(
        "bin/nvidia-smi",
        "#!/bin/sh\necho 'GPU 0: A (UUID: GPU-a)'\necho 'GPU 1: B (UUID: GPU-b)'\necho 'GPU 2: C (UUID: GPU-c)'\n",
    );
    std::fs::set_permissions(&smi, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", env.abs("bin"), std::env::var("PATH").unwrap_or_default());
    let dry = exits(sweep_on(&env, Some(4), &["run", "s.toml", "--dry-run"]).env("PATH", &path), 0).stdout;
    assert!(dry.contains("slots: 3 workers (3 GPUs ÷ 1 per task)"), "{dry}");
    exits(sweep_on(&env, Some(4), &["run", "s.toml", "-o", "smi", "-q"]).env("PATH", &path), 0);
    assert_eq!(gpus_seen("smi"), ["0", "1", "2"]);
}

#[test]
fn verify_reruns_with_the_thread_count_the_run_had() {
    let env =
        Env::with("s.toml", "[command]\nshell = \"echo $OMP_NUM_THREADS > {out}/threads.txt\"\n[params]\nk = [1, 2]\n");
    // --jobs 1 on 4 cores: each task had 4 threads, which its output records.
    exits(&mut sweep_on(&env, Some(4), &["run", "s.toml", "--jobs", "1", "-q"]), 0);
    assert!(env.read("runs/s/runs.jsonl").contains("\"threads\":4"));
    let same = exits(&mut sweep_on(&env, Some(4), &["verify", "runs/s", "--same-threads"]), 0).stdout;
    assert!(same.contains("verified: 2 of 2 tasks match exactly"), "{same}");
    let other = exits(&mut sweep_on(&env, Some(4), &["verify", "runs/s"]), 1).stdout;
    assert!(other.contains("matches with OMP_NUM_THREADS=4, as the run had it, not with 1"), "{other}");
}
