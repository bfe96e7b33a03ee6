//! Tasks that take sweep down with them. A model that aborts (a failed allocation in a
//! library, an `abort()` in C code) or crashes ends the whole process, and would do so
//! again on every `--resume`. So a crash handler writes the signal and the ids of the tasks
//! running at that moment (from the run's [`Stats`], which workers update anyway: no cost
//! per task) into a small file mapped into memory before the process dies. The next run
//! finds them: every task that was running gets a failed attempt of class `crash`; a task
//! that was running when sweep crashed twice is set aside (it stays failed) and the sweep
//! goes on without it.
//!
//! A process killed by SIGKILL (a user's `kill -9`, the OOM killer, a wall-time limit) runs
//! no handler: its running tasks simply run again, as they were not to blame.

use super::Stats;
use crate::grid::TaskId;
use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// A crash this many times while a task runs sets it aside.
pub const DEATHS_TO_SET_ASIDE: u8 = 2;

const MAGIC: u64 = u64::from_le_bytes(*b"SWRUN002");
/// Header words: the magic, the signal that crashed the process (0: none), the number of
/// task ids that follow.
const HEADER: usize = 3;

/// The mapped file of one run and what the crash handler needs to fill it.
struct Target {
    words: &'static [AtomicU64],
    stats: *const Stats,
}

/// The run the crash handler reports on (null: none).
static TARGET: AtomicPtr<Target> = AtomicPtr::new(std::ptr::null_mut());

/// A run's crash file; [`Running::finish`] removes it when the run ends by itself.
pub(super) struct Running {
    path: PathBuf,
    target: *mut Target,
}

/// What a crashed run left: the signal and the tasks that were running.
#[derive(Clone, Debug)]
pub(super) struct Crashed {
    pub signal: i32,
    pub tasks: Vec<TaskId>,
}

impl Running {
    /// Reads what the run that last used `path` left, if it crashed.
    pub fn crashed(path: &Path) -> Option<Crashed> {
        let bytes = std::fs::read(path).ok()?;
        let word = |i: usize| bytes.get(i * 8..i * 8 + 8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        if word(0)? != MAGIC || word(1)? == 0 {
            return None;
        }
        let n = word(2)? as usize;
        let tasks = (HEADER..HEADER + n).filter_map(word).map(TaskId).collect();
        Some(Crashed { signal: word(1)? as i32, tasks })
    }

    /// Creates (or replaces) the file at `path` with room for the ids of `stats`'s workers,
    /// maps it, and points the crash handler at it and at `stats` (which must outlive this).
    pub fn create(path: &Path, stats: &Stats, workers: usize) -> io::Result<Running> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let words_len = HEADER + workers + 1;
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
        let target = Box::into_raw(Box::new(Target { words, stats }));
        TARGET.store(target, Ordering::SeqCst);
        install_handlers();
        Ok(Running { path: path.to_path_buf(), target })
    }

    /// The run ended by itself: nothing to find next time.
    pub fn finish(self) {
        // The target is left allocated: a handler on another thread may still be reading it.
        let _ = TARGET.compare_exchange(self.target, std::ptr::null_mut(), Ordering::SeqCst, Ordering::SeqCst);
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
        // SAFETY: a target is never freed, and its stats outlive the run that set it.
        let Target { words, stats } = unsafe { &*target };
        let mut n = 0;
        // SAFETY: as above.
        unsafe { &**stats }.for_each_running(|id| {
            if let Some(w) = words.get(HEADER + n) {
                w.store(id, Ordering::Relaxed);
                n += 1;
            }
        });
        words[2].store(n as u64, Ordering::Relaxed);
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
    fn only_a_crash_marks_the_running_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".sweep-running");
        let stats = Stats::new(2);
        let running = Running::create(&path, &stats, 2).unwrap();
        stats.set_running(Some((TaskId(42), 0, Instant::now())));
        // What a kill -9 leaves: no signal written. Nobody is blamed.
        assert!(Running::crashed(&path).is_none());
        // What the crash handler leaves (called by hand: SIGFPE's previous action is put back).
        on_crash(libc::SIGFPE, std::ptr::null_mut(), std::ptr::null_mut());
        let c = Running::crashed(&path).unwrap();
        assert_eq!((c.signal, c.tasks), (libc::SIGFPE, vec![TaskId(42)]));
        stats.set_running(None);
        running.finish();
        assert!(!path.exists() && Running::crashed(&path).is_none());
    }
}
