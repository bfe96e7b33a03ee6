//! The first pass over `results.csv`: counts statuses, finds each column's range and
//! distinct values, the slowest tasks and the failure groups. What it learns decides the
//! axes and plots that the second pass ([`super::aggregate`]) fills.

use indexmap::{IndexMap, IndexSet};

use super::input::{parse_number, Layout, Results};
use crate::report::ReportError;

/// Most distinct values remembered per parameter; beyond this a numeric parameter is
/// binned and a categorical one shows only its first values.
const DISTINCT_CAP: usize = 1024;
/// Most failure groups (distinct messages) remembered; later new messages are counted
/// together.
const FAILURE_GROUP_CAP: usize = 1000;
/// How many of the slowest tasks are listed.
pub(crate) const SLOWEST: usize = 10;

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
    /// Nothing seen yet of parameter column `column`.
    pub(in crate::report) fn new(column: usize) -> Self {
        ParamSurvey {
            column,
            numeric: true,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            distinct: IndexSet::new(),
            overflow: false,
        }
    }

    /// Counts one value.
    pub(in crate::report) fn add(&mut self, v: &str) {
        if !self.overflow && !self.distinct.contains(v) {
            if self.distinct.len() < DISTINCT_CAP {
                self.distinct.insert(v.to_string());
            } else {
                self.overflow = true;
            }
        }
        if self.numeric {
            match parse_number(v) {
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
            params: layout.columns.params.clone().map(ParamSurvey::new).collect(),
            metrics: layout
                .columns
                .metrics
                .clone()
                .map(|column| MetricSurvey { column, numeric: true, example_bad: None, finite: 0, nonfinite: 0 })
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
        let status = &row[layout.columns.status];
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
            match parse_number(v) {
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
        let Some(secs) = parse_number(&row[layout.columns.seconds]).filter(|x| x.is_finite()) else {
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
                    seconds_text: row[layout.columns.seconds].to_string(),
                    task: row[layout.columns.task].to_string(),
                    replicate: row[layout.columns.replicate].to_string(),
                    params: layout.params_text(row),
                },
            );
            self.slowest.truncate(SLOWEST);
        }
    }

    fn add_failed(&mut self, layout: &Layout, row: &csv::StringRecord) {
        let message = layout.columns.error.map_or("", |i| &row[i]);
        let class = layout.columns.class.map_or("", |i| &row[i]);
        let known = self.failures.get_index_of(message);
        let group = match known {
            Some(i) => &mut self.failures[i],
            None if self.failures.len() < FAILURE_GROUP_CAP => {
                let g = FailureGroup {
                    count: 0,
                    classes: IndexMap::new(),
                    example_task: row[layout.columns.task].to_string(),
                    example_replicate: row[layout.columns.replicate].to_string(),
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

#[cfg(test)]
mod tests {
    use super::super::input::read_manifest;
    use super::*;
    use crate::report::testdata;

    fn survey_of(dir: &std::path::Path) -> (Results, Survey) {
        let results = Results::open(dir, &read_manifest(dir).unwrap()).unwrap();
        let survey = Survey::scan(&results).unwrap();
        (results, survey)
    }

    #[test]
    fn counts_ranges_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let (results, s) = survey_of(dir.path());
        assert_eq!((s.rows, s.count("done"), s.count("failed"), s.count("pending")), (60, 42, 8, 10));
        let k = s.param(results.layout.columns.params.start).unwrap();
        assert!(k.numeric && k.varies());
        assert_eq!((k.min, k.max, k.distinct_count()), (0.1, 2.0, Some(5)));
        let solver = s.param(results.layout.columns.params.end - 1).unwrap();
        assert!(!solver.numeric);
        let label = s.metrics.iter().find(|m| results.layout.name(m.column) == "label").unwrap();
        assert_eq!((label.numeric, label.example_bad.as_deref()), (false, Some("ok")));
        let groups: Vec<_> = s.failure_groups().iter().map(|(m, g)| (m.as_str(), g.count)).collect();
        assert_eq!(groups, [("diverged at t=3, <bad>", 5), ("timed out after 10s", 3)]);
        assert_eq!(s.slowest.len(), SLOWEST);
        assert!(s.slowest.windows(2).all(|w| w[0].seconds >= w[1].seconds), "slowest first");
        assert_eq!((s.slowest[0].task.as_str(), s.slowest[0].params.as_str()), ("t0049", "k=2, c0=1, solver=euler"));
    }

    #[test]
    fn distinct_values_are_capped() {
        let mut p = ParamSurvey::new(3);
        for i in 0..DISTINCT_CAP + 5 {
            p.add(&i.to_string());
        }
        assert!(p.overflow && p.varies());
        assert_eq!((p.distinct_count(), p.distinct.len(), p.max), (None, DISTINCT_CAP, (DISTINCT_CAP + 4) as f64));
        p.add("x");
        assert!(!p.numeric);
    }
}
