//! The second pass over `results.csv`: per-plot aggregates (count, sum, min, max) keyed
//! by x slot and series, and the duration histogram. Only aggregates are kept, so their
//! size depends on the slot and series caps, not on the number of tasks.

use std::collections::HashMap;

use super::axis::Axis;
use super::input::{parse_number, Results};
use super::survey::{ParamSurvey, Survey};
use super::ReportError;

/// Bins of the duration histogram.
pub(crate) const HIST_BINS: usize = 40;

/// Running count, sum, min and max.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Agg {
    pub n: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// Sum of x positions, so binned points sit at their values' mean.
    pub xsum: f64,
}

impl Default for Agg {
    fn default() -> Self {
        Agg { n: 0, sum: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY, xsum: 0.0 }
    }
}

impl Agg {
    fn add(&mut self, x: f64, y: f64) {
        self.n += 1;
        self.sum += y;
        self.min = self.min.min(y);
        self.max = self.max.max(y);
        self.xsum += x;
    }
}

/// One aggregated point: x position, mean, min and max.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub x: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

/// A requested plot: metric column `y` against parameter axis `x`, one line per value of
/// the `series` parameter.
#[derive(Debug, Clone)]
pub(crate) struct PlotAgg {
    pub y: usize,
    pub x: Axis,
    pub series_column: Option<usize>,
    /// Series labels (values of the series parameter), sorted numerically when numeric.
    pub series: Vec<String>,
    series_index: HashMap<String, usize>,
    cells: Vec<Agg>,
}

impl PlotAgg {
    /// A plot of column `y` against `x`, split by the surveyed parameter `series`.
    pub fn new(y: usize, x: Axis, series: Option<&ParamSurvey>) -> Self {
        let labels: Vec<String> = match series {
            None => vec![String::new()],
            Some(p) => {
                let mut v: Vec<String> = p.distinct.iter().cloned().collect();
                if p.numeric {
                    v.sort_by(|a, b| parse_number(a).unwrap_or(0.0).total_cmp(&parse_number(b).unwrap_or(0.0)));
                }
                v
            }
        };
        let series_index = labels.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect();
        let cells = vec![Agg::default(); labels.len() * x.slots()];
        PlotAgg { y, series_column: series.map(|p| p.column), series: labels, series_index, cells, x }
    }

    fn add(&mut self, row: &csv::StringRecord) {
        let Some(y) = parse_number(&row[self.y]).filter(|v| v.is_finite()) else {
            return;
        };
        let Some(pos) = self.x.position(&row[self.x.column]) else {
            return;
        };
        let Some(slot) = self.x.slot(pos) else {
            return;
        };
        let s = match self.series_column {
            None => 0,
            Some(c) => match self.series_index.get(&row[c]) {
                Some(&s) => s,
                None => return,
            },
        };
        self.cells[s * self.x.slots() + slot].add(pos, y);
    }

    /// The points of series `s`, in x order, skipping empty slots.
    pub fn points(&self, s: usize) -> Vec<Point> {
        let n = self.x.slots();
        self.cells[s * n..(s + 1) * n]
            .iter()
            .filter(|a| a.n > 0)
            .map(|a| Point { x: a.xsum / a.n as f64, mean: a.sum / a.n as f64, min: a.min, max: a.max })
            .collect()
    }

    /// Values aggregated in all series.
    pub fn total(&self) -> u64 {
        self.cells.iter().map(|a| a.n).sum()
    }
}

/// A histogram of done tasks' durations.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<u64>,
}

impl Histogram {
    fn new(lo: f64, hi: f64, bins: usize) -> Self {
        Histogram { lo, hi, counts: vec![0; bins] }
    }

    fn add(&mut self, v: f64) {
        let bins = self.counts.len();
        let i =
            if self.hi > self.lo { ((v - self.lo) / (self.hi - self.lo) * bins as f64).floor() as usize } else { 0 };
        self.counts[i.min(bins - 1)] += 1;
    }
}

/// Runs the second pass: fills `plots` and, when the survey saw durations, a histogram.
pub(crate) fn aggregate(
    results: &Results,
    survey: &Survey,
    plots: &mut [PlotAgg],
    with_histogram: bool,
) -> Result<Option<Histogram>, ReportError> {
    let columns = &results.layout.columns;
    let mut hist = (with_histogram && survey.seconds_count > 0)
        .then(|| Histogram::new(survey.seconds_min, survey.seconds_max, HIST_BINS));
    results.for_each(|row| {
        if &row[columns.status] != "done" {
            return;
        }
        if let Some(h) = hist.as_mut() {
            if let Some(secs) = parse_number(&row[columns.seconds]).filter(|x| x.is_finite()) {
                h.add(secs);
            }
        }
        for p in plots.iter_mut() {
            p.add(row);
        }
    })?;
    Ok(hist)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_means_with_min_and_max() {
        let (mut x, mut by) = (ParamSurvey::new(0), ParamSurvey::new(1));
        for (a, b) in [("1", "10"), ("2", "9")] {
            x.add(a);
            by.add(b);
        }
        let mut p = PlotAgg::new(2, Axis::new(&x, 200), Some(&by));
        assert_eq!(p.series, ["9", "10"], "numeric series in value order");
        let rows = [["1", "10", "1.0"], ["1", "10", "3"], ["2", "10", "5"], ["1", "9", "7"]];
        // Left out: a series value never surveyed, a NaN, an x without a position.
        let skipped = [["1", "11", "8"], ["1", "9", "NaN"], ["x", "9", "1"]];
        for r in rows.iter().chain(&skipped) {
            p.add(&csv::StringRecord::from(r.to_vec()));
        }
        let summary = |s| p.points(s).iter().map(|q| (q.x, q.mean, q.min, q.max)).collect::<Vec<_>>();
        assert_eq!(summary(1), [(1.0, 2.0, 1.0, 3.0), (2.0, 5.0, 5.0, 5.0)]);
        assert_eq!(summary(0), [(1.0, 7.0, 7.0, 7.0)]);
        assert_eq!(p.total(), 4);
    }

    #[test]
    fn histogram_bins_include_both_ends() {
        let mut h = Histogram::new(1.0, 2.0, 4);
        for v in [1.0, 1.2, 1.99, 2.0] {
            h.add(v);
        }
        assert_eq!(h.counts, [2, 0, 0, 2]);
        let mut h = Histogram::new(1.0, 1.0, 4);
        h.add(1.0);
        assert_eq!(h.counts, [1, 0, 0, 0], "all durations equal");
    }
}
