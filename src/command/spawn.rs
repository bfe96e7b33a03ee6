//! Starting one task's command: its output directory and files, its argv or shell line,
//! its environment and working directory, in a new process group.

use super::invocation::Invocation;
use super::template::Values;
use super::CommandSpec;
use crate::proc::Launch;
use crate::task::{FailureClass, TaskFailure};
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::Path;

/// Creates the attempt's own directory (it must not exist: nothing planted there is ever
/// used) and starts the command in a new process group.
pub(super) fn spawn(inv: &Invocation) -> Result<crate::proc::Own, TaskFailure> {
    let spec = inv.spec;
    let io_failure = |what: &Path, e: io::Error| {
        TaskFailure::new(FailureClass::Io, format!("cannot create {}: {e}", what.display()))
    };
    // The parent (`attempts/`) is there but for the first task: create it only when missing.
    match fs::create_dir(inv.out_dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = inv.out_dir.parent() {
                fs::create_dir_all(parent).map_err(|e| io_failure(parent, e))?;
            }
            fs::create_dir(inv.out_dir).map_err(|e| io_failure(inv.out_dir, e))?;
        }
        r => r.map_err(|e| io_failure(inv.out_dir, e))?,
    }
    let create = |name: &str| {
        let path = inv.out_dir.join(name);
        crate::io::create_new(&path).map_err(|e| io_failure(&path, e))
    };
    let (stdout, stderr) = (create("stdout.txt")?, create("stderr.txt")?);

    let out = inv.out_dir.to_string_lossy();
    let values = Values { params: inv.values, seed: inv.seed, replicate: inv.replicate, task: inv.task, out: &out };
    let seed32 = crate::grid::seed32(inv.seed).to_string();
    let (program, args): (String, Vec<OsString>) = match (&spec.argv, &spec.shell) {
        (Some(argv), _) => {
            let mut words = argv.iter().map(|t| t.render(&values, false));
            let program = words.next().unwrap_or_default();
            (program, words.map(OsString::from).collect())
        }
        (None, Some(line)) => ("sh".to_string(), vec!["-c".into(), line.render(&values, true).into()]),
        (None, None) => return Err(TaskFailure::new(FailureClass::Spawn, "[command] has neither argv nor shell")),
    };

    let mut env: Vec<(OsString, OsString)> = vec![
        ("SWEEP_SEED".into(), inv.seed.to_string().into()),
        ("SWEEP_SEED32".into(), seed32.into()),
        ("SWEEP_TASK".into(), inv.task.into()),
        (crate::proc::RUN_VAR.into(), crate::proc::run_tag().into()),
        ("SWEEP_REPLICATE".into(), inv.replicate.to_string().into()),
        ("SWEEP_OUT".into(), inv.out_dir.as_os_str().to_owned()),
    ];
    for (name, value) in inv.columns.iter().zip(inv.values) {
        env.push((param_var(name).into(), value.into()));
    }
    env.extend(inv.slot_env.iter().map(|(k, v)| (k.into(), v.into())));
    env.extend(spec.env.iter().map(|(k, v)| (k.into(), v.into())));

    let failed = |e: io::Error| {
        // A missing working directory also reads as ENOENT: say which one is missing.
        let place = if spec.cwd.is_dir() { String::new() } else { format!(" in {}", spec.cwd.display()) };
        TaskFailure::new(FailureClass::Spawn, format!("cannot run `{program}`{place}: {e}"))
    };
    // A bare name not found on PATH: what `execvp` would say, without a process started.
    let path = resolve(&program, spec).ok_or_else(|| failed(io::Error::from_raw_os_error(libc::ENOENT)))?;
    let launch =
        Launch { program: &path, arg0: program.as_ref(), args, env, cwd: &spec.cwd, stdout: &stdout, stderr: &stderr };
    crate::proc::launch(&launch, inv.task).map_err(failed)
}

/// The program's path: a bare name is looked up in `PATH` (the spec's, else ours) once per
/// run and remembered, instead of the kernel trying every `PATH` entry for every task (a
/// measurable part of the cost of tiny tasks); `None` when it is not found there. A name
/// with a `/` is taken relative to the command's directory.
fn resolve(program: &str, spec: &CommandSpec) -> Option<std::path::PathBuf> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        // Relative to the command's directory, not to sweep's.
        return Some(spec.cwd.join(program));
    }
    let path_var = spec
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| std::ffi::OsString::from(v))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    /// (program, PATH, cwd) → resolved path.
    type Cache =
        std::sync::Mutex<HashMap<(String, std::ffi::OsString, std::path::PathBuf), Option<std::path::PathBuf>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (program.to_string(), path_var.clone(), spec.cwd.clone());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return p.clone();
    }
    let resolved = search(&path_var, &spec.cwd, program);
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(key, resolved.clone());
    resolved
}

/// The executable `name` names on this process's `PATH`, if any.
pub fn find_in_path(name: &str) -> Option<std::path::PathBuf> {
    search(&std::env::var_os("PATH")?, Path::new(""), name)
}

/// The first executable file `name` in the directories of `path_var` (relative ones taken
/// from `base`).
fn search(path_var: &std::ffi::OsStr, base: &Path, name: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path_var)
        .map(|dir| base.join(dir).join(name))
        .find(|p| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// `SWEEP_PARAM_<NAME>`: upper-cased, anything but ASCII letters and digits as `_`.
pub(super) fn param_var(name: &str) -> String {
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("SWEEP_PARAM_{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_var_names_are_upper_snake() {
        assert_eq!(param_var("step-size"), "SWEEP_PARAM_STEP_SIZE");
        assert_eq!(param_var("k2.b"), "SWEEP_PARAM_K2_B");
    }
}
