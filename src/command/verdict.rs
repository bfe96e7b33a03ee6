//! What a finished command's end means: the failure for a non-zero exit or a signal,
//! with the last lines of its stderr, and its metrics from `metrics.json`.

use crate::model::Metric;
use crate::proc::describe_exit;
use crate::task::{FailureClass, TaskFailure};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::process::ExitStatus;

/// At most this much of the end of `stderr.txt` is read for a failure message.
const TAIL_BYTES: u64 = 4096;
/// Lines of stderr quoted in a failure message: the last, which is where programs put the
/// error itself (a Python traceback's `ValueError: ...`); `sweep status DIR TASK` shows more.
const TAIL_LINES: usize = 1;

/// The failure for a command that exited non-zero or was killed by a signal.
pub fn exit_failure(status: ExitStatus, stderr: &Path) -> TaskFailure {
    let (head, signal) = describe_exit(status);
    let class = if signal { FailureClass::Signal } else { FailureClass::Exit };
    match stderr_tail(stderr) {
        tail if tail.is_empty() => TaskFailure::new(class, head),
        tail => TaskFailure::new(class, format!("{head}: {tail}")),
    }
}

/// The last few non-empty lines of `path`, read from at most its last `TAIL_BYTES`,
/// joined by newlines; empty when there are none or the file cannot be read.
pub fn stderr_tail(path: &Path) -> String {
    tail_lines(path, TAIL_LINES)
}

/// The last `n` non-empty lines of `path` (from at most its last `TAIL_BYTES`).
pub fn tail_lines(path: &Path, n: usize) -> String {
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
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Reads a task's `metrics.json`, if it wrote one (never through a symlink).
pub(super) fn read_metrics(path: &Path) -> Result<Vec<(String, Metric)>, TaskFailure> {
    let failure = |msg: String| TaskFailure::new(FailureClass::Error, format!("{}: {msg}", path.display()));
    let read = |mut f: File| {
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map(|_| bytes)
    };
    match crate::io::open_nofollow(path).and_then(read) {
        Ok(bytes) => crate::task::metrics::parse_object(&bytes).map_err(failure),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(failure(format!("cannot read: {e}"))),
    }
}
