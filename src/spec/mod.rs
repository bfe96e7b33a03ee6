//! Specs: a TOML file validated into a [`Spec`], with every error tied to its line.

mod command;
mod common_seed;
mod duration;
mod error;
mod kind;
mod model;
mod output;
mod overrides;
mod params;
mod raw;
mod refine;
mod replicates;
mod resources;
mod sample;
mod toml_error;
mod worker;

pub use error::SpecError;
pub use overrides::{merge, recorded, Override};
pub use raw::{
    RawAdaptive, RawCommand, RawDims, RawOutput, RawPython, RawRefine, RawReplicates, RawResources, RawSpec, RawUntil,
    RawWorker,
};
pub use worker::PYTHON_EXTRAS;

use crate::command::CommandSpec;
use crate::grid::{Adaptive, Design, Grid, Identity, Refine};
use crate::model::{Model, ParamSpec, Registry};
use crate::value::Value;
use crate::worker::WorkerSpec;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

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
    /// The directory the spec's inputs (programs, Python files) resolve against: its own.
    pub base: PathBuf,
    /// What each task runs.
    pub task: TaskKind,
    /// The swept parameters.
    pub grid: Grid,
    /// Ids and seeds of the grid's tasks.
    pub identity: Identity,
    /// The parameters left out of seeds (`common_seed`): tasks that differ only in them
    /// share their seed. In spec order; empty without the key.
    pub common_seed: Vec<String>,
    /// Adaptive replicates: the grid holds `max` replicates per point, of which a point
    /// runs as many as the rule asks for. `None`: every replicate runs.
    pub adaptive: Option<Adaptive>,
    /// The `[sample]` design, whose points are the grid's [`Grid::sample`] axis.
    pub design: Option<Design>,
    /// `[refine]`: the curves along one axis, refined in rounds; the grid's
    /// [`Grid::refine`] slots hold their points.
    pub refine: Option<Refine>,
    /// Where a task's arrays go (`[output] arrays`).
    pub arrays: ArrayLayout,
    /// The names of saved arrays' own dimensions (`[output] dims`), implied entries
    /// included; empty without the key.
    pub dims: Dims,
    /// What each task needs (`[resources]`): threads, memory, GPUs.
    pub resources: crate::resources::Request,
}

/// Array name → the names of its own dimensions (`[output] dims`, checked in
/// `spec/output.rs`), with the implied entries: a dimension that an array of its own name
/// does not list gets `D = ["D"]`, so that a returned `t` is the coordinate of the `t` other
/// arrays run along. Empty without the key.
pub type Dims = std::collections::BTreeMap<String, Vec<String>>;

/// Where the arrays of done tasks are kept (`[output] arrays = "npy" | "zarr"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ArrayLayout {
    /// `tasks/<task>/<name>.npy`, one file per array per task (the default, as before).
    #[default]
    Npy,
    /// One Zarr v3 store, `store.zarr/`, built from staging files (see `crate::store`).
    Zarr,
}

/// What a task runs: a model, an external command, or a request to a persistent worker.
pub enum TaskKind {
    /// A model from the registry.
    Model(ModelTask),
    /// An external program, one process per task.
    Command(Arc<CommandSpec>),
    /// A persistent worker process (`[python]` or `[worker]`), many tasks per process.
    Worker(Arc<WorkerSpec>),
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

/// The largest spec file read (16 MiB): far more than any grid written by hand or by a
/// script needs, and a bound on what a mistaken path (a log, a data file) costs.
pub const MAX_SPEC_BYTES: u64 = 16 << 20;

impl Spec {
    /// Reads and validates the spec file at `path` against the models of `registry`.
    pub fn from_file(path: &Path, registry: &Registry) -> Result<Spec, SpecError> {
        let text = Self::read_text(path)?;
        Self::parse(path, &text, registry)
    }

    /// The text of the spec file at `path`.
    fn read_text(path: &Path) -> Result<String, SpecError> {
        let error = |message: String| SpecError {
            path: path.to_path_buf(),
            source: "".into(),
            span: None,
            message,
            help: Some("pass the path of a TOML spec file, e.g. `sweep run sweeps/reaction.toml`".into()),
        };
        // Checked before it is opened: a device (`/dev/zero`) would be read forever, and a
        // FIFO would block the open.
        let meta = std::fs::metadata(path).map_err(|e| error(format!("cannot read the spec: {e}")))?;
        if !meta.is_file() {
            return Err(error("the spec is not a regular file (a directory, a device or a pipe)".into()));
        }
        let too_big = || error(format!("the spec is more than {} bytes, larger than any spec", MAX_SPEC_BYTES));
        if meta.len() > MAX_SPEC_BYTES {
            return Err(too_big());
        }
        let mut bytes = Vec::new();
        let file = std::fs::File::open(path).map_err(|e| error(format!("cannot read the spec: {e}")))?;
        // Bounded even if the file grows while it is read.
        std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_SPEC_BYTES + 1), &mut bytes)
            .map_err(|e| error(format!("cannot read the spec: {e}")))?;
        if bytes.len() as u64 > MAX_SPEC_BYTES {
            return Err(too_big());
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                // The bytes before the bad one are text: point there, in a readable copy.
                let at = e.utf8_error().valid_up_to();
                let shown = String::from_utf8_lossy(e.as_bytes()).into_owned();
                return Err(SpecError {
                    path: path.to_path_buf(),
                    source: shown.into(),
                    span: Some(at..at + 1),
                    message: "the spec is not UTF-8 text".into(),
                    help: Some("save the file as UTF-8 (TOML files are UTF-8)".into()),
                });
            }
        };
        Ok(text)
    }

    /// Validates spec text; `path` names it in messages and gives the default name.
    pub fn parse(path: &Path, text: &str, registry: &Registry) -> Result<Spec, SpecError> {
        let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let base = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => here.join(p),
            _ => here,
        };
        Self::parse_with(path, text, registry, base, true)
    }

    /// Validates the spec text a sweep saved (its `spec.toml`), whose inputs resolve against
    /// `base`, the directory of the spec file it was started from. Programs, files and
    /// interpreters are not looked for: `status`, `collect` and `report` may run where they
    /// are not (a login node, another machine).
    pub fn parse_saved(path: &Path, text: &str, registry: &Registry, base: PathBuf) -> Result<Spec, SpecError> {
        Self::parse_with(path, text, registry, base, false)
    }

    fn parse_with(
        path: &Path,
        text: &str,
        registry: &Registry,
        base: PathBuf,
        check_inputs: bool,
    ) -> Result<Spec, SpecError> {
        let ctx = Ctx { path, source: text.into(), base, check_inputs };
        let raw: RawSpec = toml::from_str(text).map_err(|e| {
            let (msg, help) = toml_error::toml_message(text, e.message().trim(), e.span());
            ctx.err(e.span(), msg, help)
        })?;
        ctx.validate(raw, registry)
    }

    /// Total tasks.
    pub fn task_count(&self) -> u64 {
        self.grid.task_count()
    }

    /// Whether the sweep chooses its tasks in rounds (adaptive replicates, `[refine]`):
    /// then it runs in one process, not in shards or windows, and on the whole grid.
    pub fn in_rounds(&self) -> bool {
        self.adaptive.is_some() || self.refine.is_some()
    }

    /// What the spec asks for that works but may not be what the user wants.
    pub fn warnings(&self) -> Vec<String> {
        self.design.iter().filter_map(Design::warning).collect()
    }
}

/// Why `name` cannot be a directory's name under `runs/`, if it cannot.
fn not_a_file_name(name: &str) -> Option<&'static str> {
    if name.contains('/') || name.contains('\\') {
        Some("it holds a path separator")
    } else if name == "." || name == ".." {
        Some("it is `.` or `..`")
    } else if name.contains('\0') {
        Some("it holds a NUL character")
    } else if name.len() > 255 {
        Some("it is longer than 255 bytes")
    } else {
        None
    }
}

/// What every validation step needs: the file, for messages, and its text.
struct Ctx<'a> {
    path: &'a Path,
    source: Arc<str>,
    /// The directory inputs resolve against: the spec file's.
    base: PathBuf,
    /// Whether programs, files and interpreters the spec names must exist.
    check_inputs: bool,
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
            Some(n) => {
                if let Some(why) = not_a_file_name(n.get_ref()) {
                    return Err(self.at(
                        n,
                        format!("`name` must be a plain file name (it names runs/<name>/): {why}"),
                        Some("e.g. `name = \"reaction-k\"`; to write elsewhere, set `out = \"...\"`".into()),
                    ));
                }
                n.get_ref().clone()
            }
            None => self.path.file_stem().map_or("sweep".into(), |s| s.to_string_lossy().into_owned()),
        };
        let seed = match &raw.seed {
            Some(s) if *s.get_ref() < 0 => {
                return Err(self.at(s, "`seed` must be >= 0", Some("use a non-negative integer".into())))
            }
            Some(s) => *s.get_ref() as u64,
            None => 0,
        };
        let (replicates, adaptive) = self.replicates(raw.replicates.as_ref())?;
        let out = raw.out.as_ref().map_or_else(|| PathBuf::from("runs").join(&name), |o| PathBuf::from(o.get_ref()));

        let mut params = self.params(raw.params.as_ref(), raw.zip.as_ref())?;
        let design = match self.sample(raw.sample.as_ref(), &params, seed)? {
            Some((design, sampled)) => {
                params.extend(sampled);
                if let Some(p) = params.iter().find(|p| p.name == "sample") {
                    return Err(self.err(
                        Some(p.key_span.clone()),
                        "a parameter called `sample` would share its name with the [sample] design's dimension",
                        Some("rename the parameter".into()),
                    ));
                }
                Some(design)
            }
            None => None,
        };
        let refine = self.refine(raw.refine.as_ref(), &params, raw.zip.as_ref(), adaptive.is_some())?;

        let tables = [
            raw.model.as_ref().map(|t| ("model", t.span())),
            raw.command.as_ref().map(|t| ("command", t.span())),
            raw.python.as_ref().map(|t| ("python", t.span())),
            raw.worker.as_ref().map(|t| ("worker", t.span())),
        ];
        let given: Vec<(&str, Range<usize>)> = tables.into_iter().flatten().collect();
        match given.as_slice() {
            [] => {
                return Err(self.err(
                    Some(0..0),
                    "the spec has no [model], [command], [python] or [worker] table",
                    Some(
                        "add `[model]` with `name = \"reaction\"` (see `sweep models`), `[python]` with \
                         `function = \"model.py:simulate\"`, or `[command]` with `argv = [...]`"
                            .into(),
                    ),
                ))
            }
            [_] => {}
            [(first, _), (second, span), ..] => {
                return Err(self.err(
                    Some(span.clone()),
                    format!("a spec has one of [model], [command], [python] and [worker]; this one has [{first}] and [{second}]"),
                    Some("keep the table that says what a task runs".into()),
                ))
            }
        }
        let (task, fixed_for_id, kind_name) = match &raw.model {
            Some(m) => {
                let mt = self.model(m, &mut params, registry)?;
                if let Some(a) = &adaptive {
                    self.check_adaptive_metric(a, mt.model.as_ref())?;
                }
                if let Some(r) = &refine {
                    self.check_refine_metric(r, mt.model.as_ref())?;
                }
                let fixed = mt.fixed.clone();
                let name = mt.model.name().to_string();
                (Some(mt), fixed, name)
            }
            None => (None, Vec::new(), given[0].0.to_string()),
        };
        let mut layout = self.axes(&params, raw.zip.as_ref())?;
        let refine_column = refine.as_ref().map(|r| r.pad(&mut layout));
        let mut grid = Grid::new(layout.columns, layout.axes, replicates).map_err(|e| {
            self.err(
                raw.params.as_ref().map(|p| p.span()),
                e.to_string(),
                Some("split the sweep into several specs".into()),
            )
        })?;
        grid.sample = layout.sample;
        if let (Some(r), Some(col)) = (&refine, refine_column) {
            grid.refine_along(col, r.start);
        }

        let task = match task {
            Some(mt) => {
                let model_table = raw.model.as_ref().expect("a model task has a [model] table");
                self.check_points(&mt, &grid, &params, model_table, raw.params.as_ref().map(|p| p.span()))?;
                TaskKind::Model(mt)
            }
            None => match (&raw.command, &raw.python, &raw.worker) {
                (Some(c), _, _) => TaskKind::Command(Arc::new(self.command(c, &grid.columns)?)),
                (_, Some(p), _) => TaskKind::Worker(Arc::new(self.python(p, &grid.columns)?)),
                (_, _, Some(w)) => TaskKind::Worker(Arc::new(self.worker(w)?)),
                (None, None, None) => unreachable!("one task table was checked above"),
            },
        };
        let common_seed = self.common_seed(raw.common_seed.as_ref(), &grid, &fixed_for_id)?;
        let identity = Identity::new(&kind_name, &fixed_for_id, &grid, seed).sharing_seed(&common_seed);
        let arrays = self.arrays(raw.output.as_ref(), &task)?;
        if let (Some(_), ArrayLayout::Zarr, Some(r)) = (&refine, arrays, &raw.refine) {
            return Err(self.at(
                r,
                "[refine] keeps arrays one file per task: its curves have no fixed shape for `arrays = \"zarr\"`",
                Some("remove `arrays = \"zarr\"` from [output]".into()),
            ));
        }
        let dims = self.dims(raw.output.as_ref().and_then(|o| o.get_ref().dims.as_ref()), &task, &grid.columns)?;
        let resources = self.resources(raw.resources.as_ref())?;
        Ok(Spec {
            path: self.path.to_path_buf(),
            text: self.source.clone(),
            name,
            seed,
            out,
            base: self.base.clone(),
            task,
            grid,
            identity,
            common_seed,
            adaptive: adaptive.map(|a| a.rule),
            design,
            refine: refine.map(|r| r.rule),
            arrays,
            dims,
            resources,
        })
    }

    /// `[output] arrays`: the store takes the arrays of built-in models and of persistent
    /// workers (`[python]`, `[worker]`: their `.npy` files are staged as float64 when a task
    /// is done); a `[command]` writes its own files, which sweep leaves as they are.
    fn arrays(&self, output: Option<&Spanned<RawOutput>>, task: &TaskKind) -> Result<ArrayLayout, SpecError> {
        let Some(a) = output.and_then(|o| o.get_ref().arrays.as_ref()) else { return Ok(ArrayLayout::Npy) };
        match (a.get_ref().as_str(), task) {
            ("npy", _) => Ok(ArrayLayout::Npy),
            ("zarr", TaskKind::Model(_) | TaskKind::Worker(_)) => Ok(ArrayLayout::Zarr),
            ("zarr", _) => Err(self.at(
                a,
                "`arrays = \"zarr\"` needs a built-in model, [python] or [worker]; a [command] writes its own files",
                Some("remove the [output] table, or use `arrays = \"npy\"`".into()),
            )),
            (other, _) => Err(self.at(
                a,
                format!("unknown array layout `{other}`"),
                Some("use `arrays = \"npy\"` (one file per array and task) or `arrays = \"zarr\"` (one store)".into()),
            )),
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.source[..offset.min(self.source.len())].matches('\n').count() + 1
    }
}
