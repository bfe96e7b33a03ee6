//! Reading journals line by line: in parallel a window of bytes at a time, from an offset
//! (after a checkpoint) or within a byte range (a window of the grid), passing over lines a
//! reader does not want unparsed.

use super::read::{parse_line, trim_newline, Parsed, Record};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What a scan found besides the records.
#[derive(Debug, Default, Clone)]
pub struct ScanStats {
    /// Records read.
    pub records: u64,
    /// Lines skipped because they did not parse (torn by a killed run), with file and place.
    pub skipped: Vec<(PathBuf, LineAt)>,
    /// Of `skipped`, the lines that ended what was read without a newline: a line torn by a
    /// killed run, or one that a running sweep is still appending (a reader beside the run
    /// passes over it in silence).
    pub unfinished: Vec<(PathBuf, LineAt)>,
}

/// Where a line of a journal is: its number, when the journal was read from its start;
/// its byte offset, when only a part was read (after a checkpoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineAt {
    /// Line number, from 1.
    Line(u64),
    /// Byte offset of its start.
    Byte(u64),
}

impl fmt::Display for LineAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineAt::Line(n) => write!(f, "{n}"),
            LineAt::Byte(b) => write!(f, "byte {b}"),
        }
    }
}

/// Bytes of journal parsed at a time (in parallel, then handed over in order).
const WINDOW: usize = 4 << 20;

/// What a journal holds, line by line.
pub enum Item<'a> {
    /// A run's header: the hash of the spec its records' grid indices refer to (`None`
    /// when the run did not name it).
    Header(Option<&'a str>),
    /// A finished attempt.
    Record(Record<'a>),
}

/// Calls `f` for every record of the journal at `path`, in file order, skipping headers
/// and torn lines. Lines are parsed in parallel a window at a time.
pub fn scan(path: &Path, stats: &mut ScanStats, mut f: impl FnMut(Record<'_>)) -> io::Result<()> {
    scan_from(path, 0, stats, |item| {
        if let Item::Record(r) = item {
            f(r)
        }
    })
    .map(drop)
}

/// Calls `f` for every header and record of the journal at `path` from byte `start` (a line
/// start) on, in file order, skipping torn lines. Returns the offset just past the last
/// complete line read: a record is complete once its newline is written, so a reader that
/// goes on from there never reads a record twice. Lines are parsed in parallel a window at
/// a time.
pub fn scan_from(path: &Path, start: u64, stats: &mut ScanStats, mut f: impl FnMut(Item<'_>)) -> io::Result<u64> {
    scan_lines(path, start..u64::MAX, stats, |_| true, |_, item| f(item))
}

/// The grid index a record line written by this sweep names, read without parsing the line
/// (records start `{"t":"<16 hex>","i":<index>,`); `None` for any other line.
pub fn quick_index(line: &[u8]) -> Option<u64> {
    const HEAD: &[u8] = b"{\"t\":\"";
    const MID: &[u8] = b"\",\"i\":";
    let rest = line.strip_prefix(HEAD)?;
    let digits = rest.get(16..)?.strip_prefix(MID)?;
    let end = digits.iter().position(|b| !b.is_ascii_digit())?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// [`scan_from`] over the byte range `bytes` (starting at a line start; to the end of the
/// file at most) and the lines `keep` accepts (a test on the raw bytes, made before a line is
/// parsed, side by side): other lines are passed over unparsed, as if absent, so readers that
/// want a part of the grid skip the rest at the cost of a glance per line. `f` is called
/// with each line's byte range and what it holds.
pub fn scan_lines(
    path: &Path,
    bytes: std::ops::Range<u64>,
    stats: &mut ScanStats,
    keep: impl Fn(&[u8]) -> bool + Sync,
    f: impl FnMut(std::ops::Range<u64>, Item<'_>),
) -> io::Result<u64> {
    scan_lines_checked(path, bytes, stats, keep, None, f)
}

/// Checks a record's grid index against its task id: `check(index, id)`.
pub type IndexCheck<'a> = &'a (dyn Fn(u64, crate::grid::TaskId) -> bool + Sync);

/// [`scan_lines`], setting each record's [`Record::index_matches`] with `check` as its line
/// is parsed, side by side (a hash per record, which a reader doing it in turn would pay
/// on one core).
pub fn scan_lines_checked(
    path: &Path,
    bytes: std::ops::Range<u64>,
    stats: &mut ScanStats,
    keep: impl Fn(&[u8]) -> bool + Sync,
    check: Option<IndexCheck<'_>>,
    mut f: impl FnMut(std::ops::Range<u64>, Item<'_>),
) -> io::Result<u64> {
    use rayon::prelude::*;
    use std::io::{Read, Seek};
    let start = bytes.start;
    let mut file = std::fs::File::open(path)?;
    file.seek(io::SeekFrom::Start(start))?;
    let mut left = bytes.end.saturating_sub(start);
    let mut covered = start;
    let mut buf: Vec<u8> = Vec::with_capacity(WINDOW + 4096);
    let mut carry: Vec<u8> = Vec::new();
    let mut lineno = 0u64;
    let pieces = rayon::current_num_threads().max(1) * 4;
    loop {
        // `buf` starts where the last complete line ended.
        let buf_start = covered;
        buf.clear();
        buf.append(&mut carry);
        let read = (&mut file).take((WINDOW as u64).min(left)).read_to_end(&mut buf)?;
        left -= read as u64;
        let eof = read == 0;
        if !eof {
            // Keep the unfinished last line for the next window.
            match buf.iter().rposition(|&b| b == b'\n') {
                Some(nl) => carry.extend_from_slice(&buf[nl + 1..]),
                None => {
                    carry = std::mem::take(&mut buf);
                    continue;
                }
            }
            let nl = buf.len() - carry.len();
            buf.truncate(nl);
        }
        if buf.is_empty() {
            break;
        }
        covered += buf.iter().rposition(|&b| b == b'\n').map_or(0, |p| p as u64 + 1);
        // Split at line ends into pieces parsed side by side.
        let mut bounds = vec![0usize];
        for k in 1..pieces {
            let at = (buf.len() * k / pieces).max(*bounds.last().expect("non-empty"));
            let end = buf[at..].iter().position(|&b| b == b'\n').map_or(buf.len(), |p| at + p + 1);
            if end > *bounds.last().expect("non-empty") && end < buf.len() {
                bounds.push(end);
            }
        }
        bounds.push(buf.len());
        // Each line with its offset in `buf` and its length, newline included.
        let parsed: Vec<Vec<(usize, usize, Parsed)>> = bounds
            .windows(2)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|w| {
                let mut at = w[0];
                let lines = buf[w[0]..w[1]].split(|&b| b == b'\n');
                lines
                    .map(|l| {
                        let (line, len) = (trim_newline(l), l.len() + 1);
                        at += len;
                        let mut parsed = if keep(line) { parse_line(line) } else { Parsed::Passed };
                        if let (Some(check), Parsed::Record(r)) = (check, &mut parsed) {
                            r.index_matches = r.index.map(|i| check(i, r.task));
                        }
                        (at - len, len, parsed)
                    })
                    .collect()
            })
            .collect();
        for piece in parsed {
            let n = piece.len();
            for (i, (at, len, p)) in piece.into_iter().enumerate() {
                // `split` yields an empty tail after a piece's final newline: not a line.
                if i + 1 == n && matches!(p, Parsed::Blank) {
                    continue;
                }
                lineno += 1;
                let at = buf_start + at as u64;
                let line = at..at + len as u64;
                match p {
                    Parsed::Record(r) => {
                        stats.records += 1;
                        f(line, Item::Record(r));
                    }
                    Parsed::Header(v, _) if v > super::VERSION => {
                        return Err(io::Error::other(format!(
                            "{} was written by a newer sweep (journal format {v}); upgrade sweep to read it",
                            path.display()
                        )));
                    }
                    Parsed::Header(_, spec) => f(line, Item::Header(spec)),
                    Parsed::Blank | Parsed::Passed => {}
                    Parsed::Bad => {
                        let place =
                            (path.to_path_buf(), if start == 0 { LineAt::Line(lineno) } else { LineAt::Byte(at) });
                        // At the end the buffer holds only what followed the last newline.
                        if eof {
                            stats.unfinished.push(place.clone());
                        }
                        stats.skipped.push(place);
                    }
                }
            }
        }
        if eof {
            break;
        }
    }
    Ok(covered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::TaskId;
    use crate::journal::JournalWriter;
    use crate::model::Metric;
    use std::io::Write;

    #[test]
    fn journals_larger_than_a_window_keep_every_record_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let mut w = JournalWriter::open(&p, "0/1").unwrap();
        let n = 120_000u64; // about 11 MB: several windows, split at line ends
        for i in 0..n {
            w.append(TaskId(i), i, 1, 0.5, Ok(&[("value".into(), Metric::Int(i as i64))])).unwrap();
        }
        w.flush().unwrap();
        std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(b"{\"task\":\"torn").unwrap();
        let mut stats = ScanStats::default();
        let mut next = 0u64;
        scan(&p, &mut stats, |r| {
            assert_eq!(r.task, TaskId(next));
            assert_eq!(r.metrics[0].1, Metric::Int(next as i64));
            next += 1;
        })
        .unwrap();
        assert_eq!(next, n);
        assert_eq!(
            stats.skipped,
            vec![(p.clone(), LineAt::Line(n + 2))],
            "the torn line is line n + 2 (after the header)"
        );
        assert_eq!(stats.unfinished, stats.skipped, "the torn line had no newline");
    }
}

#[cfg(test)]
mod quick {
    use super::*;
    use crate::grid::TaskId;
    use crate::journal::{format_death, format_record};

    #[test]
    fn the_index_of_a_record_reads_without_parsing_it_and_other_lines_give_none() {
        for index in [0, 7, 1_234_567_890_123] {
            let mut l = Vec::new();
            format_record(&mut l, TaskId(u64::MAX), index, 3, 0.5, Ok(&[]));
            assert_eq!(quick_index(trim_newline(&l)), Some(index));
            l.clear();
            let f = crate::task::TaskFailure::new(
                crate::task::FailureClass::Crash,
                "sweep crashed (SIGKILL) while this task ran",
            );
            format_death(&mut l, TaskId(1), index, 2, &f);
            assert_eq!(quick_index(trim_newline(&l)), Some(index));
        }
        for other in [
            &b"{\"sweep_journal\":1,\"shard\":\"0/1\"}"[..],
            b"{\"task\":\"0123456789abcdef\",\"status\":\"done\",\"attempt\":1}",
            b"{\"t\":\"0123456789abcdef\",\"i\":",
            b"",
        ] {
            assert_eq!(quick_index(other), None, "{}", String::from_utf8_lossy(other));
        }
    }
}
