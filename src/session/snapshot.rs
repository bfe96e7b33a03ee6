//! The results table as of now (`sweep status --csv`): what `results.csv` would hold if the
//! sweep ended now, read from its journals. It only reads: it takes no lock, writes nothing
//! in the out directory, and may run beside a run that appends to the journals as it reads
//! (what was appended after a journal was read waits for the next snapshot).

use super::{load_journals, torn_warnings};
use crate::error::{Error, IoContext};
use crate::journal::ScanStats;
use crate::outdir::{spec_hash, OutDir};
use crate::results::{window, TaskTable};
use crate::spec::{ArrayLayout, Spec};
use std::io::Write;

/// What a snapshot found.
pub struct Snapshot {
    /// (done, failed, pending) over the sweep, as its rows have them.
    pub counts: (u64, u64, u64),
    /// For the user: journal lines skipped, arrays lost.
    pub warnings: Vec<String>,
}

/// Writes to `dest` the text that `results.csv` of the sweep in `out` would have now: the
/// rows its journals hold now, written as `results.csv` is written from the journals (so,
/// once the run has ended, byte for byte its `results.csv`), but nothing else is written.
/// `live`: a run holds the out directory, so a journal's last line without its newline is
/// the record being appended (passed over in silence), and its staged arrays are its own.
pub fn write_snapshot(
    spec: &Spec,
    out: &OutDir,
    live: bool,
    dest: &mut (impl Write + Send),
) -> Result<Snapshot, Error> {
    let hash = spec_hash(&spec.text);
    let code = crate::code::column(&out.root);
    let (rows, warnings) = fold_journals(spec, out, &hash, live)?;
    let write = || "cannot write the results table".to_string();
    match &rows {
        // The rows are read from the byte ranges the survey found: what its counts saw.
        Rows::Windows(survey) => window::write_to(spec, survey, &hash, code, dest).context(write)?,
        Rows::Table(store) => crate::results::write_results(spec, store, code, dest).context(write)?,
    }
    Ok(Snapshot { counts: rows.counts(), warnings })
}

/// The sweep's rows as its journals hold them: window by window (a survey of where each
/// window's records are), or one table of every task.
pub(super) enum Rows {
    /// When every record says where its task is in the grid, replicates are fixed and there
    /// is no array store (see [`crate::results::window`]).
    Windows(window::Survey),
    /// Otherwise.
    Table(TaskTable),
}

impl Rows {
    /// (done, failed, pending) over the sweep.
    pub(super) fn counts(&self) -> (u64, u64, u64) {
        match self {
            Rows::Windows(survey) => survey.ledger.counts(),
            Rows::Table(store) => store.counts(),
        }
    }
}

/// Folds the journals of the sweep in `out` (spec hash `hash`) into its rows, with warnings
/// for the user (journal lines skipped, records of another spec, arrays lost); a `[refine]`
/// sweep's rows are settled, and with the array store a done task whose staged arrays are
/// lost is undone, as the next run would undo it. `live`: a run holds the out directory, so
/// the last line of a journal may be one it is still writing (passed over in silence), and
/// its staged arrays are its own to check (a running sweep's done records follow their
/// staged arrays, and its end moves them into the store).
pub(super) fn fold_journals(spec: &Spec, out: &OutDir, hash: &str, live: bool) -> Result<(Rows, Vec<String>), Error> {
    let read = || format!("cannot read the journal in {}", out.root.display());
    let windowed = !spec.in_rounds() && spec.arrays != ArrayLayout::Zarr;
    let survey = match windowed {
        true => window::survey(spec, &out.root, hash).context(read)?,
        false => None,
    };
    if let Some(survey) = survey {
        let mut warnings = torn(&survey.scan, live);
        warnings.extend(window::foreign_warning(survey.foreign));
        return Ok((Rows::Windows(survey), warnings));
    }
    let mut store = TaskTable::new(spec);
    let (scan, _) = load_journals(out, &mut store, None).context(read)?;
    super::refine::settle(spec, out, &mut store).context(read)?;
    let mut warnings = torn(&scan, live);
    if spec.arrays == ArrayLayout::Zarr && !live {
        let journals = crate::journal::journal_files(&out.root).context(read)?;
        warnings.extend(super::undo_lost_arrays(out, &mut store, &journals)?);
    }
    Ok((Rows::Table(store), warnings))
}

/// Warnings for the journal lines skipped; beside a running sweep, not for a last line
/// without its newline, which is the record being appended.
fn torn(scan: &ScanStats, live: bool) -> Vec<String> {
    let mut scan = scan.clone();
    if live {
        scan.skipped.retain(|s| !scan.unfinished.contains(s));
    }
    torn_warnings(&scan)
}
