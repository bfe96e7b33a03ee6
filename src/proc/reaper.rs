//! Orphans: a process a task leaves behind (a background job, a `setsid` daemon) loses its
//! parent when the task's shell exits. sweep is a child subreaper, so such processes become
//! sweep's children instead of init's; after each task, sweep kills and reaps the ones that
//! belong to tasks no longer running. (The [`super::sentinel`] ends whatever is left when
//! the run ends, and after sweep itself dies.)

use std::collections::HashSet;
use std::io;

/// Makes this process the reaper of its descendants' orphans (`PR_SET_CHILD_SUBREAPER`).
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: prctl with these arguments has no memory-safety preconditions.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The children of this process, from every thread's `children` list.
fn children() -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return out };
    for t in tasks.flatten() {
        if let Ok(list) = std::fs::read_to_string(t.path().join("children")) {
            out.extend(list.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    out
}

/// `NAME=` in a NUL-separated environment block: the value.
fn var<'e>(environ: &'e [u8], name: &str) -> Option<&'e [u8]> {
    environ.split(|&b| b == 0).find_map(|kv| kv.strip_prefix(name.as_bytes())?.strip_prefix(b"="))
}

/// Kills and reaps this process's children that carry `SWEEP_RUN_ID=<tag>` and a
/// `SWEEP_TASK` not in `running`: what tasks of this run left behind. Dead ones (zombies)
/// are reaped too. Returns how many it ended.
pub fn collect_orphans(tag: &str, running: &HashSet<String>) -> usize {
    let mut ended = 0;
    for pid in children() {
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else { continue };
        if var(&environ, super::sentinel::RUN_VAR) != Some(tag.as_bytes()) {
            continue;
        }
        let Some(task) = var(&environ, "SWEEP_TASK") else { continue };
        if running.contains(&*String::from_utf8_lossy(task)) {
            continue;
        }
        // SAFETY: kill and waitpid have no memory-safety preconditions; `pid` is our child,
        // so it cannot be reused before we reap it.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        ended += 1;
    }
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_read_from_an_environment_block() {
        let env = b"A=1\0SWEEP_TASK=abc\0SWEEP_TASKS=x\0";
        assert_eq!(var(env, "SWEEP_TASK"), Some(&b"abc"[..]));
        assert_eq!(var(env, "A"), Some(&b"1"[..]));
        assert_eq!(var(env, "B"), None);
    }
}
