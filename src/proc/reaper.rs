//! Orphans: a process a task leaves behind (a background job, a `setsid` daemon) loses its
//! parent when the task's shell exits. sweep is a child subreaper, so such processes become
//! sweep's children instead of init's, and the kernel hands them to sweep's first live
//! thread, the main thread. After each task, sweep ends and reaps those of tasks no longer
//! running. (The [`super::sentinel`] ends whatever is left when the run ends, and after
//! sweep itself dies.)
//!
//! The cost, per task, when nothing was left behind: one `pread` of the main thread's
//! `children` list, whose pids are then all registered ([`super::own`]). Only when an
//! unregistered child shows up does the collector take the gate and read `/proc` further
//! (#23: the scan of every thread's children and every child's environment after each task
//! cost 19 `openat` and 21 `read` calls per task).

use super::registry::{gate_exclusive, registry, Registry};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

/// Makes this process the reaper of its descendants' orphans (`PR_SET_CHILD_SUBREAPER`).
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: prctl with these arguments has no memory-safety preconditions.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The pids in a `children` list.
fn parse_pids(text: &[u8]) -> impl Iterator<Item = i32> + '_ {
    text.split(|b| b.is_ascii_whitespace()).filter_map(|w| std::str::from_utf8(w).ok()?.parse().ok())
}

/// Reads the whole of a `/proc` file from offset 0 into `buf` (a seq file is generated
/// anew at each read from 0, so one open file serves every call).
fn read_from_start(f: &File, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = f.read_at(&mut chunk, buf.len() as u64)?;
        buf.extend_from_slice(&chunk[..n]);
        // A seq file fills the whole buffer unless it has reached its end.
        if n < chunk.len() {
            return Ok(());
        }
    }
}

/// The main thread's children: orphans, plus what the main thread spawned itself.
/// `None` when the list cannot be read (then every thread's list is read).
fn main_thread_children(buf: &mut Vec<u8>) -> Option<Vec<i32>> {
    static FILE: OnceLock<Option<File>> = OnceLock::new();
    let f = FILE.get_or_init(|| File::open(format!("/proc/self/task/{}/children", std::process::id())).ok());
    read_from_start(f.as_ref()?, buf).ok()?;
    Some(parse_pids(buf).collect())
}

/// The children of every thread of this process.
fn all_children() -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return out };
    for t in tasks.flatten() {
        if let Ok(list) = std::fs::read(t.path().join("children")) {
            out.extend(parse_pids(&list));
        }
    }
    out
}

/// `NAME=` in a NUL-separated environment block: the value.
fn var<'e>(environ: &'e [u8], name: &str) -> Option<&'e [u8]> {
    environ.split(|&b| b == 0).find_map(|kv| kv.strip_prefix(name.as_bytes())?.strip_prefix(b"="))
}

/// State and process group of `pid`, from `/proc/<pid>/stat`.
fn stat(pid: i32) -> Option<(u8, i32)> {
    let s = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let close = s.iter().rposition(|&b| b == b')')?;
    let mut fields = s[close + 1..].split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty());
    let state = *fields.next()?.first()?;
    let pgrp = std::str::from_utf8(fields.nth(1)?).ok()?.parse().ok()?;
    Some((state, pgrp))
}

/// What becomes of one unregistered child.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Not ours (another part of this process started it), or not ours to end yet.
    Leave,
    /// Dead and ours: reap it.
    Reap,
    /// Alive, left by a task that has ended: kill it and reap it.
    End,
    /// Alive, left by task `.0`, which still runs: leave it, and remember it is ours.
    Spare(String),
}

/// Ends and reaps the orphans of tasks no longer running, and reaps the dead ones that
/// were ours; returns how many it ended or reaped. Cheap when there are none.
pub fn collect_orphans() -> usize {
    collect(false)
}

/// [`collect_orphans`]; with `force`, every thread's children are looked at even when the
/// main thread has none unregistered (tests spawn children from threads of their own).
fn collect(force: bool) -> usize {
    let mut buf = Vec::new();
    if let Some(kids) = main_thread_children(&mut buf).filter(|_| !force) {
        let reg = registry();
        if kids.iter().all(|&p| reg.settled(p)) {
            return 0;
        }
    }
    // No child of ours is spawned-but-unregistered or deregistered-but-unreaped while this
    // is held: an unregistered child is an orphan, or not ours at all.
    let _gate = gate_exclusive();
    let tag = super::tag::run_tag().as_bytes();
    let mut done = 0;
    for pid in all_children() {
        let verdict = {
            let reg = registry();
            if reg.own.contains_key(&pid) {
                continue;
            }
            judge(pid, tag, &reg)
        };
        match verdict {
            Verdict::Leave => {}
            Verdict::Spare(task) => {
                registry().spared.insert(pid, task);
            }
            Verdict::Reap => done += reap(pid, false),
            Verdict::End => done += reap(pid, true),
        }
    }
    done
}

/// Reaps unregistered child `pid`, killed first (with its group, if it leads one) when
/// `kill`. Call it with the gate held exclusively.
fn reap(pid: i32, kill: bool) -> usize {
    // SAFETY: kill and waitpid have no memory-safety preconditions; `pid` is our
    // unregistered child, which nobody else reaps, so it cannot be reused first.
    unsafe {
        if kill {
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
        }
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
    registry().spared.remove(&pid);
    1
}

/// The verdict on unregistered child `pid`, for the run tagged `tag`.
fn judge(pid: i32, tag: &[u8], reg: &Registry) -> Verdict {
    let Some((state, pgrp)) = stat(pid) else { return Verdict::Leave };
    if state == b'Z' || state == b'X' {
        // A zombie's environment can no longer be read: it is ours if it was seen alive as
        // ours, or died in the group of a child of ours (a group's id is not reused while
        // a zombie of it is left).
        return if reg.spared.contains_key(&pid) || reg.ended_group(pgrp) { Verdict::Reap } else { Verdict::Leave };
    }
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else { return Verdict::Leave };
    if var(&environ, super::tag::RUN_VAR) != Some(tag) {
        return Verdict::Leave;
    }
    match var(&environ, "SWEEP_TASK").map(String::from_utf8_lossy) {
        Some(task) if reg.running.contains_key(&*task) => Verdict::Spare(task.into_owned()),
        _ => Verdict::End,
    }
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

    #[test]
    fn children_lists_parse() {
        assert_eq!(parse_pids(b"12 345 6\n").collect::<Vec<_>>(), [12, 345, 6]);
        assert_eq!(parse_pids(b"").count(), 0);
    }

    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// A command that runs as a task's would: tagged with this run, as task `task`.
    fn tagged(program: &str, args: &[&str], task: &str) -> Command {
        let mut c = Command::new(program);
        c.args(args).env(super::super::RUN_VAR, super::super::run_tag()).env("SWEEP_TASK", task);
        c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        c
    }

    fn alive(pid: i32) -> bool {
        stat(pid).is_some_and(|(state, _)| state != b'Z' && state != b'X')
    }

    /// The tests that collect with `force` take turns: each looks at the other's children.
    fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
        static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
        TURN.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[test]
    fn a_registered_child_is_never_collected_and_an_orphan_of_an_ended_task_is() {
        // Both carry the tag of this run and a task that is not running: only registration
        // tells the worker or command that sweep started from what a task left behind.
        let _turn = one_at_a_time();
        let mut own = super::super::spawn(&mut tagged("sleep", &["30"], "registered-not-running"), None).unwrap();
        let mut stray = tagged("sleep", &["30"], "ended-task").spawn().unwrap();
        let stray_pid = stray.id() as i32;
        // The spawner resumes once the exec has begun, before the new environment is set up
        // (an empty one reads as not ours): wait for it.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !std::fs::read(format!("/proc/{stray_pid}/environ")).is_ok_and(|e| var(&e, "SWEEP_TASK").is_some()) {
            assert!(Instant::now() < deadline, "the stray child never showed its environment");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(collect(true) >= 1, "the stray child was not collected");
        assert!(alive(own.pid()), "the registered child was collected");
        assert!(stray.try_wait().is_err(), "the stray child was reaped by the collector");
        assert!(!alive(stray_pid), "the stray child was not ended");
        super::super::signal_group(own.pid(), libc::SIGKILL);
        own.reap().unwrap();
    }

    #[test]
    fn a_task_spawned_while_another_tasks_clean_up_runs_is_never_killed() {
        // Regression (#23): the collector took a snapshot of the running tasks, then killed
        // every tagged child not in it, including a task another thread had just spawned;
        // 5,000 `true` commands at --jobs 8 lost about 25 that way.
        let _turn = one_at_a_time();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    collect(true);
                }
            });
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut failed = Vec::new();
            for i in 0..300 {
                let task = format!("spawned-{i}");
                let mut own = super::super::spawn(&mut tagged("true", &[], &task), Some(&task)).unwrap();
                let status = super::super::wait_exited(own.pid()).and_then(|()| own.reap());
                if !status.as_ref().is_ok_and(|s| s.success()) {
                    failed.push((i, status));
                }
                if Instant::now() > deadline {
                    break;
                }
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            assert!(failed.is_empty(), "tasks killed or reaped by the collector: {failed:?}");
        });
    }

    #[test]
    fn stat_reads_state_and_group() {
        let (state, pgrp) = stat(std::process::id() as i32).unwrap();
        assert!(b"RSD".contains(&state), "{}", state as char);
        // SAFETY: getpgrp has no preconditions.
        assert_eq!(pgrp, unsafe { libc::getpgrp() });
    }
}
