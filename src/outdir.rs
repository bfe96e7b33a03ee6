//! The out directory: its layout, its lock and its manifest.

use crate::spec::{Source, Spec, TaskKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The manifest format version.
pub const MANIFEST_FORMAT: u32 = 1;

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

/// Held for the whole run; released by the OS when the process ends, however it ends,
/// so a killed run never blocks the next one.
#[derive(Debug)]
pub struct Lock {
    _files: Vec<File>,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds it.
    #[error(
        "another sweep run is using {0} (it holds {1}); wait for it to finish, or check it with `sweep status {0}`"
    )]
    Busy(String, String),
    /// The lock file could not be opened.
    #[error("cannot lock {0}: {1}")]
    Io(String, io::Error),
}

fn open_lock(path: &Path) -> Result<File, LockError> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| LockError::Io(path.display().to_string(), e))
}

impl Lock {
    /// Takes the lock of `out`: exclusively for a whole-grid run; for a shard, the
    /// directory lock shared (shards run side by side) and the shard's own lock exclusively.
    pub fn acquire(out: &OutDir, shard_stem: Option<&str>) -> Result<Lock, LockError> {
        let busy = |p: &Path| LockError::Busy(out.root.display().to_string(), p.display().to_string());
        let root = out.lock_path();
        let f = open_lock(&root)?;
        match shard_stem {
            None => {
                f.try_lock().map_err(|_| busy(&root))?;
                Ok(Lock { _files: vec![f] })
            }
            Some(stem) => {
                f.try_lock_shared().map_err(|_| busy(&root))?;
                let dir = out.root.join("journal");
                std::fs::create_dir_all(&dir).map_err(|e| LockError::Io(dir.display().to_string(), e))?;
                let p = dir.join(format!("{stem}.lock"));
                let g = open_lock(&p)?;
                g.try_lock().map_err(|_| busy(&p))?;
                Ok(Lock { _files: vec![f, g] })
            }
        }
    }

    /// Whether some run holds `out`'s lock now (without taking it).
    pub fn is_held(out: &OutDir) -> bool {
        let Ok(f) = File::open(out.lock_path()) else { return false };
        match f.try_lock() {
            Ok(()) => {
                let _ = f.unlock();
                false
            }
            Err(_) => true,
        }
    }
}

/// `manifest.json`: what the out directory holds and what identifies its tasks.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Manifest {
    /// Manifest format version.
    pub format: u32,
    /// The sweep's name.
    pub name: String,
    /// The sweep version that wrote it.
    pub tool_version: String,
    /// SHA-256 of the spec text.
    pub spec_hash: String,
    /// When the sweep was first started (RFC 3339).
    pub created: String,
    /// When the spec was last changed by an extension.
    pub updated: String,
    /// "model" or "command".
    pub kind: String,
    /// The model name (model sweeps).
    pub model: Option<String>,
    /// The master seed.
    pub seed: u64,
    /// Replicates per point.
    pub replicates: u32,
    /// The swept parameters.
    pub columns: Vec<String>,
    /// The axes: names and lengths.
    pub axes: Vec<ManifestAxis>,
    /// Task count.
    pub tasks: u64,
    /// Fixed model parameters (defaults included), as JSON values.
    pub fixed: serde_json::Map<String, serde_json::Value>,
    /// The command's identity (command sweeps).
    pub command: Option<serde_json::Value>,
    /// The arrays a model sweep saves (absent in manifests written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save: Option<Vec<String>>,
    /// `"zarr"` when the arrays go to `store.zarr` (`[output] arrays`); absent for `.npy`
    /// per task, as in manifests written before the store existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrays: Option<String>,
    /// What produced the results (see [`crate::provenance`]), when the sweep was started
    /// or last extended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<serde_json::Value>,
    /// The fixed parameters' columns of `results.csv`, after the swept ones (absent in
    /// manifests of sweeps whose results.csv had none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_columns: Vec<String>,
    /// The directory of the spec file the sweep was started from, which its inputs resolve
    /// against (absent in older manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_dir: Option<String>,
    /// Adaptive replicates, `{ "min", "max", "round", "metric", "ci95_rel" | "ci95_abs" }`
    /// (absent for a fixed count). `replicates` and `tasks` are then the most a point and
    /// the sweep can run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<serde_json::Value>,
}

/// Why `manifest.json` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file is not a manifest of a format this version reads.
    #[error("{} is not a sweep manifest: {source}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A newer sweep wrote the file.
    #[error("{} was written by a newer sweep (format {format}); upgrade sweep", path.display())]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its format version.
        format: u32,
    },
}

/// One axis in the manifest.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ManifestAxis {
    /// Its parameters.
    pub names: Vec<String>,
    /// Its length.
    pub len: usize,
}

/// SHA-256 of a spec's text, hex.
pub fn spec_hash(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

impl Manifest {
    /// The manifest for `spec`.
    pub fn for_spec(spec: &Spec) -> Manifest {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let (kind, model, fixed, command) = match &spec.task {
            TaskKind::Model(m) => (
                "model",
                Some(m.model.name().to_string()),
                m.fixed.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
                None,
            ),
            TaskKind::Command(c) => ("command", None, Default::default(), Some(c.identity.clone())),
            TaskKind::Worker(w) => (w.table, None, Default::default(), Some(w.identity.clone())),
        };
        Manifest {
            format: MANIFEST_FORMAT,
            name: spec.name.clone(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            spec_hash: spec_hash(&spec.text),
            created: now.clone(),
            updated: now,
            kind: kind.into(),
            model,
            seed: spec.seed,
            replicates: spec.grid.replicates,
            columns: spec.grid.columns.clone(),
            axes: spec.grid.axes.iter().map(|a| ManifestAxis { names: a.names.clone(), len: a.len() }).collect(),
            tasks: spec.task_count(),
            fixed,
            command,
            provenance: None,
            spec_dir: Some(spec.base.display().to_string()),
            adaptive: spec.adaptive.as_ref().map(|a| {
                let (key, target) = match a.target {
                    crate::grid::Target::Relative(x) => ("ci95_rel", x),
                    crate::grid::Target::Absolute(x) => ("ci95_abs", x),
                };
                serde_json::json!({ "min": a.min, "max": a.max, "round": a.round, "metric": a.metric, key: target })
            }),
            fixed_columns: crate::results::fixed_params(spec).into_iter().map(|(n, _)| n).collect(),
            arrays: (spec.arrays == crate::spec::ArrayLayout::Zarr).then(|| "zarr".to_string()),
            save: match &spec.task {
                TaskKind::Model(m) => Some(match &m.save {
                    Some(names) => names.to_vec(),
                    None => m.model.arrays().iter().map(|a| a.name.to_string()).collect(),
                }),
                _ => None,
            },
        }
    }

    /// The parameter columns of the sweep's `results.csv`: the swept ones, then the fixed.
    pub fn param_columns(&self) -> Vec<String> {
        self.columns.iter().chain(&self.fixed_columns).cloned().collect()
    }

    /// Reads `manifest.json` of `out`; a missing file keeps its [`io::ErrorKind::NotFound`].
    pub fn read(out: &OutDir) -> io::Result<Manifest> {
        Self::load(out).map_err(|e| match e {
            ManifestError::Io { source, .. } => source,
            other => io::Error::other(other),
        })
    }

    /// Reads `manifest.json` of `out`, saying which file failed and why.
    pub fn load(out: &OutDir) -> Result<Manifest, ManifestError> {
        let path = out.manifest();
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path),
            Err(source) => Err(ManifestError::Io { path, source }),
        }
    }

    /// Parses the text of a manifest read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        /// The one field every format keeps.
        #[derive(Deserialize)]
        struct Format {
            format: u32,
        }
        // Checked before the rest: a newer format may have changed any other field, and
        // "upgrade sweep" is then the useful message.
        if let Ok(Format { format }) = serde_json::from_str(text) {
            if format > MANIFEST_FORMAT {
                return Err(ManifestError::Newer { path: path.to_path_buf(), format });
            }
        }
        serde_json::from_str(text).map_err(|source| ManifestError::Malformed { path: path.to_path_buf(), source })
    }

    /// What in `spec` would change the tasks this manifest's sweep already has: a
    /// different model or command, master seed, or fixed parameter value. Adding values,
    /// axes that hold an existing fixed value, or replicates changes nothing that exists.
    pub fn incompatibilities(&self, spec: &Spec) -> Vec<String> {
        let new = Manifest::for_spec(spec);
        let mut out = Vec::new();
        if self.kind != new.kind || self.model != new.model {
            let show = |m: &Manifest| m.model.clone().map_or("a command".to_string(), |n| format!("model `{n}`"));
            out.push(format!("the sweep ran {}, the spec now runs {}", show(self), show(&new)));
        }
        if self.command != new.command {
            out.push("the [command] table (argv/shell, env or cwd) changed".into());
        }
        if let (Some(old), Some(now)) = (&self.save, &new.save) {
            if old != now {
                out.push(format!(
                    "`save` changed from [{}] to [{}]: the done tasks' arrays would not match",
                    old.join(", "),
                    now.join(", ")
                ));
            }
        }
        if self.arrays != new.arrays {
            let show = |a: &Option<String>| a.clone().unwrap_or_else(|| "npy".into());
            out.push(format!(
                "`[output] arrays` changed from \"{}\" to \"{}\": the done tasks' arrays are in the other layout",
                show(&self.arrays),
                show(&new.arrays)
            ));
        }
        if self.seed != new.seed {
            out.push(format!("seed changed from {} to {}", self.seed, new.seed));
        }
        if let TaskKind::Model(m) = &spec.task {
            for (name, old) in &self.fixed {
                let Some(i) = m.specs.iter().position(|s| s.name == name) else { continue };
                let still_there = match &m.sources[i] {
                    Source::Fixed(v) => &v.to_json() == old,
                    Source::Column(c) => {
                        let (a, mem) = spec.grid.column_position(*c);
                        spec.grid.axes[a].values[mem].iter().any(|v| &v.to_json() == old)
                    }
                };
                if !still_there {
                    let now = match &m.sources[i] {
                        Source::Fixed(v) => v.to_string(),
                        Source::Column(_) => "a swept list without it".into(),
                    };
                    out.push(format!("fixed parameter `{name}` changed from {old} to {now}"));
                }
            }
        }
        out
    }

    /// Writes the manifest atomically.
    pub fn write(&self, out: &OutDir) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)? + "\n";
        crate::io::write_atomic(&out.manifest(), |w| io::Write::write_all(w, text.as_bytes()))
    }

    /// Writes the manifest only if none exists (shards starting together: the first wins).
    pub fn write_new(&self, out: &OutDir) -> io::Result<bool> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)? + "\n";
        create_new(&out.manifest(), text.as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_errors_keep_their_kind_and_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutDir::new(dir.path());
        assert_eq!(Manifest::read(&out).unwrap_err().kind(), io::ErrorKind::NotFound);
        let path = out.manifest();
        // A newer format is named as such even when its other fields changed.
        std::fs::write(&path, "{\"format\": 2, \"name\": [1]}").unwrap();
        assert!(matches!(Manifest::load(&out), Err(ManifestError::Newer { format: 2, .. })));
        let shown = format!("{} was written by a newer sweep (format 2); upgrade sweep", path.display());
        assert_eq!(Manifest::read(&out).unwrap_err().to_string(), shown);
        std::fs::write(&path, "{\"format\": 1}").unwrap();
        let err = Manifest::read(&out).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{} is not a sweep manifest: missing field", path.display())), "{err}");
    }
}
