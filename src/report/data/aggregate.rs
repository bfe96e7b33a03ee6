//! The second pass over `results.csv`: per-plot aggregates keyed by x slot and series,
//! and the duration histogram. Only aggregates are kept, so their size depends on the
//! slot and series caps, not on the number of tasks.
//!
//! # Bands are per grid point
//!
//! A band (or error bar) shows the spread of one grid point's replicates, never the
//! spread across other parameters: pooling "conversion vs c0" over every `k` would shade
//! the whole range of `k`'s effect and say nothing about noise. So each (series, x slot)
//! cell first reduces each grid point's replicates to their statistics
//! ([`Replicates`]), then:
//!
//! - when the cell holds exactly one grid point (every parameter other than `--x` and
//!   `--by` is fixed), it draws that point's mean and band;
//! - when it holds several (other parameters vary, or a binned x puts several values in
//!   one slot), it draws the mean of the per-point means and **no band**; the chart says
//!   what was averaged over (see [`PlotAgg::pooled_note`]).
//!
//! `results.csv` is written in grid order with the replicate varying fastest
//! (`crate::grid`), so a grid point's replicates are adjacent rows: the pass keeps one
//! running [`Replicates`] per plot and folds it into its cell when the parameters change.
//! Memory stays bounded whatever the number of tasks. (A file re-sorted by hand would
//! split points; each piece then counts as a point of its own, which can only take bands
//! away, never pool values across parameters.)

use std::collections::HashMap;

use super::axis::Axis;
use super::band::{Band, Replicates};
use super::heat::HeatAgg;
use super::input::{parse_number, Layout, Results};
use super::survey::{ParamSurvey, Survey};
use crate::report::ReportError;

/// Bins of the duration histogram.
pub(crate) const HIST_BINS: usize = 40;

/// What one (series, x slot) cell has seen: its grid points' means, and the replicate
/// statistics of the first point (the band when it stays the only one).
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    points: u64,
    values: u64,
    mean_sum: f64,
    /// Sum of the points' x positions, so binned points sit at their values' mean.
    xsum: f64,
    first: Replicates,
}

impl Cell {
    fn add_point(&mut self, x: f64, r: &Replicates) {
        if self.points == 0 {
            self.first = *r;
        }
        self.points += 1;
        self.values += r.n;
        self.mean_sum += r.mean;
        self.xsum += x;
    }
}

/// One drawn point: its x position, the mean, and the band when the cell holds a single
/// grid point with at least two replicates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub x: f64,
    pub mean: f64,
    /// `(low, high)` of the band.
    pub band: Option<(f64, f64)>,
    /// Grid points averaged into this point.
    pub grid_points: u64,
    /// Values (replicates of those grid points) behind it.
    pub values: u64,
}

impl Point {
    /// The lowest and highest y the point draws.
    pub fn y_extent(&self) -> (f64, f64) {
        self.band.unwrap_or((self.mean, self.mean))
    }
}

/// The grid point being read: its cell, x position and replicates so far.
#[derive(Debug, Clone, Copy)]
struct Current {
    cell: usize,
    x: f64,
    reps: Replicates,
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
    /// The spread drawn around single-point means.
    pub band: Band,
    series_index: HashMap<String, usize>,
    cells: Vec<Cell>,
    current: Option<Current>,
}

impl PlotAgg {
    /// A plot of column `y` against `x`, split by the surveyed parameter `series`, with
    /// bands of kind `band`.
    pub fn new(y: usize, x: Axis, series: Option<&ParamSurvey>, band: Band) -> Self {
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
        let cells = vec![Cell::default(); labels.len() * x.slots()];
        PlotAgg {
            y,
            series_column: series.map(|p| p.column),
            series: labels,
            band,
            series_index,
            cells,
            x,
            current: None,
        }
    }

    /// Counts a done row of the grid point being read.
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
        let cell = s * self.x.slots() + slot;
        if self.current.is_some_and(|c| c.cell != cell || c.x != pos) {
            // Only when the caller did not say the point ended (rows not in grid order).
            self.end_point();
        }
        self.current.get_or_insert(Current { cell, x: pos, reps: Replicates::default() }).reps.add(y);
    }

    /// The grid point being read has no more rows: folds it into its cell.
    fn end_point(&mut self) {
        if let Some(c) = self.current.take() {
            self.cells[c.cell].add_point(c.x, &c.reps);
        }
    }

    /// The points of series `s`, in x order, skipping empty slots.
    pub fn points(&self, s: usize) -> Vec<Point> {
        let n = self.x.slots();
        self.cells[s * n..(s + 1) * n]
            .iter()
            .filter(|c| c.points > 0)
            .map(|c| Point {
                x: c.xsum / c.points as f64,
                mean: c.mean_sum / c.points as f64,
                band: if c.points == 1 { c.first.interval(self.band) } else { None },
                grid_points: c.points,
                values: c.values,
            })
            .collect()
    }

    /// Values aggregated in all series.
    pub fn total(&self) -> u64 {
        self.cells.iter().map(|c| c.values).sum()
    }

    /// Whether some drawn point averages several grid points (and so has no band).
    pub fn pooled(&self) -> bool {
        self.cells.iter().any(|c| c.points > 1)
    }

    /// Says what a point averages over when it is more than one grid point, e.g. "mean
    /// over c0 (3 values) and solver (2 values); no band across them", with `hint` a
    /// suggestion to split them (`add --by c0 to split`). None when every point is a
    /// single grid point.
    pub fn pooled_note(&self, survey: &Survey, layout: &Layout, hint: bool) -> Option<String> {
        if !self.pooled() {
            return None;
        }
        let others: Vec<&ParamSurvey> = survey
            .params
            .iter()
            .filter(|p| p.varies() && p.column != self.x.column && Some(p.column) != self.series_column)
            .collect();
        if others.is_empty() {
            let x = layout.name(self.x.column);
            return Some(format!("each point is the mean over the values of {x} in its bin; no band across them"));
        }
        let count = |p: &ParamSurvey| match p.distinct_count() {
            Some(n) => format!("{} ({n} values)", layout.name(p.column)),
            None => format!("{} (over {} values)", layout.name(p.column), p.distinct.len()),
        };
        let names: Vec<String> = others.iter().map(|p| count(p)).collect();
        let list = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => unreachable!("others is not empty"),
        };
        let mut note = format!("mean over {list}; no band across them");
        if hint {
            note.push_str(&format!("; use --by {} to split", layout.name(others[0].column)));
        }
        Some(note)
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

/// Runs the second pass: fills `plots` and `heats` and, when the survey saw durations, a
/// histogram.
pub(crate) fn aggregate(
    results: &Results,
    survey: &Survey,
    plots: &mut [PlotAgg],
    heats: &mut [HeatAgg],
    with_histogram: bool,
) -> Result<Option<Histogram>, ReportError> {
    let columns = &results.layout.columns;
    let mut hist = (with_histogram && survey.seconds_count > 0)
        .then(|| Histogram::new(survey.seconds_min, survey.seconds_max, HIST_BINS));
    // The parameters of the previous row: a grid point ends where they change.
    let (mut key, mut previous) = (String::new(), String::new());
    results.for_each(|row| {
        key.clear();
        for i in columns.params.clone() {
            key.push_str(&row[i]);
            key.push('\u{1f}');
        }
        if key != previous {
            plots.iter_mut().for_each(PlotAgg::end_point);
            heats.iter_mut().for_each(HeatAgg::end_point);
            std::mem::swap(&mut key, &mut previous);
        }
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
        for h in heats.iter_mut() {
            h.add(row);
        }
    })?;
    plots.iter_mut().for_each(PlotAgg::end_point);
    heats.iter_mut().for_each(HeatAgg::end_point);
    Ok(hist)
}

#[cfg(test)]
mod tests {
    use super::super::band::Band;
    use super::*;

    fn record(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    /// Feeds rows `[x, by, y]` to `p`, a grid point ending where x or by changes.
    fn feed(p: &mut PlotAgg, rows: &[[&str; 3]]) {
        let mut previous: Option<(&str, &str)> = None;
        for r in rows {
            if previous.is_some_and(|k| k != (r[0], r[1])) {
                p.end_point();
            }
            previous = Some((r[0], r[1]));
            p.add(&record(r));
        }
        p.end_point();
    }

    fn surveys(rows: &[[&str; 3]]) -> (ParamSurvey, ParamSurvey) {
        let (mut x, mut by) = (ParamSurvey::new(0), ParamSurvey::new(1));
        for r in rows {
            x.add(r[0]);
            by.add(r[1]);
        }
        (x, by)
    }

    #[test]
    fn points_are_means_with_a_replicate_band() {
        let rows = [["1", "10", "1.0"], ["1", "10", "3"], ["2", "10", "5"], ["1", "9", "7"], ["1", "9", "9"]];
        let (x, by) = surveys(&rows);
        let mut p = PlotAgg::new(2, Axis::new(&x, 200), Some(&by), Band::Sem);
        assert_eq!(p.series, ["9", "10"], "numeric series in value order");
        // Left out: a series value never surveyed, a NaN, an x without a position.
        let mut all = rows.to_vec();
        all.extend([["1", "11", "8"], ["1", "9", "NaN"], ["x", "9", "1"]]);
        feed(&mut p, &all);
        // Replicates 1 and 3: mean 2, sd √2, SEM 1.
        let sem = |a: f64| (a - 1.0).abs() < 1e-12;
        let s1 = p.points(1);
        assert_eq!((s1[0].x, s1[0].mean, s1[0].grid_points, s1[0].values), (1.0, 2.0, 1, 2));
        let (lo, hi) = s1[0].band.unwrap();
        assert!(sem(2.0 - lo) && sem(hi - 2.0), "{lo} {hi}");
        assert_eq!((s1[1].mean, s1[1].band), (5.0, None), "one replicate, no band");
        assert_eq!(p.points(0)[0].band, Some((7.0, 9.0)), "7 and 9: mean 8, SEM 1");
        assert_eq!(p.total(), 5);
        assert!(!p.pooled());
    }

    /// The bug: "conversion vs c0" shaded the range over every k, because a cell's band
    /// was the min and max of everything in it.
    #[test]
    fn no_band_across_other_parameters() {
        // x = c0 (two values), "by" column here is k, left out of the plot (no --by).
        let rows = [
            ["1", "0.1", "0.10"],
            ["1", "0.1", "0.12"],
            ["1", "5", "0.90"],
            ["1", "5", "0.94"],
            ["2", "0.1", "0.20"],
            ["2", "0.1", "0.22"],
            ["2", "5", "0.80"],
            ["2", "5", "0.84"],
        ];
        let (x, k) = surveys(&rows);
        let mut p = PlotAgg::new(2, Axis::new(&x, 200), None, Band::MinMax);
        feed(&mut p, &rows);
        let pts = p.points(0);
        assert_eq!(pts.len(), 2);
        assert!((pts[0].mean - 0.515).abs() < 1e-12, "mean of the per-point means 0.11 and 0.92");
        assert_eq!((pts[0].band, pts[0].grid_points, pts[0].values), (None, 2, 4), "no band across k");
        assert!(p.pooled());

        let survey = Survey {
            rows: 8,
            malformed: 0,
            status: Default::default(),
            params: vec![x.clone(), k.clone()],
            metrics: vec![],
            seconds_count: 0,
            seconds_sum: 0.0,
            seconds_min: 0.0,
            seconds_max: 0.0,
            slowest: vec![],
            failures: Default::default(),
            failures_ungrouped: 0,
        };
        let layout = Layout {
            headers: vec!["c0".into(), "k".into(), "conversion".into()],
            columns: crate::results::columns::Columns::locate(
                &["task", "replicate", "seed", "status", "attempts", "seconds"],
                &[],
            )
            .unwrap(),
        };
        assert_eq!(
            p.pooled_note(&survey, &layout, true).unwrap(),
            "mean over k (2 values); no band across them; use --by k to split"
        );

        // Split by k: every cell is one grid point and gets its replicates' band.
        let mut p = PlotAgg::new(2, Axis::new(&x, 200), Some(&k), Band::MinMax);
        feed(&mut p, &rows);
        assert_eq!(p.points(0)[0].band, Some((0.10, 0.12)));
        assert_eq!(p.points(1)[1].band, Some((0.80, 0.84)));
        assert!(!p.pooled() && p.pooled_note(&survey, &layout, true).is_none());
    }

    #[test]
    fn rows_out_of_grid_order_never_pool_parameters() {
        // Interleaved grid points: each piece is its own point; no band spans two k.
        let rows = [["1", "0.1", "1"], ["1", "5", "9"], ["1", "0.1", "3"]];
        let (x, _) = surveys(&rows);
        let mut p = PlotAgg::new(2, Axis::new(&x, 200), None, Band::MinMax);
        for r in rows {
            p.add(&record(&r));
            p.end_point();
        }
        assert_eq!(p.points(0)[0].band, None);
        assert_eq!(p.points(0)[0].grid_points, 3);
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
