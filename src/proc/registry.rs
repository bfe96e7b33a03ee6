//! The registry of sweep's own children and the gate that orders spawning and reaping
//! them against the orphan collector (the rules are in `own`): below both the owner of a
//! child (`own`) and the collector (`reaper`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
