//! Atomic writes: a file appears under its final name complete or not at all, so after
//! a crash no partial file is ever taken for a finished output.

use ndarray::ArrayD;
use ndarray_npy::WriteNpyExt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Part of every temporary file name; files carrying it are never outputs.
pub const TEMP_MARK: &str = ".sweep-tmp";

fn temp_path(path: &Path) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let n = N.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}{TEMP_MARK}-{}-{n}", std::process::id()))
}

/// Creates the file `path` for writing: it must not exist, and a symlink there is not
/// followed (`O_EXCL | O_NOFOLLOW`), so that nothing planted in an out directory is ever
/// written through.
pub fn create_new(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).custom_flags(libc::O_NOFOLLOW).open(path)
}

/// Opens the file `path` for reading, refusing to follow a symlink there.
pub fn open_nofollow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path)
}

/// A file being written under a temporary name, which becomes `path` on
/// [`commit`](AtomicFile::commit), and is removed if dropped before: for a file written in pieces
/// between other work, where [`write_atomic`] takes it in one call.
pub struct AtomicFile {
    tmp: PathBuf,
    path: PathBuf,
    /// The open file (`None` once committed).
    pub out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let tmp = temp_path(path);
        let out = BufWriter::with_capacity(1 << 16, create_new(&tmp)?);
        Ok(AtomicFile { tmp, path: path.to_path_buf(), out: Some(out) })
    }

    /// Puts the file in place under its name.
    pub fn commit(mut self) -> io::Result<()> {
        let mut out = self.out.take().expect("an open file");
        out.flush()?;
        drop(out);
        std::fs::rename(&self.tmp, &self.path)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Committed, the temporary name is gone: this finds nothing.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Writes `path` atomically with the bytes `fill` produces.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut w = BufWriter::with_capacity(1 << 16, create_new(&tmp)?);
        fill(&mut w)?;
        w.flush()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `array` as `<dir>/<name>.npy`, a new file in an attempt's own directory (no
/// temporary name needed: the directory becomes visible only once complete); returns the
/// bytes written and the file's SHA-256, taken as it is written (the journal records it).
pub fn write_npy(dir: &Path, name: &str, array: &ArrayD<f64>) -> io::Result<(u64, [u8; 32])> {
    inject_fault()?;
    let file = BufWriter::with_capacity(1 << 16, create_new(&dir.join(format!("{name}.npy")))?);
    let mut w = super::hashing::HashingWriter::new(file);
    array.write_npy(&mut w).map_err(io::Error::other)?;
    let (mut file, sha256) = w.finish();
    file.flush()?;
    Ok(((array.len() * 8 + 128) as u64, sha256))
}

/// Writes `array` as `<dir>/<name>.npy` atomically; returns the bytes written.
pub fn write_npy_atomic(dir: &Path, name: &str, array: &ArrayD<f64>) -> io::Result<u64> {
    inject_fault()?;
    let path = dir.join(format!("{name}.npy"));
    write_atomic(&path, |w| array.write_npy(w).map_err(io::Error::other))?;
    Ok((array.len() * 8 + 128) as u64)
}

/// Moves a finished attempt's directory to its final place `dest` (`tasks/<task>`), when
/// the attempt wrote any files; `Ok(false)` when it wrote none. A directory already at
/// `dest` (left by a run that died between this move and its journal record) is replaced
/// whole, never merged with the new files: it is moved aside first and removed after.
pub fn promote(attempt: &Path, dest: &Path) -> io::Result<bool> {
    let mut stale = None;
    match std::fs::rename(attempt, dest) {
        Ok(()) => return Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound && std::fs::symlink_metadata(attempt).is_err() => {
            return Ok(false)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dest.parent().unwrap_or(dest))?;
        }
        Err(_) => {
            let mut aside = attempt.as_os_str().to_owned();
            aside.push(".replaced");
            std::fs::rename(dest, &aside)?;
            stale = Some(PathBuf::from(aside));
        }
    }
    std::fs::rename(attempt, dest)?;
    if let Some(stale) = stale {
        // A symlink planted there is removed, not followed.
        let _ = match std::fs::symlink_metadata(&stale) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&stale),
            _ => std::fs::remove_file(&stale),
        };
    }
    Ok(true)
}

/// Removes temporary files a killed run left in `dir` (only files carrying [`TEMP_MARK`]).
pub fn remove_stale_temps(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        if e.file_name().to_string_lossy().contains(TEMP_MARK) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Test seam: with `SWEEP_FAULT_ENOSPC_AFTER=N` in the environment, array writes after
/// the first N fail with "No space left on device", as on a full disk. Used by the
/// disk-full tests where a small tmpfs cannot be mounted (not root).
pub fn inject_fault() -> io::Result<()> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let limit = LIMIT.get_or_init(|| std::env::var("SWEEP_FAULT_ENOSPC_AFTER").ok().and_then(|v| v.parse().ok()));
    if let Some(limit) = limit {
        if WRITES.fetch_add(1, Ordering::Relaxed) >= *limit {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
    }
    Ok(())
}

/// Test seam: with `SWEEP_FAULT_KILL_AT=<point>` in the environment, the process sends
/// itself SIGKILL on reaching the named point, as a `kill -9` or a wall-time limit landing
/// there would: the crash tests put it where a crash is the most costly (see
/// `store::build`'s swap).
pub fn kill_point(point: &str) {
    if std::env::var_os("SWEEP_FAULT_KILL_AT").is_some_and(|v| v == point) {
        // SAFETY: raise has no preconditions.
        unsafe { libc::raise(libc::SIGKILL) };
    }
}
