//! `[refine]` over the store: which points each curve has asked for so far, the next
//! round's points, and `refine.csv`, which says why each point was added.
//!
//! As with adaptive replicates, the points are a pure function of the rule and the rows: a
//! curve takes its next step only once every replicate of every point it has is done, and
//! a step reads those values alone. So `sweep run`, `--resume`, `status` and `collect`
//! derive the same points, whatever ran in which order and however many ran at once.

use super::{Status, TaskTable};
use crate::grid::refine::{Added, Slots, Step, Stop};
use crate::grid::Refine;
use crate::spec::Spec;
use crate::value::Value;
use std::io::{self, Write};
use std::path::Path;

/// Where a curve stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurveState {
    /// Some point is not done yet.
    Running,
    /// Some point failed: the curve waits for it (it runs again on `--resume`).
    Failed,
    /// Every point is done and the rule wants more: the next round's are to be chosen.
    Ready,
    /// Finished.
    Stopped(Stop),
}

impl CurveState {
    /// The `refine.csv` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CurveState::Running | CurveState::Ready => "running",
            CurveState::Failed => "failed",
            CurveState::Stopped(s) => s.as_str(),
        }
    }
}

/// A curve's points: (x, mean of the metric over the point's done replicates, slot), sorted
/// by x; and whether every replicate is done, or some failed.
struct Curve {
    points: Vec<(f64, f64, usize)>,
    done: bool,
    failed: bool,
}

/// The float of the refined parameter at grid point `point`.
fn x_at(spec: &Spec, slots: &Slots, point: u64) -> f64 {
    match spec.grid.value(point, slots.column) {
        Value::Float(x) => *x,
        other => unreachable!("a refined axis holds floats, not {other}"),
    }
}

/// The width of the start values, the x scale of the loss.
fn x_scale(spec: &Spec, slots: &Slots) -> f64 {
    let start = &spec.grid.axes[slots.axis].values[0][..slots.start];
    let xs = start.iter().filter_map(|v| if let Value::Float(x) = v { Some(*x) } else { None });
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    hi - lo
}

fn curve(spec: &Spec, slots: &Slots, store: &TaskTable, key: Option<u32>, c: u64) -> Curve {
    let reps = spec.grid.replicates as u64;
    let (mut done, mut failed) = (true, false);
    let mut points = Vec::with_capacity(slots.filled(c));
    for slot in 0..slots.filled(c) {
        let point = slots.point(c, slot);
        let (mut sum, mut n) = (0.0, 0u32);
        for i in point * reps..(point + 1) * reps {
            let row = &store.rows[i as usize];
            match row.status {
                Status::Done => {
                    let y = key
                        .and_then(|k| row.detail.metrics().iter().find(|(m, _)| *m == k))
                        .and_then(|(_, m)| m.as_f64());
                    sum += y.unwrap_or(f64::NAN);
                    n += 1;
                }
                Status::Failed => (done, failed) = (false, true),
                Status::Pending => done = false,
            }
        }
        points.push((x_at(spec, slots, point), if n > 0 { sum / n as f64 } else { f64::NAN }, slot));
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    Curve { points, done, failed }
}

/// The rule's step for curve `c` and where it stands.
fn state(spec: &Spec, rule: &Refine, slots: &Slots, store: &TaskTable, c: u64) -> (CurveState, Option<Step>, Curve) {
    let key = store.keys.iter().position(|k| *k == rule.metric).map(|k| k as u32);
    let cv = curve(spec, slots, store, key, c);
    if !cv.done {
        let s = if cv.failed { CurveState::Failed } else { CurveState::Running };
        return (s, None, cv);
    }
    let xy: Vec<(f64, f64)> = cv.points.iter().map(|p| (p.0, p.1)).collect();
    match rule.step(&xy, x_scale(spec, slots)) {
        Step::Stop(s) => (CurveState::Stopped(s), None, cv),
        step => (CurveState::Ready, Some(step), cv),
    }
}

/// Fills the next round's slots of every curve whose points are all done, and derives the
/// ids of their tasks; returns those tasks (rows of `store`, all pending until run). Empty
/// when no curve can take a step: all are finished, or wait for points not done.
pub fn advance(spec: &Spec, store: &mut TaskTable) -> Vec<u64> {
    let (Some(rule), Some(slots)) = (&spec.refine, &spec.grid.refine) else { return Vec::new() };
    let reps = spec.grid.replicates as u64;
    let mut new = Vec::new();
    for c in 0..slots.curves() {
        let (_, Some(Step::Add(picks)), cv) = state(spec, rule, slots, store, c) else { continue };
        let filled = cv.points.len();
        let round = (slots.start..filled).filter_map(|s| slots.added(c, s)).map(|a| a.round).max().unwrap_or(0) + 1;
        for (k, pick) in picks.into_iter().enumerate() {
            let slot = filled + k;
            if slots.set(c, slot, Added { value: Value::Float(pick.x), pick, round }) {
                let point = slots.point(c, slot);
                new.extend(point * reps..(point + 1) * reps);
            }
        }
    }
    store.refresh(spec, &new);
    new
}

/// The tasks of the sweep's curves that are not done, in grid order.
pub fn unfinished(store: &TaskTable) -> Vec<u64> {
    (0..store.rows.len() as u64).filter(|&i| store.holds(i) && store.rows[i as usize].status != Status::Done).collect()
}

/// Counts of curves: (finished, running or waiting, holding a failed point).
pub fn tally(spec: &Spec, store: &TaskTable) -> (u64, u64, u64) {
    let (Some(rule), Some(slots)) = (&spec.refine, &spec.grid.refine) else { return (0, 0, 0) };
    let mut t = (0, 0, 0);
    for c in 0..slots.curves() {
        match state(spec, rule, slots, store, c).0 {
            CurveState::Stopped(_) => t.0 += 1,
            CurveState::Running | CurveState::Ready => t.1 += 1,
            CurveState::Failed => t.2 += 1,
        }
    }
    t
}

/// Writes `refine.csv`: one row per point of every curve, curve by curve in grid order and
/// along each by x: the swept parameters, the metric, `n` (replicates done), the `mean` of
/// the metric over them, and why the point is there: `round` (0 for the start values), the
/// interval `lo`..`hi` it split and that interval's `loss` when it was chosen; `state` is
/// the curve's: `running`, `failed` (it waits for a failed point), or why it stopped
/// (`budget`, `tolerance`, `resolved`).
pub fn write_refine_csv(spec: &Spec, store: &TaskTable, path: &Path) -> io::Result<()> {
    let (Some(rule), Some(slots)) = (&spec.refine, &spec.grid.refine) else { return Ok(()) };
    let grid = &spec.grid;
    let reps = grid.replicates as u64;
    crate::io::write_atomic(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        let mut header: Vec<&str> = grid.columns.iter().map(String::as_str).collect();
        header.extend(["metric", "n", "mean", "round", "lo", "hi", "loss", "state"]);
        w.write_record(&header)?;
        let number = |x: f64| match x.is_finite() {
            true => crate::value::f64_text(x, &mut ryu::Buffer::new()).to_string(),
            false => String::new(),
        };
        for c in 0..slots.curves() {
            let (st, _, cv) = state(spec, rule, slots, store, c);
            for &(_, mean, slot) in &cv.points {
                let point = slots.point(c, slot);
                let mut record: Vec<String> =
                    (0..grid.columns.len()).map(|col| grid.value(point, col).to_string()).collect();
                let n = (point * reps..(point + 1) * reps)
                    .filter(|&i| store.rows[i as usize].status == Status::Done)
                    .count();
                record.extend([rule.metric.clone(), n.to_string(), number(mean)]);
                match (slot >= slots.start).then(|| slots.added(c, slot)).flatten() {
                    Some(a) => {
                        record.extend([a.round.to_string(), number(a.pick.lo), number(a.pick.hi), number(a.pick.loss)])
                    }
                    None => record.extend(["0".to_string(), String::new(), String::new(), String::new()]),
                }
                record.push(st.as_str().to_string());
                w.write_record(&record)?;
            }
        }
        w.into_inner().map_err(|e| e.into_error())?.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Metric;
    use crate::task::{FailureClass, TaskFailure};

    /// Two curves (a = 1, 2) along x = 0, 0.5, 1, 2 replicates, up to 7 points, 2 a round.
    fn spec() -> Spec {
        let text = "replicates = 2\n[command]\nargv = [\"true\"]\n[params]\na = [1, 2]\nx = [0.0, 0.5, 1.0]\n\
                    [refine]\naxis = \"x\"\nmetric = \"y\"\nbudget = 7\nbatch = 2\n";
        Spec::parse(Path::new("t.toml"), text, &crate::model::Registry::builtin()).unwrap()
    }

    /// Runs every pending task of the sweep, with y = f(a, x).
    fn run_all(spec: &Spec, s: &mut TaskTable, f: impl Fn(f64, f64) -> f64) {
        for i in unfinished(s) {
            let p = i / 2;
            let (Value::Int(a), Value::Float(x)) = (spec.grid.value(p, 0), spec.grid.value(p, 1)) else { panic!() };
            s.apply(i, 1, 0.0, Ok([("y", &Metric::Float(f(*a as f64, *x)))]));
        }
    }

    fn xs(spec: &Spec, s: &TaskTable) -> Vec<Vec<f64>> {
        let slots = spec.grid.refine.as_ref().unwrap();
        (0..2)
            .map(|c| {
                curve(spec, slots, s, s.keys.iter().position(|k| k == "y").map(|k| k as u32), c)
                    .points
                    .iter()
                    .map(|p| p.0)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn rounds_fill_every_curve_until_the_budget_and_ids_are_the_values() {
        let spec = spec();
        let mut s = TaskTable::new(&spec);
        assert_eq!(s.counts(), (0, 0, 12), "the start values only: 2 curves × 3 points × 2 replicates");
        assert!(advance(&spec, &mut s).is_empty(), "nothing is done: no curve can take a step");
        // Lines: every interval has the same loss, so the first round halves the two.
        let f = |a: f64, x: f64| a * x;
        run_all(&spec, &mut s, f);
        let new = advance(&spec, &mut s);
        assert_eq!(new.len(), 8, "2 points × 2 replicates × 2 curves");
        assert_eq!(xs(&spec, &s)[0], vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert!(advance(&spec, &mut s).is_empty(), "a round waits for the last one");
        run_all(&spec, &mut s, f);
        advance(&spec, &mut s);
        run_all(&spec, &mut s, f);
        assert!(advance(&spec, &mut s).is_empty());
        assert_eq!(s.counts(), (28, 0, 0), "7 points × 2 replicates × 2 curves, and no more");
        assert_eq!(tally(&spec, &s), (2, 0, 0));
        // Each id is its value's: a refined point's task has the id of the same x in a plain grid.
        let plain =
            "replicates = 2\n[command]\nargv = [\"true\"]\n[params]\na = [1, 2]\nx = [0.0, 0.25, 0.5, 0.75, 1.0]\n";
        let plain = Spec::parse(Path::new("t.toml"), plain, &crate::model::Registry::builtin()).unwrap();
        let ids: std::collections::HashSet<_> = TaskTable::new(&plain).idents.iter().map(|i| i.0).collect();
        let refined: Vec<_> = (0..s.rows.len()).filter(|&i| s.holds(i as u64)).map(|i| s.idents[i].0).collect();
        assert_eq!(
            refined.iter().filter(|id| ids.contains(id)).count(),
            20,
            "the 5 points of each curve after round 1"
        );
    }

    #[test]
    fn a_failed_point_holds_its_curve_only() {
        let spec = spec();
        let mut s = TaskTable::new(&spec);
        run_all(&spec, &mut s, |_, x| x * x);
        let failure = TaskFailure::new(FailureClass::Error, "no");
        s.apply(1, 2, 0.0, Err::<[(&str, &Metric); 0], _>(&failure));
        s.rows[1].status = Status::Failed;
        let new = advance(&spec, &mut s);
        assert_eq!(new.len(), 4, "only the second curve steps");
        assert_eq!(tally(&spec, &s), (0, 1, 1));
        assert_eq!(unfinished(&s).len(), 5, "the failed task and the new ones");
    }
}
