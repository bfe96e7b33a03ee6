//! `manifest.json`: what an out directory's sweep is, and which spec changes it refuses.

use super::{create_new, OutDir};
use crate::spec::{Source, Spec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};

/// The manifest format version.
pub const MANIFEST_FORMAT: u32 = 1;

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
    /// `[output] dims`, implied entries included: array name → its own dimensions' names,
    /// which readers give the array in place of `<name>_dimK` (absent without the key).
    /// Not part of what identifies tasks: a change renames dimensions and reruns nothing.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub dims: std::collections::BTreeMap<String, Vec<String>>,
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
    /// The `[sample]` design, `{ "method", "n", "ranges": { name: [scale, lo, hi] } }`
    /// (absent without one); its parameters are the axis whose dimension is `sample`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<serde_json::Value>,
    /// `[refine]`, `{ "axis", "metric", "budget", "batch", "tolerance" }` (absent without
    /// it): the refined axis's `len` is then the budget, the most points a curve has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<serde_json::Value>,
    /// The parameters left out of seeds (`common_seed`); absent when none are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub common_seed: Vec<String>,
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
    /// Its dimension's name where that is not its first parameter's: `"sample"` for the
    /// points of a `[sample]` design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dim: Option<String>,
}

/// Whether a task kind's identity in a manifest (`old`) is the spec's (`new`). A manifest
/// written before the working directory entered identity relative to the spec's directory
/// holds it absolute: it is the same when it names the same place from `base`, the spec's
/// directory now.
fn same_identity(old: Option<&serde_json::Value>, new: Option<&serde_json::Value>, base: &Path) -> bool {
    if old == new {
        return true;
    }
    let (Some(old), Some(new)) = (old, new) else { return false };
    let cwd = |v: &serde_json::Value| v.get("cwd").and_then(|c| c.as_str()).map(std::path::PathBuf::from);
    match (cwd(old), cwd(new)) {
        (Some(was), Some(now)) if was.is_absolute() && !now.is_absolute() => {
            let here: std::path::PathBuf =
                base.join(&now).components().filter(|c| *c != std::path::Component::CurDir).collect();
            let mut old = old.clone();
            old["cwd"] = new["cwd"].clone();
            was == here && &old == new
        }
        _ => false,
    }
}

/// SHA-256 of a spec's text, hex.
pub fn spec_hash(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

impl Manifest {
    /// The manifest for `spec`.
    pub fn for_spec(spec: &Spec) -> Manifest {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let task = &spec.task;
        let (kind, model, command) = (task.table(), task.model().map(|m| m.model.name().to_string()), task.identity());
        let fixed = task.fixed().iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
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
            axes: (spec.grid.axes.iter().enumerate())
                .map(|(i, a)| ManifestAxis {
                    names: a.names.clone(),
                    len: a.len(),
                    dim: (spec.grid.sample == Some(i)).then(|| spec.grid.dim(i).to_string()),
                })
                .collect(),
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
            sample: spec.design.as_ref().map(crate::grid::Design::to_json),
            refine: spec.refine.as_ref().map(|r| {
                serde_json::json!({ "axis": r.axis, "metric": r.metric, "budget": r.budget, "batch": r.batch,
                                    "tolerance": r.tolerance })
            }),
            // Sorted: the order the names are written in changes no seed.
            common_seed: {
                let mut names = spec.common_seed.clone();
                names.sort();
                names
            },
            fixed_columns: crate::results::fixed_params(spec).into_iter().map(|(n, _)| n).collect(),
            arrays: (spec.arrays == crate::spec::ArrayLayout::Zarr).then(|| "zarr".to_string()),
            dims: spec.dims.clone(),
            save: spec.task.model().map(|m| match &m.save {
                Some(names) => names.to_vec(),
                None => m.model.arrays().iter().map(|a| a.name.to_string()).collect(),
            }),
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
        if !same_identity(self.command.as_ref(), new.command.as_ref(), &spec.base) {
            out.push(match new.kind.as_str() {
                "python" => "the [python] table (function, env or cwd) changed".into(),
                "worker" => "the [worker] table (argv, env or cwd) changed".into(),
                _ => "the [command] table (argv/shell, env or cwd) changed".into(),
            });
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
        out.extend(sample_changes(&self.sample, &new.sample));
        out.extend(refine_changes(&self.refine, &new.refine));
        if self.seed != new.seed {
            out.push(format!("seed changed from {} to {}", self.seed, new.seed));
        }
        if self.common_seed != new.common_seed {
            let show = |names: &[String]| match names {
                [] => "absent".to_string(),
                _ => format!("[{}]", names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")),
            };
            out.push(format!(
                "`common_seed` changed from {} to {}: the done tasks' seeds would change",
                show(&self.common_seed),
                show(&new.common_seed)
            ));
        }
        if let Some(m) = spec.task.model() {
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

/// What a change of `[refine]` does to the points its rounds chose: another axis, metric
/// or batch would choose other points from the first round on. A new `budget` or
/// `tolerance` keeps them (a larger budget goes on refining where the last run stopped).
fn refine_changes(old: &Option<serde_json::Value>, new: &Option<serde_json::Value>) -> Vec<String> {
    let (Some(old), Some(new)) = (old, new) else {
        return match (old, new) {
            (Some(_), None) => vec!["the [refine] table was removed: the refined points would be lost".into()],
            (None, Some(_)) => {
                vec!["a [refine] table was added: the axis's values would become a curve's start".into()]
            }
            _ => Vec::new(),
        };
    };
    ["axis", "metric", "batch"]
        .iter()
        .filter(|k| old[**k] != new[**k])
        .map(|k| format!("[refine] `{k}` changed from {} to {}: other points would be chosen", old[*k], new[*k]))
        .collect()
}

/// What a change of `[sample]` does to the points a sweep already has: another method or
/// other ranges move every point, and so does another `n` of a Latin hypercube, whose
/// strata are `1/n` wide. Raising or lowering `n` of the other methods keeps (or drops)
/// points at the end of the sequence, and changes none.
fn sample_changes(old: &Option<serde_json::Value>, new: &Option<serde_json::Value>) -> Vec<String> {
    let (old, new) = match (old, new) {
        (None, None) => return Vec::new(),
        (Some(_), None) => return vec!["the [sample] table was removed: the sampled points would be lost".into()],
        (None, Some(_)) => return vec!["a [sample] table was added: every task would gain sampled parameters".into()],
        (Some(o), Some(n)) => (o, n),
    };
    let mut out = Vec::new();
    if old["method"] != new["method"] {
        out.push(format!(
            "[sample] `method` changed from {} to {}: every point would move",
            old["method"], new["method"]
        ));
    }
    if old["ranges"] != new["ranges"] {
        out.push("the ranges of [sample] changed: every point would move".into());
    }
    if out.is_empty() && old["method"] == "lhs" && old["n"] != new["n"] {
        out.push(format!(
            "[sample] `n` changed from {} to {}: a Latin hypercube's strata are 1/n wide, so every point would \
             move (sobol, halton and random designs extend instead)",
            old["n"], new["n"]
        ));
    }
    out
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
