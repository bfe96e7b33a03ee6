//! The code records of an out directory: `code/<id>.json` (each version's files and
//! hashes) and `code/runs/<journal>.jsonl` (one line per run: where its records start in
//! its journal, its code id and environment), and which version each done task came from.

use super::identity::{Code, Env, Hashed, Identity};
use crate::grid::TaskId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The format of the code records.
pub const CODE_FORMAT: u32 = 1;

/// One run's line in `code/runs/<journal>.jsonl`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RunCode {
    /// The format of the line.
    pub format: u32,
    /// Where the run's records start in its journal: just past its header line. Every
    /// record from here to the next run's offset is this run's.
    pub offset: u64,
    /// The run's code id (`code/<id>.json`).
    pub code: String,
    /// When the run started (RFC 3339).
    pub started: String,
    /// Its environment.
    #[serde(default)]
    pub env: Env,
    /// What hashing its code cost.
    #[serde(default)]
    pub hashed: Hashed,
    /// `"rerun"` or `"keep"`: the run was told what to do with done tasks of other code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_changed: Option<String>,
    /// With `keep`: the other versions whose done tasks the run kept. A later run of the
    /// same code keeps them too, without being told again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
}

/// The directory of the code records.
pub fn dir(out: &Path) -> PathBuf {
    out.join("code")
}

/// The file of code version `id`.
pub fn code_file(out: &Path, id: &str) -> PathBuf {
    dir(out).join(format!("{id}.json"))
}

/// The run lines of the journal at `journal`.
fn runs_file(out: &Path, journal: &Path) -> PathBuf {
    let stem = journal.file_stem().map_or_else(|| "journal".into(), |s| s.to_string_lossy().into_owned());
    dir(out).join("runs").join(format!("{stem}.jsonl"))
}

/// The code `sweep slurm --submit` found when it submitted the sweep's arrays.
fn pin_file(out: &Path) -> PathBuf {
    dir(out).join("submitted.json")
}

/// Records the code of a submission (`sweep slurm --submit`): array elements that start
/// later compare their code with it, so that an edit made while the array is queued fails
/// them, even before any task of the submitted code is done.
pub fn pin(out: &Path, code: &Code) -> io::Result<()> {
    std::fs::create_dir_all(dir(out))?;
    let file = code_file(out, &code.id);
    if !file.is_file() {
        let mut value = serde_json::to_value(code).map_err(io::Error::other)?;
        value["format"] = CODE_FORMAT.into();
        let text = serde_json::to_string_pretty(&value).map_err(io::Error::other)? + "\n";
        crate::io::write_atomic(&file, |w| w.write_all(text.as_bytes()))?;
    }
    let text = serde_json::json!({ "format": CODE_FORMAT, "code": code.id }).to_string() + "\n";
    crate::io::write_atomic(&pin_file(out), |w| w.write_all(text.as_bytes()))
}

/// The code id of the last submission, if any.
pub fn pinned(out: &Path) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(pin_file(out)).ok()?).ok()?;
    v["code"].as_str().map(String::from)
}

/// Reads code version `id` of the sweep in `out`; `None` when it was not recorded.
pub fn read_code(out: &Path, id: &str) -> Option<Code> {
    serde_json::from_slice(&std::fs::read(code_file(out, id)).ok()?).ok()
}

/// Records that the run appending to `journal` from byte `offset` on runs `identity`:
/// writes `code/<id>.json` when it is new, then appends the run's line. Called after the
/// journal's header is written and before any record is.
pub fn record_run(
    out: &Path,
    journal: &Path,
    offset: u64,
    identity: &Identity,
    code_changed: Option<&str>,
    kept: &[String],
) -> io::Result<()> {
    let file = code_file(out, &identity.code.id);
    std::fs::create_dir_all(dir(out).join("runs"))?;
    if !file.is_file() {
        let mut value = serde_json::to_value(&identity.code).map_err(io::Error::other)?;
        value["format"] = CODE_FORMAT.into();
        let text = serde_json::to_string_pretty(&value).map_err(io::Error::other)? + "\n";
        crate::io::write_atomic(&file, |w| w.write_all(text.as_bytes()))?;
    }
    let line = RunCode {
        format: CODE_FORMAT,
        offset,
        code: identity.code.id.clone(),
        started: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        env: identity.env.clone(),
        hashed: identity.hashed,
        code_changed: code_changed.map(String::from),
        kept: kept.to_vec(),
    };
    let mut text = serde_json::to_vec(&line).map_err(io::Error::other)?;
    text.push(b'\n');
    // One write of one line, to a file only this journal's runs append to.
    std::fs::OpenOptions::new().create(true).append(true).open(runs_file(out, journal))?.write_all(&text)
}

/// The run lines of every journal of `out`, by journal, each in file order; journals
/// without any (written before sweep recorded code) are absent.
pub fn runs(out: &Path) -> io::Result<BTreeMap<PathBuf, Vec<RunCode>>> {
    let mut all = BTreeMap::new();
    for journal in crate::journal::journal_files(out)? {
        let text = match std::fs::read_to_string(runs_file(out, &journal)) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        // A torn last line (a run killed as it wrote it) ran nothing: its journal has no
        // record after its header either.
        let lines: Vec<RunCode> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        if !lines.is_empty() {
            all.insert(journal, lines);
        }
    }
    Ok(all)
}

/// The code ids of every run recorded in `out`, each once, in the order first seen.
pub fn ids_of_runs(runs: &BTreeMap<PathBuf, Vec<RunCode>>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for r in runs.values().flatten() {
        if !ids.contains(&r.code) {
            ids.push(r.code.clone());
        }
    }
    ids
}

/// Which code version each done task of a sweep came from: that of the run whose done
/// record the sweep's state takes (the last one read, as [`crate::results::TaskTable`] folds
/// them). Tasks done only by runs before sweep recorded code are absent.
#[derive(Debug, Default)]
pub struct Attribution {
    /// The versions, in the order first seen.
    pub ids: Vec<String>,
    /// Each done task's version, an index into `ids`.
    pub of_task: HashMap<TaskId, u16>,
}

impl Attribution {
    /// Reads the journals of `out`, attributing each done record to its run's code.
    pub fn read(out: &Path, runs: &BTreeMap<PathBuf, Vec<RunCode>>) -> io::Result<Attribution> {
        let mut a = Attribution::default();
        let mut stats = crate::journal::ScanStats::default();
        for journal in crate::journal::journals_read_by(out, None)? {
            let empty = Vec::new();
            let lines = runs.get(&journal).unwrap_or(&empty);
            // Records before the first recorded run: code unknown.
            let mut bounds: Vec<(u64, Option<u16>)> = vec![(0, None)];
            for r in lines {
                let k = match a.ids.iter().position(|i| *i == r.code) {
                    Some(k) => k,
                    None => {
                        a.ids.push(r.code.clone());
                        a.ids.len() - 1
                    }
                };
                bounds.push((r.offset, Some(k as u16)));
            }
            for (n, &(start, code)) in bounds.iter().enumerate() {
                let end = bounds.get(n + 1).map_or(u64::MAX, |b| b.0);
                if start >= end {
                    continue;
                }
                crate::journal::scan_lines(
                    &journal,
                    start..end,
                    &mut stats,
                    |_| true,
                    |_, item| {
                        if let crate::journal::Item::Record(r) = item {
                            if r.done {
                                match code {
                                    Some(k) => a.of_task.insert(r.task, k),
                                    None => a.of_task.remove(&r.task),
                                };
                            }
                        }
                    },
                )?;
            }
        }
        Ok(a)
    }

    /// Done tasks per version, by index into `ids`.
    pub fn counts(&self) -> Vec<u64> {
        let mut n = vec![0u64; self.ids.len()];
        for &k in self.of_task.values() {
            n[k as usize] += 1;
        }
        n
    }

    /// The versions that done tasks came from, with their task counts, in the order first seen.
    pub fn versions(&self) -> Vec<(&str, u64)> {
        let counts = self.counts();
        self.ids.iter().zip(counts).filter(|(_, n)| *n > 0).map(|(id, n)| (id.as_str(), n)).collect()
    }
}
