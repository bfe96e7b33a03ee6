//! A `[refine]` sweep read back from its journals: the points its rounds chose are not in
//! the spec, so they are chosen again, round after round, from the results read so far,
//! and the records of each round's tasks (known by their ids once their values are) are
//! read in turn. The rounds are a pure function of the results, so this finds the very
//! points the runs chose, wherever they stopped.

use crate::journal::{journals_read_by, scan, ScanStats};
use crate::outdir::OutDir;
use crate::results::refined::advance;
use crate::results::{IdIndex, TaskTable};
use crate::spec::Spec;
use std::io;
use std::path::Path;

/// The file that says why each point of a `[refine]` sweep was added.
pub(super) const FILE: &str = "refine.csv";

/// Fills the slots of `store`'s curves that the journals of `out` (read into it already)
/// account for, reading the records of each round's tasks.
pub fn settle(spec: &Spec, out: &OutDir, store: &mut TaskTable) -> io::Result<()> {
    settle_own(spec, out, store, None, &mut None)
}

/// [`settle`]; `own` is the journal a run appends to, as `load_journals` takes it:
/// its records also go into its `fold`, and a shard's reads no other journal.
pub(super) fn settle_own(
    spec: &Spec,
    out: &OutDir,
    store: &mut TaskTable,
    own: Option<&Path>,
    fold: &mut Option<crate::results::Ledger>,
) -> io::Result<()> {
    let files = match spec.refine {
        Some(_) => journals_read_by(&out.root, own)?,
        None => return Ok(()),
    };
    // A new sweep has no journal: its first round is its start values.
    if files.is_empty() {
        return Ok(());
    }
    loop {
        let new = advance(spec, store);
        if new.is_empty() {
            return Ok(());
        }
        let mut ids = IdIndex::default();
        ids.extend(new.iter().map(|&i| (store.idents[i as usize].0, i)));
        let mut stats = ScanStats::default();
        let mut found = false;
        for f in &files {
            let mine = own == Some(f.as_path());
            scan(f, &mut stats, |r| {
                if let Some(&i) = ids.get(&r.task) {
                    found = true;
                    store.fold_record(i, &r);
                    if let (Some(l), true) = (fold.as_mut(), mine) {
                        l.apply(i, r.attempt, r.died, r.outcome());
                    }
                }
            })?;
        }
        if !found {
            // No run got as far: the round's tasks are pending, for this run to do.
            return Ok(());
        }
    }
}
