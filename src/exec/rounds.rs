//! Adaptive replicates: the run goes in rounds. Each round runs, for every grid point at
//! once, the replicates its stopping rule has asked for and that are not done; then the
//! rule looks at the completed rounds again, and asks some points for more.
//!
//! A round is a [`Run::whole`] over the chosen tasks, so every point's decision is
//! taken on complete rounds only (never on whichever replicates happened to finish first):
//! the counts do not depend on `--jobs`, on timing, or on where a killed run stopped.

use super::config::{FailureGroup, RunConfig, RunOutcome, Selection};
use super::Run;
use crate::results::{Status, TaskTable};
use crate::spec::Spec;
use crate::worker::Worker;
use std::io;

/// Failure groups kept over all rounds, as one run keeps them.
const KEEP_GROUPS: usize = 100;

impl Run<'_> {
    /// Runs a sweep with adaptive replicates (`store.adaptive` is set) or `[refine]` round
    /// after round until no point or curve asks for more, or the run stops (interrupted, too
    /// many failures, ...).
    ///
    /// The first round also reruns the sweep's failed tasks, as `--resume` does for fixed
    /// replicates; later rounds run only replicates never tried, so a failing task is tried
    /// once per run (with its `--retries`), and its point waits for it (a later `--resume`).
    pub fn rounds(&mut self, store: &mut TaskTable, spare: Vec<Worker>) -> io::Result<RunOutcome> {
        let already_done = store.counts().0;
        let mut spare = Some(spare);
        let mut total: Option<RunOutcome> = None;
        while let Some(unfinished) = round_tasks(self.spec, store) {
            let first = total.is_none();
            let chosen: Vec<u64> =
                unfinished.into_iter().filter(|&i| first || store.rows[i as usize].status == Status::Pending).collect();
            if !first && chosen.is_empty() {
                break;
            }
            let finished_before = total.as_ref().map_or(0, |t| t.done + t.failed);
            let chosen_count = chosen.len();
            let round_cfg = RunConfig { selection: Selection::Indices(chosen), ..self.cfg.clone() };
            // Workers started to check the spec serve the first round; later rounds start their own.
            let o = self.with(round_cfg).whole(store, spare.take().unwrap_or_default())?;
            // `done` and `failed` count the whole run (one `Stats`): nothing finished in this
            // round means nothing can change the plan, and another round would repeat it.
            let stalled = o.done + o.failed == finished_before;
            let stop = o.stopped.is_some() || chosen_count == 0 || stalled;
            total = Some(merge(total, o));
            if stop {
                break;
            }
        }
        let mut total = total.unwrap_or_default();
        total.already_done = already_done;
        Ok(total)
    }
}

/// The tasks the sweep's rounds ask for that are not done, in grid order: those of adaptive
/// replicates' plan, or with `[refine]` every curve's points, the next round's chosen here
/// once the round before is done; `None` for a sweep without rounds.
fn round_tasks(spec: &Spec, store: &mut TaskTable) -> Option<Vec<u64>> {
    if spec.refine.is_some() {
        crate::results::refined::advance(spec, store);
        return Some(crate::results::refined::unfinished(store));
    }
    store.plan().map(|plan| plan.unfinished(store))
}

/// The outcome of a run's parts so far (`a`, none before the first part: rounds, or
/// windows) followed by part `b`; both count `done`, `failed` and bytes over the whole run.
pub(super) fn merge(a: Option<RunOutcome>, b: RunOutcome) -> RunOutcome {
    let Some(a) = a else { return b };
    let mut groups = a.failure_groups;
    let mut other = a.other_failures + b.other_failures;
    for g in b.failure_groups {
        let kept = groups.len();
        match groups.iter_mut().find(|h| h.error == g.error) {
            Some(h) => {
                h.count += g.count;
                h.first = h.first.min(g.first);
            }
            None if kept < KEEP_GROUPS => groups.push(g),
            None => other += g.count,
        }
    }
    groups.sort_by(|x: &FailureGroup, y: &FailureGroup| y.count.cmp(&x.count).then(x.first.cmp(&y.first)));
    let mut first_failures = a.first_failures;
    let keep = first_failures.len().max(b.first_failures.len());
    first_failures.extend(b.first_failures);
    first_failures.truncate(keep);
    RunOutcome {
        already_done: a.already_done,
        to_run: a.to_run + b.to_run,
        done: b.done,
        failed: b.failed,
        stopped: b.stopped,
        seconds: a.seconds + b.seconds,
        bytes_written: b.bytes_written,
        first_failures,
        failure_groups: groups,
        other_failures: other,
    }
}
