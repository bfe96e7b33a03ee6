//! A resume with nothing to do, told without loading the sweep.

use super::{check_dir, torn_warnings};
use crate::cluster::Shard;
use crate::error::Error;
use crate::outdir::{spec_hash, Lock, Manifest, OutDir};
use crate::spec::Spec;

/// A resume with nothing to do, told from the checkpoints (see [`finished`]).
pub struct Finished {
    /// Tasks of the run's selection (its shard, or the grid), all done.
    pub selected: u64,
    /// Messages for the user (a checkpoint that could not be used, torn journal lines).
    pub warnings: Vec<String>,
    _lock: Lock,
}

/// Whether a resume of `spec` in `out` has nothing to do, told without loading the sweep:
/// the spec is the one the sweep was started with, every task is done (by the checkpoints
/// and journal tails), and for a whole-grid run `results.csv` is the one the last run wrote
/// from these very journals (see [`crate::checkpoint::ResultsStamp`]). `None` whenever that
/// cannot be told at once: then [`prepare`](super::prepare) does the work, and reports any problem.
pub fn finished(spec: &Spec, out: &OutDir, shard: Option<Shard>) -> Result<Option<Finished>, Error> {
    use crate::checkpoint::{fold_dir, ResultsStamp};
    let hash = spec_hash(&spec.text);
    let same_spec = Manifest::read(out).is_ok_and(|m| m.spec_hash == hash);
    // Staging files left by a killed run or build may have lost arrays of done tasks,
    // which only the slow path checks (see `store::lost_arrays`).
    let store_gone = spec.arrays == crate::spec::ArrayLayout::Zarr
        && (!out.store().is_dir() || crate::store::staging_files(&out.staging()).is_ok_and(|f| !f.is_empty()));
    if spec.in_rounds()
        || !same_spec
        || store_gone
        || check_dir(spec, out, true, shard).is_err()
        || out.check_no_links().is_err()
        // Code that may have changed is compared exactly by the full path.
        || !super::unchanged_at_a_glance(spec, out)
    {
        return Ok(None);
    }
    let Ok(lock) = Lock::acquire(out, shard.map(|s| s.file_stem()).as_deref()) else { return Ok(None) };
    let Ok(Some(folded)) = fold_dir(&out.root, spec, &hash) else { return Ok(None) };
    let tasks = spec.task_count();
    if folded.ledger.counts() != (tasks, 0, 0) {
        return Ok(None);
    }
    let selected = match shard {
        Some(s) => {
            use rayon::prelude::*;
            (0..tasks).into_par_iter().filter(|&i| s.contains(spec.identity.task(&spec.grid, i).0)).count() as u64
        }
        None => {
            // The stamp of journal.jsonl's checkpoint, which the fold has read.
            let Some(stamp) = &folded.results else { return Ok(None) };
            if ResultsStamp::now(&out.root).ok().as_ref() != Some(stamp) {
                return Ok(None);
            }
            tasks
        }
    };
    let mut warnings = torn_warnings(&folded.scan);
    warnings.extend(folded.warnings);
    Ok(Some(Finished { selected, warnings, _lock: lock }))
}
