//! The watchdog: one thread per run that stops process groups whose deadline passed or
//! whose run was cancelled. A group gets SIGTERM, then SIGKILL once its grace has passed;
//! a killed run (second Ctrl-C) gets SIGKILL at once.
//!
//! Time and signals come through [`Clock`] and [`Signaller`], so that the state machine is
//! tested with a hand-moved clock and recorded signals instead of sleeps and processes.

use crate::task::{Cancel, HookId};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the watchdog looks at deadlines and the cancel token while groups run.
const TICK: Duration = Duration::from_millis(20);

/// Where the watchdog reads the time.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// How the watchdog signals a process group.
pub trait Signaller: Send + Sync + 'static {
    /// Sends `sig` to process group `pgid`.
    fn signal(&self, pgid: i32, sig: libc::c_int);
}

/// Real signals, through `kill(2)`, to groups whose leader is still a registered child of
/// this process ([`super::signal_own`]): a group whose leader has been reaped is never
/// signalled, since its id may be a stranger's by then.
pub struct Kernel;

impl Signaller for Kernel {
    fn signal(&self, pgid: i32, sig: libc::c_int) {
        super::signal_own(pgid, sig);
    }
}

/// Why a group was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Its deadline passed.
    Timeout,
    /// The run was interrupted (Ctrl-C, SIGTERM, ...).
    Interrupted,
    /// Its processes together grew past the run's memory limit (`[resources] memory`).
    Memory {
        /// Their resident bytes when they were stopped.
        peak: u64,
        /// The limit.
        limit: u64,
    },
}

/// One watched process group.
struct Group {
    deadline: Option<Instant>,
    grace: Duration,
    /// The first reason the group was stopped for; it decides the failure class.
    stop: Option<Stop>,
    /// When SIGKILL follows the SIGTERM already sent.
    kill_at: Option<Instant>,
    killed: bool,
}

impl Group {
    /// SIGTERM now, SIGKILL once the grace has passed.
    fn terminate(&mut self, pgid: i32, why: Stop, now: Instant, sig: &dyn Signaller) {
        self.stop.get_or_insert(why);
        if self.kill_at.is_none() && !self.killed {
            sig.signal(pgid, libc::SIGTERM);
            self.kill_at = Some(now + self.grace);
        }
    }

    /// SIGKILL now.
    fn kill(&mut self, pgid: i32, why: Stop, sig: &dyn Signaller) {
        self.stop.get_or_insert(why);
        if !self.killed {
            sig.signal(pgid, libc::SIGKILL);
            self.killed = true;
        }
    }

    /// One look at this group; with `drain_kills`, a first stop signal kills it too.
    fn tick(&mut self, pgid: i32, now: Instant, cancel: &Cancel, sig: &dyn Signaller, drain_kills: bool) {
        // A first Ctrl-C only drains: running groups finish. A second one kills them.
        if cancel.is_killed() || (drain_kills && cancel.is_draining()) {
            self.kill(pgid, Stop::Interrupted, sig);
        }
        if self.deadline.is_some_and(|d| now >= d) {
            self.terminate(pgid, Stop::Timeout, now, sig);
        }
        if self.kill_at.is_some_and(|k| now >= k) {
            self.kill(pgid, Stop::Timeout, sig);
        }
    }
}

#[derive(Default)]
struct State {
    /// Watched groups by process group id (the leader's pid).
    groups: HashMap<i32, Group>,
    shutdown: bool,
    /// Ticks since the groups' memory was last read.
    since_memory: u32,
}

/// Every this many ticks (100 ms), groups are weighed against the memory limit: a scan of
/// `/proc` costs about a millisecond, and a task can grow by a few hundred MB meanwhile.
const MEMORY_TICKS: u32 = 5;

/// What the watchdog thread and its callers share.
struct Shared {
    cancel: Arc<Cancel>,
    clock: Box<dyn Clock>,
    signaller: Box<dyn Signaller>,
    state: Mutex<State>,
    /// Wakes the thread when the first group registers and at shutdown.
    wake: Condvar,
    /// A drained run stops the groups at once (workers that are still starting).
    drain_kills: std::sync::atomic::AtomicBool,
    /// The resident bytes a group may reach (0: no limit).
    memory_limit: std::sync::atomic::AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tick(&self, state: &mut State) {
        let now = self.clock.now();
        let drain_kills = self.drain_kills.load(std::sync::atomic::Ordering::Relaxed);
        for (&pgid, group) in state.groups.iter_mut() {
            group.tick(pgid, now, &self.cancel, &*self.signaller, drain_kills);
        }
    }

    fn stop_all(&self, hard: bool) {
        let now = self.clock.now();
        let mut state = self.lock();
        for (&pgid, group) in state.groups.iter_mut() {
            if hard {
                group.kill(pgid, Stop::Interrupted, &*self.signaller);
            } else {
                group.terminate(pgid, Stop::Interrupted, now, &*self.signaller);
            }
        }
    }

    /// The thread: sleeps while nothing runs, otherwise looks at every group each tick.
    fn run(&self) {
        let mut state = self.lock();
        loop {
            if state.shutdown {
                return;
            }
            if state.groups.is_empty() {
                state = self.wake.wait(state).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state = self.wake.wait_timeout(state, TICK).unwrap_or_else(PoisonError::into_inner).0;
            self.tick(&mut state);
            state.since_memory += 1;
            let limit = self.memory_limit.load(std::sync::atomic::Ordering::Relaxed);
            if limit > 0 && state.since_memory >= MEMORY_TICKS {
                state.since_memory = 0;
                let live: Vec<i32> = state.groups.iter().filter(|(_, g)| g.stop.is_none()).map(|(&p, _)| p).collect();
                // Read without the lock: starting and ending groups must not wait on /proc.
                drop(state);
                let rss = crate::resources::group_rss(&live);
                state = self.lock();
                self.weigh(&mut state, &rss, limit);
            }
        }
    }

    /// Kills the groups whose resident memory is past `limit`: at once, since waiting a
    /// grace period lets the kernel's OOM killer choose instead.
    fn weigh(&self, state: &mut State, rss: &HashMap<i32, u64>, limit: u64) {
        for (&pgid, group) in state.groups.iter_mut() {
            if let Some(&peak) = rss.get(&pgid).filter(|&&b| b > limit) {
                if group.stop.is_none() {
                    group.kill(pgid, Stop::Memory { peak, limit }, &*self.signaller);
                }
            }
        }
    }
}

/// Watches the process groups of one run; its thread stops when it is dropped.
///
/// Children run in their own process groups, so the terminal's Ctrl-C does not reach them
/// directly: the watchdog forwards it, through the [`Cancel`] token it watches, through a
/// kill hook on that token (a second Ctrl-C kills every group before `Cancel::kill`
/// returns), or through [`Watchdog::stop_all`].
pub struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    hook: HookId,
}

impl Watchdog {
    /// A watchdog on the system clock and real signals, with its thread running.
    pub fn new(cancel: Arc<Cancel>) -> Watchdog {
        let mut w = Self::manual(cancel, SystemClock, Kernel);
        let shared = Arc::clone(&w.shared);
        w.thread = Some(
            std::thread::Builder::new()
                .name("sweep-watchdog".into())
                .spawn(move || shared.run())
                .expect("cannot start the watchdog thread"),
        );
        w
    }

    /// A watchdog with no thread: nothing happens but on [`tick`](Self::tick),
    /// [`stop_all`](Self::stop_all) and a kill of `cancel`. For tests.
    pub fn manual(cancel: Arc<Cancel>, clock: impl Clock, signaller: impl Signaller) -> Watchdog {
        let shared = Arc::new(Shared {
            cancel,
            clock: Box::new(clock),
            signaller: Box::new(signaller),
            state: Mutex::default(),
            wake: Condvar::new(),
            drain_kills: Default::default(),
            memory_limit: Default::default(),
        });
        let weak = Arc::downgrade(&shared);
        let hook = shared.cancel.on_kill(move || {
            if let Some(shared) = weak.upgrade() {
                shared.stop_all(true);
            }
        });
        Watchdog { shared, thread: None, hook }
    }

    /// The time on the watchdog's clock.
    pub fn now(&self) -> Instant {
        self.shared.clock.now()
    }

    /// Starts watching group `pgid`: it is stopped `timeout` from now (never, with `None`),
    /// SIGKILL following SIGTERM after `grace`.
    pub fn watch(&self, pgid: i32, timeout: Option<Duration>, grace: Duration) {
        let deadline = timeout.map(|t| self.now() + t);
        let group = Group { deadline, grace, stop: None, kill_at: None, killed: false };
        let mut state = self.shared.lock();
        let was_idle = state.groups.is_empty();
        state.groups.insert(pgid, group);
        if was_idle {
            self.shared.wake.notify_all();
        }
    }

    /// Moves group `pgid`'s deadline to `timeout` from now (a persistent worker starts
    /// another task); `None` clears it.
    pub fn set_timeout(&self, pgid: i32, timeout: Option<Duration>) {
        let deadline = timeout.map(|t| self.now() + t);
        if let Some(g) = self.shared.lock().groups.get_mut(&pgid) {
            g.deadline = deadline;
        }
    }

    /// Stops any watched group whose processes together hold more than `limit` resident
    /// bytes (`None`: no limit), failing its task as [`Stop::Memory`].
    pub fn limit_memory(&self, limit: Option<u64>) {
        self.shared.memory_limit.store(limit.unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
    }

    /// From now on a drained run (a first stop signal) kills the watched groups at once,
    /// as a second one does: for workers still starting, which have run no task.
    pub fn stop_on_drain(&self) {
        self.shared.drain_kills.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// A handle that can forget groups after this watchdog's owner has moved on (a worker
    /// dropped without its end told).
    pub fn handle(&self) -> WatchHandle {
        WatchHandle(Arc::clone(&self.shared))
    }

    /// Why group `pgid` has been stopped so far, if it has.
    pub fn stopped(&self, pgid: i32) -> Option<Stop> {
        self.shared.lock().groups.get(&pgid).and_then(|g| g.stop)
    }

    /// Stops watching group `pgid` and says why it was stopped, if it was.
    pub fn forget(&self, pgid: i32) -> Option<Stop> {
        self.shared.lock().groups.remove(&pgid).and_then(|g| g.stop)
    }

    /// Stops every watched group now: SIGTERM and SIGKILL after its grace, or SIGKILL at
    /// once when `hard`. Takes a lock: call it from a thread, never from a signal handler.
    pub fn stop_all(&self, hard: bool) {
        self.shared.stop_all(hard);
    }

    /// One look at every group, as the thread takes each tick.
    pub fn tick(&self) {
        let mut state = self.shared.lock();
        self.shared.tick(&mut state);
    }
}

/// Forgets groups of a [`Watchdog`]; see [`Watchdog::handle`].
pub struct WatchHandle(Arc<Shared>);

impl WatchHandle {
    /// Stops watching group `pgid`.
    pub fn forget(&self, pgid: i32) {
        self.0.lock().groups.remove(&pgid);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.cancel.remove_hook(self.hook);
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::StopReason;

    /// A clock moved by hand.
    #[derive(Clone)]
    struct FakeClock(Arc<Mutex<Instant>>);

    impl FakeClock {
        fn advance(&self, d: Duration) {
            *self.0.lock().unwrap() += d;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap()
        }
    }

    /// Signals recorded instead of sent.
    #[derive(Clone, Default)]
    struct Recorded(Arc<Mutex<Vec<(i32, libc::c_int)>>>);

    impl Recorded {
        fn take(&self) -> Vec<(i32, libc::c_int)> {
            std::mem::take(&mut self.0.lock().unwrap())
        }
    }

    impl Signaller for Recorded {
        fn signal(&self, pgid: i32, sig: libc::c_int) {
            self.0.lock().unwrap().push((pgid, sig));
        }
    }

    fn setup() -> (Arc<Cancel>, FakeClock, Recorded, Watchdog) {
        let cancel = Arc::new(Cancel::new());
        let clock = FakeClock(Arc::new(Mutex::new(Instant::now())));
        let sent = Recorded::default();
        let w = Watchdog::manual(cancel.clone(), clock.clone(), sent.clone());
        (cancel, clock, sent, w)
    }

    const TERM: libc::c_int = libc::SIGTERM;
    const KILL: libc::c_int = libc::SIGKILL;
    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_timeout_sends_sigterm_at_the_deadline_and_sigkill_after_the_grace() {
        let (_, clock, sent, w) = setup();
        w.watch(7, Some(10 * S), 5 * S);
        // (seconds moved, signals expected after that tick)
        let steps: [(u32, &[(i32, libc::c_int)]); 5] =
            [(9, &[]), (1, &[(7, TERM)]), (4, &[]), (1, &[(7, KILL)]), (100, &[])];
        for (secs, expected) in steps {
            clock.advance(secs * S);
            w.tick();
            assert_eq!(sent.take(), expected, "after {secs} more seconds");
        }
        assert_eq!(w.forget(7), Some(Stop::Timeout));
    }

    #[test]
    fn no_timeout_means_never_stopped_and_a_finished_group_is_forgotten() {
        let (_, clock, sent, w) = setup();
        w.watch(1, None, S);
        clock.advance(1_000_000 * S);
        w.tick();
        assert_eq!(sent.take(), []);
        assert_eq!(w.forget(1), None);
        w.tick();
        assert_eq!(sent.take(), [], "a forgotten group is never signalled again");
    }

    #[test]
    fn moving_the_deadline_restarts_the_timeout() {
        let (_, clock, sent, w) = setup();
        w.watch(3, Some(10 * S), S);
        clock.advance(8 * S);
        w.set_timeout(3, Some(10 * S));
        clock.advance(8 * S);
        w.tick();
        assert_eq!(sent.take(), [], "16 s after the start, 8 s after the new deadline's start");
        clock.advance(2 * S);
        w.tick();
        assert_eq!(sent.take(), [(3, TERM)]);
    }

    #[test]
    fn a_first_interrupt_lets_groups_run_and_a_kill_signals_at_once() {
        let (cancel, _, sent, w) = setup();
        w.watch(1, Some(100 * S), 30 * S);
        w.watch(2, None, 30 * S);
        cancel.drain(StopReason::MaxFailures(1));
        w.tick();
        assert_eq!(sent.take(), []);
        cancel.drain(StopReason::Interrupted);
        w.tick();
        assert_eq!(sent.take(), [], "running commands finish after a first Ctrl-C");
        // The kill hook signals before `kill` returns, without waiting for a tick.
        cancel.kill();
        let mut got = sent.take();
        got.sort();
        assert_eq!(got, [(1, KILL), (2, KILL)]);
        assert_eq!(w.forget(1), Some(Stop::Interrupted));
    }

    #[test]
    fn the_first_reason_decides_the_class() {
        let (cancel, clock, sent, w) = setup();
        w.watch(5, Some(S), 10 * S);
        clock.advance(S);
        w.tick();
        assert_eq!(sent.take(), [(5, TERM)]);
        cancel.kill();
        assert_eq!(sent.take(), [(5, KILL)]);
        assert_eq!(w.stopped(5), Some(Stop::Timeout));
    }

    #[test]
    fn stop_all_terminates_or_kills() {
        let (_, _, sent, w) = setup();
        w.watch(4, None, 30 * S);
        w.stop_all(false);
        assert_eq!(sent.take(), [(4, TERM)]);
        w.stop_all(false);
        assert_eq!(sent.take(), [], "SIGTERM once");
        w.stop_all(true);
        assert_eq!(sent.take(), [(4, KILL)]);
        assert_eq!(w.forget(4), Some(Stop::Interrupted));
    }

    #[test]
    fn the_thread_enforces_real_deadlines() {
        let cancel = Arc::new(Cancel::new());
        let sent = Recorded::default();
        let mut w = Watchdog::manual(cancel, SystemClock, sent.clone());
        let shared = Arc::clone(&w.shared);
        w.thread = Some(std::thread::spawn(move || shared.run()));
        w.watch(9, Some(Duration::from_millis(30)), Duration::ZERO);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sent.0.lock().unwrap().contains(&(9, KILL)) {
            assert!(Instant::now() < deadline, "the watchdog thread never stopped the group");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(w);
    }
}
