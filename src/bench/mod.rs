//! Benchmark support for `sweep run --bench`: choosing a sample of tasks, fitting a
//! scalability model to throughput measured at several worker counts, recommending a worker
//! count, and reporting the result as a table, JSON and an SVG plot.
//!
//! Everything here but [`run`] is pure computation (apart from [`Machine::detect`]); [`run`]
//! times a sample through the real scheduler in a scratch directory.

pub mod fit;
pub mod plot;
pub mod report;
pub mod run;
pub mod table;

pub use fit::{fit, recommend, Fit, FitModel, WITHIN_BEST};
pub use plot::{speedup_svg, SpeedupPoint};
pub use report::{
    speedup_points, summarize, BenchReport, BenchRun, Machine, Measurement, Repeat, BENCH_FORMAT, PREDICT_AT, SHARDS,
};
pub use run::{measure, run_sample, scratch_dir, Sample, Timed, SCRATCH_PREFIX};
// The sample lives with the grid, so that `--sample` (see `crate::slice`) chooses alike.
pub use crate::grid::sample_indices;
pub use table::render_table;
