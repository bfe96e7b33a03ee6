//! `[refine]`: adaptive refinement of a 1-D curve (see docs/sampling.md, "Refinement").
//!
//! Each combination of the other axes is a curve along the refined axis. It starts at the
//! axis's values and goes in rounds: once every point of a curve is done, the rule looks at
//! the mean of each point's replicates and adds up to `batch` points where the curve is
//! least resolved ([`loss`]), until the curve has `budget` points or its largest loss is
//! below `tolerance`. A round's points depend on the values of the points before it alone,
//! never on `--jobs`, timing or where a killed run stopped.

pub mod loss;
mod slots;

pub use loss::Pick;
pub use slots::{Added, Slots};

/// How many points a round adds per curve when the spec does not say: a fixed number, so
/// that the points do not depend on `--jobs`. Eight keeps two to eight workers busy on one
/// curve and costs little over one point per round (measured in docs/sampling.md).
pub const DEFAULT_BATCH: u32 = 8;

/// `[refine]`, validated: `axis` a float axis of `[params]` of at least two distinct values,
/// `budget` at least their number, `batch` ≥ 1, a `tolerance` finite and > 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Refine {
    /// The refined parameter.
    pub axis: String,
    /// The metric whose curve is refined.
    pub metric: String,
    /// The most points a curve has, its start values included.
    pub budget: u32,
    /// The most points a round adds to a curve.
    pub batch: u32,
    /// A curve stops once its largest loss is below this.
    pub tolerance: Option<f64>,
}

/// What the rule says of a curve whose points are all done.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Add these points (sorted by x).
    Add(Vec<Pick>),
    /// The curve is finished.
    Stop(Stop),
}

/// Why a curve stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// It has `budget` points.
    Budget,
    /// Its largest loss is below `tolerance`.
    Tolerance,
    /// No interval can be split any more (all are at the finest width, or flat).
    Resolved,
}

impl Stop {
    /// The `refine.csv` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::Budget => "budget",
            Stop::Tolerance => "tolerance",
            Stop::Resolved => "resolved",
        }
    }
}

impl Refine {
    /// The rule's step for a curve of `points` (x, mean of y; sorted by x, distinct) whose
    /// start values span `x_scale`.
    pub fn step(&self, points: &[(f64, f64)], x_scale: f64) -> Step {
        let room = (self.budget as usize).saturating_sub(points.len());
        if room == 0 {
            return Step::Stop(Stop::Budget);
        }
        let losses = loss::losses(points, x_scale);
        let worst = losses.iter().copied().fold(0.0, f64::max);
        if self.tolerance.is_some_and(|t| worst < t) {
            return Step::Stop(Stop::Tolerance);
        }
        let picks = loss::choose(points, &losses, x_scale, self.batch as usize, room);
        match picks.is_empty() {
            true => Step::Stop(Stop::Resolved),
            false => Step::Add(picks),
        }
    }

    /// One line for people: "`y` along `x`: up to 60 points per curve, 8 a round, until the
    /// largest loss is below 0.01".
    pub fn describe(&self) -> String {
        let until = self.tolerance.map_or(String::new(), |t| format!(", until the largest loss is below {t}"));
        format!(
            "`{}` along `{}`: up to {} points per curve, {} a round{until}",
            self.metric, self.axis, self.budget, self.batch
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(budget: u32, batch: u32, tolerance: Option<f64>) -> Refine {
        Refine { axis: "x".into(), metric: "y".into(), budget, batch, tolerance }
    }

    /// Runs the rule on `f` from `start` until it stops: the points and why it stopped.
    fn run(rule: &Refine, start: &[f64], f: impl Fn(f64) -> f64) -> (Vec<f64>, Stop) {
        let mut xs = start.to_vec();
        let scale = xs.last().unwrap() - xs[0];
        loop {
            let mut pts: Vec<(f64, f64)> = xs.iter().map(|&x| (x, f(x))).collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            match rule.step(&pts, scale) {
                Step::Add(picks) => xs.extend(picks.iter().map(|p| p.x)),
                Step::Stop(s) => return (xs, s),
            }
        }
    }

    #[test]
    fn a_curve_stops_at_its_budget_with_the_points_where_it_changes() {
        let start: Vec<f64> = (0..11).map(|i| i as f64 / 10.0).collect();
        let step = |x: f64| ((x - 0.43) / 0.01).tanh();
        let (xs, stop) = run(&rule(60, 8, None), &start, step);
        assert_eq!((xs.len(), stop), (60, Stop::Budget));
        let near = xs.iter().filter(|x| (**x - 0.43).abs() < 0.05).count();
        assert!(near >= 30, "most new points sit at the step: {near} of 60 within 0.05 of it");
    }

    #[test]
    fn the_batch_changes_the_order_of_points_not_where_the_budget_goes() {
        let start = [0.0, 0.5, 1.0];
        let bump = |x: f64| (-(x - 0.3f64).powi(2) / 0.002).exp();
        for batch in [1, 3, 8] {
            let (xs, stop) = run(&rule(40, batch, None), &start, bump);
            assert_eq!((xs.len(), stop), (40, Stop::Budget), "batch {batch}");
            let near = xs.iter().filter(|x| (**x - 0.3).abs() < 0.15).count();
            assert!(near > 25, "batch {batch}: {near} of 40 near the bump");
        }
    }

    #[test]
    fn a_tolerance_stops_a_resolved_curve_early_and_a_line_needs_nothing() {
        let (xs, stop) = run(&rule(1000, 4, Some(0.05)), &[0.0, 1.0], |x| x * x);
        assert_eq!(stop, Stop::Tolerance);
        assert!(xs.len() > 20 && xs.len() < 60, "{}", xs.len());
        // A flat curve: its loss is its x length, so one round of 4 splits it in 5 equal parts.
        let (xs, stop) = run(&rule(1000, 4, Some(0.26)), &[0.0, 1.0], |_| 1.0);
        assert_eq!((xs, stop), (vec![0.0, 1.0, 0.2, 0.4, 0.6, 0.8], Stop::Tolerance));
    }

    #[test]
    fn a_budget_reached_by_the_start_values_adds_nothing() {
        assert_eq!(rule(3, 8, None).step(&[(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)], 2.0), Step::Stop(Stop::Budget));
        let Step::Add(picks) = rule(5, 8, None).step(&[(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)], 2.0) else { panic!() };
        assert_eq!(picks.len(), 2, "the room left, not the batch");
    }
}
