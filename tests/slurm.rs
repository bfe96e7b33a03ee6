//! `sweep slurm --submit` on a real SLURM cluster (ci/slurm-test.sh starts a single-node one
//! with ci/slurm-up.sh): the sharded results equal a local run byte for byte, and a killed
//! array element is finished by submitting again; a `[python]` sweep too.
//!
//! Skipped, with a SKIPPED line on stderr, where `sbatch` or `sinfo` is missing or no
//! cluster answers; a failure instead with `SWEEP_REQUIRE_SLURM=1`, or with `CI=true` (CI
//! starts a cluster first) unless `SWEEP_REQUIRE_SLURM=0`. See `require_tool`.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use sweep::cluster::slurm::any_queued;

const BIN: &str = env!("CARGO_BIN_EXE_sweep");

/// How long the jobs of one submission may take, queueing included.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether SLURM's commands are installed and a cluster takes jobs; if not, what is missing.
fn slurm() -> Result<(), String> {
    let (mut absent, mut failing) = (Vec::new(), Vec::new());
    for program in ["sbatch", "sinfo", "squeue", "scancel"] {
        match Command::new(program).arg("--version").output() {
            Err(_) => absent.push(program),
            Ok(o) if !o.status.success() => failing.push(program),
            Ok(_) => {}
        }
    }
    let mut missing = Vec::new();
    if !absent.is_empty() {
        missing.push(format!("{} not installed", absent.join(", ")));
    }
    if !failing.is_empty() {
        missing.push(format!("{} failing (no slurm.conf?)", failing.join(", ")));
    }
    if missing.is_empty() && !cluster_up() {
        // Installed but not running (e.g. a developer machine): nothing to submit to.
        missing.push("no running cluster (sinfo shows no usable node)".to_string());
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!("{}; run ci/slurm-test.sh, which starts a cluster", missing.join("; ")))
}

/// Whether `sinfo` answers and shows a node that can take jobs.
fn cluster_up() -> bool {
    Command::new("sinfo").args(["-h", "-o", "%t"]).output().is_ok_and(|o| {
        o.status.success() && text(&o.stdout).lines().any(|l| ["idle", "mix", "alloc"].contains(&l.trim()))
    })
}

/// `sweep slurm SPEC --shards 4 --submit --out OUT`; returns every job id (arrays, collect).
fn submit(env: &Env, spec: &str, out: &str) -> Vec<String> {
    let (spec, out) = (env.abs(spec), env.abs(out));
    let stdout = env.succeeds(&["slurm", &spec, "--shards", "4", "--submit", "--sweep-bin", BIN, "--out", &out]);
    assert!(stdout.contains(&format!("sweep status {out}")), "{stdout}");
    let ids: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("array job ") || l.starts_with("collect job "))
        .map(|l| l.split_whitespace().nth(2).unwrap().trim_end_matches(':').to_string())
        .collect();
    assert_eq!(ids.len(), 2, "expected one array job and the collect job:\n{stdout}");
    assert!(ids.iter().all(|id| id.bytes().all(|b| b.is_ascii_digit())), "{ids:?}");
    ids
}

/// Every file under `out/slurm-logs`, for failure messages.
fn logs(out: &Path) -> String {
    let dir = out.join("slurm-logs");
    files(&dir)
        .iter()
        .map(|p| format!("---- {}\n{}\n", p.display(), std::fs::read_to_string(dir.join(p)).unwrap_or_default()))
        .collect()
}

/// Waits until none of the jobs `ids` is queued or running.
fn wait_for(ids: &[String], out: &Path) {
    if !poll_until(JOB_TIMEOUT, || !any_queued(ids).expect("squeue failed")) {
        let q = Command::new("squeue").output().map(|o| text(&o.stdout)).unwrap_or_default();
        let _ = Command::new("scancel").args(ids).status();
        panic!("jobs {ids:?} still queued after {JOB_TIMEOUT:?}:\n{q}\n{}", logs(out));
    }
}

/// results.csv as rows keyed by task id, without the columns that depend on timing.
fn results(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let csv = std::fs::read_to_string(out.join("results.csv"))
        .unwrap_or_else(|e| panic!("cannot read {}/results.csv: {e}\n{}", out.display(), logs(out)));
    assert!(csv.starts_with("task,"), "{csv}");
    parse_csv(&csv)
        .into_iter()
        .map(|mut row| {
            row.remove("seconds");
            row.remove("attempts");
            (row["task"].clone(), row)
        })
        .collect()
}

/// The sweep in `out` equals a local `sweep run` of `spec` into `local`: results.csv (but
/// `seconds` and `attempts`) and every array file, byte for byte.
fn assert_same_as_local(env: &Env, spec: &str, out: &str, local: &str, tasks: usize, npy: usize) {
    env.succeeds(&["run", "-q", "--jobs", "2", "--out", &env.abs(local), &env.abs(spec)]);
    let (out, local) = (env.path(out), env.path(local));
    let (got, want) = (results(&out), results(&local));
    assert_eq!(got.len(), tasks);
    assert!(got.values().all(|row| row["status"] == "done"), "not all done");
    if got != want {
        let first = got.iter().zip(&want).find(|(g, w)| g != w);
        panic!("results.csv of the SLURM run differs from the local run; first difference:\n{first:?}");
    }
    let (got, want) = (npy_files(&out), npy_files(&local));
    assert_eq!(got.len(), npy, "number of .npy files");
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>());
    for (path, bytes) in &got {
        assert!(bytes == &want[path], "{} differs from the local run", path.display());
    }
}

/// `sweep status OUT`: its exit code and stdout.
fn status_code(env: &Env, out: &str) -> (i32, String) {
    let o = env.sweep(&["status", &env.abs(out)]).output().unwrap();
    (o.status.code().unwrap_or(-1), text(&o.stdout))
}

#[test]
fn sharded_sweep_on_slurm_matches_a_local_run_and_survives_a_killed_element() {
    if require_tool("slurm", slurm()).is_none() {
        return;
    }
    let t0 = Instant::now();
    // Under /tmp: the SLURM daemons (root here) and the jobs must be able to write there.
    let env = Env::under("/tmp", "sweep-slurm-test-");

    // 1. A quick sweep with arrays: 400 tasks in 4 shards.
    env.write(
        "quick.toml",
        "name = \"slurm-quick\"\nreplicates = 200\n\n[model]\nname = \"spin\"\n\n\
         [params]\nmicros = [1000, 2000]\narray_len = 16\n",
    );
    let out = env.path("quick-slurm");
    let ids = submit(&env, "quick.toml", "quick-slurm");
    wait_for(&ids, &out);
    let (code, shown) = status_code(&env, "quick-slurm");
    assert_eq!(code, 0, "status after the jobs:\n{shown}\n{}", logs(&out));
    for k in 0..4 {
        assert!(out.join(format!("journal/shard-{k}-of-4.jsonl")).is_file(), "no journal of shard {k}");
    }
    assert_same_as_local(&env, "quick.toml", "quick-slurm", "quick-local", 400, 400);
    eprintln!("slurm test: quick sweep matched a local run after {:.1}s", t0.elapsed().as_secs_f64());

    // 2. A slower sweep (4 shards of 40 tasks of 0.1 s, about 4 s each): cancel element 1
    //    once it has journaled a task, then submit again, which finishes it.
    let t1 = Instant::now();
    env.write(
        "slow.toml",
        "name = \"slurm-slow\"\nreplicates = 160\n\n[model]\nname = \"spin\"\n\n\
         [params]\nmicros = 100000\narray_len = 4\n",
    );
    let out = env.path("slow-slurm");
    let ids = submit(&env, "slow.toml", "slow-slurm");
    let journal = out.join("journal/shard-1-of-4.jsonl");
    let journaled = || done_tasks(&std::fs::read_to_string(&journal).unwrap_or_default()).len();
    let start = Instant::now();
    assert!(poll_until(JOB_TIMEOUT, || journaled() > 0), "element 1 journaled no task:\n{}", logs(&out));
    let element = format!("{}_1", ids[0]);
    let st = Command::new("scancel").arg(&element).status().unwrap();
    assert!(st.success(), "scancel {element} failed");
    eprintln!("slurm test: cancelled {element} {:.1}s after submitting", start.elapsed().as_secs_f64());
    wait_for(&ids, &out);
    eprintln!("slurm test: the other elements and the collect job ended after {:.1}s", t1.elapsed().as_secs_f64());
    let (code, shown) = status_code(&env, "slow-slurm");
    assert_eq!(code, 1, "the cancelled shard should be unfinished:\n{shown}");
    let pending: u64 = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("pending"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pending count in:\n{shown}"));
    let done_in_shard_1 = journaled();
    assert!(
        pending > 0 && done_in_shard_1 > 0,
        "element 1 should have stopped mid-run: {done_in_shard_1} done in it, {pending} pending\n{shown}"
    );
    // The collect job ran (afterany) and merged what there was.
    assert!(out.join("results.csv").is_file(), "the collect job did not run:\n{}", logs(&out));

    let ids = submit(&env, "slow.toml", "slow-slurm");
    wait_for(&ids, &out);
    eprintln!("slurm test: the resubmitted jobs ended after {:.1}s", t1.elapsed().as_secs_f64());
    let (code, shown) = status_code(&env, "slow-slurm");
    assert_eq!(code, 0, "status after resubmitting:\n{shown}\n{}", logs(&out));
    assert_same_as_local(&env, "slow.toml", "slow-slurm", "slow-local", 160, 160);
    eprintln!("slurm test: killed element finished on resubmission; part 2 took {:.1}s", t1.elapsed().as_secs_f64());

    // 3. A Python function on persistent workers ([python]), with a seeded rng and arrays:
    //    each array element starts its own worker, and the shards equal a local run.
    if require_tool("numpy", numpy()).is_some() {
        let t2 = Instant::now();
        env.write(
            "draws.py",
            "def draw(x, *, rng):\n    return {\"m\": float(rng.normal()) + x, \"a\": rng.normal(size=3)}\n",
        );
        env.write(
            "python.toml",
            "name = \"slurm-python\"\nreplicates = 3\n\n[python]\nfunction = \"draws.py:draw\"\n\n\
             [params]\nx = { range = [0, 20] }\n",
        );
        let out = env.path("python-slurm");
        let ids = submit(&env, "python.toml", "python-slurm");
        wait_for(&ids, &out);
        let (code, shown) = status_code(&env, "python-slurm");
        assert_eq!(code, 0, "status after the jobs:\n{shown}\n{}", logs(&out));
        assert_same_as_local(&env, "python.toml", "python-slurm", "python-local", 60, 60);
        eprintln!("slurm test: [python] sweep matched a local run after {:.1}s", t2.elapsed().as_secs_f64());
    }
    eprintln!("slurm test: all parts took {:.1}s", t0.elapsed().as_secs_f64());
}
