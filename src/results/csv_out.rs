//! Writing `results.csv`: one row per task in grid order (with adaptive replicates, per
//! task of the sweep: see [`Plan::contains`]).

use super::{Detail, Plan, Status, TaskTable};
use crate::model::Metric;
use crate::spec::Spec;
use crate::value::f64_text;
use rayon::prelude::*;
use std::io::{self, Write};
use std::path::Path;

/// Rows formatted per parallel chunk; a window of chunks is held at a time.
const CHUNK: usize = 16 * 1024;

/// The metric columns, as ids in `store.keys`: a built-in model's declared metrics first,
/// then the others in the order tasks report them, in grid order (not in the order they
/// finished, which depends on scheduling): the first task that has a metric places it.
pub fn metric_columns(spec: &Spec, store: &TaskTable) -> Vec<u32> {
    let mut placed = vec![false; store.keys.len()];
    let mut found = Vec::with_capacity(store.keys.len());
    for row in &store.rows {
        if found.len() == store.keys.len() {
            break;
        }
        for (k, _) in row.detail.metrics() {
            if !placed[*k as usize] {
                placed[*k as usize] = true;
                found.push(store.keys[*k as usize].as_str());
            }
        }
    }
    let order = metric_order(spec, found.into_iter());
    order.iter().map(|name| store.keys.iter().position(|k| k == name).expect("a found key") as u32).collect()
}

/// The metric columns of a sweep whose tasks reported the metrics `found` (each once, in
/// the order of their first appearance in grid order): a built-in model's declared metrics
/// first, in the model's order, then the others as found.
pub(super) fn metric_order<'a>(spec: &Spec, found: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let found: Vec<&str> = found.collect();
    let declared: Vec<&str> = spec.task.model().map_or_else(Vec::new, |m| {
        m.model.metrics().iter().filter_map(|o| found.iter().find(|f| **f == o.name).copied()).collect()
    });
    let rest = found.iter().filter(|f| !declared.contains(f)).copied().collect::<Vec<_>>();
    declared.into_iter().chain(rest).collect()
}

/// Writes `results.csv` for the whole grid to `path`, atomically, with the columns of
/// [`super::columns::header`].
pub fn write_results_csv(spec: &Spec, store: &TaskTable, path: &Path) -> io::Result<()> {
    let code = path.parent().and_then(crate::code::column);
    crate::io::write_atomic(path, |out| write_results(spec, store, code, out))
}

/// Writes the text of `results.csv` for the whole grid to `out`; `code`: the attribution of
/// the `code` column (see [`Table::with_code`]).
pub fn write_results(
    spec: &Spec,
    store: &TaskTable,
    code: Option<crate::code::Attribution>,
    out: &mut (impl Write + Send),
) -> io::Result<()> {
    let metrics = metric_columns(spec, store);
    let names: Vec<&str> = metrics.iter().map(|m| store.keys[*m as usize].as_str()).collect();
    let table = Table::new(spec, &names).with_code(code);
    table.header(out)?;
    table.rows(out, store, 0, &metrics, store.plan().as_ref())
}

/// What every row of one `results.csv` shares: the metric columns, and the text of each
/// parameter value and of the fixed parameters.
pub struct Table<'a> {
    spec: &'a Spec,
    names: Vec<String>,
    col_text: Vec<Vec<Vec<u8>>>,
    /// `,v1,v2`: the fixed parameters' cells.
    fixed_text: Vec<u8>,
    /// The code version of each done task, when they span more than one: then the last
    /// column, `code`, says which.
    code: Option<crate::code::Attribution>,
}

impl<'a> Table<'a> {
    /// The table of `spec`'s results with the metric columns `names`, in order.
    pub fn new(spec: &'a Spec, names: &[&str]) -> Self {
        let grid = &spec.grid;
        // A grid has few distinct values per column: format each once.
        let col_text: Vec<Vec<Vec<u8>>> = (0..grid.columns.len())
            .map(|c| {
                let (a, m) = grid.column_position(c);
                grid.axes[a].values[m]
                    .iter()
                    .map(|v| {
                        let mut t = String::new();
                        v.write_text(&mut t);
                        let mut out = Vec::new();
                        push_field(&mut out, t.as_bytes());
                        out
                    })
                    .collect()
            })
            .collect();
        // The fixed parameters (a model's, defaults included) follow the swept ones, so that
        // a results file explains itself: the same text on every row.
        let mut fixed_text = Vec::new();
        for (_, v) in &fixed_params(spec) {
            let mut t = String::new();
            v.write_text(&mut t);
            fixed_text.push(b',');
            push_field(&mut fixed_text, t.as_bytes());
        }
        let names = names.iter().map(|n| n.to_string()).collect();
        Table { spec, names, col_text, fixed_text, code: None }
    }

    /// The table with a last column, `code`, saying which version of the code each done
    /// task came from (see [`crate::code::column`]); `None` leaves it out.
    pub fn with_code(mut self, code: Option<crate::code::Attribution>) -> Self {
        self.code = code;
        self
    }

    /// The metric columns, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Writes the header line.
    pub fn header(&self, out: &mut impl Write) -> io::Result<()> {
        let mut head = csv::Writer::from_writer(Vec::new());
        let fixed = fixed_params(self.spec);
        let mut header = super::columns::header(
            self.spec.grid.columns.iter().map(String::as_str).chain(fixed.iter().map(|(n, _)| n.as_str())),
            self.names.iter().map(String::as_str),
        );
        if self.code.is_some() {
            header.push(super::columns::CODE);
        }
        head.write_record(&header)?;
        out.write_all(&head.into_inner().map_err(|e| e.into_error())?)
    }

    /// Writes the rows of `store` (fixed replicates), whose row 0 is grid task `base`, each
    /// metric in the column of its name.
    pub fn rows_by_name(&self, out: &mut (impl Write + Send), store: &TaskTable, base: u64) -> io::Result<()> {
        let ids: Vec<u32> = self
            .names
            .iter()
            .map(|name| store.keys.iter().position(|k| k == name).map_or(u32::MAX, |p| p as u32))
            .collect();
        self.rows(out, store, base, &ids, None)
    }

    /// Writes the rows of `store`, whose row 0 is grid task `base`; `metrics` are the interned
    /// ids in `store` of the metric columns (`u32::MAX`: no task of `store` has that metric).
    pub fn rows(
        &self,
        out: &mut (impl Write + Send),
        store: &TaskTable,
        base: u64,
        metrics: &[u32],
        plan: Option<&Plan>,
    ) -> io::Result<()> {
        let rows = Rows { table: self, store, base, metrics, plan };
        // Window w+1 is formatted while window w is written; two windows are alive at a time.
        let n = store.rows.len();
        let window = CHUNK * rayon::current_num_threads().max(1) * 2;
        let mut formatted: Vec<Vec<u8>> = Vec::new();
        let mut start = 0;
        while start < n || !formatted.is_empty() {
            let end = (start + window).min(n);
            let (next, written) = rayon::join(
                || {
                    (start..end)
                        .step_by(CHUNK)
                        .collect::<Vec<_>>()
                        .into_par_iter()
                        .map(|s| rows.format(s, (s + CHUNK).min(end)))
                        .collect::<Vec<Vec<u8>>>()
                },
                || formatted.iter().try_for_each(|c| out.write_all(c)),
            );
            written?;
            formatted = next;
            start = end;
        }
        Ok(())
    }
}

struct Rows<'a> {
    table: &'a Table<'a>,
    store: &'a TaskTable,
    /// The grid index of the store's first row.
    base: u64,
    metrics: &'a [u32],
    /// Adaptive replicates: only the sweep's tasks are rows.
    plan: Option<&'a Plan>,
}

/// The parameters a model sweep does not sweep, with their values, in the model's order.
pub fn fixed_params(spec: &Spec) -> Vec<(String, crate::value::Value)> {
    spec.task.fixed().to_vec()
}

impl Rows<'_> {
    /// The store's rows `start..end` as CSV bytes (quoting as the csv crate does: only fields
    /// holding a comma, a quote or a line break are quoted). The fields are pushed by hand,
    /// in the order of [`super::columns::header`], since this is the hot loop of million-row
    /// files; a test reads the output back through [`super::columns::Columns`].
    fn format(&self, start: usize, end: usize) -> Vec<u8> {
        let grid = &self.table.spec.grid;
        let mut w = Vec::with_capacity((end - start) * 96);
        let mut int = itoa::Buffer::new();
        let mut float = ryu::Buffer::new();
        let mut cells: Vec<Option<&Metric>> = vec![None; self.metrics.len()];
        for i in start..end {
            if self.plan.is_some_and(|p| !p.contains(self.store, i as u64)) || !self.store.holds(i as u64) {
                continue;
            }
            let (id, seed) = self.store.idents[i];
            let row = &self.store.rows[i];
            let (point, rep) = grid.locate(self.base + i as u64);
            w.extend_from_slice(&id.hex());
            w.push(b',');
            w.extend_from_slice(int.format(rep).as_bytes());
            w.push(b',');
            w.extend_from_slice(int.format(seed).as_bytes());
            for (c, texts) in self.table.col_text.iter().enumerate() {
                w.push(b',');
                let (a, _) = grid.column_position(c);
                match grid.refine.as_deref().filter(|s| s.column == c) {
                    // A refined curve's points differ from curve to curve.
                    Some(_) => push_field(&mut w, grid.value(point, c).to_string().as_bytes()),
                    None => w.extend_from_slice(&texts[grid.digit(point, a)]),
                }
            }
            w.extend_from_slice(&self.table.fixed_text);
            w.push(b',');
            w.extend_from_slice(row.status.as_str().as_bytes());
            w.push(b',');
            w.extend_from_slice(int.format(row.attempts).as_bytes());
            w.push(b',');
            if row.status != Status::Pending {
                crate::value::push_fixed6(&mut w, row.seconds as f64);
            }
            cells.iter_mut().for_each(|c| *c = None);
            let (mut class, mut error) = ("", "");
            for (k, v) in row.detail.metrics() {
                if let Some(pos) = self.metrics.iter().position(|m| m == k) {
                    cells[pos] = Some(v);
                }
            }
            if let Detail::Failed(c, m) = &row.detail {
                class = c.as_str();
                error = m;
            }
            for c in &cells {
                w.push(b',');
                // Numbers never need quoting.
                match c {
                    Some(Metric::Float(f)) => w.extend_from_slice(f64_text(*f, &mut float).as_bytes()),
                    Some(Metric::Int(i)) => w.extend_from_slice(int.format(*i).as_bytes()),
                    Some(Metric::UInt(u)) => w.extend_from_slice(int.format(*u).as_bytes()),
                    Some(Metric::Bool(b)) => w.extend_from_slice(crate::model::bool_text(*b).as_bytes()),
                    Some(Metric::Str(s)) => push_field(&mut w, s.as_bytes()),
                    Some(Metric::Null) | None => {}
                }
            }
            w.push(b',');
            w.extend_from_slice(class.as_bytes());
            w.push(b',');
            push_field(&mut w, error.as_bytes());
            if let Some(code) = &self.table.code {
                w.push(b',');
                if row.status == Status::Done {
                    if let Some(&k) = code.of_task.get(&id) {
                        w.extend_from_slice(code.ids[k as usize].as_bytes());
                    }
                }
            }
            w.push(b'\n');
        }
        w
    }
}

/// Appends a CSV field, quoted only when it must be.
fn push_field(out: &mut Vec<u8>, s: &[u8]) {
    if s.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for &b in s {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_like_the_csv_crate() {
        for s in ["plain", "a,b", "say \"hi\"", "two\nlines", "", " spaced "] {
            let mut ours = Vec::new();
            push_field(&mut ours, s.as_bytes());
            let mut theirs = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
            theirs.write_record([s, "x"]).unwrap();
            let theirs = theirs.into_inner().unwrap();
            assert_eq!(ours, theirs[..theirs.len() - 3], "{s:?}");
        }
    }

    #[test]
    fn undeclared_metric_columns_follow_grid_order_not_finishing_order() {
        let text = "[command]\nargv = [\"true\"]\n[params]\na = [1, 2, 3]\n";
        let spec = Spec::parse(Path::new("t.toml"), text, &crate::model::Registry::builtin()).unwrap();
        let (one, two) = (Metric::Int(1), Metric::Int(2));
        // Task 2 finishes first and interns `late`; task 0 gives `b` then `a`.
        let mut store = TaskTable::new(&spec);
        store.apply(2, 1, 0.0, Ok([("late", &one), ("a", &one)]));
        store.apply(0, 1, 0.0, Ok([("b", &one), ("a", &two)]));
        let cols: Vec<&str> = metric_columns(&spec, &store).iter().map(|&k| store.keys[k as usize].as_str()).collect();
        assert_eq!(cols, ["b", "a", "late"]);
    }

    #[test]
    fn rows_follow_the_shared_header() {
        use crate::results::columns::Columns;
        use crate::task::{FailureClass, TaskFailure};
        let text = "name = \"t\"\nseed = 1\nreplicates = 2\n[command]\nargv = [\"true\", \"{a}\", \"{b}\"]\n\
                    [params]\na = [1, 2]\nb = [\"p\", \"q,r\"]\n";
        let spec = Spec::parse(Path::new("t.toml"), text, &crate::model::Registry::builtin()).unwrap();
        let mut store = TaskTable::new(&spec);
        let (y, tag) = (Metric::Float(1.5), Metric::Str("x,y".into()));
        store.apply(0, 1, 0.5, Ok([("y", &y), ("tag", &tag)]));
        let failure = TaskFailure::new(FailureClass::Timeout, "slow, \"very\"");
        store.apply(1, 2, 0.25, Err::<[(&str, &Metric); 0], _>(&failure));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.csv");
        write_results_csv(&spec, &store, &path).unwrap();

        let mut reader = csv::Reader::from_path(&path).unwrap();
        let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        let c = Columns::locate(&headers, &spec.grid.columns).unwrap();
        assert_eq!(headers[c.params.clone()], ["a", "b"]);
        assert_eq!(
            headers[c.metrics.clone()],
            ["y", "tag"],
            "undeclared metrics in the order the first task gives them"
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 8);
        assert!(rows.iter().all(|r| r.len() == headers.len()));
        let fields =
            |r: &csv::StringRecord, cols: std::ops::Range<usize>| cols.map(|i| r[i].to_string()).collect::<Vec<_>>();
        let trailing = |r: &csv::StringRecord| (r[c.class.unwrap()].to_string(), r[c.error.unwrap()].to_string());
        assert_eq!(fields(&rows[0], c.status..c.seconds + 1), ["done", "1", "0.500000"]);
        assert_eq!(fields(&rows[0], c.metrics.clone()), ["1.5", "x,y"]);
        assert_eq!(trailing(&rows[0]), (String::new(), String::new()));
        assert_eq!(fields(&rows[1], c.status..c.seconds + 1), ["failed", "2", "0.250000"]);
        assert_eq!(fields(&rows[1], c.metrics.clone()), ["", ""]);
        assert_eq!(trailing(&rows[1]), ("timeout".to_string(), "slow, \"very\"".to_string()));
        assert_eq!(fields(&rows[2], c.status..c.seconds + 1), ["pending", "0", ""]);
        let points: Vec<_> = rows.iter().map(|r| fields(r, c.params.clone())).collect();
        assert!(points.contains(&vec!["2".to_string(), "q,r".to_string()]), "{points:?}");
        assert!(rows.iter().all(|r| r[c.task].len() == 16 && r[c.replicate].parse::<u32>().is_ok()));
        assert!(rows.iter().all(|r| r[c.seed].parse::<u64>().is_ok()));
    }

    #[test]
    fn seconds_have_six_decimals() {
        let mut out = Vec::new();
        for x in [1.5, 0.000042, 0.0, 12.3456789, 0.9999996, -1.0, f64::NAN] {
            crate::value::push_fixed6(&mut out, x);
            out.push(b' ');
        }
        assert_eq!(String::from_utf8(out).unwrap(), "1.500000 0.000042 0.000000 12.345679 1.000000 0.000000 0.000000 ");
    }
}
