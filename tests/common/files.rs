//! The one walker over a directory tree; every helper that looks at the files a sweep
//! wrote builds on [`files`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file under `dir`, recursively, as paths relative to `dir`, sorted. A `dir` that
/// does not exist holds no files.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<PathBuf>) {
        let entries = match std::fs::read_dir(d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && d == root => return,
            Err(e) => panic!("cannot list {}: {e}", d.display()),
        };
        for e in entries {
            let p = e.unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display())).path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The files under `dir` that `keep` accepts (by relative path), with their bytes.
pub fn contents(dir: &Path, keep: impl Fn(&Path) -> bool) -> BTreeMap<PathBuf, Vec<u8>> {
    files(dir)
        .into_iter()
        .filter(|rel| keep(rel))
        .map(|rel| {
            let bytes = std::fs::read(dir.join(&rel)).unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
            (rel, bytes)
        })
        .collect()
}

/// Every file under `dir` with its bytes.
pub fn all_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    contents(dir, |_| true)
}

/// Every `.npy` under `dir` with its bytes.
pub fn npy_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    contents(dir, |p| p.extension().is_some_and(|x| x == "npy"))
}

/// Every file under `dir` whose name marks it a temporary of sweep's atomic writes.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    files(dir).into_iter().filter(|p| p.file_name().unwrap().to_string_lossy().contains(".sweep-tmp")).collect()
}

/// The attempt directories of `task` left in the sweep at `out` (failed attempts), sorted.
pub fn attempt_dirs(out: &Path, task: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(out.join("attempts")) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("{task}-")))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}
