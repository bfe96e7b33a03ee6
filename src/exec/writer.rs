//! The I/O threads: a task's arrays are written off the worker threads, through a queue
//! bounded to a few jobs per thread, so workers wait for a slow disk instead of memory
//! growing; the task is recorded only once its files are in place.

use super::recorder::{Attempt, Recorder};
use crate::grid::TaskId;
use crate::model::Metric;
use crate::outdir::OutDir;
use crate::task::{Cancel, FailureClass, StopReason, TaskFailure};
use std::borrow::Cow;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Jobs queued per I/O thread before workers wait.
pub(super) const QUEUE_PER_THREAD: usize = 4;

/// A done attempt whose arrays are still to be written.
pub(super) struct WriteJob {
    pub index: u64,
    pub attempt: u32,
    pub seconds: f64,
    pub metrics: Vec<(Cow<'static, str>, Metric)>,
    pub arrays: Vec<(String, ndarray::ArrayD<f64>)>,
}

/// What the I/O threads need of the run.
pub(super) struct Writer<'a, 'r, 's> {
    pub out: &'a OutDir,
    pub idents: &'a [(TaskId, u64)],
    pub recorder: &'r Recorder<'a, 's>,
    pub cancel: &'a Cancel,
    /// Bytes of arrays written so far.
    pub bytes: &'a AtomicU64,
}

impl Writer<'_, '_, '_> {
    /// Writes a task's arrays, then records it done (or failed, class `io`); a full or
    /// read-only disk stops the run.
    pub fn write(&self, job: WriteJob) {
        let id = self.idents[job.index as usize].0;
        // Written into the attempt's own directory, which becomes tasks/<task>/ whole.
        let dir = super::attempt_dirs::dir(self.out, id, job.attempt, crate::proc::run_tag());
        let mut files = Vec::with_capacity(job.arrays.len());
        let written = (|| -> io::Result<u64> {
            std::fs::create_dir(&dir)?;
            let mut bytes = 0;
            for (name, array) in &job.arrays {
                let (n, sha256) = crate::io::write_npy(&dir, name, array)
                    .map_err(|e| io::Error::new(e.kind(), format!("writing {}/{name}.npy: {e}", dir.display())))?;
                bytes += n;
                files.push(crate::io::FileDigest { name: format!("{name}.npy"), sha256 });
            }
            crate::io::promote(&dir, &self.out.task_dir(&id.to_string()))?;
            Ok(bytes)
        })();
        // The journal lists them by name, as `digest_dir` does.
        files.sort_by(|a, b| a.name.cmp(&b.name));
        if written.is_err() {
            // Partial arrays help nobody (the model's outputs were in memory) and, on a full
            // disk, would keep it full.
            let _ = std::fs::remove_dir_all(&dir);
        }
        let mut metrics = job.metrics;
        let result = match &written {
            Ok(bytes) => {
                self.bytes.fetch_add(*bytes, Ordering::Relaxed);
                Ok(&mut metrics)
            }
            Err(e) => Err(TaskFailure::new(FailureClass::Io, e.to_string())),
        };
        let mut records = self.recorder.records();
        let a = Attempt { index: job.index, number: job.attempt, seconds: job.seconds, last: true, at: Instant::now() };
        let done = result.is_ok();
        records.push(id, a, result);
        if done {
            records.push_files(&files);
        }
        self.recorder.record_many(&mut records);
        if let Err(e) = written {
            if is_fatal(&e) {
                self.cancel.drain(StopReason::Io(e.to_string()));
            }
        }
    }
}

/// Errors after which no other task could write its outputs either.
pub(super) fn is_fatal(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT | libc::EROFS | libc::EACCES | libc::EPERM))
        || e.kind() == io::ErrorKind::StorageFull
        || e.kind() == io::ErrorKind::PermissionDenied
        || e.to_string().contains("No space left")
}
