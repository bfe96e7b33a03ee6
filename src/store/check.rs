//! Done tasks whose arrays cannot all be found again. A done record of the store's layout
//! says how many arrays its attempt staged (`"z"`); when fewer of them can be read back
//! (a staging record damaged on disk, a file gone) the task is not done after all: a
//! resume runs it again, and `status` says how many and why.

use super::files::readable_store;
use super::old::OldStore;
use super::staging;
use crate::grid::TaskId;
use crate::outdir::OutDir;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;

/// Done tasks whose arrays are missing, and why.
#[derive(Debug, Default)]
pub struct Lost {
    /// The tasks.
    pub tasks: Vec<TaskId>,
    /// Why, for the user: the damaged places of the staging files, when there are any.
    pub why: String,
}

impl Lost {
    /// One line for the user, or `None` when no task lost its arrays.
    pub fn message(&self) -> Option<String> {
        let n = self.tasks.len();
        (n > 0).then(|| {
            let (s, their) = if n == 1 { ("", "its") } else { ("s", "their") };
            format!("{n} done task{s} lost {their} arrays ({}): not done, to run again", self.why)
        })
    }
}

/// The done tasks, among those the `journals` record, whose staged arrays cannot all be
/// read back from the staging files of `out` or its store.
pub fn lost_arrays(out: &OutDir, journals: &[PathBuf]) -> io::Result<Lost> {
    let mut expected: HashMap<TaskId, u32> = HashMap::new();
    let mut stats = crate::journal::ScanStats::default();
    for j in journals {
        crate::journal::scan(j, &mut stats, |r| {
            if let (true, Some(z)) = (r.done, r.staged) {
                let e = expected.entry(r.task).or_insert(0);
                *e = (*e).max(z);
            }
        })?;
    }
    if expected.is_empty() {
        return Ok(Lost::default());
    }
    let mut found: HashMap<TaskId, Vec<String>> = HashMap::new();
    let mut damaged = Vec::new();
    for path in staging::files(&out.staging())? {
        let damage = staging::read(&path, |s| {
            if expected.contains_key(&s.id) {
                let names = found.entry(s.id).or_default();
                if !names.contains(&s.name) {
                    names.push(s.name);
                }
            }
        })?;
        if damage != staging::Damage::default() {
            damaged.push((path, damage));
        }
    }
    let old = match readable_store(out) {
        Some(root) => OldStore::open(&root)?,
        None => None,
    };
    let mut tasks: Vec<TaskId> = (expected.iter())
        .filter(|(id, &z)| found.get(id).map_or(0, Vec::len) < z as usize)
        .filter(|(id, _)| !old.as_ref().is_some_and(|o| o.is_done(id.0)))
        .map(|(id, _)| *id)
        .collect();
    tasks.sort();
    let mut why = String::new();
    for (path, d) in damaged.iter().take(3) {
        let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        let mut places: Vec<String> = d.spans.iter().take(3).map(|(a, b)| format!("bytes {a}..{b}")).collect();
        places.extend(d.tail.map(|t| format!("from byte {t} to the end")));
        let _ =
            write!(why, "{}staging/{name} is damaged at {}", if why.is_empty() { "" } else { "; " }, places.join(", "));
    }
    if why.is_empty() {
        why = "no staging file or store holds them".into();
    }
    Ok(Lost { tasks, why })
}
