//! Models: the [`Model`] trait that built-in and user simulations implement, their
//! parameters and outputs, and the [`Registry`] that names them.

mod builtin;
mod outputs;
mod registry;
pub mod size;

pub use outputs::{bool_text, Metric, Outputs};
pub use registry::Registry;

use crate::value::{Value, ValueKind};

/// The random number generator each task gets: ChaCha12, seeded from the task's seed
/// with `ChaCha12Rng::seed_from_u64(seed)` (see docs/seeds.md).
pub type TaskRng = rand_chacha::ChaCha12Rng;

/// A model parameter: its name, type, default, unit and meaning.
#[derive(Clone, Debug)]
pub struct ParamSpec {
    /// The name used in specs.
    pub name: &'static str,
    /// The value type.
    pub kind: ValueKind,
    /// The default; `None` makes the parameter required.
    pub default: Option<Value>,
    /// The unit, or "" for a dimensionless or non-numeric parameter.
    pub unit: &'static str,
    /// One line on what it means.
    pub doc: &'static str,
    /// For a string parameter with a fixed set of values: those values.
    pub choices: &'static [&'static str],
}

impl ParamSpec {
    /// A float parameter with a default.
    pub fn float(name: &'static str, default: f64, unit: &'static str, doc: &'static str) -> Self {
        Self::new(name, ValueKind::Float, Some(Value::Float(default)), unit, doc)
    }

    /// An integer parameter with a default.
    pub fn int(name: &'static str, default: i64, unit: &'static str, doc: &'static str) -> Self {
        Self::new(name, ValueKind::Int, Some(Value::Int(default)), unit, doc)
    }

    /// A boolean parameter with a default.
    pub fn bool(name: &'static str, default: bool, doc: &'static str) -> Self {
        Self::new(name, ValueKind::Bool, Some(Value::Bool(default)), "", doc)
    }

    /// A string parameter with a default, restricted to `choices` (empty: any string).
    pub fn choice(
        name: &'static str,
        default: &'static str,
        choices: &'static [&'static str],
        doc: &'static str,
    ) -> Self {
        Self { choices, ..Self::new(name, ValueKind::Str, Some(Value::from(default)), "", doc) }
    }

    /// A parameter of any kind; `default: None` makes it required.
    pub fn new(
        name: &'static str,
        kind: ValueKind,
        default: Option<Value>,
        unit: &'static str,
        doc: &'static str,
    ) -> Self {
        Self { name, kind, default, unit, doc, choices: &[] }
    }

    /// Makes the parameter required (no default).
    pub fn required(mut self) -> Self {
        self.default = None;
        self
    }
}

/// A named output of a model (an array or a metric) and what it holds.
#[derive(Clone, Debug)]
pub struct OutputSpec {
    /// The name: the `.npy` file stem for an array, the `results.csv` column for a metric.
    pub name: &'static str,
    /// The unit, or "".
    pub unit: &'static str,
    /// One line on what it holds.
    pub doc: &'static str,
}

impl OutputSpec {
    /// An output named `name`.
    pub const fn new(name: &'static str, unit: &'static str, doc: &'static str) -> Self {
        Self { name, unit, doc }
    }
}

/// The parameters one task runs with: every parameter of the model, in the model's
/// declared order, fixed and swept alike, with defaults filled in and types checked.
#[derive(Clone, Copy, Debug)]
pub struct Params<'a> {
    specs: &'a [ParamSpec],
    values: &'a [Value],
}

impl<'a> Params<'a> {
    /// Pairs a model's parameter specs with one task's values (same order, same length).
    pub fn new(specs: &'a [ParamSpec], values: &'a [Value]) -> Self {
        assert_eq!(specs.len(), values.len(), "one value per parameter");
        Self { specs, values }
    }

    /// The value of `name`, if the model has such a parameter.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        // Models usually ask with the very literals they declared: look for the same pointer
        // first, and compare bytes only when none matches.
        let specs = self.specs.iter();
        (specs.clone().position(|p| std::ptr::eq(p.name, name)))
            .or_else(|| specs.clone().position(|p| p.name == name))
            .map(|i| &self.values[i])
    }

    fn expect(&self, name: &str) -> &'a Value {
        self.get(name).unwrap_or_else(|| panic!("model has no parameter `{name}`"))
    }

    /// The float parameter `name`. Panics if the model does not declare it.
    pub fn f64(&self, name: &str) -> f64 {
        self.expect(name).as_f64().unwrap_or_else(|| panic!("parameter `{name}` is not a number"))
    }

    /// The integer parameter `name`. Panics if the model does not declare it as an integer.
    pub fn i64(&self, name: &str) -> i64 {
        match self.expect(name) {
            Value::Int(i) => *i,
            v => panic!("parameter `{name}` is not an integer: {v}"),
        }
    }

    /// The string parameter `name`. Panics if the model does not declare it as a string.
    pub fn str(&self, name: &str) -> &'a str {
        match self.expect(name) {
            Value::Str(s) => s,
            v => panic!("parameter `{name}` is not a string: {v}"),
        }
    }

    /// The boolean parameter `name`. Panics if the model does not declare it as a bool.
    pub fn bool(&self, name: &str) -> bool {
        match self.expect(name) {
            Value::Bool(b) => *b,
            v => panic!("parameter `{name}` is not a bool: {v}"),
        }
    }

    /// `(name, value)` pairs in the model's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'a Value)> + '_ {
        self.specs.iter().map(|p| p.name).zip(self.values.iter())
    }
}

/// Why a task failed, as the model reports it. A failed task is recorded with this
/// message; the rest of the sweep goes on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct TaskError(pub String);

impl From<String> for TaskError {
    fn from(s: String) -> Self {
        TaskError(s)
    }
}

impl From<&str> for TaskError {
    fn from(s: &str) -> Self {
        TaskError(s.to_string())
    }
}

/// A simulation that `sweep` can run once per (parameter point, replicate).
///
/// Implementations must be deterministic given `params` and `rng`: that is what makes a
/// sweep reproducible whatever the worker count or scheduling order.
///
/// ```
/// use sweep::model::{Model, Outputs, OutputSpec, ParamSpec, Params, TaskError, TaskRng};
/// use rand::Rng;
///
/// struct Coin;
/// impl Model for Coin {
///     fn name(&self) -> &str { "coin" }
///     fn summary(&self) -> &str { "Flips a biased coin n times" }
///     fn params(&self) -> Vec<ParamSpec> {
///         vec![ParamSpec::float("p", 0.5, "", "probability of heads"),
///              ParamSpec::int("n", 100, "", "number of flips")]
///     }
///     fn metrics(&self) -> Vec<OutputSpec> { vec![OutputSpec::new("heads", "", "fraction of heads")] }
///     fn run(&self, p: &Params, rng: &mut TaskRng, out: &mut Outputs) -> Result<(), TaskError> {
///         let n = p.i64("n");
///         let heads = (0..n).filter(|_| rng.random::<f64>() < p.f64("p")).count();
///         out.metric("heads", heads as f64 / n as f64);
///         Ok(())
///     }
/// }
/// ```
pub trait Model: Send + Sync + 'static {
    /// The name a spec's `[model] name = "..."` refers to.
    fn name(&self) -> &str;
    /// One line on what the model computes.
    fn summary(&self) -> &str;
    /// The parameters, in the order `run` sees them.
    fn params(&self) -> Vec<ParamSpec>;
    /// The arrays the model can write (each saved as `tasks/<task>/<name>.npy`).
    fn arrays(&self) -> Vec<OutputSpec> {
        Vec::new()
    }
    /// The scalar metrics the model reports (each a `results.csv` column).
    fn metrics(&self) -> Vec<OutputSpec>;
    /// A longer description for `sweep models NAME`.
    fn details(&self) -> &str {
        ""
    }
    /// Checks a parameter combination before anything runs (for example `t_min < t_max`);
    /// an error here is a spec error. The default accepts everything.
    fn check(&self, _params: &Params) -> Result<(), String> {
        Ok(())
    }
    /// Runs one task: reads `params`, draws from `rng` only, writes to `out`.
    fn run(&self, params: &Params, rng: &mut TaskRng, out: &mut Outputs) -> Result<(), TaskError>;
}
