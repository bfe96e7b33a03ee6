//! Adaptive replicates over the store: how many replicates each grid point has been asked
//! for so far (its [`Plan`]), which tasks that makes part of the sweep, and `points.csv`.
//!
//! The plan is a pure function of the rule and the rows: a point asks for the next round
//! only once every replicate of its rounds so far is done and the stopping rule says go
//! on. So `sweep run`, `--resume`, `status` and `collect` all see the same tasks, whatever
//! ran in which order, and the counts never depend on `--jobs` or on timing.

use super::{Status, TaskTable};
use crate::confidence::mean_ci95;
use crate::grid::{Adaptive, Decision};
use crate::spec::Spec;
use rayon::prelude::*;
use std::io::{self, Write};
use std::path::Path;

/// Each grid point's replicates asked for so far, and what the rule said of them.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Replicates per point in the grid (`max`): point `p`'s replicate `r` is task `p × max + r`.
    per_point: u64,
    /// Per point: replicates `0..needed` are tasks of the sweep.
    pub needed: Vec<u32>,
    /// Per point: the rule's decision at `needed`; [`Decision::Continue`] while that
    /// round is not complete.
    pub decision: Vec<Decision>,
}

// Here rather than in `store.rs`, so that the store (below) never names the plan (above).
impl TaskTable {
    /// The plan of adaptive replicates over the rows as they are now (`None`: fixed replicates).
    pub fn plan(&self) -> Option<Plan> {
        self.adaptive.as_ref().map(|rule| Plan::of(rule, self))
    }
}

impl Plan {
    /// The plan of `rule` over the rows of `store` (whose grid has `rule.max` replicates
    /// per point).
    pub fn of(rule: &Adaptive, store: &TaskTable) -> Plan {
        let per_point = rule.max as u64;
        let points = store.rows.len() as u64 / per_point.max(1);
        let key = store.keys.iter().position(|k| *k == rule.metric).map(|k| k as u32);
        let (needed, decision): (Vec<u32>, Vec<Decision>) = (0..points as usize)
            .into_par_iter()
            .with_min_len(256)
            .map(|p| {
                let base = p as u64 * per_point;
                let mut values = Vec::with_capacity(rule.min as usize);
                let mut n = rule.min;
                loop {
                    for r in values.len() as u64..n as u64 {
                        let row = &store.rows[(base + r) as usize];
                        if row.status != Status::Done {
                            // The round is not complete: nothing is decided yet.
                            return (n, Decision::Continue);
                        }
                        values.push(metric_value(store, base + r, key));
                    }
                    match rule.decide(&values) {
                        Decision::Continue => n = rule.next(n),
                        stop => return (n, stop),
                    }
                }
            })
            .unzip();
        Plan { per_point, needed, decision }
    }

    /// Whether task `index` is one of the sweep's: a replicate the rule asked for, or one
    /// done anyway (under an earlier spec with more replicates). A replicate the rule did not
    /// ask for that failed is not: `--resume` would not run it, so it must not count as
    /// failed either.
    pub fn contains(&self, store: &TaskTable, index: u64) -> bool {
        let (p, r) = (index / self.per_point, index % self.per_point);
        r < self.needed[p as usize] as u64 || store.rows[index as usize].status == Status::Done
    }

    /// The tasks the rule asks for that are not done, in grid order.
    pub fn unfinished(&self, store: &TaskTable) -> Vec<u64> {
        let mut out = Vec::new();
        for (p, &n) in self.needed.iter().enumerate() {
            let base = p as u64 * self.per_point;
            out.extend((base..base + n as u64).filter(|&i| store.rows[i as usize].status != Status::Done));
        }
        out
    }

    /// Points whose rule stopped with the target met, stopped at `max`, and not yet decided.
    pub fn tally(&self) -> (u64, u64, u64) {
        let (mut met, mut max, mut open) = (0, 0, 0);
        for d in &self.decision {
            match d {
                Decision::Met => met += 1,
                Decision::Max => max += 1,
                Decision::Continue => open += 1,
            }
        }
        (met, max, open)
    }
}

/// The metric with interned key `key` of task `index` as a float (NaN when it is missing
/// or not a number).
fn metric_value(store: &TaskTable, index: u64, key: Option<u32>) -> f64 {
    let Some(key) = key else { return f64::NAN };
    store.rows[index as usize]
        .detail
        .metrics()
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, m)| m.as_f64())
        .unwrap_or(f64::NAN)
}

/// Writes `points.csv`, one row per grid point in grid order: the swept parameters, the
/// target metric, `n` (replicates asked for), the mean and 95 % half-width of the metric over
/// the done replicates among them, and `state`: `met`, `max`, `running` (a round is not
/// complete) or `failed` (a replicate of it failed).
pub fn write_points_csv(spec: &Spec, rule: &Adaptive, store: &TaskTable, plan: &Plan, path: &Path) -> io::Result<()> {
    let grid = &spec.grid;
    let key = store.keys.iter().position(|k| *k == rule.metric).map(|k| k as u32);
    crate::io::write_atomic(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        let mut header: Vec<&str> = grid.columns.iter().map(String::as_str).collect();
        header.extend(["metric", "n", "mean", "ci95_half_width", "state"]);
        w.write_record(&header)?;
        let mut values = Vec::new();
        let mut record: Vec<String> = Vec::new();
        for (p, (&n, &decision)) in plan.needed.iter().zip(&plan.decision).enumerate() {
            let base = p as u64 * plan.per_point;
            values.clear();
            let mut failed = false;
            for i in base..base + n as u64 {
                match store.rows[i as usize].status {
                    Status::Done => values.push(metric_value(store, i, key)),
                    Status::Failed => failed = true,
                    Status::Pending => {}
                }
            }
            let (mean, half) = mean_ci95(&values);
            record.clear();
            for c in 0..grid.columns.len() {
                let mut t = String::new();
                grid.value(p as u64, c).write_text(&mut t);
                record.push(t);
            }
            let number = |x: f64| match x.is_finite() {
                true => crate::value::f64_text(x, &mut ryu::Buffer::new()).to_string(),
                false => String::new(),
            };
            let state = if failed && decision == Decision::Continue { "failed" } else { decision.as_str() };
            record.extend([rule.metric.clone(), n.to_string(), number(mean), number(half), state.to_string()]);
            w.write_record(&record)?;
        }
        w.into_inner().map_err(|e| e.into_error())?.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Metric;
    use crate::task::{FailureClass, TaskFailure};

    /// Two points (a = 1, 2) of 3 to 9 replicates in rounds of 3, until ±0.5 on `y`.
    fn store() -> TaskTable {
        let text = "replicates = { min = 3, max = 9, round = 3, until = { metric = \"y\", ci95_abs = 0.5 } }\n\
                    [command]\nargv = [\"true\"]\n[params]\na = [1, 2]\n";
        TaskTable::new(&Spec::parse(Path::new("t.toml"), text, &crate::model::Registry::builtin()).unwrap())
    }

    fn done(s: &mut TaskTable, index: u64, y: f64) {
        s.apply(index, 1, 0.0, Ok([("y", &Metric::Float(y))]));
    }

    fn plan(s: &TaskTable) -> (Vec<u32>, Vec<Decision>, Vec<u64>) {
        let p = s.plan().unwrap();
        let unfinished = p.unfinished(s);
        (p.needed, p.decision, unfinished)
    }

    #[test]
    fn only_complete_rounds_decide() {
        use Decision::*;
        let mut s = store();
        assert_eq!(plan(&s), (vec![3, 3], vec![Continue, Continue], vec![0, 1, 2, 9, 10, 11]));
        assert_eq!(s.counts(), (0, 0, 6), "replicates not asked for are not pending");
        // Point 0: no spread, met after its first round. Point 1: wide, so a second round.
        (0..3).for_each(|i| done(&mut s, i, 1.0));
        [0.0, 10.0, 20.0].iter().enumerate().for_each(|(r, &y)| done(&mut s, 9 + r as u64, y));
        assert_eq!(plan(&s), (vec![3, 6], vec![Met, Continue], vec![12, 13, 14]));
        // A replicate of the second round done before the others changes nothing.
        done(&mut s, 13, 10.0);
        assert_eq!(plan(&s), (vec![3, 6], vec![Met, Continue], vec![12, 14]));
        // Still wide after every round: the point stops at max.
        (12..18).for_each(|i| done(&mut s, i, (i % 2) as f64 * 10.0));
        assert_eq!(plan(&s), (vec![3, 9], vec![Met, Max], vec![]));
        assert_eq!(s.counts(), (12, 0, 0), "a finished sweep is complete");
    }

    #[test]
    fn a_failed_replicate_holds_its_point_and_stray_replicates_count_only_when_done() {
        let mut s = store();
        (0..3).for_each(|i| done(&mut s, i, 1.0));
        let failure = TaskFailure::new(FailureClass::Error, "no");
        s.apply(10, 1, 0.0, Err::<[(&str, &Metric); 0], _>(&failure));
        let p = s.plan().unwrap();
        assert_eq!((p.needed.clone(), p.decision.clone()), (vec![3, 3], vec![Decision::Met, Decision::Continue]));
        assert_eq!(p.unfinished(&s), vec![9, 10, 11], "the failed replicate runs again on --resume");
        // Replicates of point 0 beyond its 3, from an earlier spec: listed when done only.
        done(&mut s, 7, 2.0);
        s.apply(8, 1, 0.0, Err::<[(&str, &Metric); 0], _>(&failure));
        let p = s.plan().unwrap();
        assert!(p.contains(&s, 7) && !p.contains(&s, 8) && !p.contains(&s, 5));
        assert_eq!(s.counts(), (4, 1, 2));
    }
}
