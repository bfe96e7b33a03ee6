//! Adaptive replicates: how many replicates a grid point runs, decided from the values of
//! the replicates it has completed (see docs/adaptive.md).
//!
//! Replicates run in rounds: the first `min`, then `round` more at a time, never more
//! than `max`. After each complete round the [stopping rule](Adaptive::decide) looks at the
//! target metric of the replicates so far. Only complete rounds count, so a point's count is
//! a function of its replicates' values alone, never of scheduling.

use crate::confidence::mean_ci95;
use std::fmt;

/// How narrow the 95 % confidence interval of a point's mean must be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// The half-width below this fraction of |mean| (`ci95_rel`).
    Relative(f64),
    /// The half-width below this value, in the metric's unit (`ci95_abs`).
    Absolute(f64),
}

impl fmt::Display for Target {
    /// The spec's spelling: `ci95_rel = 0.01`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Relative(x) => write!(f, "ci95_rel = {x}"),
            Target::Absolute(x) => write!(f, "ci95_abs = {x}"),
        }
    }
}

/// `replicates = { min, max, round, until = { metric, ci95_rel | ci95_abs } }`, validated:
/// 2 ≤ min ≤ max, round ≥ 1, a finite target > 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Adaptive {
    /// Replicates every point runs (the first round).
    pub min: u32,
    /// Replicates no point runs more than.
    pub max: u32,
    /// Replicates added per later round.
    pub round: u32,
    /// The metric whose mean the target is about.
    pub metric: String,
    /// How narrow its confidence interval must be.
    pub target: Target,
}

/// What the stopping rule says after a complete round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run another round.
    Continue,
    /// The confidence interval is narrow enough: stop.
    Met,
    /// Not narrow enough, but the point has run `max` replicates: stop.
    Max,
}

impl Decision {
    /// The `points.csv` spelling: `met` or `max` (`running` for [`Decision::Continue`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Continue => "running",
            Decision::Met => "met",
            Decision::Max => "max",
        }
    }
}

impl Adaptive {
    /// The replicate count after the round that follows a complete round of `n`.
    pub fn next(&self, n: u32) -> u32 {
        n.saturating_add(self.round).min(self.max)
    }

    /// The stopping rule, applied to the target metric of a point's replicates
    /// `0..values.len()` (a complete round). Met when every value is finite, there are at
    /// least two, and the 95 % half-width t(0.975, n − 1) × sd / √n is below the target
    /// (or zero: values without any spread gain nothing from more replicates). Otherwise
    /// the point goes on until it has `max`.
    pub fn decide(&self, values: &[f64]) -> Decision {
        if values.len() >= 2 && values.iter().all(|v| v.is_finite()) {
            let (mean, half) = mean_ci95(values);
            let limit = match self.target {
                Target::Relative(r) => r * mean.abs(),
                Target::Absolute(a) => a,
            };
            if half < limit || half == 0.0 {
                return Decision::Met;
            }
        }
        if values.len() as u64 >= self.max as u64 {
            Decision::Max
        } else {
            Decision::Continue
        }
    }

    /// One line for people: "5 to 200 replicates per point, in rounds of 5, until the 95%
    /// CI of `mean` is within 1% of it".
    pub fn describe(&self) -> String {
        let until = match self.target {
            // Rounded: 0.07 × 100 is 7.000000000000001 in floating point.
            Target::Relative(r) => format!("within {}% of it", (r * 100.0 * 1e9).round() / 1e9),
            Target::Absolute(a) => format!("within ±{a}"),
        };
        format!(
            "{} to {} replicates per point, in rounds of {}, until the 95% CI of `{}` is {until}",
            self.min, self.max, self.round, self.metric
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(min: u32, max: u32, round: u32, target: Target) -> Adaptive {
        Adaptive { min, max, round, metric: "y".into(), target }
    }

    #[test]
    fn the_stopping_rule() {
        use Decision::*;
        use Target::*;
        // [1, 2, 6]: mean 3, half-width 4.302653 × 2.6457513 / √3 = 6.5724.
        // [10, 10.1, 9.9, 10, 10]: mean 10, sd 0.0707107, half-width 2.776445 × 0.0707107 / √5 = 0.087797.
        let tight = [10.0, 10.1, 9.9, 10.0, 10.0];
        let cases: &[(&str, Adaptive, &[f64], Decision)] = &[
            ("wide, below max", rule(3, 10, 1, Absolute(1.0)), &[1.0, 2.0, 6.0], Continue),
            ("wide, at max", rule(2, 3, 1, Absolute(1.0)), &[1.0, 2.0, 6.0], Max),
            ("just below an absolute target", rule(3, 10, 1, Absolute(6.6)), &[1.0, 2.0, 6.0], Met),
            ("just above an absolute target", rule(3, 10, 1, Absolute(6.5)), &[1.0, 2.0, 6.0], Continue),
            ("relative: 0.0088 < 0.01", rule(5, 9, 2, Relative(0.01)), &tight, Met),
            ("relative: 0.0088 > 0.008", rule(5, 9, 2, Relative(0.008)), &tight, Continue),
            ("met at max is met", rule(5, 5, 1, Relative(0.01)), &tight, Met),
            ("relative to |mean|", rule(5, 9, 2, Relative(0.01)), &tight.map(|v| -v), Met),
            ("mean 0, relative target", rule(2, 9, 1, Relative(0.5)), &[-1.0, 1.0], Continue),
            ("no spread at all", rule(2, 9, 1, Relative(0.01)), &[0.0, 0.0], Met),
            ("a NaN: undecidable", rule(2, 9, 1, Absolute(1e9)), &[1.0, f64::NAN], Continue),
            ("a NaN at max", rule(2, 2, 1, Absolute(1e9)), &[1.0, f64::NAN], Max),
            ("an infinity", rule(2, 9, 1, Absolute(1e9)), &[1.0, f64::INFINITY], Continue),
        ];
        for (what, rule, values, want) in cases {
            assert_eq!(rule.decide(values), *want, "{what}: {values:?}");
        }
    }

    #[test]
    fn rounds_grow_by_round_and_stop_at_max() {
        let r = rule(5, 12, 3, Target::Absolute(1.0));
        let mut sizes = vec![r.min];
        while *sizes.last().unwrap() < r.max {
            sizes.push(r.next(*sizes.last().unwrap()));
        }
        assert_eq!(sizes, [5, 8, 11, 12]);
        assert_eq!(rule(2, u32::MAX, u32::MAX, Target::Absolute(1.0)).next(2), u32::MAX);
    }
}
