//! Attempt directories (`attempts/<task>-<attempt>-<run>/`): every attempt of a task that
//! writes files writes them into a fresh directory of its own, which becomes
//! `tasks/<task>/` only when the attempt is done. A failed attempt's directory stays, for
//! debugging; one that no journal record vouches for (its run was killed, or stopped it)
//! is removed by the next run that holds the tasks it belongs to.

use crate::cluster::Shard;
use crate::grid::TaskId;
use crate::io::FileDigest;
use crate::outdir::OutDir;
use crate::results::{Status, TaskTable};
use crate::store::StagingWriter;
use crate::task::{FailureClass, TaskFailure};
use std::path::{Path, PathBuf};

/// The name of attempt `number` of `task` in the run tagged `tag`.
pub(super) fn name(task: TaskId, number: u32, tag: &str) -> String {
    format!("{task}-{number}-{tag}")
}

/// The directory of attempt `number` of `task` in the run tagged `tag`.
pub(super) fn dir(out: &OutDir, task: TaskId, number: u32, tag: &str) -> PathBuf {
    out.root.join("attempts").join(name(task, number, tag))
}

/// Makes a done attempt's directory `dir` its task's `tasks/<task>/`, for every kind of
/// task that leaves one: with `staging` (the array store), its `.npy` files are moved into
/// the staging file first; what is left is checksummed in the attempt's own directory,
/// which nothing else writes into any more, then moved into place whole. Returns the
/// checksums (`None` when the attempt left no directory) and how many arrays were staged.
pub(super) fn promote(
    out: &OutDir,
    dir: &Path,
    task: TaskId,
    staging: Option<&StagingWriter>,
) -> Result<(Option<Vec<FileDigest>>, usize), TaskFailure> {
    let staged = match staging {
        Some(staging) => crate::store::stage_npy_files(dir, task, staging)?,
        None => 0,
    };
    // Everything it wrote went to the store: no empty `tasks/<task>/` is left behind.
    if staged > 0 && std::fs::remove_dir(dir).is_ok() {
        return Ok((None, staged));
    }
    let digests = crate::io::digest_dir(dir)
        .map_err(|e| TaskFailure::new(FailureClass::Io, format!("cannot checksum the task's files: {e}")))?;
    let promoted = crate::io::promote(dir, &out.task_dir(&task.to_string()))
        .map_err(|e| TaskFailure::new(FailureClass::Io, format!("cannot move the task's files into place: {e}")))?;
    Ok((promoted.then_some(digests), staged))
}

/// Reads an attempt directory's name back: (task, attempt number, run tag).
fn parse(name: &str) -> Option<(TaskId, u32, &str)> {
    let (task, rest) = name.split_once('-')?;
    let (number, tag) = rest.split_once('-')?;
    Some((task.parse().ok()?, number.parse().ok()?, tag))
}

/// Removes the attempt directories of earlier runs that no journal record vouches for
/// (attempt numbers past the task's recorded attempts), and directories moved aside when a
/// stale `tasks/<task>/` was replaced; for a shard run, only those of its own tasks. With
/// `window`, `store` holds a window of the grid (see [`TaskTable::range`]), and only the
/// directories of its tasks are looked at.
pub(super) fn remove_abandoned(out: &OutDir, store: &TaskTable, shard: Option<Shard>, tag: &str, window: bool) {
    let dir = out.root.join("attempts");
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    let names: Vec<String> = entries.flatten().filter_map(|e| e.file_name().into_string().ok()).collect();
    if names.is_empty() {
        return;
    }
    let index = store.index();
    for name in names {
        let Some((task, number, run)) = parse(name.trim_end_matches(".replaced")) else { continue };
        if run == tag || shard.is_some_and(|s| !s.contains(task)) {
            continue;
        }
        let recorded = match index.get(&task) {
            // A run by windows has no attempt count for a done task (its ledger holds a bit):
            // the directories of its failed attempts stay, as a whole run keeps them.
            Some(&i) if window && store.rows[i as usize].status == Status::Done => u32::MAX,
            Some(&i) => store.rows[i as usize].attempts,
            None if window => continue,
            None => 0,
        };
        if name.ends_with(".replaced") || number > recorded {
            remove(&dir.join(&name));
        }
    }
}

/// Removes `path` without following a symlink planted there.
fn remove(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        let n = name(TaskId(0xab), 3, "1f2e");
        assert_eq!(n, "00000000000000ab-3-1f2e");
        assert_eq!(parse(&n), Some((TaskId(0xab), 3, "1f2e")));
        assert_eq!(parse("junk"), None);
        assert_eq!(parse("00000000000000ab-x-1"), None);
    }
}
