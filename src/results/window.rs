//! `results.csv` from the journals in bounded memory: a window of the grid at a time.
//!
//! A first pass reads every journal once, checks that each record says where its task is
//! (`"i"`), and notes the metric names (the columns), the counts, and where in each journal
//! each window's records lie (byte ranges: a run writes tasks about in grid order, so a
//! window's records are close together). Then, for each window of [`WINDOW`] tasks, only
//! those ranges are read again, records of other windows in them passed over unparsed (a
//! glance at `"i"`), and the window's rows are folded and written. Memory is one window's
//! rows and the ranges, whatever the size of the grid or the number of journals.

use super::csv_out::{metric_order, Table};
use super::{Ledger, TaskTable};
use crate::journal::{journal_files, quick_index, scan_lines_checked, Item, Record, ScanStats};
use crate::spec::Spec;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// Tasks per window: about 60 MB of rows. `SWEEP_RESULTS_WINDOW` sets another size (tests).
pub const WINDOW: u64 = 1 << 20;

fn window() -> u64 {
    std::env::var("SWEEP_RESULTS_WINDOW").ok().and_then(|v| v.parse().ok()).filter(|&w| w > 0).unwrap_or(WINDOW)
}

/// Records of a window closer than this in a journal are read as one range.
const GAP: u64 = 1 << 20;

/// A byte range of a journal holding records of a window, and whether the records at its
/// start are placed by their `"i"` without a check (their run's header names the spec).
#[derive(Clone, Debug)]
struct Span {
    bytes: std::ops::Range<u64>,
    trusted: bool,
}

/// What the first pass found.
pub struct Survey {
    files: Vec<PathBuf>,
    /// Tasks per window.
    window: u64,
    /// For each journal, for each window: where its records are.
    spans: Vec<Vec<Vec<Span>>>,
    /// Metric name → (first grid index of a done record holding it, its place in that record).
    first_seen: HashMap<String, (u64, usize)>,
    /// Every task's state.
    pub ledger: Ledger,
    /// Torn lines skipped.
    pub scan: ScanStats,
    /// Records ignored because their `"i"` did not match their id ([`Placed::Foreign`]).
    pub foreign: u64,
}

impl Survey {
    /// Some done record holds a metric.
    pub fn has_metrics(&self) -> bool {
        !self.first_seen.is_empty()
    }
}

/// Where a journal record's task is in a spec's grid (see [`place`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placed {
    /// At this index: the task there has the record's id.
    At(u64),
    /// Only its id can tell: it has no `"i"`, or one of another grid (its run's header names
    /// another spec).
    Unknown,
    /// Its `"i"`, in a run of this very spec, names a task with another id, or none: a
    /// forged or damaged record, which places no task (the tasks run again).
    Foreign,
}

/// Where record `r`'s task is in `spec`'s grid: its `"i"`, checked against its id on every
/// read (a record whose `"i"` names another task's place would otherwise make that task
/// done with foreign values). `this_spec`: the record's run named this spec in its header.
pub fn place(spec: &Spec, this_spec: bool, r: &Record<'_>) -> Placed {
    let matches = |i: u64| match r.index_matches {
        Some(m) => m,
        None => i < spec.task_count() && spec.identity.id(&spec.grid, i) == r.task,
    };
    match r.index {
        Some(i) if matches(i) => Placed::At(i),
        Some(_) if this_spec => Placed::Foreign,
        _ => Placed::Unknown,
    }
}

/// The check of [`place`], for [`crate::journal::scan_lines_checked`] to make as it parses.
pub fn index_check(spec: &Spec) -> impl Fn(u64, crate::grid::TaskId) -> bool + Sync + '_ {
    let (identity, grid, n) = (&spec.identity, &spec.grid, spec.task_count());
    move |i, id| i < n && identity.id(grid, i) == id
}

/// The warning for `n` records whose `"i"` did not match their id.
pub fn foreign_warning(n: u64) -> Option<String> {
    let s = if n == 1 { "" } else { "s" };
    (n > 0).then(|| {
        format!("ignored {n} journal record{s} whose grid index (\"i\") names a task with another id (forged or damaged); their tasks run again")
    })
}

/// The first pass over the journals in `root`; `None` when a record does not say where its
/// task is in this grid (a journal written before records carried `"i"`): then only the
/// ids place tasks, and the caller builds the whole store instead.
pub fn survey(spec: &Spec, root: &Path, spec_hash: &str) -> io::Result<Option<Survey>> {
    let files = journal_files(root)?;
    let window = window();
    let windows = spec.task_count().div_ceil(window) as usize;
    let mut first_seen: HashMap<String, (u64, usize)> = HashMap::new();
    let mut ledger = Ledger::new(spec.task_count());
    let mut scan = ScanStats::default();
    let mut spans = Vec::with_capacity(files.len());
    let mut foreign = 0;
    for f in &files {
        let (mut trusted, mut placed_all) = (false, true);
        let mut mine: Vec<Vec<Span>> = vec![Vec::new(); windows];
        scan_lines_checked(
            f,
            0..u64::MAX,
            &mut scan,
            |_| true,
            Some(&index_check(spec)),
            |line, item| match item {
                Item::Header(h) => trusted = h == Some(spec_hash),
                Item::Record(r) if placed_all => {
                    let i = match place(spec, trusted, &r) {
                        Placed::At(i) => i,
                        Placed::Foreign => return foreign += 1,
                        Placed::Unknown => return placed_all = false,
                    };
                    let w = &mut mine[(i / window) as usize];
                    match w.last_mut() {
                        Some(s) if line.start <= s.bytes.end + GAP => s.bytes.end = line.end,
                        _ => w.push(Span { bytes: line, trusted }),
                    }
                    if r.done {
                        for (pos, (k, _)) in r.metrics.iter().enumerate() {
                            match first_seen.get_mut(k.as_ref()) {
                                Some(seen) => *seen = (*seen).min((i, pos)),
                                None => {
                                    first_seen.insert(k.to_string(), (i, pos));
                                }
                            }
                        }
                    }
                    ledger.apply(i, r.attempt, r.died, r.outcome());
                }
                Item::Record(_) => {}
            },
        )?;
        if !placed_all {
            return Ok(None);
        }
        spans.push(mine);
    }
    Ok(Some(Survey { files, window, spans, first_seen, ledger, scan, foreign }))
}

/// Writes `results.csv` of the sweep surveyed in `survey` to `path`, atomically, a window
/// at a time: byte for byte what [`super::write_results_csv`] writes from the whole store.
pub fn write(spec: &Spec, survey: &Survey, spec_hash: &str, path: &Path) -> io::Result<()> {
    let code = path.parent().and_then(crate::code::column);
    crate::io::write_atomic(path, |out| write_to(spec, survey, spec_hash, code, out))
}

/// Writes the text of `results.csv` of the sweep surveyed in `survey` to `out`, a window at
/// a time; `code`: the attribution of the `code` column (see [`Table::with_code`]). Reads
/// only the byte ranges the survey found, so records appended since are not read.
pub fn write_to(
    spec: &Spec,
    survey: &Survey,
    spec_hash: &str,
    code: Option<crate::code::Attribution>,
    out: &mut (impl io::Write + Send),
) -> io::Result<()> {
    // The columns: as `metric_columns` orders them, from each name's first appearance.
    let mut seen: Vec<(&str, (u64, usize))> = survey.first_seen.iter().map(|(k, &at)| (k.as_str(), at)).collect();
    seen.sort_by_key(|&(k, at)| (at, k));
    let names: Vec<&str> = metric_order(spec, seen.iter().map(|(k, _)| *k));
    let table = Table::new(spec, &names).with_code(code);
    let n = spec.task_count();
    table.header(out)?;
    let mut lo = 0;
    while lo < n {
        let hi = (lo + survey.window).min(n);
        table.rows_by_name(out, &fold_window(spec, survey, spec_hash, lo, hi)?, lo)?;
        lo = hi;
    }
    Ok(())
}

/// The rows of grid tasks `lo..hi`, folded from every journal record of theirs, in order.
fn fold_window(spec: &Spec, survey: &Survey, spec_hash: &str, lo: u64, hi: u64) -> io::Result<TaskTable> {
    let mut store = TaskTable::range(spec, lo, hi);
    let mut scan = ScanStats::default();
    let w = (lo / survey.window) as usize;
    // The survey checked every record's index against its id: only when it found a
    // mismatch are they checked again, to pass over the same records.
    let (checked, unchecked) = (index_check(spec), |_: u64, _: crate::grid::TaskId| true);
    let check: crate::journal::IndexCheck<'_> = if survey.foreign > 0 { &checked } else { &unchecked };
    // Journals in order, each one's spans in order: the records of a task in the order the
    // whole journals hold them.
    for (f, spans) in survey.files.iter().zip(&survey.spans) {
        for span in &spans[w] {
            let mut trusted = span.trusted;
            let keep = |line: &[u8]| quick_index(line).is_none_or(|i| (lo..hi).contains(&i));
            scan_lines_checked(f, span.bytes.clone(), &mut scan, keep, Some(check), |_, item| match item {
                Item::Header(h) => trusted = h == Some(spec_hash),
                Item::Record(r) => {
                    let Placed::At(i) = place(spec, trusted, &r) else { return };
                    if !(lo..hi).contains(&i) {
                        return;
                    }
                    store.fold_record(i - lo, &r);
                }
            })?;
        }
    }
    Ok(store)
}
