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
/// same columns, rows and formatting as [`super::write_results_from_journals`] (so, once
/// the run has ended, byte for byte its `results.csv`), but nothing else is written.
/// `live`: a run holds the out directory, so the last line of a journal may be one it is
/// still writing (passed over in silence), and its staged arrays are its own to check.
pub fn write_snapshot(
    spec: &Spec,
    out: &OutDir,
    live: bool,
    dest: &mut (impl Write + Send),
) -> Result<Snapshot, Error> {
    let hash = spec_hash(&spec.text);
    let read = || format!("cannot read the journal in {}", out.root.display());
    let write = || "cannot write the results table".to_string();
    let code = crate::code::column(&out.root);
    let windowed = !spec.in_rounds() && spec.arrays != ArrayLayout::Zarr;
    let survey = match windowed {
        true => window::survey(spec, &out.root, &hash).context(read)?,
        false => None,
    };
    if let Some(survey) = survey {
        // The rows are read from the byte ranges the survey found: what its counts saw.
        window::write_to(spec, &survey, &hash, code, dest).context(write)?;
        let mut warnings = torn(&survey.scan, live);
        warnings.extend(window::foreign_warning(survey.foreign));
        return Ok(Snapshot { counts: survey.ledger.counts(), warnings });
    }
    let mut store = TaskTable::new(spec);
    let (scan, _) = load_journals(out, &mut store, None).context(read)?;
    super::refine::settle(spec, out, &mut store).context(read)?;
    let mut warnings = torn(&scan, live);
    // A running sweep's done records follow their staged arrays, and its end moves them into
    // the store: only a stopped sweep's staging files are checked, as the next run would.
    if spec.arrays == ArrayLayout::Zarr && !live {
        let journals = crate::journal::journal_files(&out.root).context(read)?;
        warnings.extend(super::undo_lost_arrays(out, &mut store, &journals)?);
    }
    crate::results::write_results(spec, &store, code, dest).context(write)?;
    Ok(Snapshot { counts: store.counts(), warnings })
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
