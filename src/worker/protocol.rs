//! The worker protocol, version 1: JSON lines on the worker's stdin and stdout.
//!
//! 1. The worker writes a handshake line once it is ready: `{"sweep_worker": 1}` (other
//!    fields are information), or `{"sweep_worker": 1, "error": "...", "detail": "..."}`
//!    and exits when it cannot start.
//! 2. sweep writes one request line per task: `{"id":1,"task":"<16 hex>","params":{...},
//!    "seed":<u64>,"seed_str":"<u64>","seed32":<u32>,"replicate":0,"attempt":1,"out":"<dir>"}`.
//!    It may write several before reading a reply (pipelining).
//! 3. The worker answers each request, in order, with one line: `{"id":1,"metrics":{...}}`
//!    (and `"files":true` when it wrote anything in `out`, which sweep then moves into
//!    place; `"arrays":[...]` names the `.npy` files among them; `"seconds"` the time the
//!    task took, which replaces sweep's own reckoning from when replies arrive), or
//!    `{"id":1,"error":"<one line>","detail":"<more>"}`.
//! 4. sweep closes the worker's stdin when it has no more tasks for it; the worker exits.
//!
//! Unknown fields are ignored both ways. Numbers that are not finite are written `NaN`,
//! `Infinity` and `-Infinity`, as Python's `json` module writes and reads them. Lines on the
//! worker's stdout that are not JSON objects are the task's output, not protocol; a line that
//! begins `{"id": N` is the reply to request N, even when it cannot be read.

use crate::grid::{Grid, TaskId};
use crate::model::Metric;
use crate::task::metrics::{standardise, Flatten};
use crate::value::Value;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// The protocol version this build speaks.
pub const VERSION: u64 = 1;

pub use crate::grid::seed32;

/// Formats requests, with every parameter value's JSON written once per run.
pub struct Requests {
    /// `frags[column][i]`: `"name":<value i>` for grid column `column`.
    frags: Vec<Vec<Vec<u8>>>,
    /// The fixed parameters, `"name":value` each, joined by commas.
    fixed: Vec<u8>,
}

impl Requests {
    /// The requests of `grid`'s tasks, with `fixed` parameters added to every one.
    pub fn new(grid: &Grid, fixed: &[(String, Value)]) -> Requests {
        let frag = |name: &str, v: &Value| {
            let mut out = serde_json::to_string(name).expect("strings serialize").into_bytes();
            out.push(b':');
            push_value(&mut out, v);
            out
        };
        let frags = (0..grid.columns.len())
            .map(|c| {
                let (a, m) = grid.column_position(c);
                grid.axes[a].values[m].iter().map(|v| frag(&grid.columns[c], v)).collect()
            })
            .collect();
        let fixed = fixed.iter().map(|(n, v)| frag(n, v)).collect::<Vec<_>>().join(&b',');
        Requests { frags, fixed }
    }

    /// Appends the line (newline included) of request `r` to `out`.
    pub fn push(&self, out: &mut Vec<u8>, grid: &Grid, r: Request<'_>) {
        let Request { id, index, ident: (task, seed), attempt, dir } = r;
        let (point, replicate) = grid.locate(index);
        let mut int = itoa::Buffer::new();
        out.extend_from_slice(b"{\"id\":");
        out.extend_from_slice(int.format(id).as_bytes());
        out.extend_from_slice(b",\"task\":\"");
        out.extend_from_slice(&task.hex());
        out.extend_from_slice(b"\",\"params\":{");
        let mut first = true;
        for (c, frags) in self.frags.iter().enumerate() {
            if !first {
                out.push(b',');
            }
            first = false;
            let (a, _) = grid.column_position(c);
            match grid.refine.as_deref().filter(|s| s.column == c) {
                // A refined curve's points differ from curve to curve.
                Some(_) => {
                    out.extend_from_slice(
                        serde_json::to_string(&grid.columns[c]).expect("strings serialize").as_bytes(),
                    );
                    out.push(b':');
                    push_value(out, grid.value(point, c));
                }
                None => out.extend_from_slice(&frags[grid.digit(point, a)]),
            }
        }
        if !self.fixed.is_empty() {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(&self.fixed);
        }
        out.extend_from_slice(b"},\"seed\":");
        out.extend_from_slice(int.format(seed).as_bytes());
        out.extend_from_slice(b",\"seed_str\":\"");
        out.extend_from_slice(int.format(seed).as_bytes());
        out.extend_from_slice(b"\",\"seed32\":");
        out.extend_from_slice(int.format(seed32(seed)).as_bytes());
        out.extend_from_slice(b",\"replicate\":");
        out.extend_from_slice(int.format(replicate).as_bytes());
        out.extend_from_slice(b",\"attempt\":");
        out.extend_from_slice(int.format(attempt).as_bytes());
        out.extend_from_slice(b",\"out\":");
        out.extend_from_slice(serde_json::to_string(dir).expect("strings serialize").as_bytes());
        out.extend_from_slice(b"}\n");
    }
}

/// One request to a worker.
#[derive(Clone, Copy, Debug)]
pub struct Request<'d> {
    /// Numbers the worker's requests; its reply carries it back.
    pub id: u64,
    /// The task's grid index.
    pub index: u64,
    /// The task's id and seed.
    pub ident: (TaskId, u64),
    /// The attempt's number, counting earlier runs'.
    pub attempt: u32,
    /// The attempt's directory, for the files it writes.
    pub dir: &'d str,
}

/// A parameter value as the protocol writes it.
fn push_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Float(f) if f.is_nan() => out.extend_from_slice(b"NaN"),
        Value::Float(f) if f.is_infinite() => out.extend_from_slice(if *f > 0.0 { b"Infinity" } else { b"-Infinity" }),
        // Shortest round trip, always with a `.` or an exponent: a float reads back as a float.
        Value::Float(f) => out.extend_from_slice(ryu::Buffer::new().format_finite(*f).as_bytes()),
        Value::Str(s) => out.extend_from_slice(serde_json::to_string(&**s).expect("strings serialize").as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
    }
}

/// What a worker answered to one request.
#[derive(Debug, Default, PartialEq)]
pub struct Reply {
    /// The request's id (`None` when the worker could not read the request).
    pub id: Option<u64>,
    /// The task's metrics, in the order written.
    pub metrics: Vec<(String, Metric)>,
    /// The `.npy` files the worker wrote in the task's directory, by array name.
    pub arrays: Vec<String>,
    /// Whether the worker wrote anything in the task's directory (`"files": true`, or
    /// `arrays`): then sweep moves it into place.
    pub files: bool,
    /// Why the task failed: one line.
    pub error: Option<String>,
    /// More about the failure (a traceback).
    pub detail: Option<String>,
    /// How long the task took in the worker, when it says (`"seconds"`).
    pub seconds: Option<f64>,
}

/// A line of a worker's stdout.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// A protocol message.
    Reply(Reply),
    /// A line that begins as a reply does (`{"id": N`) but cannot be read: the reply to
    /// request `id`, whose task fails with `error` (#24: taken for output, it put every
    /// later reply of the worker one off, and a run without a timeout never ended).
    Unreadable {
        /// The request it answers.
        id: u64,
        /// What cannot be read, and where.
        error: String,
    },
    /// Something else the worker printed: the task's output.
    Output,
}

/// The id of a line that begins as a reply: `{`, then `"id"` as its first key with an
/// integer value.
fn reply_id(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(b"{")?.trim_ascii_start().strip_prefix(b"\"id\"")?;
    let rest = rest.trim_ascii_start().strip_prefix(b":")?.trim_ascii_start();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// `e` with the text of `line` around the column it names.
fn unreadable(line: &[u8], e: &serde_json::Error) -> String {
    let col = e.column().saturating_sub(1).min(line.len());
    let start = col.saturating_sub(30);
    let end = (col + 30).min(line.len());
    let near = String::from_utf8_lossy(&line[start..end]);
    let what = e.to_string();
    let what = what.split(" at line ").next().unwrap_or(&what);
    format!("the worker's reply cannot be read: {what}, near `{near}`")
}

/// Reads one stdout line of a worker.
pub fn parse_line(line: &[u8]) -> Result<Line, String> {
    let trimmed = line.trim_ascii();
    if !trimmed.starts_with(b"{") {
        return Ok(Line::Output);
    }
    let text = standardise(trimmed);
    let mut de = serde_json::Deserializer::from_slice(&text);
    match ReplySeed.deserialize(&mut de) {
        Ok(r) => Ok(Line::Reply(r)),
        // A line that only looks like JSON is output too, unless it begins as a reply does.
        Err(e) if e.is_syntax() || e.is_eof() => match reply_id(trimmed) {
            Some(id) => Ok(Line::Unreadable { id, error: unreadable(&text, &e) }),
            None => Ok(Line::Output),
        },
        Err(e) => Err(format!("a reply the protocol cannot read: {e}")),
    }
}

struct ReplySeed;

impl<'de> DeserializeSeed<'de> for ReplySeed {
    type Value = Reply;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Reply, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReplySeed {
    type Value = Reply;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a reply object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Reply, M::Error> {
        let mut r = Reply::default();
        while let Some(key) = m.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "id" => r.id = m.next_value()?,
                "metrics" => m.next_value_seed(MetricsOrNull(&mut r.metrics))?,
                "arrays" => r.arrays = m.next_value::<Option<Vec<String>>>()?.unwrap_or_default(),
                "files" => r.files = m.next_value::<Option<bool>>()?.unwrap_or(false),
                "error" => r.error = m.next_value()?,
                "detail" => r.detail = m.next_value()?,
                "seconds" => r.seconds = m.next_value::<Option<f64>>()?.filter(|s| s.is_finite() && *s >= 0.0),
                _ => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }
}

/// `"metrics": {...}` or `"metrics": null`.
struct MetricsOrNull<'o>(&'o mut Vec<(String, Metric)>);

impl<'de> DeserializeSeed<'de> for MetricsOrNull<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for MetricsOrNull<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of metrics")
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Flatten::new(self.0).deserialize(d)
    }
}

/// A worker's first line.
#[derive(Debug, PartialEq)]
pub enum Handshake {
    /// Ready, with what it says about itself (the whole line, as JSON).
    Ready(serde_json::Value),
    /// It could not start: why, and more (a traceback).
    Failed {
        /// One line.
        error: String,
        /// More, possibly empty.
        detail: String,
    },
}

/// Reads a handshake line; `None` when the line is not one (output printed before it).
pub fn parse_handshake(line: &[u8]) -> Result<Option<Handshake>, String> {
    let trimmed = line.trim_ascii();
    if !trimmed.starts_with(b"{") {
        return Ok(None);
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&standardise(trimmed)) else { return Ok(None) };
    let Some(version) = v.get("sweep_worker") else { return Ok(None) };
    match version.as_u64() {
        Some(VERSION) => {}
        _ => return Err(format!("the worker speaks protocol version {version}; this sweep speaks {VERSION}")),
    }
    let text = |k: &str| v.get(k).and_then(|e| e.as_str()).map(str::to_string);
    Ok(Some(match text("error") {
        Some(error) => Handshake::Failed { error, detail: text("detail").unwrap_or_default() },
        None => Handshake::Ready(v),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Axis;

    fn grid() -> Grid {
        let k = Axis { names: vec!["k".into()], values: vec![vec![Value::Float(0.5), Value::Float(f64::NAN)]] };
        let s = Axis { names: vec!["name".into()], values: vec![vec![Value::from("a\"b"), Value::Bool(true)]] };
        Grid::new(vec!["k".into(), "name".into()], vec![k, s], 2).unwrap()
    }

    #[test]
    fn requests_carry_every_field_as_json_python_reads() {
        let g = grid();
        let req = Requests::new(&g, &[("n".into(), Value::Int(3))]);
        let mut out = Vec::new();
        let r = Request { id: 7, index: 5, ident: (TaskId(0xab), 11851360948378580888), attempt: 2, dir: "/o/a b" };
        req.push(&mut out, &g, r);
        let line = String::from_utf8(out).unwrap();
        assert_eq!(
            line,
            "{\"id\":7,\"task\":\"00000000000000ab\",\"params\":{\"k\":NaN,\"name\":\"a\\\"b\",\"n\":3},\
             \"seed\":11851360948378580888,\"seed_str\":\"11851360948378580888\",\"seed32\":3372922776,\
             \"replicate\":1,\"attempt\":2,\"out\":\"/o/a b\"}\n"
        );
        assert_eq!(seed32(11851360948378580888), (11851360948378580888u64 % (1 << 32)) as u32);
    }

    #[test]
    fn replies_are_read_with_metrics_in_order_and_unknown_fields_ignored() {
        let line = br#"{"id": 3, "metrics": {"y": NaN, "fit": {"k": 1}, "ok": true}, "arrays": ["c"], "seconds": 0.25, "extra": [1, {"x": 2}]}"#;
        let Line::Reply(r) = parse_line(line).unwrap() else { panic!("a reply") };
        assert_eq!(r.id, Some(3));
        let names: Vec<&str> = r.metrics.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["y", "fit.k", "ok"]);
        assert_eq!(r.arrays, ["c"]);
        assert_eq!((r.error, r.seconds), (None, Some(0.25)));
        let Line::Reply(r) = parse_line(br#"{"id":4,"error":"ValueError: k","detail":"Traceback..."}"#).unwrap() else {
            panic!("a reply")
        };
        assert_eq!((r.error.as_deref(), r.detail.as_deref()), (Some("ValueError: k"), Some("Traceback...")));
        let Line::Reply(r) = parse_line(br#"{"id":5,"metrics":null}"#).unwrap() else { panic!("a reply") };
        assert!(r.metrics.is_empty());
    }

    #[test]
    fn anything_else_on_stdout_is_output() {
        for line in [&b"hello"[..], b"", b"  [1, 2]", b"{not json", b"{\"x\": 1, \"id\": 1"] {
            assert_eq!(parse_line(line).unwrap(), Line::Output, "{}", String::from_utf8_lossy(line));
        }
        assert!(parse_line(br#"{"id": "x"}"#).is_err(), "a reply with a bad field is a protocol error");
        assert!(parse_line(br#"{"id": 1, "metrics": {"c": [1]}}"#).unwrap_err().contains("`c` is an array"));
    }

    #[test]
    fn a_reply_that_cannot_be_read_is_the_reply_to_its_id_naming_the_problem() {
        let cases: [(&[u8], &str); 3] = [
            (br#"{"id": 51, "metrics": {"name": "a\udc80b"}}"#, "lone leading surrogate"),
            (br#"{"id":52,"metrics":{"n":1e999}}"#, "number out of range"),
            (br#"{"id": 53, "metrics": {"#, "EOF"),
        ];
        for (line, problem) in cases {
            match parse_line(line).unwrap() {
                Line::Unreadable { id, error } => {
                    assert!((51..=53).contains(&id));
                    assert!(error.contains(problem) && error.contains("near `"), "{error}");
                }
                other => panic!("{}: {other:?}", String::from_utf8_lossy(line)),
            }
        }
    }

    #[test]
    fn handshakes() {
        assert!(matches!(parse_handshake(br#"{"sweep_worker": 1, "pid": 5}"#), Ok(Some(Handshake::Ready(_)))));
        assert_eq!(
            parse_handshake(br#"{"sweep_worker": 1, "error": "ImportError: x", "detail": "tb"}"#),
            Ok(Some(Handshake::Failed { error: "ImportError: x".into(), detail: "tb".into() }))
        );
        assert_eq!(parse_handshake(b"loading..."), Ok(None));
        assert_eq!(parse_handshake(br#"{"other": 1}"#), Ok(None));
        assert!(parse_handshake(br#"{"sweep_worker": 2}"#).unwrap_err().contains("version 2"));
    }
}
