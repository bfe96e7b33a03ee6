//! X axes: how a parameter's values map to at most a fixed number of positions
//! (exact values, equal-width bins or categories), on a log scale when the spec made the
//! axis with `logspace` or `geomspace` (or the user asks), else when the values span
//! three decades or more, and how positions are labelled.

use indexmap::IndexSet;

use super::input::parse_number;
use super::survey::ParamSurvey;

/// Most x positions of a plot: parameters with more distinct values are binned.
pub const MAX_X_POSITIONS: usize = 200;
/// Most x positions of a scatter plot (a sampled parameter's): every point of a design of
/// up to this many points is drawn, more are binned.
pub const MAX_SCATTER_POSITIONS: usize = 10_000;

/// How values of a parameter map to x positions.
#[derive(Debug, Clone)]
pub(crate) enum AxisKind {
    /// Each distinct number is a position (sorted, possibly log10-transformed).
    Exact(Vec<f64>),
    /// Equal-width bins over `[lo, hi]` (in transformed space).
    Binned { lo: f64, hi: f64, bins: usize },
    /// Category names in first-seen order, at most the slot cap; others are dropped.
    Categories { names: IndexSet<String>, dropped: bool },
}

/// An x axis: a parameter's values mapped to at most a fixed number of slots.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    pub column: usize,
    pub kind: AxisKind,
    /// Positions are log10 of the values.
    pub log: bool,
}

impl Axis {
    /// Builds the axis for a surveyed parameter with at most `max_slots` positions, on a
    /// log scale when its positive values span three decades or more.
    #[cfg(test)]
    pub fn new(p: &ParamSurvey, max_slots: usize) -> Self {
        Self::with_scale(p, max_slots, false)
    }

    /// [`Axis::new`], on a log scale also when `want_log` (the spec generated the values
    /// with `logspace` or `geomspace`, or the user asked), if every value is positive.
    pub fn with_scale(p: &ParamSurvey, max_slots: usize, want_log: bool) -> Self {
        if !p.numeric {
            let names: IndexSet<String> = p.distinct.iter().take(max_slots).cloned().collect();
            let dropped = p.overflow || p.distinct.len() > names.len();
            return Axis { column: p.column, kind: AxisKind::Categories { names, dropped }, log: false };
        }
        // Without a word from the spec, three or more decades of positive values are
        // taken to mean a log axis.
        let log = p.min > 0.0 && (want_log || p.max / p.min >= 1000.0);
        let t = |x: f64| if log { x.log10() } else { x };
        let kind = match p.distinct_count() {
            Some(n) if n <= max_slots => {
                let mut v: Vec<f64> = p.distinct.iter().filter_map(|s| parse_number(s)).map(t).collect();
                v.sort_by(f64::total_cmp);
                v.dedup();
                AxisKind::Exact(v)
            }
            _ => AxisKind::Binned { lo: t(p.min), hi: t(p.max), bins: max_slots.max(1) },
        };
        Axis { column: p.column, kind, log }
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        match &self.kind {
            AxisKind::Exact(v) => v.len(),
            AxisKind::Binned { bins, .. } => *bins,
            AxisKind::Categories { names, .. } => names.len(),
        }
    }

    /// Is the axis categorical?
    pub fn categorical(&self) -> bool {
        matches!(self.kind, AxisKind::Categories { .. })
    }

    /// The position of a raw value in axis space, if it has one.
    pub fn position(&self, raw: &str) -> Option<f64> {
        match &self.kind {
            AxisKind::Categories { names, .. } => names.get_index_of(raw).map(|i| i as f64),
            _ => {
                let x = parse_number(raw)?;
                let x = if self.log { x.log10() } else { x };
                x.is_finite().then_some(x)
            }
        }
    }

    /// The slot of a position.
    pub fn slot(&self, pos: f64) -> Option<usize> {
        match &self.kind {
            AxisKind::Categories { .. } => Some(pos as usize),
            AxisKind::Exact(v) => v.binary_search_by(|a| a.total_cmp(&pos)).ok(),
            AxisKind::Binned { lo, hi, bins } => {
                if hi <= lo {
                    return Some(0);
                }
                let f = ((pos - lo) / (hi - lo) * *bins as f64).floor();
                Some((f.max(0.0) as usize).min(bins - 1))
            }
        }
    }

    /// Formats a position (axis space) as a value label.
    pub fn label(&self, pos: f64) -> String {
        match &self.kind {
            AxisKind::Categories { names, .. } => {
                let i = pos.round();
                if (pos - i).abs() > 1e-6 || i < 0.0 {
                    return String::new();
                }
                names.get_index(i as usize).map(|s| crate::text::shorten(s, 14)).unwrap_or_default()
            }
            // Label only whole decades; a log axis spans at least three.
            _ if self.log => {
                if (pos - pos.round()).abs() > 1e-9 {
                    String::new()
                } else {
                    crate::text::number(10f64.powf(pos.round()))
                }
            }
            _ => crate::text::number(pos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_slots() {
        let mut p = ParamSurvey::new(3);
        for v in ["0.5", "0.1", "0.3", "0.1"] {
            p.add(v);
        }
        let a = Axis::new(&p, 200);
        assert!(matches!(a.kind, AxisKind::Exact(ref v) if v == &[0.1, 0.3, 0.5]));
        assert_eq!(a.slot(a.position("0.3").unwrap()), Some(1));

        let mut p = ParamSurvey::new(3);
        for i in 0..1000 {
            p.add(&i.to_string());
        }
        let a = Axis::new(&p, 10);
        assert_eq!(a.slots(), 10);
        assert_eq!(a.slot(a.position("999").unwrap()), Some(9));
        assert_eq!(a.slot(a.position("0").unwrap()), Some(0));

        let mut p = ParamSurvey::new(3);
        for v in ["b", "a", "true", "b"] {
            p.add(v);
        }
        let a = Axis::new(&p, 200);
        assert!(a.categorical());
        assert_eq!(a.position("a"), Some(1.0));
        assert_eq!(a.label(0.0), "b");
        assert_eq!(a.label(0.5), "");
    }

    #[test]
    fn log_axis_for_wide_positive_ranges() {
        let mut p = ParamSurvey::new(3);
        for v in ["1e-7", "1e-5", "0.001", "0.1"] {
            p.add(v);
        }
        let a = Axis::new(&p, 200);
        assert!(a.log);
        assert_eq!(a.label(-5.0), "1e-5");
        assert_eq!(a.label(-1.5), "");
    }

    #[test]
    fn log_axis_when_asked_for_positive_values_only() {
        let mut p = ParamSurvey::new(3);
        for v in ["1", "3", "10"] {
            p.add(v);
        }
        assert!(!Axis::new(&p, 200).log, "one decade is linear by default");
        assert!(Axis::with_scale(&p, 200, true).log);
        p.add("0");
        assert!(!Axis::with_scale(&p, 200, true).log, "zero has no logarithm");
    }
}
