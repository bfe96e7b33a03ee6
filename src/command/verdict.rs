//! What a finished command's end means: the failure for a non-zero exit or a signal,
//! with the last lines of its stderr, and its metrics from `metrics.json`.

use crate::model::Metric;
use crate::proc::describe_exit;
use crate::task::{FailureClass, TaskFailure};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::process::ExitStatus;

/// At most this much of the end of `stderr.txt` is read for a failure message.
const TAIL_BYTES: u64 = 4096;
/// Lines of stderr quoted in a failure message.
const TAIL_LINES: usize = 5;

/// The failure for a command that exited non-zero or was killed by a signal.
pub(super) fn exit_failure(status: ExitStatus, stderr: &Path) -> TaskFailure {
    let (head, signal) = describe_exit(status);
    let class = if signal { FailureClass::Signal } else { FailureClass::Exit };
    match stderr_tail(stderr) {
        tail if tail.is_empty() => TaskFailure::new(class, head),
        tail => TaskFailure::new(class, format!("{head}: {tail}")),
    }
}

/// The last few non-empty lines of `path`, read from at most its last [`TAIL_BYTES`],
/// joined by newlines; empty when there are none or the file cannot be read.
fn stderr_tail(path: &Path) -> String {
    let read = || -> io::Result<Vec<u8>> {
        let mut file = File::open(path)?;
        let start = file.metadata()?.len().saturating_sub(TAIL_BYTES);
        file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        file.take(TAIL_BYTES).read_to_end(&mut buf)?;
        // Starting mid-file, the first line is probably cut: drop it if another follows.
        if start > 0 {
            if let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                buf.drain(..=nl);
            }
        }
        Ok(buf)
    };
    let Ok(buf) = read() else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// Reads a task's `metrics.json`, if it wrote one.
pub(super) fn read_metrics(path: &Path) -> Result<Vec<(String, Metric)>, TaskFailure> {
    let failure = |msg: String| TaskFailure::new(FailureClass::Error, format!("{}: {msg}", path.display()));
    match fs::read(path) {
        Ok(bytes) => parse_metrics(&bytes).map_err(failure),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(failure(format!("cannot read: {e}"))),
    }
}

/// A flat JSON object of numbers and strings, sorted by key.
fn parse_metrics(bytes: &[u8]) -> Result<Vec<(String, Metric)>, String> {
    use serde_json::Value as Json;
    let object: serde_json::Map<String, Json> = serde_json::from_slice(bytes)
        .map_err(|e| format!("expected a flat JSON object of numbers and strings: {e}"))?;
    let mut metrics = object
        .into_iter()
        .map(|(key, value)| {
            let metric = match value {
                Json::Number(n) => match n.as_i64() {
                    Some(i) => Metric::Int(i),
                    None => Metric::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                Json::String(s) => Metric::Str(s.into()),
                other => {
                    let kind = match other {
                        Json::Null => "null",
                        Json::Bool(_) => "a boolean",
                        Json::Array(_) => "an array",
                        _ => "an object",
                    };
                    return Err(format!("`{key}` is {kind}; metrics must be numbers or strings"));
                }
            };
            Ok((key, metric))
        })
        .collect::<Result<Vec<_>, String>>()?;
    metrics.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(metrics)
}
