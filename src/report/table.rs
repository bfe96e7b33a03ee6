//! Reading an out directory for reports and plots: the manifest, the layout of
//! `results.csv`, and streaming aggregation of its rows.
//!
//! `results.csv` is read twice, row by row, and never held in memory: the first pass
//! counts statuses, finds each column's range and distinct values, the
//! slowest tasks and the failure groups; the second pass fills per-plot aggregates
//! (count, sum, min, max) keyed by x position and series, and the duration histogram.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use indexmap::{IndexMap, IndexSet};

/// An error while reading an out directory or drawing a report or plot.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `results.csv` is not valid CSV.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: csv::Error,
    },
    /// A file does not have the expected format.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A column named on the command line does not exist.
    #[error(
        "{flag}: no {what} `{name}` in this sweep{}; available: {}",
        suggestion.as_ref().map(|s| format!(" ({s})")).unwrap_or_default(),
        if available.is_empty() { "(none)".to_string() } else { available.join(", ") }
    )]
    UnknownColumn {
        /// The command-line flag, e.g. `--x`.
        flag: &'static str,
        /// What was expected, e.g. `parameter`.
        what: &'static str,
        /// The name given.
        name: String,
        /// A "did you mean" hint, if a close name exists.
        suggestion: Option<String>,
        /// The names that would have been accepted.
        available: Vec<String>,
    },
    /// The request cannot be drawn (e.g. a non-numeric metric, too many series).
    #[error("{0}")]
    Unsupported(String),
    /// PNG output was asked for; only SVG is supported.
    #[error(
        "{}: PNG output is not supported (text in PNG plots would need TrueType fonts); \
         write an .svg file instead and convert it if needed",
        path.display()
    )]
    PngUnsupported {
        /// The requested output file.
        path: PathBuf,
    },
    /// The plotting library failed.
    #[error("drawing {what}: {message}")]
    Draw {
        /// What was being drawn.
        what: String,
        /// The plotting library's message.
        message: String,
    },
}

/// Most distinct values remembered per parameter; beyond this a numeric parameter is
/// binned and a categorical one shows only its first values.
const DISTINCT_CAP: usize = 1024;
/// Most failure groups (distinct messages) remembered; later new messages are counted
/// together.
const FAILURE_GROUP_CAP: usize = 1000;
/// How many of the slowest tasks are listed.
pub(crate) const SLOWEST: usize = 10;
/// Bins of the duration histogram.
pub(crate) const HIST_BINS: usize = 40;

/// Facts from `manifest.json` shown in the report.
#[derive(Debug, Clone, Default)]
pub(crate) struct Manifest {
    pub name: Option<String>,
    pub tool_version: Option<String>,
    pub spec_hash: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub kind: Option<String>,
    pub model: Option<String>,
    pub seed: Option<String>,
    pub replicates: Option<u64>,
    pub tasks: Option<u64>,
    pub columns: Vec<String>,
    pub fixed: Vec<(String, String)>,
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Manifest {
    /// Reads `<out>/manifest.json`.
    pub fn read(out_dir: &Path) -> Result<Self, ReportError> {
        let path = out_dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Io { path: path.clone(), source })?;
        let bad = |message: String| ReportError::Format { path: path.clone(), message };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let obj = v.as_object().ok_or_else(|| bad("expected a JSON object".into()))?;
        if let Some(format) = obj.get("format") {
            if format.as_u64() != Some(1) {
                return Err(bad(format!("unsupported manifest format {format} (this version reads format 1)")));
            }
        }
        let text_of = |key: &str| obj.get(key).filter(|v| !v.is_null()).map(json_text);
        let columns = match obj.get("columns") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::Array(a)) => a.iter().map(json_text).collect(),
            Some(_) => return Err(bad("`columns` must be an array of names".into())),
        };
        let fixed = match obj.get("fixed") {
            Some(serde_json::Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), json_text(v))).collect(),
            _ => Vec::new(),
        };
        Ok(Manifest {
            name: text_of("name"),
            tool_version: text_of("tool_version"),
            spec_hash: text_of("spec_hash"),
            created: text_of("created"),
            updated: text_of("updated"),
            kind: text_of("kind"),
            model: text_of("model"),
            seed: text_of("seed"),
            replicates: obj.get("replicates").and_then(|v| v.as_u64()),
            tasks: obj.get("tasks").and_then(|v| v.as_u64()),
            columns,
            fixed,
        })
    }
}

/// Where each column of `results.csv` is.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub headers: Vec<String>,
    pub task: usize,
    pub replicate: usize,
    pub status: usize,
    pub seconds: usize,
    pub attempts: usize,
    pub class: Option<usize>,
    pub error: Option<usize>,
    /// Parameter columns, in grid order.
    pub params: Vec<usize>,
    /// Metric columns, in file order.
    pub metrics: Vec<usize>,
}

impl Layout {
    fn from_headers(headers: Vec<String>, manifest: &Manifest, path: &Path) -> Result<Self, ReportError> {
        let bad = |message: String| ReportError::Format { path: path.to_path_buf(), message };
        let expect = |i: usize, name: &str| -> Result<(), ReportError> {
            match headers.get(i) {
                Some(h) if h == name => Ok(()),
                Some(h) => Err(bad(format!("expected column {} to be `{name}`, found `{h}`", i + 1))),
                None => Err(bad(format!("missing column `{name}` (header has {} columns)", headers.len()))),
            }
        };
        expect(0, "task")?;
        expect(1, "replicate")?;
        expect(2, "seed")?;
        // The manifest says how many parameter columns there are, so a parameter may
        // even be called `status`; without it, look for the first `status`.
        let status = if !manifest.columns.is_empty() {
            let status = 3 + manifest.columns.len();
            for (i, name) in manifest.columns.iter().enumerate() {
                expect(3 + i, name)?;
            }
            status
        } else {
            headers
                .iter()
                .skip(3)
                .position(|h| h == "status")
                .map(|p| p + 3)
                .ok_or_else(|| bad("no `status` column".into()))?
        };
        expect(status, "status")?;
        expect(status + 1, "attempts")?;
        expect(status + 2, "seconds")?;
        let n = headers.len();
        let (class, error, metrics_end) = if n >= status + 5 && headers[n - 2] == "class" && headers[n - 1] == "error" {
            (Some(n - 2), Some(n - 1), n - 2)
        } else {
            (None, None, n)
        };
        Ok(Layout {
            task: 0,
            replicate: 1,
            status,
            attempts: status + 1,
            seconds: status + 2,
            class,
            error,
            params: (3..status).collect(),
            metrics: (status + 3..metrics_end).collect(),
            headers,
        })
    }

    /// The header name of column `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.headers[i]
    }

    /// `k=0.1, c0=2` for a row.
    pub fn params_text(&self, row: &csv::StringRecord) -> String {
        let mut s = String::new();
        for (n, &i) in self.params.iter().enumerate() {
            if n > 0 {
                s.push_str(", ");
            }
            s.push_str(self.name(i));
            s.push('=');
            s.push_str(row.get(i).unwrap_or(""));
        }
        s
    }
}

/// A streaming reader of `results.csv`.
pub(crate) struct Results {
    pub path: PathBuf,
    pub layout: Layout,
}

impl Results {
    /// Reads the header of `<out>/results.csv`.
    pub fn open(out_dir: &Path, manifest: &Manifest) -> Result<Self, ReportError> {
        let path = out_dir.join("results.csv");
        let mut reader = Self::reader(&path)?;
        let headers = reader
            .headers()
            .map_err(|source| ReportError::Csv { path: path.clone(), source })?
            .iter()
            .map(str::to_string)
            .collect();
        let layout = Layout::from_headers(headers, manifest, &path)?;
        Ok(Results { path, layout })
    }

    fn reader(path: &Path) -> Result<csv::Reader<File>, ReportError> {
        let file = File::open(path).map_err(|source| ReportError::Io { path: path.to_path_buf(), source })?;
        // Flexible so a truncated last line (a sweep still being written) is skipped, not fatal.
        Ok(csv::ReaderBuilder::new().flexible(true).from_reader(file))
    }

    /// Calls `f` for every well-formed row; returns how many rows had the wrong number of
    /// fields and were skipped.
    pub fn for_each(&self, mut f: impl FnMut(&csv::StringRecord)) -> Result<u64, ReportError> {
        let mut reader = Self::reader(&self.path)?;
        let mut row = csv::StringRecord::new();
        let width = self.layout.headers.len();
        let mut malformed = 0;
        loop {
            match reader.read_record(&mut row) {
                Ok(false) => break,
                Ok(true) if row.len() == width => f(&row),
                Ok(true) => malformed += 1,
                Err(source) => return Err(ReportError::Csv { path: self.path.clone(), source }),
            }
        }
        Ok(malformed)
    }
}

/// Parses a CSV number; the empty string is not a number.
pub(crate) fn number(s: &str) -> Option<f64> {
    if s.is_empty() {
        None
    } else {
        s.trim().parse().ok()
    }
}

/// What the first pass learnt about a parameter column.
#[derive(Debug, Clone)]
pub(crate) struct ParamSurvey {
    pub column: usize,
    /// Every value parsed as a finite number.
    pub numeric: bool,
    pub min: f64,
    pub max: f64,
    /// Distinct values in first-seen order, at most [`DISTINCT_CAP`].
    pub distinct: IndexSet<String>,
    /// More distinct values existed than were kept.
    pub overflow: bool,
}

impl ParamSurvey {
    fn new(column: usize) -> Self {
        ParamSurvey {
            column,
            numeric: true,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            distinct: IndexSet::new(),
            overflow: false,
        }
    }

    fn add(&mut self, v: &str) {
        if !self.overflow && !self.distinct.contains(v) {
            if self.distinct.len() < DISTINCT_CAP {
                self.distinct.insert(v.to_string());
            } else {
                self.overflow = true;
            }
        }
        if self.numeric {
            match number(v) {
                Some(x) if x.is_finite() => {
                    self.min = self.min.min(x);
                    self.max = self.max.max(x);
                }
                _ => self.numeric = false,
            }
        }
    }

    /// How many distinct values, if it is known exactly.
    pub fn distinct_count(&self) -> Option<usize> {
        (!self.overflow).then_some(self.distinct.len())
    }

    /// Has at least two values (worth an axis).
    pub fn varies(&self) -> bool {
        self.overflow || self.distinct.len() >= 2
    }
}

/// What the first pass learnt about a metric column (done rows only).
#[derive(Debug, Clone)]
pub(crate) struct MetricSurvey {
    pub column: usize,
    /// Every non-empty value parsed as a number (NaN and infinities included).
    pub numeric: bool,
    /// A value that was not a number, for error messages.
    pub example_bad: Option<String>,
    /// Finite values seen.
    pub finite: u64,
    /// NaN or infinite values seen (left out of plots).
    pub nonfinite: u64,
}

/// One of the slowest tasks.
#[derive(Debug, Clone)]
pub(crate) struct Slow {
    pub seconds: f64,
    /// The value as written in results.csv.
    pub seconds_text: String,
    pub task: String,
    pub replicate: String,
    pub params: String,
}

/// Failed tasks with the same message.
#[derive(Debug, Clone)]
pub(crate) struct FailureGroup {
    pub count: u64,
    /// Classes seen with this message, with counts.
    pub classes: IndexMap<String, u64>,
    /// The first failed task with this message.
    pub example_task: String,
    pub example_replicate: String,
    pub example_params: String,
}

/// The first pass over `results.csv`.
#[derive(Debug, Clone)]
pub(crate) struct Survey {
    pub rows: u64,
    pub malformed: u64,
    /// Row counts by status, `done`, `failed`, `pending` first.
    pub status: IndexMap<String, u64>,
    pub params: Vec<ParamSurvey>,
    pub metrics: Vec<MetricSurvey>,
    /// Durations of done rows.
    pub seconds_count: u64,
    pub seconds_sum: f64,
    pub seconds_min: f64,
    pub seconds_max: f64,
    /// Slowest done tasks, slowest first.
    pub slowest: Vec<Slow>,
    /// Failure groups by message, in first-seen order.
    pub failures: IndexMap<String, FailureGroup>,
    /// Failures whose message arrived after [`FAILURE_GROUP_CAP`] groups existed.
    pub failures_ungrouped: u64,
}

impl Survey {
    /// Runs the first pass.
    pub fn scan(results: &Results) -> Result<Self, ReportError> {
        let layout = &results.layout;
        let mut s = Survey {
            rows: 0,
            malformed: 0,
            status: ["done", "failed", "pending"].into_iter().map(|k| (k.to_string(), 0)).collect(),
            params: layout.params.iter().map(|&c| ParamSurvey::new(c)).collect(),
            metrics: layout
                .metrics
                .iter()
                .map(|&column| MetricSurvey { column, numeric: true, example_bad: None, finite: 0, nonfinite: 0 })
                .collect(),
            seconds_count: 0,
            seconds_sum: 0.0,
            seconds_min: f64::INFINITY,
            seconds_max: f64::NEG_INFINITY,
            slowest: Vec::with_capacity(SLOWEST + 1),
            failures: IndexMap::new(),
            failures_ungrouped: 0,
        };
        s.malformed = results.for_each(|row| s.add(layout, row))?;
        Ok(s)
    }

    fn add(&mut self, layout: &Layout, row: &csv::StringRecord) {
        self.rows += 1;
        let status = &row[layout.status];
        match self.status.get_mut(status) {
            Some(n) => *n += 1,
            None => {
                self.status.insert(status.to_string(), 1);
            }
        }
        for p in &mut self.params {
            p.add(&row[p.column]);
        }
        match status {
            "done" => self.add_done(layout, row),
            "failed" => self.add_failed(layout, row),
            _ => {}
        }
    }

    fn add_done(&mut self, layout: &Layout, row: &csv::StringRecord) {
        for m in &mut self.metrics {
            let v = &row[m.column];
            if v.is_empty() {
                continue;
            }
            match number(v) {
                Some(x) if x.is_finite() => m.finite += 1,
                Some(_) => m.nonfinite += 1,
                None => {
                    m.numeric = false;
                    if m.example_bad.is_none() {
                        m.example_bad = Some(v.to_string());
                    }
                }
            }
        }
        let Some(secs) = number(&row[layout.seconds]).filter(|x| x.is_finite()) else {
            return;
        };
        self.seconds_count += 1;
        self.seconds_sum += secs;
        self.seconds_min = self.seconds_min.min(secs);
        self.seconds_max = self.seconds_max.max(secs);
        if self.slowest.len() < SLOWEST || secs > self.slowest[self.slowest.len() - 1].seconds {
            let at = self.slowest.partition_point(|s| s.seconds >= secs);
            self.slowest.insert(
                at,
                Slow {
                    seconds: secs,
                    seconds_text: row[layout.seconds].to_string(),
                    task: row[layout.task].to_string(),
                    replicate: row[layout.replicate].to_string(),
                    params: layout.params_text(row),
                },
            );
            self.slowest.truncate(SLOWEST);
        }
    }

    fn add_failed(&mut self, layout: &Layout, row: &csv::StringRecord) {
        let message = layout.error.map_or("", |i| &row[i]);
        let class = layout.class.map_or("", |i| &row[i]);
        let known = self.failures.get_index_of(message);
        let group = match known {
            Some(i) => &mut self.failures[i],
            None if self.failures.len() < FAILURE_GROUP_CAP => {
                let g = FailureGroup {
                    count: 0,
                    classes: IndexMap::new(),
                    example_task: row[layout.task].to_string(),
                    example_replicate: row[layout.replicate].to_string(),
                    example_params: layout.params_text(row),
                };
                self.failures.entry(message.to_string()).or_insert(g)
            }
            None => {
                self.failures_ungrouped += 1;
                return;
            }
        };
        group.count += 1;
        *group.classes.entry(class.to_string()).or_insert(0) += 1;
    }

    /// Rows with status `s`.
    pub fn count(&self, s: &str) -> u64 {
        self.status.get(s).copied().unwrap_or(0)
    }

    /// The survey of the parameter in column `column`.
    pub fn param(&self, column: usize) -> Option<&ParamSurvey> {
        self.params.iter().find(|p| p.column == column)
    }

    /// The survey of the metric in column `column`.
    pub fn metric(&self, column: usize) -> Option<&MetricSurvey> {
        self.metrics.iter().find(|m| m.column == column)
    }

    /// Failure groups, most frequent first (ties in first-seen order).
    pub fn failure_groups(&self) -> Vec<(&String, &FailureGroup)> {
        let mut v: Vec<_> = self.failures.iter().collect();
        v.sort_by_key(|g| std::cmp::Reverse(g.1.count));
        v
    }
}

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
    /// Builds the axis for a surveyed parameter with at most `max_slots` positions.
    pub fn new(p: &ParamSurvey, max_slots: usize) -> Self {
        if !p.numeric {
            let names: IndexSet<String> = p.distinct.iter().take(max_slots).cloned().collect();
            let dropped = p.overflow || p.distinct.len() > names.len();
            return Axis { column: p.column, kind: AxisKind::Categories { names, dropped }, log: false };
        }
        // Spread over three or more decades of positive values: use a log axis.
        let log = p.min > 0.0 && p.max / p.min >= 1000.0;
        let t = |x: f64| if log { x.log10() } else { x };
        let kind = match p.distinct_count() {
            Some(n) if n <= max_slots => {
                let mut v: Vec<f64> = p.distinct.iter().filter_map(|s| number(s)).map(t).collect();
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
                let x = number(raw)?;
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
                    v.sort_by(|a, b| number(a).unwrap_or(0.0).total_cmp(&number(b).unwrap_or(0.0)));
                }
                v
            }
        };
        let series_index = labels.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect();
        let cells = vec![Agg::default(); labels.len() * x.slots()];
        PlotAgg { y, series_column: series.map(|p| p.column), series: labels, series_index, cells, x }
    }

    fn add(&mut self, row: &csv::StringRecord) {
        let Some(y) = number(&row[self.y]).filter(|v| v.is_finite()) else {
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
    let layout = &results.layout;
    let mut hist = (with_histogram && survey.seconds_count > 0)
        .then(|| Histogram::new(survey.seconds_min, survey.seconds_max, HIST_BINS));
    results.for_each(|row| {
        if &row[layout.status] != "done" {
            return;
        }
        if let Some(h) = hist.as_mut() {
            if let Some(secs) = number(&row[layout.seconds]).filter(|x| x.is_finite()) {
                h.add(secs);
            }
        }
        for p in plots.iter_mut() {
            p.add(row);
        }
    })?;
    Ok(hist)
}

/// Fake out directories for tests (shared with the integration tests and the bench).
#[cfg(test)]
#[path = "../../tests/support/outdir.rs"]
pub(crate) mod testdata;

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
}
