//! `verify.json`: the last verification of a sweep and its result, which `sweep status`
//! shows. It is the only file `sweep verify` writes into the out directory, atomically.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The layout version of `verify.json`.
pub const VERIFY_FORMAT: u32 = 1;

/// Mismatches kept in the record (all are printed).
pub const KEEP_MISMATCHES: usize = 20;

/// The last verification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerifyRecord {
    /// [`VERIFY_FORMAT`].
    pub format: u32,
    /// When it ended, RFC 3339 (UTC, seconds).
    pub time: String,
    /// Tasks rerun.
    pub sample: u64,
    /// The rerun's worker count.
    pub jobs: usize,
    /// The passes, as "1 worker" or "1 worker, OMP_NUM_THREADS=2".
    pub passes: Vec<String>,
    /// Sampled tasks whose every output matched in every pass.
    pub matched: u64,
    /// Outputs that did not match, over all passes.
    pub mismatches: u64,
    /// Sampled tasks whose records predate checksums: their files were compared as they are now.
    pub unchecked: u64,
    /// The first mismatches, one line each: `<task> <output>: <what>`.
    pub first: Vec<String>,
}

impl VerifyRecord {
    /// One line for `sweep status`: "2026-12-05T07:00:00Z: 20 of 20 tasks match" or
    /// "...: 18 of 20 tasks match, 2 mismatches".
    pub fn summary(&self) -> String {
        let mut s = format!("{}: {} of {} tasks match", self.time, self.matched, self.sample);
        if self.mismatches > 0 {
            let plural = if self.mismatches == 1 { "" } else { "es" };
            s.push_str(&format!(", {} mismatch{plural}", self.mismatches));
        }
        s
    }

    /// Writes the record to `path` atomically (a temporary name, then a rename: a symlink
    /// there is replaced, never followed).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        crate::io::write_atomic(path, |w| {
            serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::other)?;
            std::io::Write::write_all(w, b"\n")
        })
    }

    /// The record at `path`, if there is one that this sweep can read.
    pub fn read(path: &Path) -> Option<VerifyRecord> {
        let text = crate::io::open_nofollow(path).and_then(std::io::read_to_string).ok()?;
        serde_json::from_str::<VerifyRecord>(&text).ok().filter(|r| r.format == VERIFY_FORMAT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_round_trips_and_summarizes_in_one_line() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("verify.json");
        let mut r = VerifyRecord {
            format: VERIFY_FORMAT,
            time: "2026-12-05T07:00:00Z".into(),
            sample: 20,
            jobs: 1,
            passes: vec!["1 worker".into()],
            matched: 20,
            mismatches: 0,
            unchecked: 0,
            first: vec![],
        };
        r.write(&p).unwrap();
        assert_eq!(VerifyRecord::read(&p), Some(r.clone()));
        assert_eq!(r.summary(), "2026-12-05T07:00:00Z: 20 of 20 tasks match");
        r.matched = 18;
        r.mismatches = 2;
        assert_eq!(r.summary(), "2026-12-05T07:00:00Z: 18 of 20 tasks match, 2 mismatches");
        assert_eq!(VerifyRecord::read(&tmp.path().join("none")), None);
    }
}
