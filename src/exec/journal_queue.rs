//! Group commit for the journal: workers append their batches of lines to a shared buffer
//! and go on; one thread writes the buffer out in large pieces. Workers never wait on the
//! file or on each other's writes, and the writer is woken once per [`WAKE_AT`] bytes or per
//! [`FLUSH_EVERY`], not once per record, so slow tasks (commands) cost no extra wake-ups.

use crate::journal::JournalWriter;
use crate::results::Ledger;
use crate::task::{Cancel, FailureClass, StopReason};
use std::io;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Queued records reach the journal file at most about this long after they are queued.
const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// Queued bytes that wake the writer before its next tick.
const WAKE_AT: usize = 256 * 1024;
/// Queued bytes past which workers wait for the writer: a slow disk bounds memory.
const LIMIT: usize = 8 * 1024 * 1024;

/// What a run promises about a machine crash (power loss, a dead node).
pub trait Durability: Send {
    /// Makes every file written so far durable: called before the journal lines that vouch
    /// for them are appended.
    fn sync_outputs(&mut self) -> io::Result<()>;
    /// Makes the journal's appended lines durable.
    fn sync_journal(&mut self, journal: &mut JournalWriter) -> io::Result<()>;
}

/// The default: what survives a dead process (everything written is in the page cache);
/// after a machine crash the last records may be missing and their tasks run again.
pub struct ProcessSafe;

impl Durability for ProcessSafe {
    fn sync_outputs(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn sync_journal(&mut self, _: &mut JournalWriter) -> io::Result<()> {
        Ok(())
    }
}

/// `[output] arrays = "zarr"`: the run's staging file is handed to the OS before anything
/// else a journal tick does, so a record never reaches the journal before the arrays it
/// vouches for reach their staging file.
pub struct Staged<'a> {
    /// The run's staging file.
    pub staging: &'a crate::store::StagingWriter,
    /// What the run promises besides.
    pub inner: Box<dyn Durability + 'a>,
}

impl Durability for Staged<'_> {
    fn sync_outputs(&mut self) -> io::Result<()> {
        self.staging.flush()?;
        self.inner.sync_outputs()
    }
    fn sync_journal(&mut self, journal: &mut JournalWriter) -> io::Result<()> {
        self.inner.sync_journal(journal)
    }
}

/// `--durable`: at each journal tick, the out directory's file system is synced (every
/// task file and rename so far, in one call), then the new journal lines are appended and
/// synced. A record is never on disk before the files it vouches for.
pub struct MachineSafe {
    /// Any file or directory on the out directory's file system.
    pub root: std::fs::File,
}

impl Durability for MachineSafe {
    fn sync_outputs(&mut self) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs takes a valid open fd and has no other preconditions.
        if unsafe { libc::syncfs(self.root.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    fn sync_journal(&mut self, journal: &mut JournalWriter) -> io::Result<()> {
        journal.sync()
    }
}

/// What queued journal lines say about their tasks, for the journal's own ledger.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    /// Tasks done.
    pub done: Vec<u64>,
    /// Failed attempts: task, attempt number, class, message.
    pub failed: Vec<(u64, u32, FailureClass, Box<str>)>,
}

impl Marks {
    fn append(&mut self, other: &mut Marks) {
        self.done.append(&mut other.done);
        self.failed.append(&mut other.failed);
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.done.clear();
        self.failed.clear();
    }
}

/// Journal bytes between two checkpoints during a run, at most: `sweep status` then reads a
/// tail of at most this much (a fraction of a second)...
const CHECKPOINT_BYTES: u64 = 64 << 20;
/// ...and at most this long apart, when records trickle in (slow tasks).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// The journal thread's ledger of the journal it writes, and when to write it out as the
/// journal's checkpoint (see [`crate::checkpoint`]): so that `sweep status` during a long
/// run reads a checkpoint and a short tail, and a run killed with SIGKILL leaves one behind.
pub struct Checkpoints<'a> {
    ledger: &'a mut Ledger,
    spec_hash: &'a str,
    every: Duration,
    last: Instant,
    bytes: u64,
}

impl<'a> Checkpoints<'a> {
    /// Checkpoints of `ledger`, the fold of the journal so far, under the spec whose hash is
    /// `spec_hash`. `SWEEP_CHECKPOINT_SECONDS` sets the longest time between two (tests).
    pub fn new(ledger: &'a mut Ledger, spec_hash: &'a str) -> Self {
        let every = std::env::var("SWEEP_CHECKPOINT_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(CHECKPOINT_EVERY, Duration::from_secs_f64);
        Checkpoints { ledger, spec_hash, every, last: Instant::now(), bytes: 0 }
    }

    /// Folds in the marks of `bytes` lines just written and flushed to `journal`, and writes
    /// the checkpoint when one is due. A checkpoint only saves reading time: one that cannot
    /// be written is skipped.
    fn wrote(&mut self, journal: &JournalWriter, marks: &Marks, bytes: usize) {
        // Done marks after failed ones: within a batch, a task's failed attempts come before
        // its done one, and a done task stays done whatever the order.
        for (index, attempt, class, message) in &marks.failed {
            self.ledger.apply(*index, *attempt, false, Err((*class, message)));
        }
        for &i in &marks.done {
            self.ledger.apply(i, 0, false, Ok(()));
        }
        self.bytes += bytes as u64;
        if self.bytes >= CHECKPOINT_BYTES || (self.bytes > 0 && self.last.elapsed() >= self.every) {
            if let Ok(m) = std::fs::metadata(journal.path()) {
                let _ = crate::checkpoint::write(journal.path(), self.spec_hash, m.len(), self.ledger, None);
            }
            self.bytes = 0;
            self.last = Instant::now();
        }
    }
}

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    /// What the lines in `buf` say, for the journal's ledger.
    marks: Marks,
    /// No more lines will come.
    end: bool,
}

/// The shared buffer between the workers and the journal writer.
#[derive(Default)]
pub struct JournalQueue {
    state: Mutex<State>,
    /// The writer waits here for bytes or the end.
    more: Condvar,
    /// Workers wait here when the buffer is full.
    room: Condvar,
}

impl JournalQueue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues whole journal lines without marks (tests).
    #[cfg(test)]
    pub fn push(&self, lines: &[u8]) {
        self.push_marked(lines, &mut Marks::default())
    }

    /// Queues whole journal lines, and what they say (taken out of `marks`); blocks only
    /// while [`LIMIT`] bytes are already queued.
    pub fn push_marked(&self, lines: &[u8], marks: &mut Marks) {
        let mut st = self.lock();
        while st.buf.len() >= LIMIT && !st.end {
            st = self.room.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        st.buf.extend_from_slice(lines);
        st.marks.append(marks);
        if st.buf.len() >= WAKE_AT {
            self.more.notify_one();
        }
    }

    /// Takes the queued bytes (tests read what a recorder queued).
    #[cfg(test)]
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.lock().buf)
    }

    /// Tells the writer that every line is queued.
    pub fn end(&self) {
        self.lock().end = true;
        self.more.notify_one();
    }

    /// The writer: appends the queued lines to `journal` and flushes them, on every tick of
    /// [`FLUSH_EVERY`] and whenever [`WAKE_AT`] bytes are queued, until [`end`](Self::end);
    /// with `durability`, the files those lines vouch for are made durable first and the
    /// lines after (one group commit per tick).
    /// With `checkpoints`, the marks of the lines written go into its ledger, and the
    /// journal's checkpoint is written now and then.
    /// Returns the first write error, after which it writes nothing more and stops the run.
    pub fn write_loop(
        &self,
        journal: &mut JournalWriter,
        cancel: &Cancel,
        durability: &mut dyn Durability,
        mut checkpoints: Option<&mut Checkpoints>,
    ) -> Option<io::Error> {
        let mut error: Option<io::Error> = None;
        let mut out = Vec::new();
        let mut marks = Marks::default();
        loop {
            let end = {
                let mut st = self.lock();
                if !st.end && st.buf.len() < WAKE_AT {
                    st = self.more.wait_timeout(st, FLUSH_EVERY).unwrap_or_else(|e| e.into_inner()).0;
                }
                std::mem::swap(&mut st.buf, &mut out);
                std::mem::swap(&mut st.marks, &mut marks);
                st.end
            };
            self.room.notify_all();
            if !out.is_empty() && error.is_none() {
                let written = durability
                    .sync_outputs()
                    .and_then(|()| journal.append_formatted(&out))
                    .and_then(|()| journal.flush())
                    .and_then(|()| durability.sync_journal(journal));
                match written {
                    Ok(()) => {
                        if let Some(c) = checkpoints.as_deref_mut() {
                            c.wrote(journal, &marks, out.len());
                        }
                    }
                    Err(e) => {
                        cancel.drain(StopReason::Io(format!("cannot append to {}: {e}", journal.path().display())));
                        error = Some(e);
                    }
                }
            }
            out.clear();
            marks.clear();
            if end {
                return error;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_reaches_the_file_in_order_and_within_a_tick() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut journal = JournalWriter::open(&path, "0/1").unwrap();
        let header = std::fs::read_to_string(&path).unwrap();
        let queue = &JournalQueue::default();
        let cancel = Cancel::new();
        let error = std::thread::scope(|s| {
            let writer = s.spawn(|| queue.write_loop(&mut journal, &cancel, &mut ProcessSafe, None));
            // A trickle: the line is in the file within a tick, with nothing after it.
            queue.push(b"{\"t\":0,\"i\":0}\n");
            std::thread::sleep(FLUSH_EVERY * 2);
            assert!(std::fs::read_to_string(&path).unwrap().ends_with("{\"t\":0,\"i\":0}\n"));
            // A flood from two threads, well past the wake-up size and the limit.
            let flood = |t: u32| {
                move || {
                    for i in 0..40_000u32 {
                        let line = format!("{{\"t\":{t},\"i\":{i},\"pad\":\"{}\"}}\n", "x".repeat(200));
                        queue.push(line.as_bytes());
                    }
                }
            };
            let producers = [s.spawn(flood(1)), s.spawn(flood(2))];
            producers.into_iter().for_each(|p| p.join().unwrap());
            queue.end();
            writer.join().unwrap()
        });
        assert!(error.is_none());
        let text = std::fs::read_to_string(&path).unwrap();
        let mut next = [0u32; 3];
        for line in text[header.len()..].lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let (t, i) = (v["t"].as_u64().unwrap() as usize, v["i"].as_u64().unwrap() as u32);
            assert_eq!(i, next[t], "thread {t}'s lines arrive whole and in order");
            next[t] += 1;
        }
        assert_eq!(next, [1, 40_000, 40_000]);
    }

    /// Records what it is asked to do, and what the journal holds at that moment.
    struct Recording<'p> {
        path: &'p std::path::Path,
        events: Vec<(&'static str, usize)>,
    }

    impl Durability for Recording<'_> {
        fn sync_outputs(&mut self) -> io::Result<()> {
            let lines = std::fs::read_to_string(self.path).unwrap().lines().count();
            self.events.push(("sync outputs", lines));
            Ok(())
        }
        fn sync_journal(&mut self, _: &mut JournalWriter) -> io::Result<()> {
            let lines = std::fs::read_to_string(self.path).unwrap().lines().count();
            self.events.push(("sync journal", lines));
            Ok(())
        }
    }

    #[test]
    fn durable_outputs_are_synced_before_the_lines_that_vouch_for_them_and_the_lines_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut journal = JournalWriter::open(&path, "0/1").unwrap();
        let queue = &JournalQueue::default();
        let cancel = Cancel::new();
        let mut rec = Recording { path: &path, events: Vec::new() };
        std::thread::scope(|s| {
            let writer = s.spawn(|| queue.write_loop(&mut journal, &cancel, &mut rec, None));
            queue.push(b"{\"a\":1}\n{\"a\":2}\n");
            std::thread::sleep(FLUSH_EVERY * 2);
            queue.push(b"{\"a\":3}\n");
            queue.end();
            assert!(writer.join().unwrap().is_none());
        });
        // 1 header line; then each group: outputs synced while the journal lacks the lines,
        // the lines appended, then synced.
        assert_eq!(rec.events, [("sync outputs", 1), ("sync journal", 3), ("sync outputs", 3), ("sync journal", 4)]);
    }
}
