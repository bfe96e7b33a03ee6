//! The lock every run holds on its out directory, so two runs never append to one journal.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use super::layout::OutDir;

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
