//! Appending records.

use crate::grid::TaskId;
use crate::model::Metric;
use crate::task::TaskFailure;
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
    line: Vec<u8>,
}

impl JournalWriter {
    /// Opens `path` for appending and writes a header for this run. A torn last line
    /// left by a killed run is terminated first, so it cannot swallow the next record.
    pub fn open(path: &Path, shard: &str) -> io::Result<Self> {
        Self::open_for(path, shard, None)
    }

    /// [`open`](Self::open), naming in the header the hash of the spec the run's records
    /// belong to (see [`crate::outdir::spec_hash`]): their grid indices (`"i"`) are
    /// positions in that spec's grid.
    pub fn open_for(path: &Path, shard: &str, spec_hash: Option<&str>) -> io::Result<Self> {
        Self::open_header(path, shard, spec_hash, None)
    }

    /// [`open_for`](Self::open_for), naming in the header the id of the code the run's
    /// records come from (see [`crate::code`]).
    pub fn open_with_code(path: &Path, shard: &str, spec_hash: Option<&str>, code: &str) -> io::Result<Self> {
        Self::open_header(path, shard, spec_hash, Some(code))
    }

    fn open_header(path: &Path, shard: &str, spec_hash: Option<&str>, code: Option<&str>) -> io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f =
            OpenOptions::new().create(true).read(true).append(true).custom_flags(libc::O_NOFOLLOW).open(path)?;
        let len = f.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1))?;
            f.read_exact(&mut last)?;
            if last[0] != b'\n' {
                f.write_all(b"\n")?;
            }
        }
        let mut w = Self { path: path.to_path_buf(), out: BufWriter::with_capacity(1 << 16, f), line: Vec::new() };
        let mut header = serde_json::json!({
            "sweep_journal": super::VERSION,
            "shard": shard,
            "pid": std::process::id(),
            "started": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        });
        if let Some(h) = spec_hash {
            header["spec"] = h.into();
        }
        if let Some(c) = code {
            // After "pid" in the sorted header, where readers by eye (and tests) find a run's start.
            header["run_code"] = c.into();
        }
        writeln!(w.out, "{header}")?;
        w.flush()?;
        Ok(w)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record of a finished attempt of task `task`, number `index` in the grid.
    pub fn append(
        &mut self,
        task: TaskId,
        index: u64,
        attempt: u32,
        seconds: f64,
        result: Result<&[(Cow<'static, str>, Metric)], &TaskFailure>,
    ) -> io::Result<()> {
        self.line.clear();
        format_record(&mut self.line, task, index, attempt, seconds, result);
        self.out.write_all(&self.line)
    }

    /// Appends records already formatted by [`format_record`] (whole lines).
    pub fn append_formatted(&mut self, lines: &[u8]) -> io::Result<()> {
        debug_assert!(lines.is_empty() || lines.ends_with(b"\n"));
        self.out.write_all(lines)
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

/// Appends the journal line (newline included) recording a finished attempt of task `task`,
/// number `index` in the grid, to `l`. Workers format their records with this before handing
/// them to the journal thread.
pub fn format_record(
    l: &mut Vec<u8>,
    task: TaskId,
    index: u64,
    attempt: u32,
    seconds: f64,
    result: Result<&[(Cow<'static, str>, Metric)], &TaskFailure>,
) {
    let mut int = itoa::Buffer::new();
    l.reserve(96);
    l.extend_from_slice(b"{\"t\":\"");
    l.extend_from_slice(&task.hex());
    l.extend_from_slice(b"\",\"i\":");
    l.extend_from_slice(int.format(index).as_bytes());
    l.extend_from_slice(b",\"a\":");
    l.extend_from_slice(int.format(attempt).as_bytes());
    l.extend_from_slice(b",\"s\":");
    crate::value::push_fixed6(l, seconds);
    match result {
        Ok(metrics) => {
            l.extend_from_slice(b",\"m\":{");
            for (i, (k, v)) in metrics.iter().enumerate() {
                if i > 0 {
                    l.push(b',');
                }
                push_json_str(l, k);
                l.push(b':');
                match v {
                    Metric::Float(f) if f.is_finite() => {
                        l.extend_from_slice(ryu::Buffer::new().format_finite(*f).as_bytes())
                    }
                    Metric::Float(f) => push_json_str(l, &f.to_string()),
                    Metric::Int(i) => l.extend_from_slice(int.format(*i).as_bytes()),
                    Metric::UInt(u) => l.extend_from_slice(int.format(*u).as_bytes()),
                    Metric::Bool(b) => l.extend_from_slice(if *b { b"true" } else { b"false" }),
                    Metric::Null => l.extend_from_slice(b"null"),
                    Metric::Str(s) => push_json_str(l, s),
                }
            }
            l.push(b'}');
        }
        Err(f) => {
            l.extend_from_slice(b",\"c\":\"");
            l.extend_from_slice(f.class.as_str().as_bytes());
            l.extend_from_slice(b"\",\"e\":");
            push_json_str(l, &f.message);
        }
    }
    l.extend_from_slice(b"}\n");
}

/// Appends the journal line of an attempt that ended because sweep crashed while it ran
/// (found on the next run): a failed attempt of class `crash` marked `"died": true`.
pub fn format_death(l: &mut Vec<u8>, task: TaskId, index: u64, attempt: u32, f: &TaskFailure) {
    format_record(l, task, index, attempt, 0.0, Err(f));
    l.truncate(l.len() - 2);
    l.extend_from_slice(b",\"died\":true}\n");
}

/// Adds the checksums of a done attempt's output files to the record that ends `l` (as
/// [`format_record`] wrote it): `,"files":{"<name>":"<SHA-256, 64 hex digits>",...}`. Only
/// attempts whose directory became `tasks/<task>/` get the field (with `{}` when every file
/// there is sweep's own), so a record without it wrote no files, or was written by a sweep
/// that kept no checksums. Tasks that write no files never come here: their records stay
/// as before, formatted without allocating.
pub fn append_files(l: &mut Vec<u8>, files: &[crate::io::FileDigest]) {
    debug_assert!(l.ends_with(b"}\n"));
    l.truncate(l.len() - 2);
    l.extend_from_slice(b",\"files\":{");
    for (i, f) in files.iter().enumerate() {
        if i > 0 {
            l.push(b',');
        }
        push_json_str(l, &f.name);
        l.extend_from_slice(b":\"");
        // Hex digits straight into the line: no string per file.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for b in f.sha256 {
            l.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
        l.push(b'"');
    }
    l.extend_from_slice(b"}}\n");
}

/// Adds to the done record that ends `l` (as [`format_record`] wrote it) how many arrays
/// the attempt staged for the store (`[output] arrays = "zarr"`): `,"z":N`. The arrays of a
/// task so recorded must all be found again (in a staging file or the store), or the task
/// is not done (see `store::check`).
pub fn append_staged(l: &mut Vec<u8>, arrays: usize) {
    debug_assert!(l.ends_with(b"}\n"));
    l.truncate(l.len() - 2);
    l.extend_from_slice(b",\"z\":");
    l.extend_from_slice(itoa::Buffer::new().format(arrays).as_bytes());
    l.extend_from_slice(b"}\n");
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(serde_json::to_string(s).expect("strings serialize").as_bytes());
    }
}
