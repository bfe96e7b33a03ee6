//! Who may wait for and signal which process.
//!
//! Every process sweep starts itself (a task's command, a persistent worker, the
//! sentinel) is started through [`spawn`], which registers its pid while holding the
//! *gate* for reading; it is waited for and reaped only through [`Own`], by the thread
//! that holds it, which deregisters the pid under the same gate just before it reaps it.
//! The orphan collector ([`super::reaper`]) takes the gate for writing, so it never sees
//! a child of ours that is spawned but not yet registered, or deregistered but not yet
//! reaped: it touches only processes that are not registered, that is, orphans that the
//! kernel handed to sweep as their subreaper (#23: a task spawned while another task's
//! clean-up ran was taken for an orphan, killed and reaped under its own thread).
//!
//! A registered pid is never reused while registered: it stays our child (at worst a
//! zombie) until its own thread reaps it, after deregistering it.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many process groups of ended children are remembered: a zombie left in one of
/// them (a member killed with its group, reparented to sweep) is ours to reap.
const ENDED_GROUPS: usize = 4096;

/// The registry of this process's own children and what their tasks left behind.
#[derive(Default)]
pub(super) struct Registry {
    /// Registered children: pid → the task it runs (`None` for a worker or the sentinel).
    pub own: HashMap<i32, Option<String>>,
    /// Tasks whose commands run now, and how many of their commands: what they leave
    /// behind is theirs until they end.
    pub running: HashMap<String, u32>,
    /// Process groups of children that ended lately, newest last.
    pub ended: VecDeque<i32>,
    /// Orphans seen alive, tagged with this run, while their task still ran (pid → task):
    /// ours to end and reap once their task has ended (or once they have died).
    pub spared: HashMap<i32, String>,
}

impl Registry {
    /// Whether `pgid` is the group of a child of ours that ended lately.
    pub fn ended_group(&self, pgid: i32) -> bool {
        self.ended.contains(&pgid)
    }

    /// Whether child `pid` needs no look: registered, or spared for a task still running.
    pub fn settled(&self, pid: i32) -> bool {
        self.own.contains_key(&pid) || self.spared.get(&pid).is_some_and(|t| self.running.contains_key(t))
    }
}

fn gate_lock() -> &'static RwLock<()> {
    static GATE: RwLock<()> = RwLock::new(());
    &GATE
}

/// Held (shared) while a child is spawned and registered, or deregistered and reaped.
pub(super) fn gate() -> RwLockReadGuard<'static, ()> {
    gate_lock().read().unwrap_or_else(|e| e.into_inner())
}

/// Held (exclusive) while orphans are collected.
pub(super) fn gate_exclusive() -> RwLockWriteGuard<'static, ()> {
    gate_lock().write().unwrap_or_else(|e| e.into_inner())
}

/// The registry (a short lock; never held across a blocking call).
pub(super) fn registry() -> MutexGuard<'static, Registry> {
    static REG: OnceLock<Mutex<Registry>> = OnceLock::new();
    REG.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

/// A child this thread started and alone may wait for. Dropped without [`Own::reap`], it
/// kills its process group and reaps it, so that nothing it started outlives it.
pub struct Own {
    /// The child as the standard library started it, if it did: its pipes may be taken;
    /// never wait for it directly, use [`Own::reap`].
    pub child: Option<Child>,
    pid: i32,
    task: Option<String>,
    reaped: bool,
}

/// Starts `cmd` (which must put the child in a process group of its own) and registers it,
/// as running task `task` when it is a task's command.
pub fn spawn(cmd: &mut Command, task: Option<&str>) -> io::Result<Own> {
    let _gate = gate();
    let child = cmd.spawn()?;
    Ok(register(child.id() as i32, Some(child), task))
}

/// Starts a task's command through [`super::launch`] (a process group of its own, death
/// with the calling thread) and registers it as running task `task`.
pub fn launch(l: &super::Launch, task: &str) -> io::Result<Own> {
    let _gate = gate();
    let pid = super::launch::launch(l)?;
    Ok(register(pid, None, Some(task)))
}

/// Registers child `pid`; call it with the gate held, right after the spawn.
fn register(pid: i32, child: Option<Child>, task: Option<&str>) -> Own {
    let mut reg = registry();
    reg.own.insert(pid, task.map(str::to_string));
    if let Some(t) = task {
        *reg.running.entry(t.to_string()).or_default() += 1;
    }
    drop(reg);
    Own { child, pid, task: task.map(str::to_string), reaped: false }
}

impl Own {
    /// The child's pid, which is also its process group's id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether the child has exited (it is not reaped: see [`Own::reap`]).
    pub fn exited(&self) -> bool {
        // SAFETY: siginfo_t is plain data, and waitid only writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above; WNOWAIT leaves the child for `reap`.
        let r = unsafe {
            libc::waitid(libc::P_PID, self.pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT)
        };
        // With WNOHANG, si_pid stays 0 while the child runs.
        r != 0 || unsafe { info.si_pid() } != 0
    }

    /// Waits for the child and reaps it: deregistered first, under the gate, so that the
    /// orphan collector never takes it for an orphan and its pid is free only once it is
    /// no longer ours. Call it once its process group has been signalled, if it must be:
    /// after this, its pid (the group's id) may belong to a stranger.
    pub fn reap(&mut self) -> io::Result<ExitStatus> {
        let status = {
            let _gate = gate();
            self.deregister();
            match &mut self.child {
                Some(c) => c.wait(),
                None => wait_raw(self.pid),
            }
        };
        self.reaped = true;
        if self.task.is_some() {
            super::reaper::collect_orphans();
        }
        status
    }

    fn deregister(&self) {
        let mut reg = registry();
        reg.own.remove(&self.pid);
        if reg.ended.len() >= ENDED_GROUPS {
            reg.ended.pop_front();
        }
        reg.ended.push_back(self.pid);
        if let Some(t) = &self.task {
            if let Some(n) = reg.running.get_mut(t) {
                *n -= 1;
                if *n == 0 {
                    reg.running.remove(t);
                }
            }
        }
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        if !self.reaped {
            // Not yet reaped, so the group id is still ours to signal.
            super::signal_group(self.pid, libc::SIGKILL);
            let _ = self.reap();
        }
    }
}

/// Waits for and reaps child `pid`.
fn wait_raw(pid: i32) -> io::Result<ExitStatus> {
    use std::os::unix::process::ExitStatusExt;
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes only into `status`.
        if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
            return Ok(ExitStatus::from_raw(status));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Sends `sig` to the process group of registered child `pgid`, and to nothing if that
/// child has been reaped: its pid may then be a stranger's. The registry's lock spans the
/// check and the signal, and a child is deregistered under it before it is reaped.
pub fn signal_own(pgid: i32, sig: libc::c_int) {
    let reg = registry();
    if reg.own.contains_key(&pgid) {
        super::signal_group(pgid, sig);
    }
}
