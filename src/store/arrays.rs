//! Reading back the arrays of a few tasks as an out directory holds them (staged, else in
//! its store), for `sweep verify` to compare a rerun's with.

use super::files::readable_store;
use super::old::OldStore;
use super::staging;
use crate::grid::TaskId;
use crate::outdir::OutDir;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::os::unix::fs::FileExt;

/// One array: its shape and data (float64, little-endian, C order), or why it cannot be read.
pub type ArrayData = Result<(Vec<u64>, Vec<u8>), String>;

/// The arrays of the tasks `ids` in `out`, by task and name: each from its first intact
/// staging record, else from the store (tasks done when it was built); a task with none
/// is absent. An array the store holds for every task (a task that returned none has NaN
/// there) is read as it is.
pub fn arrays_of(out: &OutDir, ids: &[TaskId]) -> io::Result<HashMap<TaskId, BTreeMap<String, ArrayData>>> {
    let mut found: HashMap<TaskId, BTreeMap<String, ArrayData>> = HashMap::new();
    let wanted: std::collections::HashSet<TaskId> = ids.iter().copied().collect();
    for path in staging::files(&out.staging())? {
        let mut at = Vec::new();
        staging::read(&path, |s| {
            if wanted.contains(&s.id) && !found.get(&s.id).is_some_and(|m| m.contains_key(&s.name)) {
                found.entry(s.id).or_default().insert(s.name.clone(), Err(String::new()));
                at.push(s);
            }
        })?;
        let file = crate::io::open_nofollow(&path)?;
        for s in at {
            let mut data = vec![0u8; s.shape.iter().product::<u64>() as usize * 8];
            let read = file.read_exact_at(&mut data, s.offset).map(|()| (s.shape, data));
            let read = read.map_err(|e| format!("{}: {e}", path.display()));
            found.entry(s.id).or_default().insert(s.name, read);
        }
    }
    let Some(root) = readable_store(out) else { return Ok(found) };
    let old = match OldStore::open(&root) {
        Ok(Some(old)) => old,
        Ok(None) => return Ok(found),
        Err(e) => {
            // Unreadable: every sampled task's arrays are then missing, and say why.
            for id in ids {
                found.entry(*id).or_default().insert("(store)".into(), Err(e.to_string()));
            }
            return Ok(found);
        }
    };
    for id in ids.iter().filter(|id| old.is_done(id.0)) {
        for name in old.names() {
            if found.get(id).is_some_and(|m| m.contains_key(&name)) {
                continue;
            }
            let Some((pos, shape)) = old.find(id.0, &name) else { continue };
            let mut data = Vec::new();
            let read = old.read(&name, pos, &shape, &mut data).map(|()| (shape, data)).map_err(|e| e.to_string());
            found.entry(*id).or_default().insert(name, read);
        }
    }
    Ok(found)
}
