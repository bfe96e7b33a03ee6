//! The store's files as a whole: syncing, removing what a killed build left.

use crate::outdir::OutDir;
use std::fs::File;
use std::io;
use std::path::Path;

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

/// Removes what a build killed half-way left: its temporary store, or the old one it had
/// moved aside. Only one process builds at a time (a run holds the lock; `collect` runs
/// after the shards), so every such directory is stale.
pub(super) fn remove_stale(out: &OutDir) -> io::Result<()> {
    let rd = std::fs::read_dir(&out.root).map_err(|e| with_path(e, &out.root))?;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(".store.zarr") && name.contains(crate::io::TEMP_MARK) {
            remove_tree(&e.path())?;
        }
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
