//! Checkpoints: beside each journal, the [`Ledger`] of its first bytes, so that `sweep
//! status` reads a few bits per task plus the journal's tail instead of every record.
//!
//! `journal.jsonl` has `journal.ckpt`, `journal/shard-3-of-8.jsonl` has
//! `journal/shard-3-of-8.ckpt`. The run that appends to a journal (one per journal: the
//! lock) writes its checkpoint when it ends, atomically. A checkpoint is used only when it
//! still describes its journal; otherwise the journal is read whole, and the reader says why:
//!
//! - **torn** (short, or its checksum does not match): not a checkpoint sweep finished;
//! - **stale**: written for another spec (an extended sweep: grid indices moved), for another
//!   number of tasks, or for a journal whose bytes up to the covered offset changed.
//!
//! Format (little-endian), version [`FORMAT`]:
//! `SWEEPCKP` · u32 version · u64 tasks · u64 journal bytes covered · 32 bytes SHA-256 of the
//! journal's last 4 KiB before that offset · the journal's length and modification time
//! when written (u64, i64 seconds, u32 nanoseconds) · u16 length + spec hash · the done tasks: u8 0,
//! u64 words and the bits (dense), or u8 1, u64 count and the gaps between their indices as
//! LEB128 numbers (sparse: a shard's journal holds a thousandth of the grid's tasks) ·
//! u64 count + failed tasks (u64 index, u32 attempts, u8 deaths, u8 length + class, u32
//! length + message) · u8 0, or 1 and a [`ResultsStamp`] (u64 length, i64 seconds, u32
//! nanoseconds, u64 inode; u64 count + journals: u16 length + name, u64 length) · 32 bytes
//! SHA-256 of everything before.

use crate::journal::{journal_files, journals_read_by, scan_lines_checked, Item, ScanStats};
use crate::results::window::Placed;
use crate::results::{Failed, Ledger};
use crate::spec::Spec;
use crate::task::FailureClass;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The checkpoint format version this build writes and reads.
pub const FORMAT: u32 = 2;
const MAGIC: &[u8; 8] = b"SWEEPCKP";
/// Bytes of journal before the covered offset whose digest a checkpoint keeps.
const PROBE: u64 = 4096;

/// The checkpoint of the journal at `journal`.
pub fn path_for(journal: &Path) -> PathBuf {
    journal.with_extension("ckpt")
}

/// A checkpoint read back: the ledger of the journal's first `covered` bytes.
#[derive(Debug)]
pub struct Checkpoint {
    /// Journal bytes it covers (a line start).
    pub covered: u64,
    /// Their fold.
    pub ledger: Ledger,
    /// What the `results.csv` written with it was written from (whole-grid runs).
    pub results: Option<ResultsStamp>,
}

/// `results.csv` as a run left it, and the journals it was written from: while both are
/// unchanged, `results.csv` is current, and a resume with nothing to run leaves it alone.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultsStamp {
    /// Length, modification time (seconds, nanoseconds) and inode of `results.csv`.
    file: (u64, i64, u32, u64),
    /// Every journal (its path under the out directory) and its length.
    journals: Vec<(String, u64)>,
}

impl ResultsStamp {
    /// The stamp of `results.csv` and the journals in `root` as they are now.
    pub fn now(root: &Path) -> io::Result<ResultsStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(root.join("results.csv"))?;
        let file = (m.len(), m.mtime(), m.mtime_nsec() as u32, m.ino());
        let journals = journal_files(root)?
            .into_iter()
            .map(|p| {
                let len = std::fs::metadata(&p)?.len();
                let name = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().into_owned();
                Ok((name, len))
            })
            .collect::<io::Result<_>>()?;
        Ok(ResultsStamp { file, journals })
    }
}

/// SHA-256 of the journal's bytes in `[covered - PROBE, covered)`.
/// The journal's length and modification time: while its length is the one a checkpoint
/// saw, a different time means it was changed in place (a line blanked or edited), which
/// the probe of its last bytes would not see.
fn journal_stamp(journal: &Path) -> io::Result<(u64, i64, u32)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(journal)?;
    Ok((m.len(), m.mtime(), m.mtime_nsec() as u32))
}

fn probe(journal: &Path, covered: u64) -> io::Result<[u8; 32]> {
    let mut f = std::fs::File::open(journal)?;
    let from = covered.saturating_sub(PROBE);
    f.seek(io::SeekFrom::Start(from))?;
    let mut bytes = Vec::with_capacity((covered - from) as usize);
    (&mut f).take(covered - from).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < covered - from {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "journal shorter than the checkpoint"));
    }
    Ok(Sha256::digest(&bytes).into())
}

/// Writes the checkpoint of `journal`: `ledger` is the fold of its first `covered` bytes,
/// under the spec whose hash is `spec_hash`.
/// With `results`, the stamp of the `results.csv` the run wrote.
pub fn write(
    journal: &Path,
    spec_hash: &str,
    covered: u64,
    ledger: &Ledger,
    results: Option<&ResultsStamp>,
) -> io::Result<()> {
    let mut b = Vec::with_capacity(64 + ledger.done_words().len() * 8);
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&FORMAT.to_le_bytes());
    b.extend_from_slice(&ledger.tasks().to_le_bytes());
    b.extend_from_slice(&covered.to_le_bytes());
    b.extend_from_slice(&probe(journal, covered)?);
    let (len, secs, nanos) = journal_stamp(journal)?;
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&secs.to_le_bytes());
    b.extend_from_slice(&nanos.to_le_bytes());
    b.extend_from_slice(&(spec_hash.len() as u16).to_le_bytes());
    b.extend_from_slice(spec_hash.as_bytes());
    push_done(&mut b, ledger.done_words());
    b.extend_from_slice(&(ledger.failed().len() as u64).to_le_bytes());
    for (i, f) in ledger.failed() {
        b.extend_from_slice(&i.to_le_bytes());
        b.extend_from_slice(&f.attempts.to_le_bytes());
        b.push(f.deaths);
        let class = f.class.as_str();
        b.push(class.len() as u8);
        b.extend_from_slice(class.as_bytes());
        b.extend_from_slice(&(f.message.len() as u32).to_le_bytes());
        b.extend_from_slice(f.message.as_bytes());
    }
    match results {
        None => b.push(0),
        Some(r) => {
            b.push(1);
            let (len, secs, nanos, ino) = r.file;
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(&secs.to_le_bytes());
            b.extend_from_slice(&nanos.to_le_bytes());
            b.extend_from_slice(&ino.to_le_bytes());
            b.extend_from_slice(&(r.journals.len() as u64).to_le_bytes());
            for (name, len) in &r.journals {
                b.extend_from_slice(&(name.len() as u16).to_le_bytes());
                b.extend_from_slice(name.as_bytes());
                b.extend_from_slice(&len.to_le_bytes());
            }
        }
    }
    let sum: [u8; 32] = Sha256::digest(&b).into();
    b.extend_from_slice(&sum);
    crate::io::write_atomic(&path_for(journal), |w| w.write_all(&b))
}

/// Appends the done bits: dense, or as the gaps between done tasks' indices when that is
/// smaller (about 1.5 bytes per done task, against a bit per task of the grid).
fn push_done(b: &mut Vec<u8>, words: &[u64]) {
    let done: u64 = words.iter().map(|w| u64::from(w.count_ones())).sum();
    if done * 2 >= words.len() as u64 * 8 {
        b.push(0);
        b.extend_from_slice(&(words.len() as u64).to_le_bytes());
        words.iter().for_each(|w| b.extend_from_slice(&w.to_le_bytes()));
        return;
    }
    b.push(1);
    b.extend_from_slice(&done.to_le_bytes());
    let mut last = 0u64;
    for (k, &w) in words.iter().enumerate() {
        let mut bits = w;
        while bits != 0 {
            let i = k as u64 * 64 + u64::from(bits.trailing_zeros());
            bits &= bits - 1;
            let mut gap = i - last;
            last = i;
            loop {
                let byte = (gap & 0x7f) as u8;
                gap >>= 7;
                if gap == 0 {
                    b.push(byte);
                    break;
                }
                b.push(byte | 0x80);
            }
        }
    }
}

/// Reads what [`push_done`] wrote, for a grid of `tasks` tasks.
fn read_done(c: &mut Cursor<'_>, tasks: u64) -> Option<Vec<u64>> {
    let words = tasks.div_ceil(64);
    match c.u8()? {
        0 => {
            if c.u64()? != words {
                return None;
            }
            (0..words).map(|_| c.u64()).collect()
        }
        1 => {
            let mut done = vec![0u64; words as usize];
            let mut i = 0u64;
            for _ in 0..c.u64()? {
                let mut gap = 0u64;
                for shift in (0..64).step_by(7) {
                    let byte = c.u8()?;
                    gap |= u64::from(byte & 0x7f) << shift;
                    if byte & 0x80 == 0 {
                        break;
                    }
                }
                i = i.checked_add(gap)?;
                *done.get_mut((i / 64) as usize)? |= 1 << (i % 64);
            }
            Some(done)
        }
        _ => None,
    }
}

/// Reads `bytes` front to back.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self, n: usize) -> Option<&'a str> {
        std::str::from_utf8(self.take(n)?).ok()
    }
}

fn class_named(name: &str) -> Option<FailureClass> {
    serde_json::from_value(serde_json::Value::String(name.into())).ok()
}

/// Reads the checkpoint of `journal` for a sweep of `tasks` tasks under the spec whose hash
/// is `spec_hash`. `Ok(None)`: there is none. `Err`: there is one that cannot be used, and
/// why (for a warning).
pub fn read(journal: &Path, spec_hash: &str, tasks: u64) -> Result<Option<Checkpoint>, String> {
    let path = path_for(journal);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read it ({e})", path.display())),
    };
    let torn = || format!("{}: torn or damaged (its checksum does not match)", path.display());
    let Some(body_len) = bytes.len().checked_sub(32) else { return Err(torn()) };
    let (body, sum) = bytes.split_at(body_len);
    if body.get(..8) != Some(MAGIC.as_slice()) || Sha256::digest(body).as_slice() != sum {
        return Err(torn());
    }
    let mut c = Cursor(&body[8..]);
    let stale = |why: &str| format!("{}: stale ({why})", path.display());
    let version = c.u32().ok_or_else(torn)?;
    if version != FORMAT {
        return Err(stale(&format!("checkpoint format {version}; this sweep reads {FORMAT}")));
    }
    let (n, covered) = (c.u64().ok_or_else(torn)?, c.u64().ok_or_else(torn)?);
    let digest = c.take(32).ok_or_else(torn)?;
    let seen = (c.u64().ok_or_else(torn)?, c.u64().ok_or_else(torn)? as i64, c.u32().ok_or_else(torn)?);
    let hash_len = c.u16().ok_or_else(torn)? as usize;
    if c.str(hash_len).ok_or_else(torn)? != spec_hash {
        return Err(stale("written for another version of the spec"));
    }
    if n != tasks {
        return Err(stale(&format!("written for {n} tasks; the sweep has {tasks}")));
    }
    match probe(journal, covered) {
        Ok(d) if d.as_slice() == digest => {}
        _ => return Err(stale("the journal is not the one it describes")),
    }
    if journal_stamp(journal).is_ok_and(|now| now.0 == seen.0 && now != seen) {
        return Err(stale("the journal was changed in place since it was written, or copied without its times"));
    }
    let done = read_done(&mut c, tasks).ok_or_else(torn)?;
    let count = c.u64().ok_or_else(torn)?;
    let mut failed = BTreeMap::new();
    for _ in 0..count {
        let entry = (|| {
            let (index, attempts, deaths) = (c.u64()?, c.u32()?, c.u8()?);
            let class_len = c.u8()? as usize;
            let class = class_named(c.str(class_len)?)?;
            let msg_len = c.u32()? as usize;
            Some((index, Failed { attempts, deaths, class, message: c.str(msg_len)?.into() }))
        })()
        .ok_or_else(torn)?;
        failed.insert(entry.0, entry.1);
    }
    let results = match c.u8().ok_or_else(torn)? {
        0 => None,
        _ => {
            let stamp = (|| {
                let file = (c.u64()?, c.u64()? as i64, c.u32()?, c.u64()?);
                let n = c.u64()?;
                let mut journals = Vec::new();
                for _ in 0..n {
                    let len = c.u16()? as usize;
                    journals.push((c.str(len)?.to_string(), c.u64()?));
                }
                Some(ResultsStamp { file, journals })
            })();
            Some(stamp.ok_or_else(torn)?)
        }
    };
    if !c.0.is_empty() {
        return Err(torn());
    }
    let ledger = Ledger::from_parts(tasks, done, failed).ok_or_else(torn)?;
    Ok(Some(Checkpoint { covered, ledger, results }))
}

/// The ledger of a whole out directory, from checkpoints and journal tails.
#[derive(Debug)]
pub struct Folded {
    /// Every journal's fold, combined in journal order.
    pub ledger: Ledger,
    /// Checkpoints that could not be used, and why.
    pub warnings: Vec<String>,
    /// Torn journal lines skipped.
    pub scan: ScanStats,
    /// With [`fold_files`]' `own`: that journal's fold alone.
    pub own: Option<Ledger>,
    /// The stamp of the `results.csv` written with `journal.jsonl`'s checkpoint, if any.
    pub results: Option<ResultsStamp>,
}

/// Folds every journal of the sweep in `root` (spec `spec`, hash `spec_hash`) into one
/// ledger, each from its checkpoint on when it has a usable one. `Ok(None)` when a record
/// does not say where its task is in this grid (a journal written before records carried
/// `"i"`, or one whose spec's grid differs): then only the ids place tasks, and the caller
/// reads the journals the slow way.
pub fn fold_dir(root: &Path, spec: &Spec, spec_hash: &str) -> io::Result<Option<Folded>> {
    fold_files(root, spec, spec_hash, None)
}

/// [`fold_dir`], keeping also the fold of journal `own` (the one a run is to append to) in
/// [`Folded::own`]. When `own` is a shard's journal, the other shards' journals are not
/// read: they hold no task of this shard.
pub fn fold_files(root: &Path, spec: &Spec, spec_hash: &str, own: Option<&Path>) -> io::Result<Option<Folded>> {
    let tasks = spec.task_count();
    let mut total = Ledger::new(tasks);
    let mut warnings = Vec::new();
    let mut scan = ScanStats::default();
    let whole = root.join("journal.jsonl");
    let files = journals_read_by(root, own)?;
    let mut own_fold = own.map(|_| Ledger::new(tasks));
    let mut results = None;
    let mut foreign = 0;
    for journal in files {
        let (start, mut ledger) = match read(&journal, spec_hash, tasks) {
            Ok(Some(c)) => {
                if journal == whole {
                    results = c.results;
                }
                (c.covered, c.ledger)
            }
            Ok(None) => (0, Ledger::new(tasks)),
            Err(why) => {
                warnings.push(format!("ignored the checkpoint {why}; read the whole journal instead"));
                (0, Ledger::new(tasks))
            }
        };
        // A checkpoint is written for the current spec, so the records after it are placed
        // by their indices; after a header, the header says.
        let mut trusted = start > 0;
        let mut placed_all = true;
        let check = crate::results::window::index_check(spec);
        scan_lines_checked(
            &journal,
            start..u64::MAX,
            &mut scan,
            |_| true,
            Some(&check),
            |_, item| match item {
                Item::Header(h) => trusted = h == Some(spec_hash),
                Item::Record(r) if placed_all => match crate::results::window::place(spec, trusted, &r) {
                    Placed::At(i) => ledger.apply(i, r.attempt, r.died, r.outcome()),
                    Placed::Foreign => foreign += 1,
                    Placed::Unknown => placed_all = false,
                },
                Item::Record(_) => {}
            },
        )?;
        if !placed_all {
            return Ok(None);
        }
        total.then(&ledger);
        if own == Some(journal.as_path()) {
            own_fold = Some(ledger);
        }
    }
    warnings.extend(crate::results::window::foreign_warning(foreign));
    Ok(Some(Folded { ledger: total, warnings, scan, own: own_fold, results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(tasks: u64) -> Ledger {
        let mut l = Ledger::new(tasks);
        l.apply(0, 1, false, Ok(()));
        l.apply(3, 2, true, Err((FailureClass::Crash, "sweep crashed")));
        l.apply(tasks - 1, 1, false, Err((FailureClass::Timeout, "slow, \"very\"\nsecond line")));
        l
    }

    fn journal(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("journal.jsonl");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_checkpoint_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let j = journal(dir.path(), &"{\"x\":1}\n".repeat(1000));
        let l = sample(130);
        write(&j, "abc", 8 * 600, &l, None).unwrap();
        let c = read(&j, "abc", 130).unwrap().unwrap();
        assert_eq!((c.covered, c.ledger, c.results), (4800, l.clone(), None));
        std::fs::write(dir.path().join("results.csv"), "a,b\n").unwrap();
        let stamp = ResultsStamp::now(dir.path()).unwrap();
        assert_eq!(stamp.journals, [("journal.jsonl".to_string(), 8000)]);
        write(&j, "abc", 8 * 600, &l, Some(&stamp)).unwrap();
        assert_eq!(read(&j, "abc", 130).unwrap().unwrap().results, Some(stamp));
        assert!(read(&dir.path().join("none.jsonl"), "abc", 130).unwrap().is_none(), "no checkpoint");
    }

    #[test]
    fn done_bits_read_back_dense_and_sparse() {
        let dir = tempfile::tempdir().unwrap();
        let j = journal(dir.path(), &"{\"x\":1}\n".repeat(10));
        for (tasks, every) in [(100_000u64, 1u64), (100_000, 3), (100_000, 1000), (1, 1), (64, 7), (129, 128)] {
            let mut l = Ledger::new(tasks);
            (0..tasks).step_by(every as usize).for_each(|i| l.apply(i, 1, false, Ok(())));
            l.apply(tasks - 1, 1, false, Ok(()));
            write(&j, "h", 80, &l, None).unwrap();
            let size = std::fs::metadata(path_for(&j)).unwrap().len();
            assert_eq!(read(&j, "h", tasks).unwrap().unwrap().ledger, l, "{tasks} tasks, every {every}");
            if every == 1000 {
                assert!(size < 400, "a sparse ledger is stored sparsely: {size} bytes");
            }
        }
    }

    #[test]
    fn a_torn_or_damaged_checkpoint_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let j = journal(dir.path(), &"{\"x\":1}\n".repeat(10));
        write(&j, "abc", 80, &sample(70), None).unwrap();
        let good = std::fs::read(path_for(&j)).unwrap();
        for len in [0, 7, 40, good.len() / 2, good.len() - 1] {
            std::fs::write(path_for(&j), &good[..len]).unwrap();
            let e = read(&j, "abc", 70).unwrap_err();
            assert!(e.contains("torn"), "{len} bytes: {e}");
        }
        let mut flipped = good.clone();
        flipped[60] ^= 1;
        std::fs::write(path_for(&j), &flipped).unwrap();
        assert!(read(&j, "abc", 70).unwrap_err().contains("torn"));
    }

    #[test]
    fn a_stale_checkpoint_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let j = journal(dir.path(), &"{\"x\":1}\n".repeat(10));
        write(&j, "abc", 80, &sample(70), None).unwrap();
        assert!(read(&j, "other", 70).unwrap_err().contains("another version of the spec"));
        assert!(read(&j, "abc", 71).unwrap_err().contains("for 70 tasks"));
        // The journal was cut short, or replaced by another one of the same length.
        std::fs::write(&j, "{\"x\":1}\n".repeat(5)).unwrap();
        assert!(read(&j, "abc", 70).unwrap_err().contains("not the one it describes"));
        std::fs::write(&j, "{\"y\":1}\n".repeat(10)).unwrap();
        assert!(read(&j, "abc", 70).unwrap_err().contains("not the one it describes"));
        // Appending to the journal keeps the checkpoint good: the tail is read after it.
        std::fs::write(&j, "{\"x\":1}\n".repeat(12)).unwrap();
        assert!(read(&j, "abc", 70).unwrap().is_some());
    }
}
