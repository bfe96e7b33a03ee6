//! The benchmark report: the `bench/bench.json` types and the arithmetic that turns raw
//! timings into them. The table printed to stdout is [`super::table`]'s.

use serde::{Deserialize, Serialize};

use super::fit::{fit, recommend, Fit};
use super::plot::SpeedupPoint;

/// The layout version of `bench/bench.json`, written as its `format` field. It goes up
/// when a field is removed or renamed or changes meaning, so that a reader which checks it
/// can refuse a file it would misread; new fields alone leave it as it is.
pub const BENCH_FORMAT: u32 = 1;

/// Worker counts at which the report predicts speedup from the fitted model.
pub const PREDICT_AT: [u32; 4] = [8, 16, 64, 256];

/// Shard counts for which the report predicts the wall time of the whole grid.
pub const SHARDS: [u32; 3] = [4, 16, 64];

/// One timed repetition of the sample at one worker count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Repeat {
    /// Wall-clock seconds for the whole sample.
    pub seconds: f64,
    /// CPU seconds (user + system) used meanwhile by sweep and by the task processes it
    /// reaped (commands, persistent workers): two differences of [`crate::usage::Usage`]
    /// readings.
    pub cpu_seconds: f64,
    /// Peak resident set size of sweep's own process in bytes, e.g.
    /// [`crate::usage::peak_rss_bytes`] after the repetition (a process-wide high-water mark;
    /// see there).
    pub peak_rss_bytes: u64,
    /// Peak resident set size of the largest task process (a command or a persistent
    /// worker) reaped so far, in bytes; 0 for models, which run inside sweep. Like
    /// `peak_rss_bytes` a high-water mark. Absent (0) in files written before it was kept.
    #[serde(default)]
    pub task_peak_rss_bytes: u64,
    /// Bytes of results written during the repetition.
    pub bytes_written: u64,
}

/// What was measured at one worker count: the input to [`summarize`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Number of compute workers.
    pub jobs: usize,
    /// Number of output (I/O) threads.
    pub io_threads: usize,
    /// Tasks run in each repetition (the sample size).
    pub tasks: u64,
    /// The timed repetitions.
    pub repeats: Vec<Repeat>,
}

/// The machine the benchmark ran on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// Operating system, as in `std::env::consts::OS`.
    pub os: String,
    /// CPU architecture, as in `std::env::consts::ARCH`.
    pub arch: String,
    /// Version of `sweep` that ran the benchmark.
    pub sweep_version: String,
}

impl Machine {
    /// Describes the machine this process is running on.
    pub fn detect() -> Machine {
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            sweep_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// The summary of one worker count, as written to `bench/bench.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRun {
    /// Number of compute workers.
    pub jobs: usize,
    /// Number of output (I/O) threads.
    pub io_threads: usize,
    /// Tasks run in each repetition.
    pub tasks: u64,
    /// The timed repetitions, as measured.
    pub repeats: Vec<Repeat>,
    /// Median wall-clock seconds over the repetitions.
    pub seconds_median: f64,
    /// Fastest repetition, seconds.
    pub seconds_min: f64,
    /// Slowest repetition, seconds.
    pub seconds_max: f64,
    /// Throughput at the median time: `tasks / seconds_median`.
    pub tasks_per_s: f64,
    /// Throughput relative to one worker (see [`summarize`] for the baseline).
    pub speedup: f64,
    /// `speedup / jobs`: 1 is perfect scaling.
    pub efficiency: f64,
    /// `Σ cpu_seconds / (Σ seconds × jobs)`: how busy the workers kept the CPUs. It can
    /// exceed 1 since I/O threads and the main thread count too.
    pub cpu_utilization: f64,
    /// Largest peak resident set size over the repetitions, bytes.
    pub peak_rss_bytes: u64,
    /// Largest peak resident set size of one task process over the repetitions, bytes (0
    /// when tasks run inside sweep).
    #[serde(default)]
    pub task_peak_rss_bytes: u64,
    /// Output rate: `Σ bytes_written / Σ seconds`.
    pub bytes_per_s: f64,
}

/// The contents of `bench/bench.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// The layout version, [`BENCH_FORMAT`] when this version of `sweep` wrote the file.
    /// Files from before the field existed have none; it reads as 0.
    #[serde(default)]
    pub format: u32,
    /// The spec file benchmarked, as given on the command line.
    pub spec: String,
    /// Number of tasks in the whole grid.
    pub tasks_in_grid: u64,
    /// Task ids of the sample that was timed.
    pub sample: Vec<String>,
    /// One entry per worker count, ascending by `jobs` (then `io_threads`).
    pub runs: Vec<BenchRun>,
    /// The fitted scalability model; absent with fewer than two worker counts.
    pub fit: Option<Fit>,
    /// The fitted serial fraction `σ`, when there is a fit.
    pub serial_fraction: Option<f64>,
    /// `(workers, speedup)` predicted by the fit at each of [`PREDICT_AT`]; empty without a
    /// fit.
    pub predicted_speedup: Vec<(u32, f64)>,
    /// The recommended worker count: the smallest within 5% of the best measured
    /// throughput.
    pub recommended_jobs: usize,
    /// Predicted wall-clock seconds for the whole grid on this machine at
    /// `recommended_jobs`; 0 when no throughput could be measured.
    pub predicted_sweep_seconds: f64,
    /// `(shards, seconds)`: predicted wall time when the grid is split into that many
    /// shards, each on a machine like this one at `recommended_jobs`, for each of
    /// [`SHARDS`].
    pub predicted_sweep_seconds_sharded: Vec<(u32, f64)>,
    /// The machine the benchmark ran on.
    pub machine: Machine,
}

/// The fewest distinct worker counts a scalability curve is fitted to.
pub const MIN_FIT_COUNTS: usize = 3;

/// Builds the report from raw measurements.
///
/// * Runs are sorted by `jobs` (then `io_threads`); measurements without repetitions are
///   dropped.
/// * The model is fitted (from [`MIN_FIT_COUNTS`] worker counts on) to every repetition's throughput (`tasks / seconds`).
/// * Speedup is relative to the median throughput of the 1-worker run with the same I/O
///   thread count (of the first 1-worker run when there is none with it); without any
///   1-worker run, to the fitted single-worker throughput `λ`; without a fit either, to the
///   smallest run's throughput divided by its worker count (that is, assuming it scaled
///   perfectly).
/// * The recommended count is [`recommend`] over the runs' median throughputs, and the
///   predicted sweep time divides the grid's tasks by the fitted throughput there (the
///   measured one when there is no fit).
pub fn summarize(
    spec: &str,
    tasks_in_grid: u64,
    sample: Vec<String>,
    measurements: &[Measurement],
    machine: Machine,
) -> BenchReport {
    let mut measured: Vec<&Measurement> = measurements.iter().filter(|m| !m.repeats.is_empty()).collect();
    measured.sort_by_key(|m| (m.jobs, m.io_threads));

    let points: Vec<(f64, f64)> = measured
        .iter()
        .flat_map(|m| m.repeats.iter().filter(|r| r.seconds > 0.0).map(|r| (m.jobs as f64, m.tasks as f64 / r.seconds)))
        .collect();
    // Two worker counts are a line through two points: a curve fitted to them would predict
    // 256 workers from a laptop's 1 and 2. Below three, the measurements are the result.
    let mut counts: Vec<usize> = measured.iter().map(|m| m.jobs).collect();
    counts.dedup();
    let fit = if counts.len() >= MIN_FIT_COUNTS { fit(&points) } else { None };

    let mut runs: Vec<BenchRun> = measured.iter().map(|m| time_run(m)).collect();
    let one_worker = |io: usize| {
        let ones = || runs.iter().filter(|r| r.jobs == 1 && r.tasks_per_s > 0.0);
        ones().find(|r| r.io_threads == io).or_else(|| ones().next()).map(|r| r.tasks_per_s)
    };
    let baselines: Vec<Option<f64>> = runs
        .iter()
        .map(|run| {
            one_worker(run.io_threads)
                .or_else(|| fit.map(|f| f.lambda))
                .or_else(|| runs.first().filter(|r| r.tasks_per_s > 0.0).map(|r| r.tasks_per_s / r.jobs.max(1) as f64))
        })
        .collect();
    for (run, baseline) in runs.iter_mut().zip(baselines) {
        run.speedup = finite(baseline.map_or(0.0, |b| run.tasks_per_s / b));
        run.efficiency = finite(run.speedup / run.jobs.max(1) as f64);
    }

    let per_jobs: Vec<(usize, f64)> = runs.iter().map(|r| (r.jobs, r.tasks_per_s)).collect();
    let recommended_jobs = recommend(&per_jobs);
    let throughput = match fit {
        Some(f) => f.throughput(recommended_jobs as f64),
        None => per_jobs.iter().filter(|p| p.0 == recommended_jobs).map(|p| p.1).fold(0.0, f64::max),
    };
    let seconds_for = |tasks: u64| {
        if throughput > 0.0 {
            finite(tasks as f64 / throughput)
        } else {
            0.0
        }
    };

    BenchReport {
        format: BENCH_FORMAT,
        spec: spec.to_string(),
        tasks_in_grid,
        sample,
        runs,
        fit,
        serial_fraction: fit.map(|f| f.serial_fraction()),
        predicted_speedup: match fit {
            Some(f) => PREDICT_AT.iter().map(|&n| (n, finite(f.speedup(f64::from(n))))).collect(),
            None => Vec::new(),
        },
        recommended_jobs,
        predicted_sweep_seconds: seconds_for(tasks_in_grid),
        predicted_sweep_seconds_sharded: SHARDS
            .iter()
            .map(|&s| (s, seconds_for(tasks_in_grid.div_ceil(u64::from(s)))))
            .collect(),
        machine,
    }
}

/// The timing columns of one run (speedup and efficiency are filled in by the caller).
fn time_run(m: &Measurement) -> BenchRun {
    let seconds: Vec<f64> = m.repeats.iter().map(|r| r.seconds).collect();
    let seconds_median = median(&seconds);
    let total_seconds: f64 = seconds.iter().sum();
    let total_cpu: f64 = m.repeats.iter().map(|r| r.cpu_seconds).sum();
    let total_bytes: u64 = m.repeats.iter().map(|r| r.bytes_written).sum();
    let ratio = |num: f64, den: f64| if den > 0.0 { finite(num / den) } else { 0.0 };
    BenchRun {
        jobs: m.jobs,
        io_threads: m.io_threads,
        tasks: m.tasks,
        repeats: m.repeats.clone(),
        seconds_median,
        seconds_min: seconds.iter().copied().fold(f64::INFINITY, f64::min),
        seconds_max: seconds.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        tasks_per_s: ratio(m.tasks as f64, seconds_median),
        speedup: 0.0,
        efficiency: 0.0,
        cpu_utilization: ratio(total_cpu, total_seconds * m.jobs.max(1) as f64),
        peak_rss_bytes: m.repeats.iter().map(|r| r.peak_rss_bytes).max().unwrap_or(0),
        task_peak_rss_bytes: m.repeats.iter().map(|r| r.task_peak_rss_bytes).max().unwrap_or(0),
        bytes_per_s: ratio(total_bytes as f64, total_seconds),
    }
}

/// Median of a non-empty slice (mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// JSON has no infinities or NaN; such values are reported as 0.
fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// The speedup plot's points for a report: each run's median speedup, with the range its
/// fastest and slowest repetitions give. Pass them to [`super::plot::speedup_svg`] with
/// `report.fit.as_ref()`.
pub fn speedup_points(report: &BenchReport) -> Vec<SpeedupPoint> {
    report
        .runs
        .iter()
        .map(|r| {
            let at = |seconds: f64| {
                if seconds > 0.0 {
                    r.speedup * r.seconds_median / seconds
                } else {
                    r.speedup
                }
            };
            SpeedupPoint { jobs: r.jobs as f64, median: r.speedup, min: at(r.seconds_max), max: at(r.seconds_min) }
        })
        .collect()
}

/// Measurements and a report for the tests of this module and of [`super::table`].
#[cfg(test)]
pub(super) mod testdata {
    use super::*;

    pub fn machine() -> Machine {
        Machine { cores: 8, os: "linux".into(), arch: "x86_64".into(), sweep_version: "0.1.0".into() }
    }

    pub fn repeat(seconds: f64, jobs: usize) -> Repeat {
        Repeat {
            seconds,
            cpu_seconds: seconds * jobs as f64 * 0.9,
            peak_rss_bytes: 50 << 20,
            task_peak_rss_bytes: 0,
            bytes_written: (seconds * 2e6) as u64,
        }
    }

    /// 100 tasks; one worker does 10 tasks/s; Amdahl-ish slowdown with more workers.
    pub fn measurements() -> Vec<Measurement> {
        let mut ms = Vec::new();
        for (jobs, times) in [(4, [3.0, 3.2, 2.9]), (1, [10.0, 10.4, 9.8]), (2, [5.3, 5.2, 5.5]), (8, [2.0, 2.1, 1.95])]
        {
            ms.push(Measurement {
                jobs,
                io_threads: 1,
                tasks: 100,
                repeats: times.iter().map(|&t| repeat(t, jobs)).collect(),
            });
        }
        ms
    }

    pub fn report() -> BenchReport {
        let sample = (0..100).map(|i| format!("t{i:04}")).collect();
        summarize("demo.toml", 10_000, sample, &measurements(), machine())
    }
}

#[cfg(test)]
mod tests {
    use super::testdata::{machine, measurements, repeat, report};
    use super::*;

    #[test]
    fn summarize_computes_medians_speedup_and_efficiency() {
        let r = report();
        let jobs: Vec<usize> = r.runs.iter().map(|r| r.jobs).collect();
        assert_eq!(jobs, [1, 2, 4, 8]);
        let one = &r.runs[0];
        assert_eq!(one.seconds_median, 10.0);
        assert_eq!((one.seconds_min, one.seconds_max), (9.8, 10.4));
        assert!((one.tasks_per_s - 10.0).abs() < 1e-12);
        assert!((one.speedup - 1.0).abs() < 1e-12);
        let four = &r.runs[2];
        assert_eq!(four.seconds_median, 3.0);
        assert!((four.speedup - 10.0 / 3.0).abs() < 1e-9);
        assert!((four.efficiency - 10.0 / 12.0).abs() < 1e-9);
        assert!((four.cpu_utilization - 0.9).abs() < 1e-9);
        assert!((four.bytes_per_s - 2e6).abs() < 1.0);
        assert_eq!(four.peak_rss_bytes, 50 << 20);
    }

    #[test]
    fn speedup_is_relative_to_one_worker_with_the_same_io_threads() {
        let run = |jobs, io_threads, seconds| Measurement {
            jobs,
            io_threads,
            tasks: 100,
            repeats: vec![repeat(seconds, jobs)],
        };
        let ms = [run(1, 1, 10.0), run(1, 4, 8.0), run(2, 1, 5.0), run(2, 4, 4.0), run(2, 2, 4.0)];
        let r = summarize("s", 100, vec![], &ms, machine());
        let speedups: Vec<(usize, usize, f64)> = r.runs.iter().map(|r| (r.jobs, r.io_threads, r.speedup)).collect();
        // (2, 2) has no 1-worker run with 2 I/O threads: relative to the first, (1, 1).
        assert_eq!(speedups, [(1, 1, 1.0), (1, 4, 1.0), (2, 1, 2.0), (2, 2, 2.5), (2, 4, 2.0)]);
    }

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
    }

    #[test]
    fn summarize_fits_recommends_and_predicts() {
        let r = report();
        let f = r.fit.expect("four worker counts give a fit");
        assert_eq!(r.serial_fraction, Some(f.sigma));
        assert!(f.sigma > 0.0 && f.sigma < 0.2, "{f:?}");
        let at: Vec<u32> = r.predicted_speedup.iter().map(|p| p.0).collect();
        assert_eq!(at, PREDICT_AT);
        assert!(r.predicted_speedup.windows(2).all(|w| w[0].1 > 0.0 && w[1].1 > 0.0));
        // Medians: 10, 100/5.3, 33.3, 50 tasks/s; only 8 workers is within 5% of the best.
        assert_eq!(r.recommended_jobs, 8);
        let expected = 10_000.0 / f.throughput(8.0);
        assert!((r.predicted_sweep_seconds - expected).abs() < 1e-9);
        let shards: Vec<u32> = r.predicted_sweep_seconds_sharded.iter().map(|p| p.0).collect();
        assert_eq!(shards, SHARDS);
        let (_, sixteen) = r.predicted_sweep_seconds_sharded[1];
        assert!((sixteen - 625.0 / f.throughput(8.0)).abs() < 1e-9);
    }

    #[test]
    fn without_a_one_worker_run_speedup_is_relative_to_the_fitted_lambda() {
        let ms: Vec<Measurement> = measurements().into_iter().filter(|m| m.jobs != 1).collect();
        let r = summarize("s", 100, vec![], &ms, machine());
        let f = r.fit.unwrap();
        assert!((r.runs[0].speedup - r.runs[0].tasks_per_s / f.lambda).abs() < 1e-12);
    }

    #[test]
    fn a_single_worker_count_has_no_fit_but_still_a_report() {
        let ms: Vec<Measurement> = measurements().into_iter().filter(|m| m.jobs == 4).collect();
        let r = summarize("s", 1000, vec![], &ms, machine());
        assert_eq!(r.fit, None);
        assert_eq!(r.serial_fraction, None);
        assert!(r.predicted_speedup.is_empty());
        assert_eq!(r.recommended_jobs, 4);
        assert!((r.predicted_sweep_seconds - 1000.0 / (100.0 / 3.0)).abs() < 1e-9);
        // Assumed perfect scaling up to the smallest run.
        assert!((r.runs[0].speedup - 4.0).abs() < 1e-12);
    }

    #[test]
    fn empty_measurements_give_a_serializable_report() {
        let r = summarize("s", 10, vec![], &[], machine());
        assert!(r.runs.is_empty());
        assert_eq!(r.recommended_jobs, 1);
        assert_eq!(r.predicted_sweep_seconds, 0.0);
        let json = serde_json::to_string(&r).unwrap();
        let back: BenchReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn json_has_the_required_keys_and_round_trips() {
        let r = report();
        let json = serde_json::to_string_pretty(&r).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let run = &v["runs"][0];
        for key in ["jobs", "io_threads", "tasks", "seconds_median", "tasks_per_s", "speedup", "efficiency"] {
            assert!(run.get(key).is_some(), "runs[].{key} missing");
        }
        assert_eq!(v["format"], BENCH_FORMAT);
        // First, so that the top of the file tells what it is.
        assert!(json.starts_with(&format!("{{\n  \"format\": {BENCH_FORMAT},")), "{json}");
        assert_eq!(v["recommended_jobs"], 8);
        assert!(["usl", "amdahl"].contains(&v["fit"]["model"].as_str().unwrap()));
        assert_eq!(v["predicted_speedup"][0][0], 8);
        assert_eq!(v["machine"]["cores"], 8);
        // serde_json's default float parsing may be off by an ulp, so compare loosely.
        let back: BenchReport = serde_json::from_str(&json).unwrap();
        assert_eq!((back.runs.len(), back.recommended_jobs), (4, 8));
        assert_eq!(back.sample, r.sample);
        assert_eq!(back.machine, r.machine);
        for (a, b) in back.runs.iter().zip(&r.runs) {
            assert_eq!((a.jobs, a.io_threads, a.tasks), (b.jobs, b.io_threads, b.tasks));
            assert!((a.speedup - b.speedup).abs() < 1e-12);
            assert!((a.repeats[1].cpu_seconds - b.repeats[1].cpu_seconds).abs() < 1e-12);
        }
        let (fa, fb) = (back.fit.unwrap(), r.fit.unwrap());
        assert_eq!(fa.model, fb.model);
        assert!((fa.sigma - fb.sigma).abs() < 1e-12 && (fa.lambda - fb.lambda).abs() < 1e-9);
    }

    #[test]
    fn a_file_from_before_the_format_field_reads_as_format_0() {
        let mut v = serde_json::to_value(report()).unwrap();
        v.as_object_mut().unwrap().remove("format");
        let back: BenchReport = serde_json::from_value(v).unwrap();
        assert_eq!(back.format, 0);
    }

    #[test]
    fn speedup_points_span_the_fastest_and_slowest_repeats() {
        let r = report();
        let pts = speedup_points(&r);
        assert_eq!(pts.len(), 4);
        let one = pts[0];
        assert_eq!(one.jobs, 1.0);
        assert!((one.min - 10.0 / 10.4).abs() < 1e-12);
        assert!((one.max - 10.0 / 9.8).abs() < 1e-12);
        let svg = super::super::plot::speedup_svg(&pts, r.fit.as_ref(), "demo");
        assert!(svg.contains("<svg"));
    }
}
