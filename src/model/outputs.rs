//! What a task produces: scalar metrics and arrays.

use ndarray::ArrayD;
use std::borrow::Cow;

/// A scalar metric value: a `results.csv` cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Metric {
    /// A float.
    Float(f64),
    /// An integer.
    Int(i64),
    /// An integer above `i64::MAX` (a u64 seed echoed back, say), kept exact.
    UInt(u64),
    /// A boolean.
    Bool(bool),
    /// No value (JSON `null`, Python's `None`): an empty cell.
    Null,
    /// A string.
    Str(Box<str>),
}

impl From<f64> for Metric {
    fn from(v: f64) -> Self {
        Metric::Float(v)
    }
}
impl From<i64> for Metric {
    fn from(v: i64) -> Self {
        Metric::Int(v)
    }
}
impl From<usize> for Metric {
    fn from(v: usize) -> Self {
        Metric::Int(v as i64)
    }
}
impl From<bool> for Metric {
    fn from(v: bool) -> Self {
        Metric::Bool(v)
    }
}
impl From<u64> for Metric {
    fn from(v: u64) -> Self {
        i64::try_from(v).map_or(Metric::UInt(v), Metric::Int)
    }
}
impl From<&str> for Metric {
    fn from(v: &str) -> Self {
        Metric::Str(v.into())
    }
}
impl From<String> for Metric {
    fn from(v: String) -> Self {
        Metric::Str(v.into())
    }
}

impl Metric {
    /// Appends the metric as a CSV-ready text (floats in shortest round-trip form).
    pub fn write_text(&self, out: &mut String) {
        match self {
            Metric::Float(f) => crate::value::push_f64(out, *f),
            Metric::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
            Metric::UInt(u) => out.push_str(itoa::Buffer::new().format(*u)),
            Metric::Bool(b) => out.push_str(bool_text(*b)),
            Metric::Null => {}
            Metric::Str(s) => out.push_str(s),
        }
    }

    /// The metric as a float, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Metric::Float(f) => Some(*f),
            Metric::Int(i) => Some(*i as f64),
            Metric::UInt(u) => Some(*u as f64),
            Metric::Bool(_) | Metric::Null | Metric::Str(_) => None,
        }
    }
}

/// How a boolean metric is written in `results.csv`: the spelling pandas reads back as a
/// bool column (and Python's own `str(True)`).
pub fn bool_text(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// Collects one task's metrics and arrays. Arrays the spec's `save` list leaves out are
/// dropped here; a model can skip computing them by asking [`Outputs::wants`].
#[derive(Debug, Default)]
pub struct Outputs {
    pub(crate) metrics: Vec<(Cow<'static, str>, Metric)>,
    pub(crate) arrays: Vec<(String, ArrayD<f64>)>,
    save: Option<std::sync::Arc<[String]>>,
}

impl Outputs {
    /// An empty collector that keeps the arrays named in `save` (`None`: all of them).
    pub fn new(save: Option<std::sync::Arc<[String]>>) -> Self {
        Self { metrics: Vec::new(), arrays: Vec::new(), save }
    }

    /// Records a metric; a second value for the same name replaces the first.
    pub fn metric(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Metric>) {
        let name = name.into();
        let value = value.into();
        match self.metrics.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.metrics.push((name, value)),
        }
    }

    /// Whether the array `name` will be saved.
    pub fn wants(&self, name: &str) -> bool {
        self.save.as_ref().is_none_or(|s| s.iter().any(|n| n == name))
    }

    /// Records an array (any shape), saved as `<name>.npy` if the spec wants it.
    pub fn array<D: ndarray::Dimension>(&mut self, name: &str, array: ndarray::Array<f64, D>) {
        if self.wants(name) {
            self.arrays.retain(|(n, _)| n != name);
            self.arrays.push((name.to_string(), array.into_dyn()));
        }
    }

    /// The metrics recorded so far.
    pub fn metrics(&self) -> &[(Cow<'static, str>, Metric)] {
        &self.metrics
    }

    /// The metric recorded under `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }

    /// The arrays recorded so far.
    pub fn arrays(&self) -> &[(String, ArrayD<f64>)] {
        &self.arrays
    }

    /// Drops everything recorded (a retried task starts clean).
    pub fn clear(&mut self) {
        self.metrics.clear();
        self.arrays.clear();
    }
}
