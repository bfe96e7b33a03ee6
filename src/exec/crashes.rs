//! Tasks that take sweep down with them. A model that aborts (a failed allocation in a
//! library, an `abort()` in C code) or crashes ends the whole process, and would do so
//! again on every `--resume`. So each worker thread notes the task it runs in a small file
//! mapped into memory (one store per task, no system call), and a crash handler marks the
//! file before the process dies. The next run finds the mark: every task that was running
//! gets a failed attempt of class `crash`; a task that was running when sweep crashed twice
//! is set aside (it stays failed) and the sweep goes on without it.
//!
//! A process killed by SIGKILL (a user's `kill -9`, the OOM killer, a wall-time limit) runs
//! no handler: its running tasks simply run again, as they were not to blame.

use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// A crash this many times while a task runs sets it aside.
pub(super) const DEATHS_TO_SET_ASIDE: u8 = 2;

const MAGIC: u64 = u64::from_le_bytes(*b"SWRUN001");
/// Header words: the magic, then the signal that crashed the process (0: none).
const HEADER: usize = 2;

/// The mapped file of one run: slot `i` holds the grid index + 1 of the task worker `i` runs.
pub(super) struct Running {
    path: PathBuf,
    words: &'static [AtomicU64],
}

/// Where the crash handler writes the signal (the header's second word).
static CRASH_WORD: AtomicPtr<AtomicU64> = AtomicPtr::new(std::ptr::null_mut());

/// What a crashed run left: the signal and the tasks that were running.
pub(super) struct Crashed {
    pub signal: i32,
    pub tasks: Vec<u64>,
}

impl Running {
    /// Reads what the run that last used `path` left, if it crashed.
    pub fn crashed(path: &Path) -> Option<Crashed> {
        let bytes = std::fs::read(path).ok()?;
        let word = |i: usize| bytes.get(i * 8..i * 8 + 8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        if word(0)? != MAGIC {
            return None;
        }
        let signal = word(1)? as i32;
        if signal == 0 {
            return None;
        }
        let tasks = (HEADER..bytes.len() / 8).filter_map(word).filter(|&w| w > 0).map(|w| w - 1).collect();
        Some(Crashed { signal, tasks })
    }

    /// Creates (or replaces) the file at `path` with `slots` idle slots, maps it, and
    /// points the crash handler at it.
    pub fn create(path: &Path, slots: usize) -> io::Result<Running> {
        use std::os::unix::fs::OpenOptionsExt;
        let len = (HEADER + slots) * 8;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)?;
        file.set_len(len as u64)?;
        // SAFETY: a shared mapping of a file we just sized; it is never unmapped (the process
        // keeps it, so that the crash handler can write to it until the very end), and the
        // memory is only ever accessed through atomics.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                {
                    use std::os::fd::AsRawFd;
                    file.as_raw_fd()
                },
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `len` bytes, page-aligned, zeroed by set_len; AtomicU64 has the layout of u64.
        let words: &'static [AtomicU64] =
            unsafe { std::slice::from_raw_parts(ptr as *const AtomicU64, HEADER + slots) };
        words[0].store(MAGIC, Ordering::Relaxed);
        CRASH_WORD.store(&words[1] as *const AtomicU64 as *mut AtomicU64, Ordering::SeqCst);
        install_handlers();
        Ok(Running { path: path.to_path_buf(), words })
    }

    /// Notes that the calling worker runs grid task `index` (`None`: nothing).
    #[inline]
    pub fn set(&self, index: Option<u64>) {
        let slot = rayon::current_thread_index().unwrap_or(0).min(self.words.len() - HEADER - 1);
        self.words[HEADER + slot].store(index.map_or(0, |i| i + 1), Ordering::Relaxed);
    }

    /// The run ended by itself: nothing to find next time.
    pub fn finish(self) {
        CRASH_WORD.store(std::ptr::null_mut(), Ordering::SeqCst);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The signals of a crash: an abort (Rust's on a failed allocation, C's `abort()`), and the
/// faults a broken library model raises.
const CRASH_SIGNALS: [libc::c_int; 5] = [libc::SIGABRT, libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers that were there before ours (Rust's own SIGSEGV handler reports stack
/// overflows), restored by ours so that the signal then does what it did before.
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

/// Marks the running file, puts back the signal's previous handler and returns: a fault
/// happens again at once and an abort raises again, now to the previous handler (or the
/// default action, which ends the process). Async-signal-safe: one atomic store, one
/// `sigaction`.
extern "C" fn on_crash(sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let word = CRASH_WORD.load(Ordering::SeqCst);
    if !word.is_null() {
        // SAFETY: the pointer is into the mapping, which is never unmapped.
        unsafe { (*word).store(sig as u64, Ordering::SeqCst) };
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

    #[test]
    fn only_a_crash_marks_the_running_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".sweep-running");
        let running = Running::create(&path, 3).unwrap();
        running.words[HEADER].store(8, Ordering::Relaxed);
        running.words[HEADER + 2].store(1, Ordering::Relaxed);
        // What a kill -9 leaves: slots filled, no signal written. Nobody is blamed.
        assert!(Running::crashed(&path).is_none());
        // What the crash handler leaves.
        running.words[1].store(libc::SIGABRT as u64, Ordering::Relaxed);
        let c = Running::crashed(&path).unwrap();
        assert_eq!((c.signal, c.tasks), (libc::SIGABRT, vec![7, 0]));
        running.finish();
        assert!(!path.exists() && Running::crashed(&path).is_none());
    }
}
