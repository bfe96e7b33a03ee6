//! Benchmark support for `sweep run --bench`: choosing a sample of tasks, fitting a
//! scalability model to throughput measured at several worker counts, recommending a worker
//! count, and reporting the result as a table, JSON and an SVG plot.
//!
//! Everything here is pure computation (apart from reading this process's resource usage);
//! running the tasks is the scheduler's job.

pub mod fit;
pub mod plot;
pub mod report;
pub mod sample;

pub use fit::{fit, recommend, Fit, FitModel, WITHIN_BEST};
pub use plot::{speedup_svg, SpeedupPoint};
pub use report::{
    peak_rss_bytes, process_cpu_seconds, render_table, speedup_points, summarize, BenchReport, BenchRun, Machine,
    Measurement, Repeat, PREDICT_AT, SHARDS,
};
pub use sample::sample_indices;
