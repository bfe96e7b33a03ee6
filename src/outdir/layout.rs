//! Where an out directory keeps what, and creating a file there only once.

use std::io;
use std::path::{Path, PathBuf};

/// Directories that `sweep slurm` may create in an out directory before the sweep starts
/// (its batch scripts and the jobs' logs); an out directory holding only these is vacant.
pub const SLURM_DIRS: [&str; 2] = ["slurm", "slurm-logs"];

/// Paths inside an out directory.
#[derive(Clone, Debug)]
pub struct OutDir {
    /// The directory.
    pub root: PathBuf,
}

impl OutDir {
    /// The out directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    /// `spec.toml`: the spec as run.
    pub fn spec(&self) -> PathBuf {
        self.root.join("spec.toml")
    }
    /// `manifest.json`.
    pub fn manifest(&self) -> PathBuf {
        self.root.join("manifest.json")
    }
    /// `runs.jsonl`: what each run did and the resources it used ([`crate::runlog`]).
    pub fn runs(&self) -> PathBuf {
        self.root.join("runs.jsonl")
    }
    /// `verify.json`: the last `sweep verify` and its result ([`crate::verify`]).
    pub fn verify(&self) -> PathBuf {
        self.root.join("verify.json")
    }
    /// `store.zarr/`: the arrays of a sweep with `[output] arrays = "zarr"`.
    pub fn store(&self) -> PathBuf {
        self.root.join("store.zarr")
    }
    /// `staging/`: each run's staged arrays, from which `store.zarr` is built.
    pub fn staging(&self) -> PathBuf {
        self.root.join("staging")
    }
    /// `results.csv`.
    pub fn results(&self) -> PathBuf {
        self.root.join("results.csv")
    }
    /// `points.csv`: per grid point, what adaptive replicates decided.
    pub fn points(&self) -> PathBuf {
        self.root.join("points.csv")
    }
    /// `tasks/<task>/`.
    pub fn task_dir(&self, task: &str) -> PathBuf {
        self.root.join("tasks").join(task)
    }
    /// The journal a run of `shard` appends to: `journal.jsonl`, or
    /// `journal/shard-I-of-N.jsonl` for a shard.
    pub fn journal(&self, shard: Option<&str>) -> PathBuf {
        match shard {
            None => self.root.join("journal.jsonl"),
            Some(stem) => self.root.join("journal").join(format!("{stem}.jsonl")),
        }
    }
    /// The lock every run holds (exclusively, or shared by shard runs).
    pub fn lock_path(&self) -> PathBuf {
        self.root.join(".sweep.lock")
    }
    /// Whether the directory holds a sweep (a manifest, or a lock a run created).
    pub fn holds_sweep(&self) -> bool {
        self.manifest().is_file() || self.lock_path().is_file()
    }
    /// Refuses a symbolic link where sweep keeps its own files and directories: sweep never
    /// writes through a link planted in an out directory. (The out directory itself may be
    /// a link: that is where the user chose to put it.)
    pub fn check_no_links(&self) -> Result<(), String> {
        const OWN: [&str; 16] = [
            "spec.toml",
            "verify.json",
            "runs.jsonl",
            "manifest.json",
            "journal.jsonl",
            "results.csv",
            ".sweep.lock",
            "journal",
            "tasks",
            "attempts",
            "workers",
            "bench",
            "report.html",
            "plots",
            "staging",
            "store.zarr",
        ];
        for name in OWN {
            let p = self.root.join(name);
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(format!(
                    "{} is a symbolic link; sweep never follows links inside its out directory. \
                     Remove it (nothing was changed)",
                    p.display()
                ));
            }
        }
        Ok(())
    }

    /// `plots/`: where `sweep plot` writes by default.
    pub fn plots(&self) -> PathBuf {
        self.root.join("plots")
    }
    /// `bench/`: what `sweep run --bench` writes (`bench.json`, `speedup.svg`).
    pub fn bench(&self) -> PathBuf {
        self.root.join("bench")
    }
    /// Whether the directory is missing or empty, apart from a `bench/` that a benchmark
    /// wrote and the [`SLURM_DIRS`] (a SLURM job's log directory must exist before the job
    /// that starts the sweep does).
    pub fn is_vacant(&self) -> bool {
        match std::fs::read_dir(&self.root) {
            Ok(rd) => rd.filter_map(Result::ok).all(|e| {
                e.path().is_dir() && (e.file_name() == "bench" || SLURM_DIRS.iter().any(|d| e.file_name() == *d))
            }),
            Err(_) => !self.root.exists(),
        }
    }
}

/// Creates `path` with `bytes` atomically, only if it does not exist yet; `Ok(false)`
/// when it already existed.
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let tmp = path.with_extension(format!("new{}-{}", crate::io::TEMP_MARK, std::process::id()));
    std::fs::write(&tmp, bytes)?;
    let r = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}
