//! The grid: axes of values, their lazy cartesian product, and task identities.

mod adaptive;
mod axis;
mod design;
mod identity;
pub mod refine;
mod sample;

pub use adaptive::{Adaptive, Decision, Target};
pub use axis::{generate, AxisGen};
pub use design::{design_seed, Design, Method, Scale, MAX_DIMENSIONS, MAX_VALUES};
pub use identity::{seed32, Identity, TaskId};
pub use refine::Refine;
pub use sample::sample_indices;

use crate::value::Value;
use std::sync::Arc;

/// Tasks larger than this are refused before anything is allocated.
pub const MAX_TASKS: u64 = 1 << 40;

/// One dimension of the grid: a single parameter's values, or several parameters that
/// vary together (`zip`), each with the same number of values.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The parameters of this axis (one, or the members of a zip group).
    pub names: Vec<String>,
    /// `values[m][i]`: member `m`'s `i`-th value.
    pub values: Vec<Vec<Value>>,
}

impl Axis {
    /// The number of values along the axis.
    pub fn len(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }

    /// Whether the axis has no values (never true of a validated spec).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The cartesian product of the axes, times the replicates, indexed lazily (mixed radix):
/// task `i` is never stored, only computed, so a grid of any size plans in constant memory.
///
/// Grid order: the first axis varies slowest, the replicate fastest.
#[derive(Clone, Debug)]
pub struct Grid {
    /// The swept parameters in spec order: the parameter columns of `results.csv`.
    pub columns: Vec<String>,
    /// The axes, in spec order of their first parameter.
    pub axes: Vec<Axis>,
    /// Replicates per point.
    pub replicates: u32,
    /// The axis that holds a `[sample]` design's points, if any: its dimension is
    /// `sample`, and each sampled parameter a coordinate along it.
    pub sample: Option<usize>,
    /// The slots of a `[refine]` axis, filled as its rounds choose points (see
    /// [`refine::Slots`]); shared by every clone of the grid.
    pub refine: Option<Arc<refine::Slots>>,
    /// For each column: (axis, member of that axis).
    col_pos: Vec<(usize, usize)>,
    /// For each axis: how many points one step along it skips.
    strides: Vec<u64>,
    points: u64,
}

/// Why a grid cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("the grid has more than {max} tasks", max = MAX_TASKS)]
pub struct TooLarge;

impl Grid {
    /// Builds the grid over `axes`; `columns` lists every axis member in display order.
    pub fn new(columns: Vec<String>, axes: Vec<Axis>, replicates: u32) -> Result<Self, TooLarge> {
        let mut strides = vec![0u64; axes.len()];
        let mut points: u64 = 1;
        for (i, axis) in axes.iter().enumerate().rev() {
            strides[i] = points;
            points = points.checked_mul(axis.len() as u64).ok_or(TooLarge)?;
        }
        if points.checked_mul(replicates as u64).is_none_or(|t| t > MAX_TASKS) {
            return Err(TooLarge);
        }
        let col_pos = columns
            .iter()
            .map(|c| {
                axes.iter()
                    .enumerate()
                    .find_map(|(a, ax)| ax.names.iter().position(|n| n == c).map(|m| (a, m)))
                    .expect("every column belongs to an axis")
            })
            .collect();
        Ok(Self { columns, axes, replicates, sample: None, refine: None, col_pos, strides, points })
    }

    /// Parameter points (without replicates).
    pub fn points(&self) -> u64 {
        self.points
    }

    /// Tasks: points × replicates.
    pub fn task_count(&self) -> u64 {
        self.points * self.replicates as u64
    }

    /// (point, replicate) of task `index`.
    #[inline]
    pub fn locate(&self, index: u64) -> (u64, u32) {
        let r = self.replicates as u64;
        (index / r, (index % r) as u32)
    }

    /// The index along axis `axis` of point `point`.
    #[inline]
    pub fn digit(&self, point: u64, axis: usize) -> usize {
        ((point / self.strides[axis]) % self.axes[axis].len() as u64) as usize
    }

    /// The value of column `col` at point `point`. Along a `[refine]` axis, a slot past
    /// the start values holds its curve's point once set, and a placeholder before.
    #[inline]
    pub fn value(&self, point: u64, col: usize) -> &Value {
        let (a, m) = self.col_pos[col];
        let digit = self.digit(point, a);
        if let Some(s) = self.refine.as_deref().filter(|s| s.axis == a && digit >= s.start) {
            if let Some(added) = s.added(s.curve(point), digit) {
                return &added.value;
            }
        }
        &self.axes[a].values[m][digit]
    }

    /// Makes column `col`'s axis (a single parameter's, whose values are `start` values
    /// followed by placeholders up to the budget) the `[refine]` axis.
    pub fn refine_along(&mut self, col: usize, start: usize) {
        let (a, _) = self.col_pos[col];
        let budget = self.axes[a].len();
        self.refine =
            Some(Arc::new(refine::Slots::new(a, col, start, budget, self.strides[a], self.points, self.replicates)));
    }

    /// Whether point `point` is a point of the sweep: always, except a `[refine]` slot no
    /// round has filled yet.
    pub fn holds(&self, point: u64) -> bool {
        self.refine.as_ref().is_none_or(|s| s.holds(point))
    }

    /// (axis, member) of column `col`.
    pub fn column_position(&self, col: usize) -> (usize, usize) {
        self.col_pos[col]
    }

    /// The name of axis `axis`'s dimension (`sweep.open`, `store.zarr`): `sample` for a
    /// design's points, else its first parameter's name.
    pub fn dim(&self, axis: usize) -> &str {
        if self.sample == Some(axis) {
            "sample"
        } else {
            &self.axes[axis].names[0]
        }
    }

    /// The column index of parameter `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(name: &str, n: i64) -> Axis {
        Axis { names: vec![name.into()], values: vec![(0..n).map(Value::Int).collect()] }
    }

    #[test]
    fn mixed_radix_first_axis_slowest_replicate_fastest() {
        let g = Grid::new(vec!["a".into(), "b".into()], vec![axis("a", 2), axis("b", 3)], 2).unwrap();
        assert_eq!(g.task_count(), 12);
        let mut seen = Vec::new();
        for i in 0..g.task_count() {
            let (p, r) = g.locate(i);
            seen.push((g.value(p, 0).clone(), g.value(p, 1).clone(), r));
        }
        assert_eq!(seen[0], (Value::Int(0), Value::Int(0), 0));
        assert_eq!(seen[1], (Value::Int(0), Value::Int(0), 1));
        assert_eq!(seen[2], (Value::Int(0), Value::Int(1), 0));
        assert_eq!(seen[11], (Value::Int(1), Value::Int(2), 1));
    }

    #[test]
    fn huge_grids_are_refused_not_allocated() {
        let axes: Vec<_> = (0..6).map(|i| axis(&format!("p{i}"), 10_000)).collect();
        let cols = axes.iter().map(|a| a.names[0].clone()).collect();
        assert!(Grid::new(cols, axes, 1).is_err());
    }
}
