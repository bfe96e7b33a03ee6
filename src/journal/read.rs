//! Reading journals back.

use crate::grid::TaskId;
use crate::model::Metric;
use crate::task::FailureClass;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// One attempt as read from a journal.
#[derive(Debug)]
pub struct Record<'a> {
    /// The task.
    pub task: TaskId,
    /// Its position in the grid of the spec its run named in its header (`"i"`; `None` in
    /// records written before sweep kept it).
    pub index: Option<u64>,
    /// Whether the attempt finished the task.
    pub done: bool,
    /// The attempt number (1 for the first attempt of the task, across runs).
    pub attempt: u32,
    /// Seconds the attempt took.
    pub seconds: f64,
    /// Metrics of a done attempt.
    pub metrics: Vec<(Cow<'a, str>, Metric)>,
    /// Failure class and message of a failed attempt.
    pub failure: Option<(FailureClass, Cow<'a, str>)>,
    /// The attempt ended because sweep itself crashed while it ran (`"died": true`).
    pub died: bool,
    /// A done attempt's output files and their SHA-256 (hex), sorted by name; `None` when
    /// the record has no `files` field (no files, or a sweep that kept no checksums).
    pub files: Option<Vec<(String, String)>>,
}

/// What a scan found besides the records.
#[derive(Debug, Default, Clone)]
pub struct ScanStats {
    /// Records read.
    pub records: u64,
    /// Lines skipped because they did not parse (torn by a killed run), with file and place.
    pub skipped: Vec<(PathBuf, LineAt)>,
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

/// A journal line: a header, or a record of version 2 (short keys) or 1 (long keys).
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, alias = "t")]
    task: Option<&'a str>,
    i: Option<u64>,
    /// Version 1 only: `"done"` or `"failed"` (version 2: done when it has metrics).
    #[serde(borrow)]
    status: Option<&'a str>,
    #[serde(alias = "a")]
    attempt: Option<u32>,
    #[serde(alias = "s")]
    seconds: Option<f64>,
    #[serde(default, borrow, alias = "m")]
    metrics: Option<Metrics<'a>>,
    #[serde(alias = "c")]
    class: Option<FailureClass>,
    #[serde(borrow, alias = "e")]
    error: Option<Cow<'a, str>>,
    sweep_journal: Option<u32>,
    #[serde(borrow)]
    spec: Option<&'a str>,
    #[serde(default)]
    died: bool,
    #[serde(default)]
    files: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Default)]
struct Metrics<'a>(Vec<(Cow<'a, str>, Metric)>);

impl<'de: 'a, 'a> Deserialize<'de> for Metrics<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Metrics<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of metrics")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    let v: MetricDe = m.next_value()?;
                    out.push((k, v.0));
                }
                Ok(Metrics(out))
            }
        }
        d.deserialize_map(V)
    }
}

struct MetricDe(Metric);

impl<'de> Deserialize<'de> for MetricDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MetricDe;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, a boolean, null or a string")
            }
            fn visit_i64<E>(self, v: i64) -> Result<MetricDe, E> {
                Ok(MetricDe(Metric::Int(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<MetricDe, E> {
                Ok(MetricDe(Metric::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<MetricDe, E> {
                Ok(MetricDe(Metric::Float(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<MetricDe, E> {
                // Non-finite floats are written as strings ("NaN", "inf").
                Ok(MetricDe(match v {
                    "NaN" => Metric::Float(f64::NAN),
                    "inf" => Metric::Float(f64::INFINITY),
                    "-inf" => Metric::Float(f64::NEG_INFINITY),
                    s => Metric::Str(s.into()),
                }))
            }
            fn visit_bool<E>(self, v: bool) -> Result<MetricDe, E> {
                Ok(MetricDe(Metric::Bool(v)))
            }
            fn visit_unit<E>(self) -> Result<MetricDe, E> {
                Ok(MetricDe(Metric::Null))
            }
        }
        d.deserialize_any(V)
    }
}

/// The journals of an out directory: `journal.jsonl` and `journal/*.jsonl`, sorted.
pub fn journal_files(out: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let top = out.join("journal.jsonl");
    if top.is_file() {
        files.push(top);
    }
    match std::fs::read_dir(out.join("journal")) {
        Ok(rd) => {
            let mut shard: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect();
            shard.sort();
            files.extend(shard);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(files)
}

/// Bytes of journal parsed at a time (in parallel, then handed over in order).
const WINDOW: usize = 4 << 20;

enum Parsed<'a> {
    /// A line the reader passed over unparsed.
    Passed,
    Record(Record<'a>),
    Header(u32, Option<&'a str>),
    Blank,
    Bad,
}

fn parse_line(text: &[u8]) -> Parsed<'_> {
    if text.is_empty() {
        return Parsed::Blank;
    }
    let Ok(line) = serde_json::from_slice::<Line>(text) else { return Parsed::Bad };
    if let Some(v) = line.sweep_journal {
        return Parsed::Header(v, line.spec);
    }
    let Some(task) = line.task.and_then(|t| t.parse::<TaskId>().ok()) else { return Parsed::Bad };
    let done = match line.status {
        Some(status) => status == "done",
        None => line.metrics.is_some(),
    };
    Parsed::Record(Record {
        task,
        index: line.i,
        done,
        attempt: line.attempt.unwrap_or(1),
        seconds: line.seconds.unwrap_or(0.0),
        metrics: line.metrics.map(|m| m.0).unwrap_or_default(),
        failure: (!done).then(|| (line.class.unwrap_or(FailureClass::Error), line.error.unwrap_or_default())),
        died: line.died && !done,
        files: line.files.filter(|_| done).map(|m| m.into_iter().collect()),
    })
}

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
    scan_impl(path, start..u64::MAX, stats, |_| true, |_, item| f(item))
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

/// [`scan_from`] over the lines `keep` accepts (a test on the raw bytes, made before a line
/// is parsed, side by side): other lines are passed over unparsed, as if absent. Readers
/// that want a part of the grid skip the rest at the cost of a glance per line.
pub fn scan_lines(
    path: &Path,
    bytes: std::ops::Range<u64>,
    stats: &mut ScanStats,
    keep: impl Fn(&[u8]) -> bool + Sync,
    f: impl FnMut(std::ops::Range<u64>, Item<'_>),
) -> io::Result<u64> {
    scan_impl(path, bytes, stats, keep, f)
}

/// Reads the lines of `path` in the byte range `bytes` (starting at a line start; to the
/// end of the file at most), calling `f` with each line's byte range and what it holds.
fn scan_impl(
    path: &Path,
    bytes: std::ops::Range<u64>,
    stats: &mut ScanStats,
    keep: impl Fn(&[u8]) -> bool + Sync,
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
                        (at - len, len, if keep(line) { parse_line(line) } else { Parsed::Passed })
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
                    Parsed::Bad => stats
                        .skipped
                        .push((path.to_path_buf(), if start == 0 { LineAt::Line(lineno) } else { LineAt::Byte(at) })),
                }
            }
        }
        if eof {
            break;
        }
    }
    Ok(covered)
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::JournalWriter;
    use crate::task::TaskFailure;

    #[test]
    fn round_trip_and_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        {
            let mut w = JournalWriter::open(&p, "0/1").unwrap();
            let m = vec![
                ("value".into(), Metric::Float(0.25)),
                ("n".into(), Metric::Int(3)),
                ("s".into(), Metric::Str("a\"b".into())),
                ("big".into(), Metric::UInt(11851360948378580888)),
                ("yes".into(), Metric::Bool(true)),
                ("none".into(), Metric::Null),
            ];
            w.append(TaskId(1), 0, 1, 0.5, Ok(&m)).unwrap();
            let f = TaskFailure::new(FailureClass::Panic, "boom\nline 2");
            w.append(TaskId(2), 1, 1, 0.1, Err(&f)).unwrap();
            w.flush().unwrap();
        }
        // A torn record at the end, as a kill -9 mid-write leaves it.
        std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(b"{\"task\":\"00000000").unwrap();
        {
            // The next run terminates the torn line before appending.
            let mut w = JournalWriter::open(&p, "0/1").unwrap();
            w.append(TaskId(3), 2, 1, 0.0, Ok(&[])).unwrap();
            w.flush().unwrap();
        }
        let mut stats = ScanStats::default();
        let mut seen = Vec::new();
        scan(&p, &mut stats, |r| seen.push((r.task, r.done, r.metrics.len(), r.failure.map(|f| f.1.into_owned()))))
            .unwrap();
        assert_eq!(stats.records, 3);
        assert_eq!(stats.skipped.len(), 1);
        assert_eq!(seen[0], (TaskId(1), true, 6, None));
        assert_eq!(seen[1], (TaskId(2), false, 0, Some("boom\nline 2".into())));
        assert_eq!(seen[2].0, TaskId(3));
    }

    #[test]
    fn floats_read_back_exactly() {
        // 0.9368329348258333 came back as ...332 with serde_json's default float parser.
        let values = [0.9368329348258333, 0.1 + 0.2, f64::MIN_POSITIVE, 1e-310, 2.0f64.sqrt(), 123456.789e200];
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        {
            let mut w = JournalWriter::open(&p, "0/1").unwrap();
            for (i, v) in values.iter().enumerate() {
                w.append(TaskId(i as u64), i as u64, 1, 0.25, Ok(&[("value".into(), Metric::Float(*v))])).unwrap();
            }
            w.flush().unwrap();
        }
        let mut seen = Vec::new();
        scan(&p, &mut ScanStats::default(), |r| seen.push((r.seconds, r.metrics[0].1.clone()))).unwrap();
        for (v, (seconds, metric)) in values.iter().zip(seen) {
            assert_eq!(seconds, 0.25, "durations are kept to the microsecond");
            assert!(matches!(metric, Metric::Float(m) if m.to_bits() == v.to_bits()), "{v}: {metric:?}");
        }
    }
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
    }

    #[test]
    fn metrics_read_back_bit_for_bit() {
        // serde_json's default float parser can be one ulp off; results.csv rewritten on
        // resume must equal the uninterrupted run's, so the journal round trip is exact.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let values = [0.9994401382896061, 0.1 + 0.2, 1e-300, 123456789.12345679, f64::MIN_POSITIVE];
        let m: Vec<_> = values.iter().enumerate().map(|(i, v)| (format!("m{i}").into(), Metric::Float(*v))).collect();
        let mut w = JournalWriter::open(&p, "0/1").unwrap();
        w.append(TaskId(1), 0, 1, 0.0, Ok(&m)).unwrap();
        w.flush().unwrap();
        let mut got = Vec::new();
        scan(&p, &mut ScanStats::default(), |r| got = r.metrics.into_iter().map(|(_, v)| v).collect()).unwrap();
        assert_eq!(got, values.map(Metric::Float));
    }
}

#[cfg(test)]
mod quick {
    use super::*;
    use crate::journal::{format_death, format_record};

    #[test]
    fn the_index_of_a_record_reads_without_parsing_it_and_other_lines_give_none() {
        for index in [0, 7, 1_234_567_890_123] {
            let mut l = Vec::new();
            format_record(&mut l, TaskId(u64::MAX), index, 3, 0.5, Ok(&[]));
            assert_eq!(quick_index(trim_newline(&l)), Some(index));
            l.clear();
            format_death(&mut l, TaskId(1), index, 2, "SIGKILL");
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

#[cfg(test)]
mod files {
    use super::*;
    use crate::io::FileDigest;
    use crate::journal::{append_files, format_record};

    fn parse(line: &[u8]) -> Option<Vec<(String, String)>> {
        match parse_line(trim_newline(line)) {
            Parsed::Record(r) => r.files,
            _ => panic!("not a record: {}", String::from_utf8_lossy(line)),
        }
    }

    #[test]
    fn checksums_of_output_files_read_back_and_records_without_them_still_read() {
        let mut l = Vec::new();
        format_record(&mut l, TaskId(7), 7, 1, 0.5, Ok(&[("y".into(), Metric::Int(4))]));
        let plain = l.clone();
        let files = [
            FileDigest { name: "a \"q\".npy".into(), sha256: [0xab; 32] },
            FileDigest { name: "sub/c.bin".into(), sha256: [1; 32] },
        ];
        append_files(&mut l, &files);
        let text = String::from_utf8(l.clone()).unwrap();
        assert!(
            text.ends_with(&format!(
                ",\"files\":{{\"a \\\"q\\\".npy\":\"{}\",\"sub/c.bin\":\"{}\"}}}}\n",
                "ab".repeat(32),
                "01".repeat(32)
            )),
            "{text}"
        );
        let got = parse(&l).unwrap();
        assert_eq!(got, vec![("a \"q\".npy".to_string(), "ab".repeat(32)), ("sub/c.bin".to_string(), "01".repeat(32))]);
        assert_eq!(parse(&plain), None, "a record written before checksums existed");
        let mut empty = plain.clone();
        append_files(&mut empty, &[]);
        assert_eq!(parse(&empty), Some(Vec::new()), "a task directory holding only sweep's own files");
    }
}

#[cfg(test)]
mod metric_kinds {
    use super::*;
    use crate::journal::JournalWriter;

    #[test]
    fn every_metric_kind_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let written = vec![
            ("f".into(), Metric::Float(0.1)),
            ("nan".into(), Metric::Float(f64::NAN)),
            ("inf".into(), Metric::Float(f64::NEG_INFINITY)),
            ("i".into(), Metric::Int(-3)),
            ("u".into(), Metric::UInt(11851360948378580888)),
            ("b".into(), Metric::Bool(false)),
            ("null".into(), Metric::Null),
            ("s".into(), Metric::Str("x".into())),
        ];
        let mut w = JournalWriter::open(&p, "0/1").unwrap();
        w.append(TaskId(1), 0, 1, 0.0, Ok(&written)).unwrap();
        w.flush().unwrap();
        let mut got = Vec::new();
        scan(&p, &mut ScanStats::default(), |r| {
            got = r.metrics.into_iter().map(|(k, v)| (k.into_owned(), v)).collect()
        })
        .unwrap();
        assert_eq!(got.len(), written.len());
        for ((k, want), (gk, gv)) in written.iter().zip(&got) {
            assert_eq!(k, gk);
            match (want, gv) {
                (Metric::Float(a), Metric::Float(b)) => assert_eq!(a.to_bits(), b.to_bits(), "{k}"),
                _ => assert_eq!(want, gv, "{k}"),
            }
        }
    }
}
