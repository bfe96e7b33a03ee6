//! Process groups: signalling them, waiting for their leaders, naming how they ended.

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};

/// Makes the child `cmd` starts receive SIGKILL when the thread that started it ends, so
/// that a `kill -9` of sweep does not leave it running (see `PR_SET_PDEATHSIG`).
pub fn die_with_parent(cmd: &mut Command) {
    // SAFETY: getppid and prctl are async-signal-safe, and the closure touches no memory
    // the parent shares.
    let parent = unsafe { libc::getpid() };
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the prctl: then no signal would come.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// Blocks SIGPIPE in the calling thread, so that writing to a child that has died fails
/// with EPIPE (and the child's end is then read as such) instead of killing sweep, whose
/// main thread lets SIGPIPE end it quietly when its own stdout is a closed pipe.
pub fn block_sigpipe() {
    // SAFETY: the set is initialised by sigemptyset before use; pthread_sigmask only
    // changes this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Sends `sig` to process group `pgid`; a group that is already gone (ESRCH) is fine.
pub fn signal_group(pgid: i32, sig: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

/// Blocks until child `pid` has exited, without reaping it: while it is a zombie its pid,
/// which is also its group's id, cannot be reused, so the group can still be signalled
/// safely.
pub fn wait_exited(pid: i32) -> io::Result<()> {
    loop {
        // SAFETY: siginfo_t is plain data, and waitid only writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above; WNOWAIT leaves the child for `Child::wait` to reap.
        let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// How a process ended, for people: `exit status 3`, `killed by signal 9 (SIGKILL)`,
/// with `(core dumped)` when it did; and whether it was a signal.
pub fn describe_exit(status: ExitStatus) -> (String, bool) {
    match (status.code(), status.signal()) {
        (Some(code), _) => (format!("exit status {code}"), false),
        (None, Some(sig)) => {
            let name = signal_name(sig).map(|n| format!(" ({n})")).unwrap_or_default();
            let core = if status.core_dumped() { " (core dumped)" } else { "" };
            (format!("killed by signal {sig}{name}{core}"), true)
        }
        (None, None) => (format!("{status}"), false),
    }
}

/// The conventional name of signal `sig`, for the common ones.
pub fn signal_name(sig: libc::c_int) -> Option<&'static str> {
    Some(match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => return None,
    })
}

/// What a task's processes get in `/proc/self/oom_score_adj`: the most, as Ray gives its
/// workers, so that when memory runs out the kernel kills a task, which fails alone, rather
/// than sweep, which holds the journal (its own adjustment stays 0).
pub const TASK_OOM_SCORE_ADJ: &[u8] = b"1000";

/// Makes the calling process the OOM killer's first choice over sweep; what it starts
/// inherits it. Called in a child between fork and exec, before the program can start
/// anything: only async-signal-safe calls on static data. Raising the value needs no
/// privilege; where `/proc` cannot be written, nothing changes.
///
/// # Safety
///
/// Only raw system calls: safe in a vfork or fork child.
pub unsafe fn prefer_self_for_oom() {
    let fd = libc::open(c"/proc/self/oom_score_adj".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    if fd >= 0 {
        libc::write(fd, TASK_OOM_SCORE_ADJ.as_ptr().cast(), TASK_OOM_SCORE_ADJ.len());
        libc::close(fd);
    }
}

/// [`prefer_self_for_oom`] in `cmd`'s child, before it runs its program (a worker).
pub fn prefer_for_oom(cmd: &mut Command) {
    // SAFETY: prefer_self_for_oom makes only raw system calls on static data.
    unsafe {
        cmd.pre_exec(|| {
            prefer_self_for_oom();
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_are_described_with_status_or_signal_name() {
        let cases = [
            (ExitStatus::from_raw(3 << 8), "exit status 3", false),
            (ExitStatus::from_raw(libc::SIGKILL), "killed by signal 9 (SIGKILL)", true),
            (ExitStatus::from_raw(libc::SIGSEGV | 0x80), "killed by signal 11 (SIGSEGV) (core dumped)", true),
            (ExitStatus::from_raw(64), "killed by signal 64", true),
        ];
        for (status, text, signal) in cases {
            assert_eq!(describe_exit(status), (text.to_string(), signal));
        }
    }
}
