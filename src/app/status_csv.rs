//! `sweep status OUT --csv FILE`: the results table as of now, read from the journals while
//! a run may be going (see [`crate::session::write_snapshot`]).

use crate::error::{Error, IoContext};
use crate::model::Registry;
use crate::outdir::{Lock, OutDir};
use crate::session::{open_saved, write_snapshot, Snapshot};
use std::io::{self, Write};
use std::path::Path;

/// Writes the table of the sweep that `target` names to `file` (`-`: stdout), then a line on
/// stderr with its counts and whether a run is going. Exit 0 once the table is written,
/// whatever its tasks' states: they are in the table.
pub(super) fn csv(target: &Path, file: &Path, registry: &Registry) -> Result<i32, Error> {
    let dir = super::status::out_dir(target, registry)?;
    let (spec, out) = open_saved(&dir, registry)?;
    let live = Lock::is_held(&out);
    let snapshot = if file == Path::new("-") {
        let mut w = io::BufWriter::with_capacity(1 << 16, io::stdout());
        let s = write_snapshot(&spec, &out, live, &mut w)?;
        w.flush().context(|| "cannot write the results table to stdout".into())?;
        s
    } else {
        refuse_inside(file, &out)?;
        // Written to a temporary name and renamed: a reader of FILE never sees half a table.
        let (mut found, mut failed): (Option<Snapshot>, Option<Error>) = (None, None);
        let written = crate::io::write_atomic(file, |w| match write_snapshot(&spec, &out, live, w) {
            Ok(s) => {
                found = Some(s);
                Ok(())
            }
            Err(e) => {
                failed = Some(e);
                Err(io::Error::other("the snapshot failed"))
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        written.context(|| format!("cannot write {}", file.display()))?;
        found.expect("a written table has its snapshot")
    };
    for w in &snapshot.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!("sweep: {}", describe(&out, &snapshot, live));
    Ok(crate::exit::SUCCESS)
}

/// The line that says what the table holds.
fn describe(out: &OutDir, snapshot: &Snapshot, live: bool) -> String {
    let (done, failed, pending) = snapshot.counts;
    let total = done + failed + pending;
    let shown = out.root.display();
    let counts = format!("{done} of {total} tasks done, {failed} failed, {pending} pending");
    if live {
        format!("a run is going in {shown}: {counts} so far; it writes results.csv when it ends")
    } else if pending > 0 {
        format!("{shown}: {counts}; no run is going: `sweep run SPEC --resume` runs the rest")
    } else {
        format!("{shown}: {counts}; no run is going")
    }
}

/// Refuses a FILE inside the out directory: the snapshot writes nothing there (results.csv
/// is the run's to write, and `sweep collect`'s).
fn refuse_inside(file: &Path, out: &OutDir) -> Result<(), Error> {
    let path = Path::new(".").join(file);
    // The nearest directory that exists (the write fails later if FILE's does not).
    let dir = path.ancestors().skip(1).find_map(|a| a.canonicalize().ok());
    let (Some(dir), Ok(root)) = (dir, out.root.canonicalize()) else { return Ok(()) };
    if dir.starts_with(&root) {
        let shown = out.root.display();
        return Err(Error::Usage(format!(
            "{}: `sweep status --csv` writes nothing inside the out directory {shown}; write the table \
             elsewhere, or to `-` (stdout); `sweep collect {shown}` writes its results.csv when no run is going",
            file.display()
        )));
    }
    Ok(())
}
