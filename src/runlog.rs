//! `runs.jsonl`: one line per finished run (or shard run) of a sweep, with what it did and
//! the resources it used: sweep's own CPU and peak memory, and those of the task processes
//! it ran (commands, persistent workers). `sweep status` reads it, so that the CPU a
//! sweep cost is known after the terminal that showed the summary is gone.
//!
//! Each line is one `write` on a file opened with `O_APPEND`, so that shard runs sharing
//! an out directory append whole lines. A torn or unknown line is skipped: this file is a
//! record for people, never an input to the results.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The layout version of a line.
pub const RUNLOG_FORMAT: u32 = 1;

/// One finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// [`RUNLOG_FORMAT`].
    pub format: u32,
    /// When the run ended, in seconds since the Unix epoch.
    pub ended: u64,
    /// The shard (`I/N`), if the run was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Worker count.
    pub jobs: usize,
    /// Wall-clock seconds of the run's tasks.
    pub seconds: f64,
    /// Tasks this run finished done.
    pub done: u64,
    /// Tasks this run finished failed.
    pub failed: u64,
    /// CPU seconds of sweep and its task processes together.
    pub cpu_seconds: f64,
    /// CPU seconds of the task processes alone (0 for models, which run inside sweep).
    pub task_cpu_seconds: f64,
    /// Peak resident set size of sweep's process, bytes.
    pub peak_rss_bytes: u64,
    /// Peak resident set size of the largest task process, bytes (0 for models).
    pub task_peak_rss_bytes: u64,
    /// Threads each task process had (`[resources]`, `SWEEP_THREADS`); absent for runs
    /// before slots, which had 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

impl RunRecord {
    /// `CPU 54%`: the CPU of sweep and its task processes as a share of the workers' time;
    /// then, when the tasks are processes, ` (tasks 50%, peak 80.2 MiB)`: their share and
    /// the largest one's peak memory.
    pub fn cpu_text(&self) -> String {
        let wall = self.seconds.max(1e-9) * self.jobs.max(1) as f64;
        let mut text = format!("CPU {:.0}%", 100.0 * self.cpu_seconds / wall);
        if self.task_peak_rss_bytes > 0 {
            text.push_str(&format!(
                " (tasks {:.0}%, peak {})",
                100.0 * self.task_cpu_seconds / wall,
                crate::text::bytes(self.task_peak_rss_bytes)
            ));
        }
        text
    }
}

/// Appends `record` to `path` as one line. A symlink at `path` is refused, not followed.
pub fn append(path: &Path, record: &RunRecord) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new().append(true).create(true).custom_flags(libc::O_NOFOLLOW).open(path)?;
    f.write_all(&line)
}

/// The records of `path`, oldest first; none when it does not exist. Lines that do not
/// parse (torn by a crash, or from a newer sweep) are skipped.
pub fn read(path: &Path) -> Vec<RunRecord> {
    let Ok(text) = crate::io::open_nofollow(path).and_then(std::io::read_to_string) else {
        return Vec::new();
    };
    text.lines().filter_map(|l| serde_json::from_str::<RunRecord>(l).ok()).filter(|r| r.format == 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(done: u64) -> RunRecord {
        RunRecord {
            format: RUNLOG_FORMAT,
            ended: 1,
            shard: None,
            jobs: 2,
            seconds: 1.5,
            done,
            failed: 0,
            cpu_seconds: 2.0,
            task_cpu_seconds: 1.5,
            peak_rss_bytes: 10 << 20,
            task_peak_rss_bytes: 80 << 20,
            threads: None,
        }
    }

    #[test]
    fn records_append_and_read_back_skipping_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.jsonl");
        assert!(read(&path).is_empty());
        append(&path, &record(1)).unwrap();
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"format\":1,\"ended\n").unwrap();
        append(&path, &record(2)).unwrap();
        assert_eq!(read(&path), [record(1), record(2)]);
    }

    #[test]
    fn a_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "mine\n").unwrap();
        let path = dir.path().join("runs.jsonl");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(append(&path, &record(1)).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine\n");
    }
}
