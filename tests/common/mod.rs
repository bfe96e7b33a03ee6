//! Helpers shared by the integration tests: a temporary working directory with a spec,
//! the `sweep` binary run inside it with its exit code checked, and readers for what it
//! writes. Every test file goes through here.
//!
//! - [`files`]: the one walker over a directory tree ([`npy_files`], [`temp_files`], ...).
//! - [`procs`]: live processes by their environment or command line.
//! - [`wait`]: waiting for an observable condition with a deadline ([`wait_until`]).
//! - [`tools`]: skipping visibly when python3/numpy, Chromium or SLURM is missing, failing
//!   instead under `CI=true` ([`require_tool`]).
//! - [`outdir`]: fake out directories for the report tests (src/report's unit tests and
//!   benches/report.rs include the same file by path).
//! - [`model`]: one task of a built-in model through the library API.
// Each test binary uses some of these helpers, so the rest is unused there.
#![allow(dead_code, unused_imports)]

pub mod files;
pub mod model;
pub mod outdir;
pub mod procs;
pub mod slots;
pub mod tools;
pub mod wait;

pub use files::*;
pub use procs::*;
pub use tools::*;
pub use wait::*;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A temporary directory that `sweep` runs in.
pub struct Env {
    pub dir: tempfile::TempDir,
}

/// What a finished `sweep` printed.
#[derive(Debug)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    pub fn new() -> Self {
        Env { dir: tempfile::tempdir().expect("tempdir") }
    }

    /// A fresh directory holding one file, `name`, with `text` (usually a spec).
    pub fn with(name: &str, text: &str) -> Self {
        let env = Env::new();
        env.write(name, text);
        env
    }

    /// A fresh directory under `parent` (e.g. `/tmp`, where SLURM jobs can write).
    pub fn under(parent: &str, prefix: &str) -> Self {
        Env { dir: tempfile::Builder::new().prefix(prefix).tempdir_in(parent).expect("tempdir") }
    }

    /// Writes `text` to `name` inside the directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `path(rel)` as a string, for an argument that must be absolute.
    pub fn abs(&self, rel: &str) -> String {
        self.path(rel).to_str().expect("a UTF-8 temporary path").to_string()
    }

    /// `sweep ARGS` in the directory, to be run by the caller (e.g. with more environment).
    /// Keep the `Env` alive until it has run: dropping it deletes the directory.
    pub fn sweep(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("sweep").unwrap();
        c.current_dir(self.dir.path()).args(args).env_remove("SLURM_CPUS_PER_TASK");
        c
    }

    /// Runs `sweep ARGS`, asserts that it exits with `code`, returns what it printed.
    #[track_caller]
    pub fn exits(&self, args: &[&str], code: i32) -> Out {
        exits(&mut self.sweep(args), code)
    }

    /// `sweep ARGS` exits 0; returns its stdout.
    #[track_caller]
    pub fn succeeds(&self, args: &[&str]) -> String {
        self.exits(args, 0).stdout
    }

    /// `sweep ARGS` exits 0; returns its stderr (the summary, notes and warnings).
    #[track_caller]
    pub fn succeeds_stderr(&self, args: &[&str]) -> String {
        self.exits(args, 0).stderr
    }

    /// `sweep ARGS` exits with `code`; returns its stderr.
    #[track_caller]
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        assert_ne!(code, 0, "use succeeds() for a command that must succeed");
        self.exits(args, code).stderr
    }

    /// `sweep ARGS` started in the background, stdout discarded, stderr piped.
    pub fn spawn(&self, args: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_sweep"))
            .current_dir(self.dir.path())
            .args(args)
            .env_remove("SLURM_CPUS_PER_TASK")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// results.csv of the sweep in `out` as rows of (column → value).
    pub fn results(&self, out: &str) -> Vec<BTreeMap<String, String>> {
        parse_csv(&self.read(&format!("{out}/results.csv")))
    }

    /// The tasks that the journal of the sweep in `out` records done (none while it has
    /// no journal).
    pub fn journaled_done(&self, out: &str) -> BTreeSet<String> {
        done_tasks(&std::fs::read_to_string(self.path(&format!("{out}/journal.jsonl"))).unwrap_or_default())
    }

    /// Runs `sweep run SPEC --out OUT -q --jobs 2` `rounds` times (with `--resume` after
    /// the first) and kills each run with SIGKILL as soon as its journal holds a done task
    /// more than before, so that the kill lands while tasks are in flight; checks that it
    /// did: each round journaled tasks, and fewer than all `total`. Leaves OUT unfinished.
    #[track_caller]
    pub fn kill_9_mid_run(&self, spec: &str, out: &str, rounds: usize, total: usize) {
        let mut journaled = 0;
        for round in 0..rounds {
            let mut args = vec!["run", spec, "--out", out, "-q", "--jobs", "2"];
            if round > 0 {
                args.push("--resume");
            }
            let mut child = self.spawn(&args);
            wait_until(&format!("round {round} to journal a task"), Duration::from_secs(30), || {
                assert!(child.try_wait().unwrap().is_none(), "round {round}: the run ended before it was killed");
                self.journaled_done(out).len() > journaled
            });
            kill9(&mut child);
            let now = self.journaled_done(out).len();
            assert!(now > journaled, "round {round} journaled nothing");
            assert!(now < total, "round {round} journaled all {total} tasks before the kill");
            journaled = now;
        }
    }
}

/// Runs `cmd`, asserts that it exits with `code`, returns what it printed. The failure
/// message shows both outputs.
#[track_caller]
pub fn exits(cmd: &mut assert_cmd::Command, code: i32) -> Out {
    let o = cmd.output().expect("cannot run sweep");
    let out = Out { stdout: text(&o.stdout), stderr: text(&o.stderr) };
    assert_eq!(o.status.code(), Some(code), "{cmd:?}: exit status {}, not {code}\n{out:#?}", o.status);
    out
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn stderr(o: &std::process::Output) -> String {
    text(&o.stderr)
}

pub fn parse_csv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect())
        .collect()
}

/// The CSV text without the named columns (timing columns differ between runs).
pub fn without_columns(text: &str, drop: &[&str]) -> String {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    let keep: Vec<usize> = (0..headers.len()).filter(|i| !drop.contains(&&headers[*i])).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(keep.iter().map(|i| &headers[*i])).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        w.write_record(keep.iter().map(|i| &rec[*i])).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The complete lines of a journal, parsed: each run's header, then its records. A line
/// that does not parse (torn by a killed run) is skipped, as sweep itself skips it, and so
/// is a last line still being written.
pub fn journal_lines(journal: &str) -> Vec<serde_json::Value> {
    journal.split_inclusive('\n').filter(|l| l.ends_with('\n')).filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The tasks a journal records done, over all its runs (format 2: records with metrics,
/// `"m"`; format 1: `"status": "done"`).
pub fn done_tasks(journal: &str) -> BTreeSet<String> {
    journal_lines(journal)
        .iter()
        .filter(|v| v["status"] == "done" || (v.get("status").is_none() && v.get("m").is_some()))
        .filter_map(|v| v.get("t").or_else(|| v.get("task")).and_then(|t| t.as_str()).map(String::from))
        .collect()
}

/// Rewrites the journal at `path` as a sweep without grid indices wrote it (no `"i"` in
/// records, no `"spec"` in headers), which sweep can place only through task ids, the slow
/// way; removes its checkpoint (which describes the bytes as they were).
pub fn strip_indices(path: &std::path::Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let m = v.as_object_mut().unwrap();
        m.remove("i");
        m.remove("spec");
        out.push_str(&v.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
    let _ = std::fs::remove_file(path.with_extension("ckpt"));
}

/// Sends `sig` to `child`.
pub fn signal(child: &Child, sig: i32) {
    unsafe { libc::kill(child.id() as i32, sig) };
}

/// Kills `child` with SIGKILL and reaps it.
pub fn kill9(child: &mut Child) {
    signal(child, libc::SIGKILL);
    let _ = child.wait();
}
