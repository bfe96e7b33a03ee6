//! Where a refined curve's points live in the grid: the refined axis holds `budget` slots,
//! the first `start` of them the axis's own values (shared by every curve), the others
//! filled per curve, once each, as the rounds choose them.
//!
//! Write-once cells (`OnceLock`) let the grid stay shared (`&Spec`) while a run fills
//! them: a slot's value never changes once set, so every reader that saw it agrees.

use super::Pick;
use crate::value::Value;
use std::sync::OnceLock;

/// A point a round added to a curve: its value, and why it was added.
#[derive(Clone, Debug)]
pub struct Added {
    /// The value of the refined parameter (a float).
    pub value: Value,
    /// The interval it split, and that interval's loss.
    pub pick: Pick,
    /// The round that added it: 1 for the first after the start values.
    pub round: u32,
}

/// The slots of the refined axis, per curve.
#[derive(Debug)]
pub struct Slots {
    /// The grid axis refined (a single parameter's).
    pub axis: usize,
    /// Its grid column.
    pub column: usize,
    /// Slots holding the axis's own values.
    pub start: usize,
    /// Slots per curve: the `budget`.
    pub budget: usize,
    /// How many grid points one step along the axis skips.
    stride: u64,
    replicates: u64,
    /// `cells[curve × (budget − start) + slot − start]`.
    cells: Vec<OnceLock<Added>>,
}

impl Slots {
    /// The slots of axis `axis` (column `column`, `budget` values of which the first
    /// `start` are its own) of a grid of `points` points and `replicates`, where a step
    /// along the axis skips `stride` points.
    pub fn new(
        axis: usize,
        column: usize,
        start: usize,
        budget: usize,
        stride: u64,
        points: u64,
        replicates: u32,
    ) -> Self {
        let curves = points / budget.max(1) as u64;
        let cells = (0..curves * (budget - start) as u64).map(|_| OnceLock::new()).collect();
        Slots { axis, column, start, budget, stride, replicates: replicates as u64, cells }
    }

    /// The curves: one per combination of the other axes.
    pub fn curves(&self) -> u64 {
        self.cells.len() as u64 / (self.budget - self.start).max(1) as u64
    }

    /// The curve of grid point `point`.
    pub fn curve(&self, point: u64) -> u64 {
        (point / (self.stride * self.budget as u64)) * self.stride + point % self.stride
    }

    /// The slot (the index along the refined axis) of grid point `point`.
    pub fn slot(&self, point: u64) -> usize {
        ((point / self.stride) % self.budget as u64) as usize
    }

    /// The grid point of slot `slot` of curve `curve`.
    pub fn point(&self, curve: u64, slot: usize) -> u64 {
        (curve / self.stride) * self.stride * self.budget as u64 + slot as u64 * self.stride + curve % self.stride
    }

    /// The point added at slot `slot` (≥ `start`) of curve `curve`, once set.
    pub fn added(&self, curve: u64, slot: usize) -> Option<&Added> {
        self.cells[self.cell(curve, slot)].get()
    }

    /// Sets slot `slot` (≥ `start`) of curve `curve`; false if it was set already (then it
    /// keeps its value).
    pub fn set(&self, curve: u64, slot: usize, added: Added) -> bool {
        self.cells[self.cell(curve, slot)].set(added).is_ok()
    }

    /// The slots of curve `curve` in use: the start values and the points added so far
    /// (slots fill in order).
    pub fn filled(&self, curve: u64) -> usize {
        (self.start..self.budget).find(|&s| self.added(curve, s).is_none()).unwrap_or(self.budget)
    }

    /// Whether grid point `point` is a point of its curve: a start value, or a slot set.
    pub fn holds(&self, point: u64) -> bool {
        let slot = self.slot(point);
        slot < self.start || self.added(self.curve(point), slot).is_some()
    }

    /// Whether task `index` (of the whole grid, replicates included) is one of the sweep's.
    pub fn holds_task(&self, index: u64) -> bool {
        self.holds(index / self.replicates.max(1))
    }

    fn cell(&self, curve: u64, slot: usize) -> usize {
        debug_assert!(slot >= self.start && slot < self.budget);
        curve as usize * (self.budget - self.start) + slot - self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_slots_and_points_are_inverse() {
        // Axes a (2 values), x (5 slots, 3 start), b (3 values): x's stride is 3.
        let s = Slots::new(1, 1, 3, 5, 3, 30, 2);
        assert_eq!(s.curves(), 6);
        for p in 0..30 {
            let (c, k) = (s.curve(p), s.slot(p));
            assert!(c < 6 && k < 5);
            assert_eq!(s.point(c, k), p);
        }
        let pick = Pick { x: 0.5, lo: 0.0, hi: 1.0, loss: 1.0 };
        assert!(!s.holds(s.point(4, 3)) && s.holds(s.point(4, 2)));
        assert_eq!(s.filled(4), 3);
        assert!(s.set(4, 3, Added { value: Value::Float(0.5), pick, round: 1 }));
        assert!(!s.set(4, 3, Added { value: Value::Float(0.7), pick, round: 1 }), "set once");
        assert_eq!(s.added(4, 3).unwrap().value, Value::Float(0.5));
        assert!(s.holds(s.point(4, 3)) && s.holds_task(s.point(4, 3) * 2 + 1));
        assert_eq!((s.filled(4), s.filled(3)), (4, 3));
    }
}
