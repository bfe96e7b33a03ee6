//! Reading an out directory for reports and plots: its manifest and `results.csv`.
//!
//! `results.csv` is streamed row by row and never held in memory, so a report costs the
//! same memory for a thousand tasks as for ten million.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::outdir::{Manifest, OutDir};
use crate::report::ReportError;
use crate::results::columns::Columns;

/// Reads `<out>/manifest.json`.
pub(crate) fn read_manifest(out_dir: &Path) -> Result<Manifest, ReportError> {
    Ok(Manifest::load(&OutDir::new(out_dir))?)
}

/// The parameters that `<out>/spec.toml` generates with `logspace` or `geomspace`, or
/// samples with `{ log = [lo, hi] }`: their
/// values are spaced by ratio, so a log axis shows them evenly. The manifest records only
/// each axis's length, so the spec as run is read. An unreadable or unparsable spec gives
/// none (the axis then falls back on the values' spread).
pub(crate) fn log_spaced_params(out_dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(OutDir::new(out_dir).spec()) else {
        return Vec::new();
    };
    let Ok(spec) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let table = |name: &str| spec.get(name).and_then(toml::Value::as_table).into_iter().flatten();
    let by_ratio = |keys: &[&str], (_, v): &(&String, &toml::Value)| {
        v.as_table().is_some_and(|t| keys.iter().any(|k| t.contains_key(*k)))
    };
    // A [sample] range `{ log = [lo, hi] }` is uniform in log10.
    (table("params").filter(|p| by_ratio(&["logspace", "geomspace"], p)))
        .chain(table("sample").filter(|p| by_ratio(&["log"], p)))
        .map(|(k, _)| k.clone())
        .collect()
}

/// The parameters of the sweep's `[sample]` design (none without one): their values are
/// scattered, not a few values each, so their plots are scatter plots.
pub(crate) fn sampled_params(manifest: &Manifest) -> Vec<String> {
    let ranges = manifest.sample.as_ref().and_then(|s| s["ranges"].as_object());
    ranges.map_or_else(Vec::new, |r| r.keys().cloned().collect())
}

/// The refined parameter of the sweep's `[refine]` (none without one): its values differ
/// from curve to curve, so its plots mark every point and bin none (up to a scatter's cap).
pub(crate) fn refined_params(manifest: &Manifest) -> Vec<String> {
    manifest.refine.as_ref().and_then(|r| r["axis"].as_str()).map(|a| vec![a.to_string()]).unwrap_or_default()
}

/// Units of a built-in model's parameters and metrics, by name, from the model's
/// declarations ([`crate::model::ParamSpec::unit`], [`crate::model::OutputSpec::unit`]).
/// Python functions and commands declare none, nor do models sweep does not know by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Units(Vec<(String, &'static str)>);

impl Units {
    /// The units the manifest's model declares.
    pub fn of(manifest: &Manifest) -> Self {
        let Some(model) = manifest.model.as_deref().and_then(|m| crate::model::Registry::builtin().get(m)) else {
            return Units::default();
        };
        let params = model.params().into_iter().map(|p| (p.name.to_string(), p.unit));
        let metrics = model.metrics().into_iter().map(|m| (m.name.to_string(), m.unit));
        Units(params.chain(metrics).filter(|(_, u)| !u.is_empty()).collect())
    }

    /// `name (unit)`, or the name alone when it has no unit.
    pub fn label(&self, name: &str) -> String {
        match self.0.iter().find(|(n, _)| n == name) {
            Some((_, unit)) => format!("{name} ({unit})"),
            None => name.to_string(),
        }
    }
}

/// The header of `results.csv` and where each column is.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub headers: Vec<String>,
    pub columns: Columns,
}

impl Layout {
    /// The header name of column `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.headers[i]
    }

    /// `k=0.1, c0=2` for a row.
    pub fn params_text(&self, row: &csv::StringRecord) -> String {
        let mut s = String::new();
        for (n, i) in self.columns.params.clone().enumerate() {
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
    /// Reads the header of `<out>/results.csv` and checks it against the manifest.
    pub fn open(out_dir: &Path, manifest: &Manifest) -> Result<Self, ReportError> {
        let path = OutDir::new(out_dir).results();
        let mut reader = Self::reader(&path)?;
        let headers: Vec<String> = reader
            .headers()
            .map_err(|source| ReportError::Csv { path: path.clone(), source })?
            .iter()
            .map(str::to_string)
            .collect();
        let columns = Columns::locate(&headers, &manifest.param_columns())
            .map_err(|message| ReportError::Format { path: path.clone(), message })?;
        Ok(Results { path, layout: Layout { headers, columns } })
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
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    if s.is_empty() {
        None
    } else {
        s.trim().parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata;

    #[test]
    fn layout_follows_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let manifest = read_manifest(dir.path()).unwrap();
        assert_eq!(manifest.columns, ["k", "c0", "solver"]);
        let results = Results::open(dir.path(), &manifest).unwrap();
        let layout = &results.layout;
        let names = |r: std::ops::Range<usize>| r.map(|i| layout.name(i)).collect::<Vec<_>>();
        assert_eq!(names(layout.columns.params.clone()), ["k", "c0", "solver"]);
        assert_eq!(names(layout.columns.metrics.clone()), ["conc", "steps", "label"]);
        let mut first = None;
        let malformed = results
            .for_each(|row| {
                first.get_or_insert_with(|| layout.params_text(row));
            })
            .unwrap();
        assert_eq!((first.as_deref(), malformed), (Some("k=0.1, c0=1, solver=euler"), 0));
    }

    #[test]
    fn short_rows_are_skipped_and_bad_headers_named() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let path = dir.path().join("results.csv");
        let csv = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{csv}t9999,0,1,0.1")).unwrap();
        let manifest = read_manifest(dir.path()).unwrap();
        let results = Results::open(dir.path(), &manifest).unwrap();
        let mut rows = 0;
        assert_eq!(results.for_each(|_| rows += 1).unwrap(), 1, "a torn last line");
        assert_eq!(rows, 60);

        std::fs::write(&path, csv.replacen("solver", "method", 1)).unwrap();
        let err = Results::open(dir.path(), &manifest).err().unwrap().to_string();
        assert!(err.ends_with("results.csv: expected column 6 to be `solver`, found `method`"), "{err}");
    }

    #[test]
    fn manifest_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_manifest(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("cannot read ") && err.contains("manifest.json: "), "{err}");
        std::fs::write(dir.path().join("manifest.json"), "{\"format\": 2, \"name\": 3}").unwrap();
        let err = read_manifest(dir.path()).unwrap_err().to_string();
        assert!(err.ends_with("manifest.json was written by a newer sweep (format 2); upgrade sweep"), "{err}");
        std::fs::write(dir.path().join("manifest.json"), "[]").unwrap();
        let err = read_manifest(dir.path()).unwrap_err().to_string();
        assert!(err.contains("manifest.json is not a sweep manifest: "), "{err}");
    }

    #[test]
    fn log_spaced_parameters_come_from_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        assert!(log_spaced_params(dir.path()).is_empty(), "no spec");
        let spec = "name = \"x\"\n[params]\nk = { logspace = [-3, 1, 5] }\nc0 = { geomspace = [1, 100, 3] }\n\
                    t = { linspace = [0, 1, 3] }\nn = [1, 10, 100]\n\
                    [sample]\nmethod = \"sobol\"\nn = 8\nD = { log = [1e-3, 1.0] }\nx = [0.0, 1.0]\n";
        std::fs::write(dir.path().join("spec.toml"), spec).unwrap();
        assert_eq!(log_spaced_params(dir.path()), ["k", "c0", "D"]);
        std::fs::write(dir.path().join("spec.toml"), "not = toml = at all").unwrap();
        assert!(log_spaced_params(dir.path()).is_empty());
    }

    #[test]
    fn units_come_from_the_built_in_model() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let mut manifest = read_manifest(dir.path()).unwrap();
        let units = Units::of(&manifest);
        assert_eq!(units.label("k"), "k (1/s)", "reaction's rate constant");
        assert_eq!(units.label("c_final"), "c_final (mol/L)");
        assert_eq!((units.label("conversion"), units.label("seconds")), ("conversion".into(), "seconds".into()));
        manifest.model = None;
        assert_eq!(Units::of(&manifest).label("k"), "k", "commands and Python functions declare none");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(" 1.5"), Some(1.5));
        assert_eq!(parse_number("1e-3"), Some(0.001));
        assert!(parse_number("NaN").unwrap().is_nan());
        assert_eq!((parse_number(""), parse_number("x")), (None, None));
    }
}
