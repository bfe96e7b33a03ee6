//! The done records of the sampled tasks, read from a sweep's journals.

use crate::grid::TaskId;
use crate::journal::{journal_files, scan, ScanStats};
use crate::model::Metric;
use std::collections::HashMap;
use std::io;
use std::path::Path;

/// What a done record of a task says.
#[derive(Clone, Debug, Default)]
pub struct Done {
    /// Its metrics, in the order the task gave them.
    pub metrics: Vec<(String, Metric)>,
    /// Its output files and their SHA-256 (hex); `None` when the record has none.
    pub files: Option<Vec<(String, String)>>,
}

/// The done record of each task in `wanted` (task → position), found in the journals of
/// the sweep at `root`, by position; `None` for a task with no done record.
pub fn done_records(root: &Path, wanted: &HashMap<TaskId, usize>) -> io::Result<Vec<Option<Done>>> {
    let mut found: Vec<Option<Done>> = vec![None; wanted.len()];
    let mut stats = ScanStats::default();
    for f in journal_files(root)? {
        scan(&f, &mut stats, |r| {
            if !r.done {
                return;
            }
            if let Some(&at) = wanted.get(&r.task) {
                let metrics = r.metrics.into_iter().map(|(k, v)| (k.into_owned(), v)).collect();
                found[at] = Some(Done { metrics, files: r.files });
            }
        })?;
    }
    Ok(found)
}
