//! What "the code" of a sweep is, and its id: the files its tasks run, hashed once per run.

use crate::spec::{Spec, TaskKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The code of one run: the project's files its tasks run, each by its SHA-256, and what
/// else identifies it (a built-in model's name and sweep's version). Its [`id`](Self::id)
/// is a digest of all of it: two runs with the same id ran the same code.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// The combined id: 16 hex digits of a SHA-256 over the files and `declared`.
    pub id: String,
    /// The files, by path relative to the spec's directory (absolute when outside it), each
    /// `sha256:<hex>` of its bytes.
    pub files: BTreeMap<String, String>,
    /// What else identifies the code: `model` and `sweep` (the crate's version) for a
    /// built-in model.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub declared: BTreeMap<String, String>,
}

/// The environment a run's code ran in: recorded, compared and reported, never refused on.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// The interpreter's path, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    /// Its version (`3.11.7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The versions of the installed top-level packages the worker imported, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packages: BTreeMap<String, String>,
}

/// What hashing the code cost: once per run, whatever the number of tasks.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct Hashed {
    /// Files hashed.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Seconds it took.
    pub seconds: f64,
}

/// A run's code, its environment, and the cost of hashing it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The code.
    pub code: Code,
    /// The environment.
    pub env: Env,
    /// The cost of hashing.
    pub hashed: Hashed,
}

impl Identity {
    /// The identity of `spec`'s code. `handshake` is a `[python]` worker's: the files its
    /// import loaded and the packages it imported (see `code_report` in
    /// python/sweep/_worker.py); without it a `[python]` sweep's code is its module file alone.
    pub fn of(spec: &Spec, handshake: Option<&Value>) -> Identity {
        let started = Instant::now();
        let mut paths: Vec<PathBuf> = Vec::new();
        let mut declared = BTreeMap::new();
        let mut env = Env::default();
        match &spec.task {
            TaskKind::Model(m) => {
                declared.insert("model".into(), m.model.name().to_string());
                declared.insert("sweep".into(), env!("CARGO_PKG_VERSION").to_string());
            }
            TaskKind::Worker(ws) => match &ws.python {
                Some(f) => {
                    let code = handshake.map(|h| &h["code"]);
                    match code.and_then(|c| c["files"].as_array()) {
                        Some(files) => paths.extend(files.iter().filter_map(|p| p.as_str()).map(PathBuf::from)),
                        None => paths.extend(f.file.clone()),
                    }
                    env.interpreter = handshake
                        .and_then(|h| h["executable"].as_str())
                        .map(String::from)
                        .or_else(|| Some(f.interpreter.display().to_string()));
                    env.version = handshake
                        .and_then(|h| h["python"].as_str())
                        .and_then(|v| v.split_whitespace().next())
                        .map(String::from);
                    if let Some(Value::Object(p)) = code.map(|c| &c["packages"]) {
                        env.packages =
                            p.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
                    }
                }
                None => paths.extend(project_files(&spec.base, &ws.cwd, ws.argv.iter().map(String::as_str))),
            },
            TaskKind::Command(c) => {
                let literal = |t: &crate::command::Template| -> Vec<String> {
                    t.pieces
                        .iter()
                        .filter_map(|p| match p {
                            crate::command::Piece::Lit(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect()
                };
                let words: Vec<String> = match (&c.argv, &c.shell) {
                    // A word with a placeholder names a different file per task: not code.
                    (Some(argv), _) => argv
                        .iter()
                        .filter(|t| t.pieces.iter().all(|p| matches!(p, crate::command::Piece::Lit(_))))
                        .flat_map(literal)
                        .collect(),
                    (None, Some(shell)) => {
                        literal(shell).iter().flat_map(|s| s.split_whitespace().map(String::from)).collect()
                    }
                    (None, None) => Vec::new(),
                };
                paths.extend(project_files(&spec.base, &c.cwd, words.iter().map(String::as_str)));
            }
        }
        let mut files = BTreeMap::new();
        let mut hashed = Hashed::default();
        for path in paths {
            let Ok(bytes) = std::fs::read(&path) else { continue };
            hashed.files += 1;
            hashed.bytes += bytes.len() as u64;
            files.insert(shown(&spec.base, &path), format!("sha256:{:x}", Sha256::digest(&bytes)));
        }
        let code = Code { id: combined_id(&files, &declared), files, declared };
        hashed.seconds = started.elapsed().as_secs_f64();
        Identity { code, env, hashed }
    }
}

/// The id of a set of files and declarations: order-free (both are sorted maps), and
/// blind to where the project lies, since paths are relative to the spec's directory.
pub fn combined_id(files: &BTreeMap<String, String>, declared: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    let tagged = [(&b"file\0"[..], files), (&b"declared\0"[..], declared)];
    for (tag, map) in tagged {
        for (k, v) in map {
            h.update(tag);
            h.update(k.as_bytes());
            h.update(b"\0");
            h.update(v.as_bytes());
            h.update(b"\n");
        }
    }
    format!("{:x}", h.finalize())[..16].to_string()
}

/// `path` relative to the spec's directory `base` when it lies under it, else absolute.
fn shown(base: &Path, path: &Path) -> String {
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (base, path) = (real(base), real(path));
    path.strip_prefix(&base).unwrap_or(&path).display().to_string()
}

/// The files among `words` (a command's argv or shell words) that exist, resolved against
/// `cwd`, lie in the project (under the spec's directory `base` or under `cwd`) and are
/// code (see [`is_code`]). The program itself counts when it is such a file (`./sim`), not
/// when it is found on `PATH` or lies elsewhere (`/usr/bin/python3`).
fn project_files<'a>(base: &Path, cwd: &Path, words: impl Iterator<Item = &'a str>) -> Vec<PathBuf> {
    let real = |p: &Path| std::fs::canonicalize(p).ok();
    let roots: Vec<PathBuf> = [real(base), real(cwd)].into_iter().flatten().collect();
    let mut out: Vec<PathBuf> = Vec::new();
    for word in words {
        // `--input=data.csv`: the file is the part after `=`.
        let word = word.rsplit_once('=').map_or(word, |(_, v)| v);
        if word.is_empty() || word.starts_with('-') && !word.contains('/') {
            continue;
        }
        let path = cwd.join(word);
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        let Some(real_path) = real(&path) else { continue };
        if meta.is_file()
            && roots.iter().any(|r| real_path.starts_with(r))
            && is_code(&path)
            && !out.contains(&real_path)
        {
            out.push(real_path);
        }
    }
    out
}

/// Source files by their extension: scripts and the sources an interpreter reads.
const SOURCE: &[&str] = &[
    "py", "sh", "bash", "zsh", "r", "jl", "pl", "pm", "rb", "js", "mjs", "cjs", "ts", "lua", "m", "awk", "sed", "tcl",
    "php", "java", "jar", "class", "so", "mat", "do", "ado", "nb", "wl", "f90", "c", "cpp",
];

/// Whether a file a command names is code rather than data or state: executable, a script
/// (`#!` first), or a source file by its extension. A marker file that a shell line tests
/// (`[ -e flag ]`) or an input table is not: deleting it is no edit of the code.
fn is_code(path: &Path) -> bool {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let by_name =
        path.extension().and_then(|e| e.to_str()).is_some_and(|e| SOURCE.iter().any(|s| s.eq_ignore_ascii_case(e)));
    let executable = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
    let mut head = [0u8; 2];
    let shebang = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == *b"#!";
    by_name || executable || shebang
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_depends_on_every_file_and_declaration_but_not_on_order() {
        let files = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let none = BTreeMap::new();
        let a = combined_id(&files(&[("a.py", "sha256:1"), ("b.py", "sha256:2")]), &none);
        assert_eq!(a, combined_id(&files(&[("b.py", "sha256:2"), ("a.py", "sha256:1")]), &none));
        assert_ne!(a, combined_id(&files(&[("a.py", "sha256:1"), ("b.py", "sha256:3")]), &none));
        assert_ne!(a, combined_id(&files(&[("a.py", "sha256:1")]), &none));
        assert_ne!(a, combined_id(&files(&[("a.py", "sha256:1"), ("c.py", "sha256:2")]), &none));
        let declared = files(&[("model", "spin")]);
        assert_ne!(a, combined_id(&files(&[("a.py", "sha256:1"), ("b.py", "sha256:2")]), &declared));
        assert_eq!(a.len(), 16);
    }
}
