//! Starting a task's command the cheap way: `clone(CLONE_VM | CLONE_VFORK)`, as
//! `posix_spawn` does, with the few steps sweep needs in the child (a process group of its
//! own, `PR_SET_PDEATHSIG`, its stdio and directory) done between the clone and the exec.
//!
//! Why not `std::process::Command`: a `pre_exec` hook (the only way to set
//! `PR_SET_PDEATHSIG`) makes the standard library fork, copying sweep's page tables for
//! every task, where `posix_spawn` would share them until the exec. On 2,000 `true`
//! commands at `--jobs 2`, forking cost sweep about 1.5× the CPU of this path and made it
//! slower than `xargs -P2` (#23; `benches/peers/commands_vs_parallel.sh`). Persistent
//! workers and the sentinel start rarely and keep using `Command`.
//!
//! The child shares sweep's memory until it execs, so it runs only async-signal-safe calls
//! on data prepared beforehand, with every signal blocked in the parent thread around the
//! clone and every handler reset to its default in the child before it unblocks them.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What the child needs, prepared in the parent; the child writes `errno` when it fails.
#[repr(C)]
struct Plan {
    program: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    cwd: *const libc::c_char,
    fds: [libc::c_int; 3],
    parent: libc::pid_t,
    /// The parent thread's signal mask before it blocked everything.
    mask: libc::sigset_t,
    /// Set by the child when a step fails: the error, and which step.
    errno: libc::c_int,
    step: libc::c_int,
}

/// A command to start: its program (a path: a bare name is looked up by the caller), its
/// arguments (without `argv[0]`), variables set over this process's environment, its
/// directory and its output files; stdin is `/dev/null`.
pub struct Launch<'a> {
    /// The program's path.
    pub program: &'a Path,
    /// `argv[0]`, as the user wrote the program.
    pub arg0: &'a OsStr,
    /// The arguments after `argv[0]`.
    pub args: Vec<OsString>,
    /// Variables set (or replaced) over this process's environment, in order.
    pub env: Vec<(OsString, OsString)>,
    /// The working directory.
    pub cwd: &'a Path,
    /// The command's stdout.
    pub stdout: &'a File,
    /// The command's stderr.
    pub stderr: &'a File,
}

fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in an argument"))
}

/// `/dev/null`, opened once for every child's stdin.
fn dev_null() -> io::Result<libc::c_int> {
    static NULL: std::sync::OnceLock<Option<File>> = std::sync::OnceLock::new();
    NULL.get_or_init(|| File::open("/dev/null").ok())
        .as_ref()
        .map(|f| f.as_raw_fd())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "cannot open /dev/null"))
}

/// The environment the child gets: this process's, with `set` applied over it.
fn environment(set: &[(OsString, OsString)]) -> io::Result<Vec<CString>> {
    let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    for (k, v) in set {
        match vars.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = v.clone(),
            None => vars.push((k.clone(), v.clone())),
        }
    }
    vars.iter()
        .map(|(k, v)| {
            let mut kv = k.clone();
            kv.push("=");
            kv.push(v);
            cstring(&kv)
        })
        .collect()
}

/// Starts `l` in a new process group of its own that dies with the calling thread, and
/// returns its pid. Fails, with nothing left running, when any step before the exec fails
/// (a missing program, a missing directory).
pub fn launch(l: &Launch) -> io::Result<i32> {
    let program = cstring(l.program.as_os_str())?;
    let mut argv = vec![cstring(l.arg0)?];
    for a in &l.args {
        argv.push(cstring(a)?);
    }
    let envp = environment(&l.env)?;
    let cwd = cstring(l.cwd.as_os_str())?;
    let argv_ptrs: Vec<*const libc::c_char> =
        argv.iter().map(|c| c.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    let envp_ptrs: Vec<*const libc::c_char> =
        envp.iter().map(|c| c.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    let mut plan = Plan {
        program: program.as_ptr(),
        argv: argv_ptrs.as_ptr(),
        envp: envp_ptrs.as_ptr(),
        cwd: cwd.as_ptr(),
        fds: [dev_null()?, l.stdout.as_raw_fd(), l.stderr.as_raw_fd()],
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
        // SAFETY: sigset_t is plain data; it is filled by pthread_sigmask below.
        mask: unsafe { std::mem::zeroed() },
        errno: 0,
        step: 0,
    };
    // The child runs on this stack until it execs; CLONE_VFORK suspends this thread until
    // then, so the stack (and `plan`) outlive every use the child makes of them.
    let mut stack = vec![0u8; 64 * 1024];
    // SAFETY: the stack grows down on every platform Linux runs sweep on; the top is
    // aligned down to 16 bytes as the ABI wants.
    let top = unsafe { stack.as_mut_ptr().add(stack.len()) } as usize & !15;
    // SAFETY: `full` is initialised by sigfillset; pthread_sigmask only changes this
    // thread's mask and writes the old one into `plan.mask`; clone runs `child` on the
    // prepared stack with a pointer to `plan`, which lives until clone returns (CLONE_VFORK).
    let pid = unsafe {
        let mut full: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut full);
        libc::pthread_sigmask(libc::SIG_SETMASK, &full, &mut plan.mask);
        let pid = libc::clone(
            child,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &mut plan as *mut Plan as *mut libc::c_void,
        );
        let clone_errno = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &plan.mask, std::ptr::null_mut());
        if pid < 0 {
            return Err(clone_errno);
        }
        pid
    };
    if plan.errno != 0 {
        // The child has exited (CLONE_VFORK returned without an exec): reap it.
        // SAFETY: waitpid has no memory-safety preconditions; `pid` is our child.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        let e = io::Error::from_raw_os_error(plan.errno);
        return Err(match plan.step {
            STEP_CWD => io::Error::new(e.kind(), format!("cannot enter {}: {e}", l.cwd.display())),
            STEP_EXEC => e,
            _ => io::Error::new(e.kind(), format!("cannot set up the child: {e}")),
        });
    }
    drop(stack);
    Ok(pid)
}

const STEP_SETUP: libc::c_int = 1;
const STEP_CWD: libc::c_int = 2;
const STEP_EXEC: libc::c_int = 3;

/// Notes the failed step and errno for the parent, and exits.
unsafe fn fail(plan: &mut Plan, step: libc::c_int) -> ! {
    plan.errno = *libc::__errno_location();
    plan.step = step;
    libc::_exit(127)
}

/// The child, between the clone and the exec. Only async-signal-safe calls on `plan`.
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the parent's `Plan`, alive and not touched by the suspended parent.
    unsafe {
        let plan = &mut *(arg as *mut Plan);
        // Handlers are sweep's and would run on shared memory: back to the defaults
        // (SIGPIPE too, which sweep ignores and a shell pipeline relies on).
        for sig in 1..=libc::SIGRTMAX() {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 {
                continue;
            }
            if old.sa_sigaction != libc::SIG_DFL && (old.sa_sigaction != libc::SIG_IGN || sig == libc::SIGPIPE) {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
        if libc::setpgid(0, 0) != 0 {
            fail(plan, STEP_SETUP);
        }
        // Before the program runs, so that all it starts inherits it.
        super::prefer_self_for_oom();
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
            fail(plan, STEP_SETUP);
        }
        // The parent may have died before the prctl: then no signal would come.
        if libc::getppid() != plan.parent {
            libc::_exit(1);
        }
        for (target, &fd) in plan.fds.iter().enumerate() {
            if libc::dup2(fd, target as libc::c_int) < 0 {
                fail(plan, STEP_SETUP);
            }
        }
        if libc::chdir(plan.cwd) != 0 {
            fail(plan, STEP_CWD);
        }
        // A child starts with no signal blocked.
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        libc::execve(plan.program, plan.argv, plan.envp);
        fail(plan, STEP_EXEC)
    }
}
