//! Criterion micro-benchmarks of the per-task hot paths of a run and of its bookkeeping:
//!
//! - `grid/locate_value`: task index → (point, replicate) → the value of every column;
//! - `identity/task`: a task's id and seed (two SHA-256 hashes);
//! - `identity/task_common_seed`: the same with `common_seed = ["solver"]` (a third hash,
//!   of the task without `solver`, fed alongside the id's);
//! - `journal/scan_100k`: reading back a 100,000-record journal (what `--resume` and
//!   `sweep status` do first);
//! - `results/write_csv_100k`: formatting and writing `results.csv` for 100,000 done tasks.
//!
//! ```sh
//! cargo bench --bench hot                 # about 30 s
//! cargo bench --bench hot -- --quick      # a few seconds; rougher estimates
//! cargo bench --bench hot -- identity     # only the benchmarks whose name matches
//! ```
//!
//! Measurement times are set short here (see `config`) so that the whole run stays well
//! under a minute on a 2-core machine.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use sweep::grid::{Axis, Grid, Identity, TaskId};
use sweep::journal::{self, JournalWriter, ScanStats};
use sweep::model::{Metric, Registry};
use sweep::results::{write_results_csv, TaskTable};
use sweep::spec::Spec;
use sweep::Value;

/// Tasks per iteration of the per-task benchmarks.
const BATCH: u64 = 4096;
/// Records in the journal and rows in `results.csv`.
const ROWS: u64 = 100_000;

/// The grid of `sweeps/reaction.toml` (k: 200 floats, c0: 3 floats, 5 replicates) plus a
/// string axis, so that indexing touches every kind of column the benchmarks need.
fn reaction_grid() -> Grid {
    let k: Vec<Value> = (0..200).map(|i| Value::Float(0.01 + 1.99 * i as f64 / 199.0)).collect();
    let c0 = vec![Value::Float(0.5), Value::Float(1.0), Value::Float(2.0)];
    let solver = vec![Value::from("rk45"), Value::from("rk4")];
    let axes = vec![
        Axis { names: vec!["k".into()], values: vec![k] },
        Axis { names: vec!["c0".into()], values: vec![c0] },
        Axis { names: vec!["solver".into()], values: vec![solver] },
    ];
    Grid::new(vec!["k".into(), "c0".into(), "solver".into()], axes, 5).expect("small grid")
}

fn grid_and_identity(c: &mut Criterion) {
    let grid = reaction_grid();
    let n = grid.task_count();
    let mut g = c.benchmark_group("grid");
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("locate_value", |b| {
        let mut start = 0u64;
        b.iter(|| {
            for i in start..start + BATCH {
                let (point, rep) = grid.locate(i % n);
                black_box(rep);
                for col in 0..grid.columns.len() {
                    black_box(grid.value(point, col));
                }
            }
            start = (start + BATCH) % n;
        })
    });
    g.finish();

    let fixed = [
        ("t_final".to_string(), Value::Float(10.0)),
        ("rtol".to_string(), Value::Float(1e-9)),
        ("atol".to_string(), Value::Float(1e-12)),
        ("dt".to_string(), Value::Float(1e-3)),
    ];
    let ident = Identity::new("reaction", &fixed, &grid, 42);
    let mut g = c.benchmark_group("identity");
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("task", |b| {
        let mut start = 0u64;
        b.iter(|| {
            for i in start..start + BATCH {
                black_box(ident.task(&grid, i % n));
            }
            start = (start + BATCH) % n;
        })
    });
    let common = Identity::new("reaction", &fixed, &grid, 42).sharing_seed(&["solver".to_string()]);
    g.bench_function("task_common_seed", |b| {
        let mut start = 0u64;
        b.iter(|| {
            for i in start..start + BATCH {
                black_box(common.task(&grid, i % n));
            }
            start = (start + BATCH) % n;
        })
    });
    g.finish();
}

/// The metrics the `reaction` model reports, with values that vary per task.
fn reaction_metrics(i: u64) -> Vec<(std::borrow::Cow<'static, str>, Metric)> {
    let k = 0.01 + 1.99 * (i % 20_000) as f64 / 19_999.0;
    let c_final = (-k * 10.0).exp();
    vec![
        ("conversion".into(), Metric::Float(1.0 - c_final)),
        ("c_final".into(), Metric::Float(c_final)),
        ("steps".into(), Metric::Int(40 + (i % 300) as i64)),
        ("max_abs_error".into(), Metric::Float(1e-10 * (1.0 + k))),
    ]
}

fn write_journal(path: &Path) {
    let mut w = JournalWriter::open(path, "0/1").expect("open journal");
    for i in 0..ROWS {
        // Spread ids like SHA-256 prefixes do.
        let id = TaskId(i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        w.append(id, i, 1, 0.0123 + i as f64 * 1e-7, Ok(&reaction_metrics(i))).expect("append");
    }
    w.sync().expect("sync journal");
}

fn journal_scan(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.jsonl");
    write_journal(&path);
    let mut g = c.benchmark_group("journal");
    g.throughput(Throughput::Elements(ROWS)).sample_size(10).sampling_mode(SamplingMode::Flat);
    g.bench_function("scan_100k", |b| {
        b.iter(|| {
            let mut stats = ScanStats::default();
            let mut metrics = 0usize;
            journal::scan(&path, &mut stats, |r| metrics += r.metrics.len()).expect("scan");
            assert_eq!(stats.records, ROWS);
            black_box(metrics)
        })
    });
    g.finish();
}

/// A 100,000-task reaction sweep (20,000 k × 5 c0), every task done with its four metrics.
fn done_store() -> (Spec, TaskTable) {
    let text = r#"
seed = 42
[model]
name = "reaction"
save = []
[params]
k = { linspace = [0.01, 2.0, 20000] }
c0 = [0.5, 1.0, 2.0, 4.0, 8.0]
"#;
    let spec = Spec::parse(Path::new("bench.toml"), text, &Registry::builtin()).expect("valid spec");
    assert_eq!(spec.task_count(), ROWS);
    let mut store = TaskTable::new(&spec);
    for i in 0..ROWS {
        let m = reaction_metrics(i);
        store.apply(i, 1, 0.0123, Ok::<_, &sweep::task::TaskFailure>(m.iter().map(|(k, v)| (k.as_ref(), v))));
    }
    (spec, store)
}

fn results_csv(c: &mut Criterion) {
    let (spec, store) = done_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("results.csv");
    let mut g = c.benchmark_group("results");
    g.throughput(Throughput::Elements(ROWS)).sample_size(10).sampling_mode(SamplingMode::Flat);
    g.bench_function("write_csv_100k", |b| {
        b.iter(|| write_results_csv(&spec, &store, &path).expect("write results.csv"))
    });
    g.finish();
    let lines = std::fs::read_to_string(&path).expect("read back").lines().count() as u64;
    assert_eq!(lines, ROWS + 1, "a header and one row per task");
}

/// Short measurements: the per-task benchmarks take milliseconds per iteration; the two
/// 100,000-row ones (about 0.1-0.2 s each) take 10 samples of equal size (flat sampling).
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

criterion_group! {
    name = hot;
    config = config();
    targets = grid_and_identity, journal_scan, results_csv
}
criterion_main!(hot);
