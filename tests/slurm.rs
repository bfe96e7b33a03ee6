//! `sweep slurm --submit` on a real SLURM cluster (ci/slurm-test.sh starts a single-node one
//! with ci/slurm-up.sh): the sharded results equal a local run byte for byte, and a killed
//! array element is finished by submitting again.
//!
//! Skipped, with a message, where `sbatch` or `sinfo` is missing, unless
//! `SWEEP_REQUIRE_SLURM=1`, which makes a missing SLURM a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use sweep::cluster::slurm::any_queued;

const BIN: &str = env!("CARGO_BIN_EXE_sweep");

/// How long the jobs of one submission may take, queueing included.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

fn has(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Whether to run: SLURM is there, or it is required (then its absence fails the test).
fn slurm_or_skip() -> bool {
    let mut missing: Vec<&str> = ["sbatch", "sinfo", "squeue", "scancel"].into_iter().filter(|p| !has(p)).collect();
    if missing.is_empty() && !cluster_up() {
        // Installed but not running (e.g. a developer machine): nothing to submit to.
        missing.push("a running cluster (sinfo shows no usable node)");
    }
    if missing.is_empty() {
        return true;
    }
    if std::env::var("SWEEP_REQUIRE_SLURM").is_ok_and(|v| v == "1") {
        panic!("SWEEP_REQUIRE_SLURM=1 but {} missing (start a cluster: ci/slurm-up.sh)", missing.join(", "));
    }
    eprintln!(
        "SKIPPED tests/slurm.rs: {} missing; run ci/slurm-test.sh (or set SWEEP_REQUIRE_SLURM=1 to fail instead)",
        missing.join(", ")
    );
    false
}

/// Whether `sinfo` answers and shows a node that can take jobs.
fn cluster_up() -> bool {
    Command::new("sinfo").args(["-h", "-o", "%t"]).output().is_ok_and(|o| {
        o.status.success()
            && String::from_utf8_lossy(&o.stdout).lines().any(|l| ["idle", "mix", "alloc"].contains(&l.trim()))
    })
}

fn sweep(args: &[&str], paths: &[&Path]) -> Output {
    Command::new(BIN).args(args).args(paths).output().expect("cannot run sweep")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `sweep slurm SPEC --shards 4 --submit --out OUT`; returns every job id (arrays, collect).
fn submit(spec: &Path, out: &Path) -> Vec<String> {
    let o = Command::new(BIN)
        .arg("slurm")
        .arg(spec)
        .args(["--shards", "4", "--submit", "--sweep-bin", BIN, "--out"])
        .arg(out)
        .output()
        .expect("cannot run sweep slurm");
    let stdout = text(&o.stdout);
    assert!(o.status.success(), "sweep slurm --submit failed: {}\n{stdout}{}", o.status, text(&o.stderr));
    assert!(stdout.contains(&format!("sweep status {}", out.display())), "{stdout}");
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
    let mut s = String::new();
    if let Ok(rd) = std::fs::read_dir(out.join("slurm-logs")) {
        let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            s.push_str(&format!("---- {}\n{}\n", p.display(), std::fs::read_to_string(&p).unwrap_or_default()));
        }
    }
    s
}

fn wait_for(ids: &[String], out: &Path) {
    let start = Instant::now();
    while any_queued(ids).expect("squeue failed") {
        if start.elapsed() > JOB_TIMEOUT {
            let q = Command::new("squeue").output().map(|o| text(&o.stdout)).unwrap_or_default();
            let _ = Command::new("scancel").args(ids).status();
            panic!("jobs {ids:?} still queued after {JOB_TIMEOUT:?}:\n{q}\n{}", logs(out));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// results.csv as rows keyed by task id, without the columns that depend on timing.
fn results(out: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let mut r = csv::Reader::from_path(out.join("results.csv"))
        .unwrap_or_else(|e| panic!("cannot read {}/results.csv: {e}\n{}", out.display(), logs(out)));
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[0], "task");
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let row = header
                .iter()
                .zip(rec.iter())
                .filter(|(h, _)| *h != "seconds" && *h != "attempts")
                .map(|(h, v)| (h.clone(), v.to_string()))
                .collect();
            (rec[0].to_string(), row)
        })
        .collect()
}

/// Every .npy under `dir`, by path relative to it.
fn arrays(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, acc: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, acc);
            } else if p.extension().is_some_and(|x| x == "npy") {
                acc.insert(p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut acc = BTreeMap::new();
    walk(dir, dir, &mut acc);
    acc
}

/// The sweep in `out` equals a local `sweep run` of `spec` into `local`: results.csv (but
/// `seconds` and `attempts`) and every array file, byte for byte.
fn assert_same_as_local(spec: &Path, out: &Path, local: &Path, tasks: usize, npy: usize) {
    let o = sweep(&["run", "-q", "--jobs", "2", "--out"], &[local, spec]);
    assert!(o.status.success(), "local run failed: {}", text(&o.stderr));
    let (got, want) = (results(out), results(local));
    assert_eq!(got.len(), tasks);
    assert!(got.values().all(|row| row.iter().any(|(h, v)| h == "status" && v == "done")), "not all done");
    if got != want {
        let first = got.iter().zip(&want).find(|(g, w)| g != w);
        panic!("results.csv of the SLURM run differs from the local run; first difference:\n{first:?}");
    }
    let (got, want) = (arrays(out), arrays(local));
    assert_eq!(got.len(), npy, "number of .npy files");
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>());
    for (path, bytes) in &got {
        assert!(bytes == &want[path], "{} differs from the local run", path.display());
    }
}

fn status_code(out: &Path) -> (i32, String) {
    let o = sweep(&["status"], &[out]);
    (o.status.code().unwrap_or(-1), text(&o.stdout))
}

#[test]
fn sharded_sweep_on_slurm_matches_a_local_run_and_survives_a_killed_element() {
    if !slurm_or_skip() {
        return;
    }
    let t0 = Instant::now();
    // Under /tmp: the SLURM daemons (root here) and the jobs must be able to write there.
    let dir = tempfile::Builder::new().prefix("sweep-slurm-test-").tempdir_in("/tmp").unwrap();
    let d = dir.path();

    // 1. A quick sweep with arrays: 400 tasks in 4 shards.
    let spec = d.join("quick.toml");
    std::fs::write(
        &spec,
        "name = \"slurm-quick\"\nreplicates = 200\n\n[model]\nname = \"spin\"\n\n\
         [params]\nmicros = [1000, 2000]\narray_len = 16\n",
    )
    .unwrap();
    let out = d.join("quick-slurm");
    let ids = submit(&spec, &out);
    wait_for(&ids, &out);
    let (code, shown) = status_code(&out);
    assert_eq!(code, 0, "status after the jobs:\n{shown}\n{}", logs(&out));
    for k in 0..4 {
        assert!(out.join(format!("journal/shard-{k}-of-4.jsonl")).is_file(), "no journal of shard {k}");
    }
    assert_same_as_local(&spec, &out, &d.join("quick-local"), 400, 400);
    eprintln!("slurm test: quick sweep matched a local run after {:.1}s", t0.elapsed().as_secs_f64());

    // 2. A slower sweep (4 shards of 40 tasks of 0.1 s, about 4 s each): cancel element 1
    //    while it runs, then submit again, which finishes it.
    let t1 = Instant::now();
    let spec = d.join("slow.toml");
    std::fs::write(
        &spec,
        "name = \"slurm-slow\"\nreplicates = 160\n\n[model]\nname = \"spin\"\n\n\
         [params]\nmicros = 100000\narray_len = 4\n",
    )
    .unwrap();
    let out = d.join("slow-slurm");
    let ids = submit(&spec, &out);
    let journal = out.join("journal/shard-1-of-4.jsonl");
    let start = Instant::now();
    while !journal.is_file() {
        assert!(start.elapsed() < JOB_TIMEOUT, "element 1 did not start:\n{}", logs(&out));
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    let element = format!("{}_1", ids[0]);
    let st = Command::new("scancel").arg(&element).status().unwrap();
    assert!(st.success(), "scancel {element} failed");
    eprintln!("slurm test: cancelled {element} {:.1}s after it started", start.elapsed().as_secs_f64());
    wait_for(&ids, &out);
    eprintln!("slurm test: the other elements and the collect job ended after {:.1}s", t1.elapsed().as_secs_f64());
    let (code, shown) = status_code(&out);
    assert_eq!(code, 1, "the cancelled shard should be unfinished:\n{shown}");
    let pending: u64 = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("pending"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pending count in:\n{shown}"));
    let done_in_shard_1 = std::fs::read_to_string(&journal).unwrap().matches("\"status\":\"done\"").count();
    assert!(
        pending > 0 && done_in_shard_1 > 0,
        "element 1 should have stopped mid-run: {done_in_shard_1} done in it, {pending} pending\n{shown}"
    );
    // The collect job ran (afterany) and merged what there was.
    assert!(out.join("results.csv").is_file(), "the collect job did not run:\n{}", logs(&out));

    let ids = submit(&spec, &out);
    wait_for(&ids, &out);
    eprintln!("slurm test: the resubmitted jobs ended after {:.1}s", t1.elapsed().as_secs_f64());
    let (code, shown) = status_code(&out);
    assert_eq!(code, 0, "status after resubmitting:\n{shown}\n{}", logs(&out));
    assert_same_as_local(&spec, &out, &d.join("slow-local"), 160, 160);
    eprintln!(
        "slurm test: killed element finished on resubmission; part 2 took {:.1}s, all {:.1}s",
        t1.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
}
