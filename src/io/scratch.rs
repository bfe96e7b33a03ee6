//! Scratch directories beside an out directory: `--bench` and `sweep verify` run samples
//! of a sweep in them, so that the sweep itself is never written. Each is named after the
//! process that made it, so that one left by a killed process can be told from one in use.

use std::path::{Path, PathBuf};

/// Prefixes of the scratch directories: `<prefix><pid>-<n>`.
pub const SCRATCH_PREFIXES: [&str; 2] = [".sweep-bench-", ".sweep-verify-"];

/// The directory scratch directories of `out` go in: its parent (on the same filesystem,
/// so that writing costs what it costs in the real run).
pub fn scratch_parent(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Removes the scratch directories beside `out` left by processes that no longer run (a
/// `kill -9` of a benchmark or a verification); those of live processes are left alone.
pub fn remove_dead_scratch(out: &Path) {
    let Ok(rd) = std::fs::read_dir(scratch_parent(out)) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = SCRATCH_PREFIXES.iter().find_map(|p| owner(&name, p)) else { continue };
        // A symlink is not ours: scratch directories are made by sweep.
        if e.file_type().is_ok_and(|t| t.is_dir()) && !alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The pid in `<prefix><pid>-<n>`.
fn owner(name: &str, prefix: &str) -> Option<i32> {
    let (pid, n) = name.strip_prefix(prefix)?.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok().filter(|&p| p > 0)
}

fn alive(pid: i32) -> bool {
    // Signal 0 checks existence only; EPERM means it exists under another user.
    // SAFETY: kill with signal 0 sends nothing.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_scratch_directories_of_dead_processes_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let me = std::process::id();
        // pid_max is at most 2^22 on Linux: this one cannot run.
        let dead = 1 << 23;
        let names = [
            format!(".sweep-verify-{dead}-0"),
            format!(".sweep-bench-{dead}-3"),
            format!(".sweep-verify-{me}-0"),
            format!(".sweep-verify-{dead}-x"),
            "other".to_string(),
        ];
        for n in &names {
            std::fs::create_dir(tmp.path().join(n)).unwrap();
        }
        remove_dead_scratch(&out);
        let left: Vec<bool> = names.iter().map(|n| tmp.path().join(n).exists()).collect();
        assert_eq!(left, [false, false, true, true, true]);
    }
}
