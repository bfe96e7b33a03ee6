//! A metric over two swept parameters: the mean per (x, y) cell, for heatmaps.
//!
//! As for line plots ([`super::aggregate`]), each grid point's replicates are reduced
//! first, then a cell is the mean of its grid points' means; when other parameters vary,
//! a cell pools their grid points and the chart says so.

use super::axis::Axis;
use super::input::{parse_number, Layout};
use super::survey::{ParamSurvey, Survey};

/// Most cells along each axis of a heatmap; parameters with more values are binned.
pub const MAX_HEAT_SLOTS: usize = 60;

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    points: u64,
    values: u64,
    mean_sum: f64,
}

/// The grid point being read: its cell and its replicates' sum and count.
#[derive(Debug, Clone, Copy)]
struct Current {
    cell: usize,
    sum: f64,
    n: u64,
}

/// Metric column `z` over parameter axes `x` (across) and `y` (up).
#[derive(Debug, Clone)]
pub(crate) struct HeatAgg {
    pub z: usize,
    pub x: Axis,
    pub y: Axis,
    cells: Vec<Cell>,
    current: Option<Current>,
}

impl HeatAgg {
    /// An empty heatmap of column `z` over `x` and `y`.
    pub fn new(z: usize, x: Axis, y: Axis) -> Self {
        let cells = vec![Cell::default(); x.slots() * y.slots()];
        HeatAgg { z, x, y, cells, current: None }
    }

    /// Counts a done row of the grid point being read.
    pub(in crate::report) fn add(&mut self, row: &csv::StringRecord) {
        let Some(v) = parse_number(&row[self.z]).filter(|v| v.is_finite()) else {
            return;
        };
        let slot = |a: &Axis| a.position(&row[a.column]).and_then(|p| a.slot(p));
        let (Some(i), Some(j)) = (slot(&self.x), slot(&self.y)) else {
            return;
        };
        let cell = j * self.x.slots() + i;
        if self.current.is_some_and(|c| c.cell != cell) {
            self.end_point();
        }
        let c = self.current.get_or_insert(Current { cell, sum: 0.0, n: 0 });
        c.sum += v;
        c.n += 1;
    }

    /// The grid point being read has no more rows.
    pub(in crate::report) fn end_point(&mut self) {
        if let Some(c) = self.current.take() {
            let cell = &mut self.cells[c.cell];
            cell.points += 1;
            cell.values += c.n;
            cell.mean_sum += c.sum / c.n as f64;
        }
    }

    /// The mean in the cell of x slot `i` and y slot `j`, if it has values.
    pub fn mean(&self, i: usize, j: usize) -> Option<f64> {
        let c = &self.cells[j * self.x.slots() + i];
        (c.points > 0).then(|| c.mean_sum / c.points as f64)
    }

    /// The smallest and largest cell means.
    pub fn range(&self) -> Option<(f64, f64)> {
        let means = self.cells.iter().filter(|c| c.points > 0).map(|c| c.mean_sum / c.points as f64);
        means.fold(None, |r, m| Some(r.map_or((m, m), |(lo, hi): (f64, f64)| (lo.min(m), hi.max(m)))))
    }

    /// Values behind the map.
    pub fn total(&self) -> u64 {
        self.cells.iter().map(|c| c.values).sum()
    }

    /// What a cell is: "mean of 5 replicates per cell", or what it averages over when
    /// other parameters vary (or an axis is binned).
    pub fn subtitle(&self, survey: &Survey, layout: &Layout, reps: super::reps::Reps) -> String {
        if !self.cells.iter().any(|c| c.points > 1) {
            return format!("mean of {reps} per cell");
        }
        let others: Vec<&ParamSurvey> = survey
            .params
            .iter()
            .filter(|p| p.varies() && p.column != self.x.column && p.column != self.y.column)
            .collect();
        if others.is_empty() {
            return "binned: each cell is the mean over the grid points in it".to_string();
        }
        let names: Vec<String> = others
            .iter()
            .map(|p| match p.distinct_count() {
                Some(n) => format!("{} ({n} values)", layout.name(p.column)),
                None => layout.name(p.column).to_string(),
            })
            .collect();
        format!("each cell is the mean over {} of the grid points' means", names.join(", "))
    }
}

/// Two numeric parameters that vary, for the report's heatmap: the first two, in grid
/// order.
pub(crate) fn heatmap_params(survey: &Survey) -> Option<(&ParamSurvey, &ParamSurvey)> {
    let mut it = survey.params.iter().filter(|p| p.numeric && p.varies());
    Some((it.next()?, it.next()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_means_of_grid_point_means() {
        let (mut a, mut b) = (ParamSurvey::new(0), ParamSurvey::new(1));
        let rows = [["1", "10", "1"], ["1", "10", "3"], ["2", "10", "5"], ["1", "20", "7"], ["1", "20", "8"]];
        for r in &rows {
            a.add(r[0]);
            b.add(r[1]);
        }
        let mut h = HeatAgg::new(2, Axis::new(&a, 60), Axis::new(&b, 60));
        for r in rows {
            h.add(&csv::StringRecord::from(r.to_vec()));
        }
        h.end_point();
        assert_eq!((h.mean(0, 0), h.mean(1, 0), h.mean(0, 1), h.mean(1, 1)), (Some(2.0), Some(5.0), Some(7.5), None));
        assert_eq!((h.range(), h.total()), (Some((2.0, 7.5)), 5));
    }
}
