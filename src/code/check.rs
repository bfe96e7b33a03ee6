//! Comparing a run's code with that of the done tasks, and what to say when they differ.

use super::identity::{Code, Env, Identity};
use super::record::{self, Attribution, RunCode};
use crate::grid::TaskId;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// What a run does with done tasks whose code differs from its own (`--code-changed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeChanged {
    /// Run them again with the code as it is now; their earlier results stay in the
    /// journal as history.
    Rerun,
    /// Keep their results: the sweep then spans several code versions, and results.csv
    /// says which row came from which.
    Keep,
}

impl CodeChanged {
    /// `"rerun"` or `"keep"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeChanged::Rerun => "rerun",
            CodeChanged::Keep => "keep",
        }
    }

    /// The policy a `--code-changed` word names.
    pub fn parse(word: &str) -> Option<CodeChanged> {
        match word {
            "rerun" => Some(CodeChanged::Rerun),
            "keep" => Some(CodeChanged::Keep),
            _ => None,
        }
    }
}

/// How the done tasks' code compares with a run's.
#[derive(Debug, Default)]
pub struct Comparison {
    /// The other versions that done tasks came from, with their task counts.
    pub others: Vec<(String, u64)>,
    /// The done tasks of those versions.
    pub stale: Vec<TaskId>,
    /// Every version of the done tasks, with counts (the run's own included), when more than
    /// one version ever ran; empty otherwise.
    pub versions: Vec<(String, u64)>,
}

impl Comparison {
    /// Whether some done task ran other code.
    pub fn differs(&self) -> bool {
        !self.others.is_empty()
    }
}

/// Compares `code` with the code of the done tasks of the sweep in `out`. Reads the
/// journals only when some run recorded another code id: an unchanged resume reads a few
/// lines.
pub fn compare(out: &Path, code: &Code) -> io::Result<Comparison> {
    let runs = record::runs(out)?;
    let ids = record::ids_of_runs(&runs);
    if ids.iter().all(|id| *id == code.id) {
        return Ok(Comparison::default());
    }
    let a = Attribution::read(out, &runs)?;
    let versions: Vec<(String, u64)> = a.versions().into_iter().map(|(id, n)| (id.to_string(), n)).collect();
    let others: Vec<(String, u64)> = versions.iter().filter(|(id, _)| *id != code.id).cloned().collect();
    // Versions that a run of this very code was told to keep stay kept.
    let kept: Vec<&String> = runs.values().flatten().filter(|r| r.code == code.id).flat_map(|r| &r.kept).collect();
    let others: Vec<(String, u64)> = others.into_iter().filter(|(id, _)| !kept.contains(&id)).collect();
    let stale = a
        .of_task
        .iter()
        .filter(|(_, &k)| others.iter().any(|(id, _)| *id == a.ids[k as usize]))
        .map(|(t, _)| *t)
        .collect();
    Ok(Comparison { others, stale, versions })
}

/// What differs between `code` and the code of done tasks: each changed, added or removed
/// file, per version of the done tasks.
pub fn differences(out: &Path, code: &Code, c: &Comparison) -> String {
    let mut text = String::new();
    for (id, n) in &c.others {
        let tasks = crate::text::count(*n, "done task");
        text.push_str(&format!("the code changed since {tasks} ran (code {id} then, {} now):\n", code.id));
        match record::read_code(out, id) {
            Some(old) => {
                for line in file_changes(&old, code) {
                    text.push_str(&format!("  {line}\n"));
                }
            }
            None => text.push_str(&format!(
                "  ({} is missing: the files cannot be named)\n",
                record::code_file(out, id).display()
            )),
        }
    }
    text
}

/// The refusal of a run whose code differs from that of done tasks: [`differences`], then
/// the two ways on. `what` says what was refused (`nothing was run`).
pub fn refusal(out: &Path, code: &Code, c: &Comparison, what: &str) -> String {
    let mut text = differences(out, code, c);
    text.push_str(&format!(
        "{what}. To run those tasks again with the code as it is now (their results stay in the journal):\n  \
         --code-changed rerun\n\
         To keep their results beside new ones (results.csv then says which code each row came from):\n  \
         --code-changed keep"
    ));
    text
}

/// The differences between two versions: `changed  model.py`, `added    helper.py`,
/// `removed  old.py`, and a declaration (model, sweep's version) that changed.
pub fn file_changes(old: &Code, new: &Code) -> Vec<String> {
    let mut out = Vec::new();
    for (path, hash) in &new.files {
        match old.files.get(path) {
            Some(h) if h == hash => {}
            Some(_) => out.push(format!("changed  {path}")),
            None => out.push(format!("added    {path}")),
        }
    }
    for path in old.files.keys().filter(|p| !new.files.contains_key(*p)) {
        out.push(format!("removed  {path}"));
    }
    for (key, value) in &new.declared {
        match old.declared.get(key) {
            Some(v) if v == value => {}
            Some(v) => out.push(format!("changed  {key}: {v} -> {value}")),
            None => out.push(format!("added    {key}: {value}")),
        }
    }
    out
}

/// What changed in the environment from `old` to `new`: the interpreter, its version, and
/// the version of each package both imported, or one of them only.
pub fn env_changes(old: &Env, new: &Env) -> Vec<String> {
    let mut out = Vec::new();
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    if old.interpreter != new.interpreter && old.interpreter.is_some() && new.interpreter.is_some() {
        out.push(format!("interpreter {} -> {}", show(&old.interpreter), show(&new.interpreter)));
    }
    if old.version != new.version && old.version.is_some() && new.version.is_some() {
        out.push(format!("Python {} -> {}", show(&old.version), show(&new.version)));
    }
    let names: std::collections::BTreeSet<&String> = old.packages.keys().chain(new.packages.keys()).collect();
    for name in names {
        match (old.packages.get(name), new.packages.get(name)) {
            (Some(a), Some(b)) if a != b => out.push(format!("{name} {a} -> {b}")),
            (Some(a), None) => out.push(format!("{name} {a} no longer imported")),
            (None, Some(b)) => out.push(format!("{name} {b} newly imported")),
            _ => {}
        }
    }
    out
}

/// The environment changes between the runs of `out`, in the order they ran: one line per
/// run whose environment differs from the run before it.
pub fn env_history(runs: &BTreeMap<PathBuf, Vec<RunCode>>) -> Vec<String> {
    let mut all: Vec<&RunCode> = runs.values().flatten().collect();
    all.sort_by(|a, b| a.started.cmp(&b.started));
    let mut out = Vec::new();
    for pair in all.windows(2) {
        let changes = env_changes(&pair[0].env, &pair[1].env);
        if !changes.is_empty() {
            out.push(format!("the environment changed for the run of {}: {}", pair[1].started, changes.join(", ")));
        }
    }
    out
}

/// The identity of a run, checked against the done tasks of `out` as `policy` says: `Ok`
/// with the comparison when the run may go on (the same code, or a policy), an error
/// message (for exit 2) when it may not.
pub fn check(out: &Path, identity: &Identity, policy: Option<CodeChanged>) -> Result<Comparison, String> {
    let c =
        compare(out, &identity.code).map_err(|e| format!("cannot read the code records in {}: {e}", out.display()))?;
    if c.differs() && policy.is_none() {
        return Err(refusal(out, &identity.code, &c, "nothing was run"));
    }
    Ok(c)
}
