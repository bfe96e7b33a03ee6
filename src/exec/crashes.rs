//! Tasks that take sweep down with them. A model that aborts (a failed allocation in a
//! library, an `abort()` in C code) or crashes ends the whole process, and would do so
//! again on every `--resume`; so would a command that kills its parent. So every run keeps
//! the ids of its running tasks in a small file mapped into memory (the run's [`Stats`]
//! writes each worker's task there as it updates its own slot: a store per task), and a
//! crash handler adds the signal. The file is removed when the run ends by itself; the
//! next run finds what a dead run left:
//!
//! - **A crash signal** (abort, fault): every task that was running gets a failed attempt
//!   of class `crash`.
//! - **No signal** (SIGKILL: a user's `kill -9`, the OOM killer, a wall-time limit, or a
//!   task that killed sweep): nobody is blamed yet. The tasks that were running run first,
//!   side by side with nothing else (a "group", which the file records): after a single
//!   kill, that costs little (the rest waits for the group's slowest task). If sweep dies again while the group runs, the group's
//!   tasks that were still running run first next time, one at a time ("alone"); if sweep
//!   dies while one runs alone, that one gets the failed `crash` attempt.
//!
//! A task with a failed `crash` attempt runs alone too, and a task that was running when
//! sweep died [`DEATHS_TO_SET_ASIDE`] times is set aside (it stays failed): the sweep goes
//! on without it, so that no `--resume` dies the same way for ever.

use super::stats::MIRROR_WORDS;
use super::Stats;
use crate::grid::TaskId;
use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// A crash this many times while a task runs sets it aside.
pub const DEATHS_TO_SET_ASIDE: u8 = 2;

const MAGIC: u64 = u64::from_le_bytes(*b"SWRUN003");
/// Header words (a cache line): the magic, the signal that crashed the process (0: none),
/// how the running tasks run (a [`Mode`]); then, per slot of the run's
/// [`Stats`], [`MIRROR_WORDS`] words (a task id, then 1 while it runs).
const HEADER: usize = MIRROR_WORDS;

/// The mapped file of one run, which the crash handler fills.
struct Target {
    words: &'static [AtomicU64],
}

/// The run the crash handler reports on (null: none).
static TARGET: AtomicPtr<Target> = AtomicPtr::new(std::ptr::null_mut());

/// A run's crash file; [`Running::finish`] removes it when the run ends by itself.
pub(super) struct Running {
    path: PathBuf,
    /// The crash handler's target (its address: this is shared by the run's threads).
    target: usize,
    words: &'static [AtomicU64],
}

/// How the tasks that run now were chosen, as the crash file records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Side by side, as any run.
    Side = 0,
    /// Suspects of a death, side by side with nothing else.
    Group = 1,
    /// Suspects of two deaths (or with a `crash` attempt), one at a time.
    Alone = 2,
}

/// What a run that died left: the signal (0: none, a SIGKILL), the tasks that were
/// running, and how they ran.
#[derive(Clone, Debug)]
pub(super) struct Crashed {
    pub signal: i32,
    pub tasks: Vec<TaskId>,
    pub mode: Mode,
}

impl Crashed {
    /// The running tasks are to blame: a crash signal, or a death while one ran alone.
    pub fn blames(&self) -> bool {
        self.signal != 0 || self.mode == Mode::Alone
    }
}

impl Running {
    /// Reads what the run that last used `path` left, if it died with tasks running.
    pub fn crashed(path: &Path) -> Option<Crashed> {
        let bytes = std::fs::read(path).ok()?;
        let word = |i: usize| bytes.get(i * 8..i * 8 + 8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        if word(0)? != MAGIC {
            return None;
        }
        let slots = (bytes.len() / 8).saturating_sub(HEADER) / MIRROR_WORDS;
        let tasks: Vec<TaskId> = (0..slots)
            .map(|k| HEADER + k * MIRROR_WORDS)
            .filter(|&at| word(at + 1) == Some(1))
            .filter_map(|at| word(at).map(TaskId))
            .collect();
        let signal = word(1)? as i32;
        let mode = match word(2)? {
            1 => Mode::Group,
            2 => Mode::Alone,
            _ => Mode::Side,
        };
        (!tasks.is_empty()).then_some(Crashed { signal, tasks, mode })
    }

    /// Creates (or replaces) the file at `path` with room for a copy of every slot of
    /// `stats`, maps it, has `stats` keep its running tasks there, and points the crash
    /// handler at it. `stats` must outlive this.
    pub fn create(path: &Path, stats: &Stats) -> io::Result<Running> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let words_len = HEADER + stats.slots() * MIRROR_WORDS;
        let len = words_len * 8;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)?;
        file.set_len(len as u64)?;
        // SAFETY: a shared mapping of a file just sized to `len`; it is never unmapped (the
        // crash handler may write to it until the process is gone: one page per run), and
        // it is only ever accessed through atomics.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `len` zeroed bytes, page-aligned; AtomicU64 has the layout of u64.
        let words: &'static [AtomicU64] = unsafe { std::slice::from_raw_parts(ptr as *const AtomicU64, words_len) };
        words[0].store(MAGIC, Ordering::Relaxed);
        stats.set_mirror(words[HEADER..].as_ptr() as *mut AtomicU64);
        let target = Box::into_raw(Box::new(Target { words }));
        TARGET.store(target, Ordering::SeqCst);
        install_handlers();
        Ok(Running { path: path.to_path_buf(), target: target as usize, words })
    }

    /// Says how the tasks that run from now on run (see [`Mode`]).
    pub fn set_mode(&self, mode: Mode) {
        self.words[2].store(mode as u64, Ordering::SeqCst);
    }

    /// The run (with `stats`, as given to [`create`](Self::create)) ended by itself:
    /// nothing to find next time.
    pub fn finish(self, stats: &Stats) {
        stats.set_mirror(std::ptr::null_mut());
        // The target is left allocated: a handler on another thread may still be reading it.
        let target = self.target as *mut Target;
        let _ = TARGET.compare_exchange(target, std::ptr::null_mut(), Ordering::SeqCst, Ordering::SeqCst);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The signals of a crash: an abort (Rust's on a failed allocation, C's `abort()`), and the
/// faults a broken library model raises.
const CRASH_SIGNALS: [libc::c_int; 5] = [libc::SIGABRT, libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers that were there before ours (Rust's own SIGSEGV handler reports stack
/// overflows), put back by ours so that the signal then does what it did before.
static mut PREVIOUS: [std::mem::MaybeUninit<libc::sigaction>; 5] = [std::mem::MaybeUninit::uninit(); 5];

fn install_handlers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for (i, &sig) in CRASH_SIGNALS.iter().enumerate() {
            // SAFETY: sigaction is given valid structs; PREVIOUS is written here once, before
            // any handler of ours can run, and only read by the handler afterwards.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_crash as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = &raw mut PREVIOUS;
                libc::sigaction(sig, &action, (*previous)[i].as_mut_ptr());
            }
        }
    });
}

/// Writes the running tasks and the signal into the mapped file, puts back the signal's
/// previous handler and returns: a fault happens again at once and an abort raises again,
/// now to the previous handler (or the default action, which ends the process).
/// Async-signal-safe: atomic loads and stores, one `sigaction`.
extern "C" fn on_crash(sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let target = TARGET.load(Ordering::SeqCst);
    if !target.is_null() {
        // SAFETY: a target is never freed. The running tasks are in it already.
        let Target { words } = unsafe { &*target };
        words[1].store(sig as u64, Ordering::SeqCst);
    }
    if let Some(i) = CRASH_SIGNALS.iter().position(|&s| s == sig) {
        // SAFETY: PREVIOUS[i] was filled by install_handlers before this handler was set.
        unsafe {
            let previous = &raw const PREVIOUS;
            libc::sigaction(sig, (*previous)[i].as_ptr(), std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_kill_suspects_the_running_tasks_and_a_crash_or_a_death_alone_blames_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".sweep-running");
        let stats = Stats::new(2);
        let running = Running::create(&path, &stats).unwrap();
        // Nothing running: a death leaves nobody to suspect.
        assert!(Running::crashed(&path).is_none());
        stats.set_running(Some((TaskId(42), 0, Instant::now())));
        // What a kill -9 leaves: the running task, no signal. Suspected, not blamed.
        let c = Running::crashed(&path).unwrap();
        assert_eq!((c.signal, &c.tasks[..], c.blames(), c.mode), (0, &[TaskId(42)][..], false, Mode::Side));
        // Killed again while the suspects ran as a group: still not blamed.
        running.set_mode(Mode::Group);
        let c = Running::crashed(&path).unwrap();
        assert_eq!((c.blames(), c.mode), (false, Mode::Group));
        // Run alone, then killed: blamed.
        running.set_mode(Mode::Alone);
        assert!(Running::crashed(&path).unwrap().blames());
        running.set_mode(Mode::Side);
        // What the crash handler leaves (called by hand: SIGFPE's previous action is put back).
        on_crash(libc::SIGFPE, std::ptr::null_mut(), std::ptr::null_mut());
        let c = Running::crashed(&path).unwrap();
        assert_eq!((c.signal, c.blames(), c.tasks), (libc::SIGFPE, true, vec![TaskId(42)]));
        stats.set_running(None);
        running.finish(&stats);
        assert!(!path.exists() && Running::crashed(&path).is_none());
    }
}
