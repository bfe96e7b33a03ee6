//! Specs: a TOML file validated into a [`Spec`], with every error tied to its line.

mod error;
mod raw;

use crate::text::did_you_mean;
pub use error::SpecError;
pub use raw::{RawCommand, RawSpec};

use crate::command::CommandSpec;
use crate::grid::{generate, Axis, AxisGen, Grid, Identity};
use crate::model::{Model, ParamSpec, Params, Registry};
use crate::value::{Value, ValueKind};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// How many grid points `Model::check` is run on while validating (the rest are checked
/// when their task runs).
const CHECKED_POINTS: u64 = 10_000;

/// A validated spec: everything needed to plan and run a sweep.
pub struct Spec {
    /// The spec file (for messages).
    pub path: PathBuf,
    /// The spec's text, as run (saved as `spec.toml`).
    pub text: Arc<str>,
    /// The sweep's name.
    pub name: String,
    /// The master seed.
    pub seed: u64,
    /// The out directory (relative to the current directory unless absolute).
    pub out: PathBuf,
    /// What each task runs.
    pub task: TaskKind,
    /// The swept parameters.
    pub grid: Grid,
    /// Ids and seeds of the grid's tasks.
    pub identity: Identity,
}

/// What a task runs: a model or an external command.
pub enum TaskKind {
    /// A model from the registry.
    Model(ModelTask),
    /// An external program.
    Command(Arc<CommandSpec>),
}

/// A model with its fixed parameters resolved.
pub struct ModelTask {
    /// The model.
    pub model: Arc<dyn Model>,
    /// The model's parameters, in its order.
    pub specs: Vec<ParamSpec>,
    /// Where each model parameter's value comes from.
    pub sources: Vec<Source>,
    /// The parameters that are not swept, with their values (defaults included), in model order.
    pub fixed: Vec<(String, Value)>,
    /// Arrays to save (`None`: all).
    pub save: Option<Arc<[String]>>,
}

/// Where a model parameter's value comes from in a task.
#[derive(Clone, Debug)]
pub enum Source {
    /// A fixed value.
    Fixed(Value),
    /// A grid column.
    Column(usize),
}

impl ModelTask {
    /// Fills `values` with the model's parameters at grid point `point`.
    pub fn values_at(&self, grid: &Grid, point: u64, values: &mut Vec<Value>) {
        values.clear();
        values.extend(self.sources.iter().map(|s| match s {
            Source::Fixed(v) => v.clone(),
            Source::Column(c) => grid.value(point, *c).clone(),
        }));
    }

    /// Moves `values`, filled by this task's [`values_at`](Self::values_at) for some point,
    /// to grid point `point`: only the swept parameters change.
    pub fn update_values(&self, grid: &Grid, point: u64, values: &mut [Value]) {
        debug_assert_eq!(values.len(), self.sources.len());
        for (v, s) in values.iter_mut().zip(&self.sources) {
            if let Source::Column(c) = s {
                match (&*v, grid.value(point, *c)) {
                    // Same string: skip the shared reference count.
                    (Value::Str(a), Value::Str(b)) if std::sync::Arc::ptr_eq(a, b) => {}
                    (_, new) => *v = new.clone(),
                }
            }
        }
    }
}

impl TaskKind {
    /// "model NAME" or "command", for messages.
    pub fn label(&self) -> String {
        match self {
            TaskKind::Model(m) => format!("model {}", m.model.name()),
            TaskKind::Command(_) => "command".into(),
        }
    }
}

impl Spec {
    /// Reads and validates the spec file at `path` against the models of `registry`.
    pub fn from_file(path: &Path, registry: &Registry) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError {
            path: path.to_path_buf(),
            source: "".into(),
            span: None,
            message: format!("cannot read the spec: {e}"),
            help: Some("pass the path of a TOML spec file, e.g. `sweep run sweeps/reaction.toml`".into()),
        })?;
        Self::parse(path, &text, registry)
    }

    /// Validates spec text; `path` names it in messages and gives the default name.
    pub fn parse(path: &Path, text: &str, registry: &Registry) -> Result<Spec, SpecError> {
        let ctx = Ctx { path, source: text.into() };
        let raw: RawSpec = toml::from_str(text).map_err(|e| {
            let (msg, help) = toml_message(text, e.message().trim(), e.span());
            ctx.err(e.span(), msg, help)
        })?;
        ctx.validate(raw, registry)
    }

    /// Total tasks.
    pub fn task_count(&self) -> u64 {
        self.grid.task_count()
    }
}

/// A TOML parser or type error in the user's terms: which key, what it should be, an example.
fn toml_message(text: &str, msg: &str, span: Option<Range<usize>>) -> (String, Option<String>) {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("").to_string();
        let top = ["name", "seed", "replicates", "out", "zip", "model", "command", "params"];
        let cmd = ["argv", "shell", "timeout", "grace", "env", "cwd"];
        let known: &[&str] = if msg.contains("`argv`") { &cmd } else { &top };
        let help = match did_you_mean(&name, known.iter().copied()) {
            Some(s) => s,
            None => format!("allowed keys here: {}", known.join(", ")),
        };
        return (format!("unknown key `{name}`"), Some(help));
    }
    let spanned = span.as_ref().and_then(|r| text.get(r.clone())).unwrap_or("");
    if let (true, Some(span)) = (msg == "duplicate key" && !spanned.is_empty(), &span) {
        let key = spanned.trim_matches(|c| c == '"' || c == '\'');
        let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
        if text[line_start..span.start].trim_start().starts_with('[') {
            return (
                format!("the table [{key}] appears twice"),
                Some(format!("merge the two [{key}] tables into one")),
            );
        }
        // The earlier definition in the same table, and which table that is.
        let mut table = "";
        let mut first = None;
        for (n, line) in text[..line_start].lines().enumerate() {
            let t = line.trim();
            if t.starts_with('[') {
                table = t;
                first = None;
            } else if first.is_none() && key_before(line, line.len()).as_deref() == Some(key) {
                first = Some(n + 1);
            }
        }
        let mut help = first.map_or("set each key once per table".to_string(), |n| format!("line {n} sets it first"));
        if table == "[params]" {
            help.push_str(&format!("; to sweep several values, give them in one list, e.g. `{key} = [1, 2, 3]`"));
        }
        return (format!("duplicate key `{key}`"), Some(help));
    }
    if let Some((found, expected)) = msg.strip_prefix("invalid type: ").and_then(|m| m.split_once(", expected ")) {
        let expected = match expected {
            "i64" | "u64" | "i32" | "u32" | "an integer" => "an integer",
            "a sequence" => "a list",
            "a map" => "a table",
            e if e.starts_with("struct ") => "a table",
            e => e,
        };
        let found = match found.split_once(' ') {
            Some(("string", v)) => format!("the string {v}"),
            Some(("integer", v)) => format!("the integer {}", v.trim_matches('`')),
            Some(("floating", v)) => format!("the float {}", v.trim_start_matches("point ").trim_matches('`')),
            Some(("boolean", v)) => format!("`{}`", v.trim_matches('`')),
            _ if found == "sequence" => "a list".into(),
            _ if found == "map" => "a table".into(),
            _ => found.to_string(),
        };
        let key = span.as_ref().and_then(|r| key_before(text, r.start));
        // `key = [1]`: the span is an item of the list, not the whole value.
        let in_list = span.as_ref().is_some_and(|r| {
            let line_start = text[..r.start].rfind('\n').map_or(0, |i| i + 1);
            text[line_start..r.start].split_once('=').is_some_and(|(_, v)| !v.trim().is_empty())
        });
        let example = key.as_deref().and_then(|k| {
            Some(match k {
                "name" => "name = \"reaction-k\"",
                "seed" => "seed = 42",
                "replicates" => "replicates = 5",
                "out" => "out = \"runs/reaction\"",
                "zip" => "zip = [[\"k\", \"c0\"]]",
                "argv" => "argv = [\"python3\", \"sim.py\", \"--k\", \"{k}\"]",
                "shell" => "shell = \"./sim --k {k} > {out}/log.txt\"",
                "timeout" => "timeout = \"10m\"",
                "grace" => "grace = \"5s\"",
                "cwd" => "cwd = \"work\"",
                _ => return None,
            })
        });
        let msg = match &key {
            Some(k) if in_list => format!("each item of `{k}` must be {expected}, not {found}"),
            Some(k) => format!("`{k}` must be {expected}, not {found}"),
            None => format!("expected {expected}, not {found}"),
        };
        return (msg, example.map(|e| format!("write e.g. `{e}`")));
    }
    (msg.to_string(), None)
}

/// The key of the `key = value` line holding byte `offset`, when the offset is in its value.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let (key, _) = text[line_start..offset].split_once('=')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty() && !key.contains(['[', ']', '{', ','])).then(|| key.to_string())
}

/// "a" or "an" before `word`.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Where `name` first occurs in `text` as a whole word (not inside a longer identifier).
fn mentions(text: &str, name: &str) -> Option<usize> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).map(|(i, _)| i).find(|&i| {
        !text[..i].chars().next_back().is_some_and(ident) && !text[i + name.len()..].chars().next().is_some_and(ident)
    })
}

struct Ctx<'a> {
    path: &'a Path,
    source: Arc<str>,
}

impl Ctx<'_> {
    fn err(&self, span: Option<Range<usize>>, message: impl Into<String>, help: Option<String>) -> SpecError {
        SpecError { path: self.path.to_path_buf(), source: self.source.clone(), span, message: message.into(), help }
    }

    fn at<T>(&self, s: &Spanned<T>, message: impl Into<String>, help: Option<String>) -> SpecError {
        self.err(Some(s.span()), message, help)
    }

    fn validate(&self, raw: RawSpec, registry: &Registry) -> Result<Spec, SpecError> {
        let name = match &raw.name {
            Some(n) if n.get_ref().trim().is_empty() => return Err(self.at(n, "`name` is empty", None)),
            Some(n) => n.get_ref().clone(),
            None => self.path.file_stem().map_or("sweep".into(), |s| s.to_string_lossy().into_owned()),
        };
        let seed = match &raw.seed {
            Some(s) if *s.get_ref() < 0 => {
                return Err(self.at(s, "`seed` must be >= 0", Some("use a non-negative integer".into())))
            }
            Some(s) => *s.get_ref() as u64,
            None => 0,
        };
        let replicates = match &raw.replicates {
            Some(r) if !(1..=u32::MAX as i64).contains(r.get_ref()) => {
                return Err(self.at(r, "`replicates` must be at least 1", None))
            }
            Some(r) => *r.get_ref() as u32,
            None => 1,
        };
        let out = raw.out.as_ref().map_or_else(|| PathBuf::from("runs").join(&name), |o| PathBuf::from(o.get_ref()));

        let mut params = self.params(raw.params.as_ref())?;

        let (task, fixed_for_id, kind_name) = match (&raw.model, &raw.command) {
            (Some(m), None) => {
                let mt = self.model(m, &mut params, registry)?;
                let fixed = mt.fixed.clone();
                let name = mt.model.name().to_string();
                (Some(mt), fixed, name)
            }
            (None, Some(_)) => (None, Vec::new(), "command".to_string()),
            (Some(m), Some(_)) => {
                return Err(self.at(m, "a spec has either a [model] or a [command] table, not both", None))
            }
            (None, None) => return Err(self.err(
                Some(0..0),
                "the spec has neither a [model] nor a [command] table",
                Some(
                    "add `[model]` with `name = \"reaction\"` (see `sweep models`) or `[command]` with `argv = [...]`"
                        .into(),
                ),
            )),
        };
        let (columns, axes) = self.axes(&params, raw.zip.as_ref())?;
        let grid = Grid::new(columns, axes, replicates).map_err(|e| {
            self.err(
                raw.params.as_ref().map(|p| p.span()),
                e.to_string(),
                Some("split the sweep into several specs".into()),
            )
        })?;

        let task = match task {
            Some(mut mt) => {
                // Re-point the model's swept parameters at grid columns.
                for (i, s) in mt.specs.iter().enumerate() {
                    if let Some(c) = grid.column(s.name) {
                        mt.sources[i] = crate::spec::Source::Column(c);
                    }
                }
                let model_table = raw.model.as_ref().expect("a model task has a [model] table");
                self.check_points(&mt, &grid, &params, model_table, raw.params.as_ref().map(|p| p.span()))?;
                TaskKind::Model(mt)
            }
            None => {
                let c = raw.command.as_ref().expect("checked above");
                let cmd = CommandSpec::from_raw(c, &grid.columns, |span, msg, help| self.err(span, msg, help))?;
                TaskKind::Command(Arc::new(cmd))
            }
        };
        let identity = Identity::new(&kind_name, &fixed_for_id, &grid, seed);
        Ok(Spec { path: self.path.to_path_buf(), text: self.source.clone(), name, seed, out, task, grid, identity })
    }

    /// `[params]`: each key becomes a list of values.
    fn params(&self, table: Option<&Spanned<raw::SpannedTable>>) -> Result<Vec<ParamAxis>, SpecError> {
        let Some(table) = table else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for (key, value) in table.get_ref() {
            let gen = self.axis_gen(key.get_ref(), value)?;
            let values =
                generate(&gen).map_err(|m| self.at(value, format!("parameter `{}`: {m}", key.get_ref()), None))?;
            out.push(ParamAxis { name: key.get_ref().clone(), key_span: key.span(), value_span: value.span(), values });
        }
        Ok(out)
    }

    fn axis_gen(&self, name: &str, v: &Spanned<toml::Value>) -> Result<AxisGen, SpecError> {
        use toml::Value as T;
        match v.get_ref() {
            T::Array(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for item in items {
                    vals.push(self.scalar(name, item, v)?);
                }
                let any_float = vals.iter().any(|x| matches!(x, Value::Float(_)));
                if any_float {
                    // [1, 2.5] is a float axis.
                    vals = vals.into_iter().map(|x| x.coerce(ValueKind::Float).unwrap_or(x)).collect();
                }
                if let Some(first) = vals.first() {
                    if let Some(bad) = vals.iter().find(|x| x.kind() != first.kind()) {
                        return Err(self.at(
                            v,
                            format!(
                                "parameter `{name}` mixes a {} and a {} ({bad})",
                                first.kind().name(),
                                bad.kind().name()
                            ),
                            Some("give every value of a list the same type".into()),
                        ));
                    }
                }
                Ok(AxisGen::List(vals))
            }
            T::Table(t) => {
                let gens = ["linspace", "logspace", "geomspace", "range"];
                if t.len() != 1 {
                    return Err(self.at(
                        v,
                        format!("parameter `{name}`: a generator table has exactly one key"),
                        Some(format!(
                            "write e.g. `{name} = {{ linspace = [0.0, 1.0, 11] }}`; generators: {}",
                            gens.join(", ")
                        )),
                    ));
                }
                let (g, args) = t.iter().next().expect("one entry");
                let args: Vec<&T> = match args {
                    T::Array(a) => a.iter().collect(),
                    _ => Vec::new(),
                };
                let num = |x: &T| match x {
                    T::Integer(i) => Some(*i as f64),
                    T::Float(f) => Some(*f),
                    _ => None,
                };
                let three = |what: &str| -> Result<(f64, f64, i64), SpecError> {
                    match args.as_slice() {
                        [a, b, T::Integer(n)] if num(a).is_some() && num(b).is_some() => {
                            Ok((num(a).expect("checked"), num(b).expect("checked"), *n))
                        }
                        _ => Err(self.at(
                            v,
                            format!("parameter `{name}`: {what} takes [start, stop, n] with n an integer"),
                            Some(format!("write e.g. `{name} = {{ {what} = [0.1, 10.0, 20] }}`")),
                        )),
                    }
                };
                match g.as_str() {
                    "linspace" => three("linspace").map(|(a, b, n)| AxisGen::Linspace(a, b, n)),
                    "logspace" => three("logspace").map(|(a, b, n)| AxisGen::Logspace(a, b, n)),
                    "geomspace" => three("geomspace").map(|(a, b, n)| AxisGen::Geomspace(a, b, n)),
                    "range" => {
                        let conv = |x: &T| match x {
                            T::Integer(i) => Some(Value::Int(*i)),
                            T::Float(f) => Some(Value::Float(*f)),
                            _ => None,
                        };
                        let vals: Option<Vec<Value>> = args.iter().map(|x| conv(x)).collect();
                        match vals.as_deref() {
                            Some([s, e, st]) => Ok(AxisGen::Range(s.clone(), e.clone(), st.clone())),
                            Some([s, e]) => {
                                let one = if matches!((s, e), (Value::Int(_), Value::Int(_))) {
                                    Value::Int(1)
                                } else {
                                    Value::Float(1.0)
                                };
                                Ok(AxisGen::Range(s.clone(), e.clone(), one))
                            }
                            _ => Err(self.at(
                                v,
                                format!("parameter `{name}`: range takes [start, stop, step] (stop excluded)"),
                                Some(format!("write e.g. `{name} = {{ range = [0, 10, 2] }}`")),
                            )),
                        }
                    }
                    other => Err(self.at(
                        v,
                        format!("parameter `{name}`: unknown generator `{other}`"),
                        Some(did_you_mean(other, gens).unwrap_or_else(|| format!("generators: {}", gens.join(", ")))),
                    )),
                }
            }
            _ => Ok(AxisGen::List(vec![self.scalar(name, v.get_ref(), v)?])),
        }
    }

    fn scalar(&self, name: &str, v: &toml::Value, at: &Spanned<toml::Value>) -> Result<Value, SpecError> {
        use toml::Value as T;
        Ok(match v {
            T::Integer(i) => Value::Int(*i),
            T::Float(f) => Value::Float(*f),
            T::String(s) => Value::Str(s.as_str().into()),
            T::Boolean(b) => Value::Bool(*b),
            other => {
                return Err(self.at(
                    at,
                    format!("parameter `{name}`: a {} is not a parameter value", other.type_str()),
                    Some("values are integers, floats, strings or bools; lists of them; or a generator table".into()),
                ))
            }
        })
    }

    /// Groups parameters into axes: zip groups become one axis at their first member's place.
    fn axes(&self, params: &[ParamAxis], zip: Option<&raw::ZipGroups>) -> Result<(Vec<String>, Vec<Axis>), SpecError> {
        let mut group_of: Vec<Option<usize>> = vec![None; params.len()];
        let groups = zip.map(|z| z.get_ref().as_slice()).unwrap_or(&[]);
        for (g, group) in groups.iter().enumerate() {
            if group.get_ref().len() < 2 {
                return Err(self.at(group, "a zip group pairs at least two parameters", None));
            }
            let mut len = None;
            for member in group.get_ref() {
                let Some(i) = params.iter().position(|p| &p.name == member.get_ref()) else {
                    return Err(self.at(
                        member,
                        format!("zip names `{}`, which is not in [params]", member.get_ref()),
                        Some(did_you_mean(member.get_ref(), params.iter().map(|p| p.name.as_str())).unwrap_or_else(
                            || {
                                let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                                format!("zip pairs parameters swept in [params]: {}", names.join(", "))
                            },
                        )),
                    ));
                };
                if group_of[i].is_some() {
                    return Err(self.at(
                        member,
                        format!("`{}` is in more than one zip group (or twice in one)", member.get_ref()),
                        None,
                    ));
                }
                group_of[i] = Some(g);
                let n = params[i].values.len();
                match len {
                    None => len = Some((n, member.get_ref())),
                    Some((m, first)) if m != n => {
                        return Err(self.at(
                            group,
                            format!(
                                "zipped parameters have different lengths: `{first}` has {m} values, `{}` has {n}",
                                member.get_ref()
                            ),
                            Some("parameters that vary together need the same number of values".into()),
                        ))
                    }
                    _ => {}
                }
            }
        }
        let mut axes: Vec<Axis> = Vec::new();
        let mut axis_of_group: Vec<Option<usize>> = vec![None; groups.len()];
        for (i, p) in params.iter().enumerate() {
            match group_of[i] {
                Some(g) => match axis_of_group[g] {
                    Some(a) => {
                        axes[a].names.push(p.name.clone());
                        axes[a].values.push(p.values.clone());
                    }
                    None => {
                        axis_of_group[g] = Some(axes.len());
                        axes.push(Axis { names: vec![p.name.clone()], values: vec![p.values.clone()] });
                    }
                },
                None => axes.push(Axis { names: vec![p.name.clone()], values: vec![p.values.clone()] }),
            }
        }
        Ok((params.iter().map(|p| p.name.clone()).collect(), axes))
    }

    fn model(
        &self,
        table: &Spanned<raw::SpannedTable>,
        params: &mut [ParamAxis],
        registry: &Registry,
    ) -> Result<ModelTask, SpecError> {
        let t = table.get_ref();
        let get = |k: &str| t.iter().find(|(key, _)| key.get_ref() == k);
        let Some((_, name_v)) = get("name") else {
            return Err(self.at(
                table,
                "[model] has no `name`",
                Some(format!("add `name = \"...\"`; models: {}", registry.names().join(", "))),
            ));
        };
        let toml::Value::String(model_name) = name_v.get_ref() else {
            return Err(self.at(name_v, "the model `name` must be a string", None));
        };
        let Some(model) = registry.get(model_name) else {
            let names = registry.names();
            let help = did_you_mean(model_name, names.iter().map(String::as_str))
                .map(|s| format!("{s} (models: {})", names.join(", ")))
                .unwrap_or_else(|| format!("models: {} (`sweep models` describes them)", names.join(", ")));
            return Err(self.at(name_v, format!("unknown model `{model_name}`"), Some(help)));
        };
        let specs = model.params();
        let arrays = model.arrays();
        let mut save = None;
        let mut fixed_given: Vec<(usize, Value)> = Vec::new();
        let unknown = |key: &Spanned<String>, what: &str| {
            let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
            let help = did_you_mean(key.get_ref(), names.iter().copied())
                .map(|s| format!("{s} (parameters of `{model_name}`: {})", names.join(", ")))
                .unwrap_or_else(|| format!("parameters of `{model_name}`: {}", names.join(", ")));
            self.at(key, format!("model `{model_name}` has no parameter `{}`{what}", key.get_ref()), Some(help))
        };
        for (key, value) in t {
            match key.get_ref().as_str() {
                "name" => {}
                "save" => {
                    let toml::Value::Array(items) = value.get_ref() else {
                        return Err(self.at(
                            value,
                            "`save` is a list of array names",
                            Some("e.g. `save = [\"t\"]`, or `save = []` for metrics only".into()),
                        ));
                    };
                    let mut names = Vec::new();
                    for item in items {
                        let toml::Value::String(s) = item else {
                            return Err(self.at(value, "`save` is a list of array names (strings)", None));
                        };
                        if !arrays.iter().any(|a| a.name == s) {
                            let all: Vec<&str> = arrays.iter().map(|a| a.name).collect();
                            let help = did_you_mean(s, all.iter().copied()).unwrap_or_else(|| {
                                format!(
                                    "arrays of `{model_name}`: {}",
                                    if all.is_empty() { "none".into() } else { all.join(", ") }
                                )
                            });
                            return Err(self.at(value, format!("model `{model_name}` has no array `{s}`"), Some(help)));
                        }
                        names.push(s.clone());
                    }
                    save = Some(Arc::from(names));
                }
                k => {
                    let Some(i) = specs.iter().position(|s| s.name == k) else {
                        return Err(unknown(key, ""));
                    };
                    if let Some(p) = params.iter().find(|p| p.name == k) {
                        return Err(self.err(
                            Some(p.key_span.clone()),
                            format!("parameter `{k}` is both fixed in [model] and swept in [params]"),
                            Some(format!("keep one of the two; line {} fixes it", self.line_of(key.span().start))),
                        ));
                    }
                    let v = self.scalar(k, value.get_ref(), value)?;
                    fixed_given.push((i, self.typed(&specs[i], v, value.span())?));
                }
            }
        }
        for p in params.iter_mut() {
            let Some(i) = specs.iter().position(|s| s.name == p.name) else {
                let key = Spanned::new(p.key_span.clone(), p.name.clone());
                return Err(unknown(&key, " (in [params])"));
            };
            for v in p.values.iter_mut() {
                *v = self.typed(&specs[i], v.clone(), p.value_span.clone())?;
            }
        }
        let mut sources = Vec::with_capacity(specs.len());
        let mut fixed = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            if params.iter().any(|p| p.name == s.name) {
                sources.push(Source::Column(usize::MAX));
                continue;
            }
            let v = match fixed_given.iter().find(|(j, _)| *j == i) {
                Some((_, v)) => v.clone(),
                None => match &s.default {
                    Some(d) => d.clone(),
                    None => {
                        return Err(self.at(
                            table,
                            format!("model `{model_name}` needs parameter `{}` ({})", s.name, s.doc),
                            Some(format!("set it in [model] (`{} = ...`) or sweep it in [params]", s.name)),
                        ))
                    }
                },
            };
            fixed.push((s.name.to_string(), v.clone()));
            sources.push(Source::Fixed(v));
        }
        Ok(ModelTask { model, specs, sources, fixed, save })
    }

    fn typed(&self, spec: &ParamSpec, v: Value, span: Range<usize>) -> Result<Value, SpecError> {
        let Some(v2) = v.coerce(spec.kind) else {
            return Err(self.err(
                Some(span),
                format!(
                    "parameter `{}` is {} {}, not the {} {}",
                    spec.name,
                    article(spec.kind.name()),
                    spec.kind.name(),
                    v.kind().name(),
                    match &v {
                        Value::Str(s) => format!("{s:?}"),
                        other => other.to_string(),
                    }
                ),
                Some(match (spec.kind, &spec.default) {
                    (ValueKind::Str, _) => format!("quote it: `{} = \"{v}\"`", spec.name),
                    (_, Some(d)) => format!("write e.g. `{} = {d}` (the default)", spec.name),
                    (k, None) => format!("give {} {} value", article(k.name()), k.name()),
                }),
            ));
        };
        if let (Value::Str(s), false) = (&v2, spec.choices.is_empty()) {
            if !spec.choices.contains(&&**s) {
                return Err(self.err(
                    Some(span),
                    format!("parameter `{}` is one of {}, not \"{s}\"", spec.name, spec.choices.join(", ")),
                    did_you_mean(s, spec.choices.iter().copied()),
                ));
            }
        }
        Ok(v2)
    }

    /// Runs the model's own `check` on the first grid points. The error points at the
    /// parameter the model's message names (swept first, then fixed in [model]), else at
    /// [params].
    fn check_points(
        &self,
        mt: &ModelTask,
        grid: &Grid,
        params: &[ParamAxis],
        model_table: &Spanned<raw::SpannedTable>,
        params_span: Option<Range<usize>>,
    ) -> Result<(), SpecError> {
        let mut values = Vec::new();
        for point in 0..grid.points().min(CHECKED_POINTS) {
            mt.values_at(grid, point, &mut values);
            if let Err(m) = mt.model.check(&Params::new(&mt.specs, &values)) {
                let swept = params
                    .iter()
                    .filter_map(|p| Some((mentions(&m, &p.name)?, p.value_span.clone())))
                    .min_by_key(|x| x.0);
                let fixed = model_table
                    .get_ref()
                    .iter()
                    .filter(|(k, _)| !matches!(k.get_ref().as_str(), "name" | "save"))
                    .filter_map(|(k, v)| Some((mentions(&m, k.get_ref())?, v.span())))
                    .min_by_key(|x| x.0);
                let span = swept.or(fixed).map(|x| x.1).or(params_span).unwrap_or_else(|| model_table.span());
                let at: Vec<String> =
                    grid.columns.iter().enumerate().map(|(c, n)| format!("{n}={}", grid.value(point, c))).collect();
                let msg = if at.is_empty() { m } else { format!("{m} (at {})", at.join(", ")) };
                let help = format!("`sweep models {}` describes the model's parameters", mt.model.name());
                return Err(self.err(Some(span), msg, Some(help)));
            }
        }
        Ok(())
    }

    fn line_of(&self, offset: usize) -> usize {
        self.source[..offset.min(self.source.len())].matches('\n').count() + 1
    }
}

struct ParamAxis {
    name: String,
    key_span: Range<usize>,
    value_span: Range<usize>,
    values: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_finds_whole_words_only() {
        assert_eq!(mentions("rtol and atol must be > 0", "tol"), None);
        assert_eq!(mentions("rtol and atol must be > 0", "atol"), Some(9));
        assert_eq!(mentions("h_std must be >= 0, k and A > 0", "k"), Some(20));
        assert_eq!(mentions("dt must be > 0", "t"), None);
    }

    #[test]
    fn key_before_names_the_key_of_a_value() {
        let text = "seed = \"x\"\n[model]\n\"name\" = 3\nargv = [1]\n";
        assert_eq!(key_before(text, 7).as_deref(), Some("seed"));
        assert_eq!(key_before(text, 28).as_deref(), Some("name"));
        assert_eq!(key_before(text, 12), None);
        let (msg, _) = toml_message(text, "invalid type: integer `1`, expected a string", Some(38..39));
        assert_eq!(msg, "each item of `argv` must be a string, not the integer 1");
    }
}
