//! Provenance: what produced a sweep's results, recorded in its manifest when it starts —
//! sweep's version; the interpreter and its version (`[python]`, or a command's program);
//! a SHA-256 of the scripts it ran; and the git commit of the spec's work tree, with
//! whether it had uncommitted changes.

use crate::spec::{Spec, TaskKind};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The provenance of `spec`'s run; `worker` is a `[python]` worker's handshake, which names
/// the interpreter and its version.
pub fn collect(spec: &Spec, worker: Option<&Value>) -> Value {
    let mut p = Map::new();
    p.insert("sweep".into(), json!(env!("CARGO_PKG_VERSION")));
    let mut files = Map::new();
    match &spec.task {
        TaskKind::Model(m) => {
            p.insert("model".into(), json!(m.model.name()));
        }
        TaskKind::Worker(ws) => {
            if let Some(f) = &ws.python {
                let version =
                    worker.and_then(|h| h["python"].as_str()).map(|v| v.split_whitespace().next().unwrap_or(v));
                let path = worker
                    .and_then(|h| h["executable"].as_str())
                    .map_or_else(|| f.interpreter.display().to_string(), String::from);
                p.insert("interpreter".into(), json!({ "path": path, "version": version }));
                if let Some(file) = &f.file {
                    add_file(&mut files, &spec.base, file);
                }
            } else {
                p.insert("program".into(), json!(ws.argv.first()));
                for word in &ws.argv {
                    add_file(&mut files, &spec.base, &ws.cwd.join(word));
                }
            }
        }
        TaskKind::Command(c) => {
            let words: Vec<String> = c
                .argv
                .iter()
                .flatten()
                .filter_map(|t| match t.pieces.as_slice() {
                    [crate::command::Piece::Lit(s)] => Some(s.clone()),
                    _ => None,
                })
                .collect();
            if let Some(program) = words.first() {
                let path = if program.contains('/') {
                    Some(c.cwd.join(program))
                } else {
                    crate::command::find_in_path(program)
                };
                let version = path.as_deref().and_then(interpreter_version);
                p.insert(
                    "interpreter".into(),
                    json!({ "path": path.map(|p| p.display().to_string()), "version": version }),
                );
            }
            for word in &words {
                add_file(&mut files, &spec.base, &c.cwd.join(word));
            }
        }
    }
    if !files.is_empty() {
        p.insert("files".into(), Value::Object(files));
    }
    if let Some(git) = git(&spec.base) {
        p.insert("git".into(), git);
    }
    Value::Object(p)
}

/// The version an interpreter reports (`python3 --version`), for the interpreters that
/// answer `--version` without side effects.
fn interpreter_version(program: &Path) -> Option<String> {
    let name = program.file_name()?.to_string_lossy().into_owned();
    let known = ["python", "julia", "Rscript", "node", "ruby", "perl"];
    if !known.iter().any(|k| name.starts_with(k)) {
        return None;
    }
    let o = std::process::Command::new(program).arg("--version").stdin(std::process::Stdio::null()).output().ok()?;
    let text = if o.stdout.is_empty() { o.stderr } else { o.stdout };
    let line = String::from_utf8_lossy(&text).lines().find(|l| !l.trim().is_empty())?.trim().to_string();
    o.status.success().then_some(line)
}

/// Adds `path`'s SHA-256 under its name relative to `base`, when it is a regular file.
fn add_file(files: &mut Map<String, Value>, base: &Path, path: &Path) {
    let Ok(meta) = std::fs::metadata(path) else { return };
    // A script, not a data file or the interpreter itself.
    if !meta.is_file() || meta.len() > 16 << 20 {
        return;
    }
    let Ok(bytes) = std::fs::read(path) else { return };
    let name = path.strip_prefix(base).unwrap_or(path).display().to_string();
    files.insert(name, json!(format!("sha256:{:x}", Sha256::digest(&bytes))));
}

/// The commit of the git work tree holding `dir`, and whether it has uncommitted changes to
/// tracked files; `None` outside a work tree or without git.
fn git(dir: &Path) -> Option<Value> {
    let run = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        o.status.success().then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = run(&["rev-parse", "HEAD"])?;
    let dirty = run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(json!({ "commit": commit, "dirty": dirty }))
}
