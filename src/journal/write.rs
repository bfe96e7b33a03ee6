//! Appending records.

use crate::exec::TaskFailure;
use crate::grid::TaskId;
use crate::model::Metric;
use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// An open journal file, appending. Records are buffered; the engine flushes them at
/// least every 200 ms, so a killed run loses at most that much (those tasks simply run
/// again on `--resume`).
pub struct JournalWriter {
    path: PathBuf,
    out: BufWriter<File>,
    line: String,
}

impl JournalWriter {
    /// Opens `path` for appending and writes a header for this run. A torn last line
    /// left by a killed run is terminated first, so it cannot swallow the next record.
    pub fn open(path: &Path, shard: &str) -> io::Result<Self> {
        let mut f = OpenOptions::new().create(true).read(true).append(true).open(path)?;
        let len = f.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1))?;
            f.read_exact(&mut last)?;
            if last[0] != b'\n' {
                f.write_all(b"\n")?;
            }
        }
        let mut w = Self { path: path.to_path_buf(), out: BufWriter::with_capacity(1 << 16, f), line: String::new() };
        let header = serde_json::json!({
            "sweep_journal": super::VERSION,
            "shard": shard,
            "pid": std::process::id(),
            "started": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        });
        writeln!(w.out, "{header}")?;
        w.flush()?;
        Ok(w)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record of a finished attempt.
    pub fn append(
        &mut self,
        task: TaskId,
        attempt: u32,
        seconds: f64,
        result: Result<&[(Cow<'static, str>, Metric)], &TaskFailure>,
    ) -> io::Result<()> {
        self.line.clear();
        format_record(&mut self.line, task, attempt, seconds, result);
        self.out.write_all(self.line.as_bytes())
    }

    /// Appends records already formatted by [`format_record`] (whole lines).
    pub fn append_formatted(&mut self, lines: &str) -> io::Result<()> {
        debug_assert!(lines.is_empty() || lines.ends_with('\n'));
        self.out.write_all(lines.as_bytes())
    }

    /// Writes buffered records to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and asks the OS to put the journal on disk.
    pub fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        self.out.get_ref().sync_data()
    }
}

/// Appends the journal line (newline included) recording a finished attempt to `l`. Workers
/// format their records with this before taking the journal's lock.
pub fn format_record(
    l: &mut String,
    task: TaskId,
    attempt: u32,
    seconds: f64,
    result: Result<&[(Cow<'static, str>, Metric)], &TaskFailure>,
) {
    let mut int = itoa::Buffer::new();
    l.push_str("{\"task\":\"");
    l.push_str(std::str::from_utf8(&task.hex()).expect("hex digits"));
    l.push_str(if result.is_ok() {
        "\",\"status\":\"done\",\"attempt\":"
    } else {
        "\",\"status\":\"failed\",\"attempt\":"
    });
    l.push_str(int.format(attempt));
    l.push_str(",\"seconds\":");
    crate::value::push_fixed6(l, seconds);
    match result {
        Ok(metrics) => {
            l.push_str(",\"metrics\":{");
            for (i, (k, v)) in metrics.iter().enumerate() {
                if i > 0 {
                    l.push(',');
                }
                push_json_str(l, k);
                l.push(':');
                match v {
                    Metric::Float(f) if f.is_finite() => crate::value::push_f64(l, *f),
                    Metric::Float(f) => push_json_str(l, &f.to_string()),
                    Metric::Int(i) => l.push_str(int.format(*i)),
                    Metric::Str(s) => push_json_str(l, s),
                }
            }
            l.push('}');
        }
        Err(f) => {
            l.push_str(",\"class\":\"");
            l.push_str(f.class.as_str());
            l.push_str("\",\"error\":");
            push_json_str(l, &f.message);
        }
    }
    l.push_str("}\n");
}

fn push_json_str(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).expect("strings serialize"));
    }
}
