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
    /// How many arrays a done attempt staged for the store (`"z"`; `None` when it staged
    /// none, or was recorded by a sweep that did not count them).
    pub staged: Option<u32>,
    /// Whether the task at `index` has this record's id, when the reader checked it as the
    /// line was parsed (see `scan::scan_lines_checked`); `None`: not checked.
    pub index_matches: Option<bool>,
}

impl Record<'_> {
    /// How the attempt ended: done, or failed with its class and message.
    pub fn outcome(&self) -> Result<(), (FailureClass, &str)> {
        self.failure.as_ref().map_or(Ok(()), |(class, message)| Err((*class, message.as_ref())))
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
    z: Option<u32>,
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

/// The journals a run that appends to `own` reads: every journal of `out`; when `own` is a
/// shard's, only that one and `journal.jsonl` (all shards of a sweep split it the same way,
/// so the other shards' journals hold none of its tasks).
pub fn journals_read_by(out: &Path, own: Option<&Path>) -> io::Result<Vec<PathBuf>> {
    let mut files = journal_files(out)?;
    let whole = out.join("journal.jsonl");
    if let Some(own) = own.filter(|&p| p != whole) {
        files.retain(|f| f == own || *f == whole);
    }
    Ok(files)
}

pub(super) enum Parsed<'a> {
    /// A line the reader passed over unparsed.
    Passed,
    Record(Record<'a>),
    Header(u32, Option<&'a str>),
    Blank,
    Bad,
}

pub(super) fn parse_line(text: &[u8]) -> Parsed<'_> {
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
        staged: line.z.filter(|_| done),
        index_matches: None,
    })
}

pub(super) fn trim_newline(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{scan, JournalWriter, ScanStats};
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
    use crate::journal::{scan, JournalWriter, ScanStats};

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
