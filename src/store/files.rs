//! The store's files as a whole: syncing, removing what a killed build left.

use crate::outdir::OutDir;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Syncs the file system of `dir` (every file written so far), as `--durable` does.
pub(super) fn sync_fs(dir: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let f = File::open(dir).map_err(|e| with_path(e, dir))?;
    // SAFETY: syncfs takes a valid open fd and has no other preconditions.
    if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
        return Err(with_path(io::Error::last_os_error(), dir));
    }
    Ok(())
}

/// Prefix of the name under which a build moves the previous store aside while it swaps
/// the new one in (followed by [`crate::io::TEMP_MARK`] and the builder's pid).
pub(super) const ASIDE: &str = ".store.zarr.old";

/// Puts back the previous store when a build was killed between its two renames (the old
/// store moved aside, the new one not yet in place): that copy may be the only one of the
/// arrays of every earlier run, whose staging files went when it was built. Returns the
/// directory it was restored from. With `store.zarr` in place, an aside copy is a
/// superseded one (the new store was built from it), which [`remove_stale`] removes.
pub(super) fn recover_aside(out: &OutDir) -> io::Result<Option<PathBuf>> {
    let store = out.store();
    if std::fs::symlink_metadata(&store).is_ok() {
        return Ok(None);
    }
    let Some(path) = newest_aside(out)? else { return Ok(None) };
    std::fs::rename(&path, &store).map_err(|e| with_path(e, &store))?;
    Ok(Some(path))
}

/// The store the next build reads back: `store.zarr`, or the copy a killed swap left aside.
pub(super) fn readable_store(out: &OutDir) -> Option<PathBuf> {
    let store = out.store();
    if std::fs::symlink_metadata(&store).is_ok() {
        return Some(store);
    }
    newest_aside(out).ok().flatten()
}

fn newest_aside(out: &OutDir) -> io::Result<Option<PathBuf>> {
    // One killed swap leaves one aside copy (each build recovers before it moves anything
    // aside); should there be several, the newest store is the one a later build wrote.
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    for path in asides(out)? {
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if !meta.is_dir() {
            continue;
        }
        let when = std::fs::symlink_metadata(path.join("zarr.json")).and_then(|m| m.modified());
        let Ok(when) = when else { continue };
        if newest.as_ref().is_none_or(|(t, _)| when > *t) {
            newest = Some((when, path));
        }
    }
    Ok(newest.map(|(_, path)| path))
}

/// The directories a build moved the previous store aside to.
fn asides(out: &OutDir) -> io::Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(&out.root).map_err(|e| with_path(e, &out.root))?;
    let prefix = format!("{ASIDE}{}", crate::io::TEMP_MARK);
    Ok(rd.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(&prefix)).map(|e| e.path()).collect())
}

/// Removes what a build killed half-way left: its temporary store, or an old store it had
/// moved aside once the new one was in place. Only one process builds at a time (a run
/// holds the lock; `collect` runs after the shards), so every temporary store is stale;
/// an aside copy is removed only while `store.zarr` exists, which was built from it (see
/// [`recover_aside`], called first): it is never the only copy of an array.
pub(super) fn remove_stale(out: &OutDir) -> io::Result<()> {
    let store_there = std::fs::symlink_metadata(out.store()).is_ok();
    let rd = std::fs::read_dir(&out.root).map_err(|e| with_path(e, &out.root))?;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(".store.zarr") || !name.contains(crate::io::TEMP_MARK) {
            continue;
        }
        if name.starts_with(ASIDE) && !store_there {
            continue;
        }
        remove_tree(&e.path())?;
    }
    Ok(())
}

/// Removes a directory sweep made (a link there is removed, not followed).
pub(super) fn remove_tree(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path).map_err(|e| with_path(e, path)),
        Ok(_) => std::fs::remove_file(path).map_err(|e| with_path(e, path)),
        Err(_) => Ok(()),
    }
}

pub(super) fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
