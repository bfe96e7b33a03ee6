//! Helpers shared by the integration tests: a temporary working directory with a spec,
//! the `sweep` binary run inside it, and readers for what it writes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A temporary directory that `sweep` runs in.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        Env { dir: tempfile::tempdir().expect("tempdir") }
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

    /// `sweep ARGS` in the directory.
    pub fn sweep(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("sweep").unwrap();
        c.current_dir(self.dir.path()).args(args).env_remove("SLURM_CPUS_PER_TASK");
        c
    }

    /// `sweep ARGS` started in the background.
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

    /// results.csv as rows of (column → value).
    pub fn results(&self, out: &str) -> Vec<BTreeMap<String, String>> {
        parse_csv(&self.read(&format!("{out}/results.csv")))
    }
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

/// Every `.npy` under `dir`, by path relative to it.
pub fn npy_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "npy") {
                out.insert(p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// Every file under `dir` whose name marks it a temporary.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.file_name().unwrap().to_string_lossy().contains(".sweep-tmp") {
                out.push(p);
            }
        }
    }
    walk(dir, &mut out);
    out
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
