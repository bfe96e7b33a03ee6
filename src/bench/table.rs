//! The benchmark report as a table for the terminal.

use super::fit::WITHIN_BEST;
use super::report::BenchReport;

/// Renders the report for the terminal: a table with one row per run (jobs, io, tasks,
/// median s, min–max, tasks/s, speedup, efficiency, CPU util, peak RSS of sweep and of the
/// largest task process, MB/s), then the fit,
/// the predicted speedups, the recommendation and the predicted sweep time. Ends with a
/// newline.
pub fn render_table(report: &BenchReport) -> String {
    const HEADERS: [&str; 12] = [
        "jobs",
        "io",
        "tasks",
        "median s",
        "min–max s",
        "tasks/s",
        "speedup",
        "efficiency",
        "CPU util",
        "peak RSS",
        "task RSS",
        "MB/s",
    ];
    let rows: Vec<[String; 12]> = report
        .runs
        .iter()
        .map(|r| {
            [
                r.jobs.to_string(),
                r.io_threads.to_string(),
                r.tasks.to_string(),
                format!("{:.3}", r.seconds_median),
                format!("{:.3}–{:.3}", r.seconds_min, r.seconds_max),
                format!("{:.1}", r.tasks_per_s),
                format!("{:.2}×", r.speedup),
                format!("{:.0}%", 100.0 * r.efficiency),
                format!("{:.0}%", 100.0 * r.cpu_utilization),
                crate::text::bytes(r.peak_rss_bytes),
                if r.task_peak_rss_bytes > 0 { crate::text::bytes(r.task_peak_rss_bytes) } else { "–".into() },
                format!("{:.2}", r.bytes_per_s / 1e6),
            ]
        })
        .collect();
    let width =
        |i: usize| rows.iter().map(|row| row[i].chars().count()).chain([HEADERS[i].chars().count()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..HEADERS.len()).map(width).collect();
    let line = |cells: &[&str]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, &w)| format!("{c:>w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };

    let mut out = line(&HEADERS);
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        out += &line(&cells);
    }
    out.push('\n');

    match &report.fit {
        Some(f) => {
            out += &format!(
                "fit: {}, X(N) = λN / (1 + σ(N−1) + κN(N−1)) with λ = {:.3} tasks/s, \
                 σ = {:.4} (serial fraction), κ = {:.3e}, R² = {:.4}",
                f.model.name(),
                f.lambda,
                f.sigma,
                f.kappa,
                f.r2
            );
            if let Some(peak) = f.peak_workers() {
                out += &format!("; throughput peaks near {peak:.0} workers");
            }
            out.push('\n');
        }
        None => {
            out += "fit: none (a fit needs runs at three or more worker counts; a machine with more cores or \
                    slots gives them: the measurements above are the result)\n"
        }
    }
    if !report.predicted_speedup.is_empty() {
        let predicted: Vec<String> =
            report.predicted_speedup.iter().map(|(n, s)| format!("{n} workers {s:.2}×")).collect();
        out += &format!("predicted speedup: {}\n", predicted.join(", "));
    }
    out += &format!(
        "recommended: --jobs {} (the fewest workers within {:.0}% of the best measured \
         throughput)\n",
        report.recommended_jobs,
        100.0 * WITHIN_BEST
    );
    if report.predicted_sweep_seconds > 0.0 {
        let sharded: Vec<String> = report
            .predicted_sweep_seconds_sharded
            .iter()
            .map(|&(s, secs)| format!("{s} shards {}", crate::text::duration_rough(secs)))
            .collect();
        out += &format!(
            "whole grid ({} tasks) at {} workers: about {}; split: {}\n",
            report.tasks_in_grid,
            report.recommended_jobs,
            crate::text::duration_rough(report.predicted_sweep_seconds),
            sharded.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::testdata::{machine, measurements, report};
    use crate::bench::report::{summarize, Measurement};

    #[test]
    fn table_has_aligned_columns_and_the_summary_lines() {
        let table = render_table(&report());
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("jobs  io  tasks  median s"), "{table}");
        assert!(lines[0].ends_with("MB/s"), "{table}");
        // Header plus one line per run, all right-aligned to the same width.
        let width = lines[0].chars().count();
        for line in &lines[1..5] {
            assert_eq!(line.chars().count(), width, "{table}");
        }
        assert!(lines[1].trim_start().starts_with("1  "), "{table}");
        assert!(lines[1].contains("10.000"), "{table}");
        assert!(lines[1].contains("9.800–10.400"), "{table}");
        assert!(lines[1].contains("1.00×") && lines[1].contains("100%"), "{table}");
        assert!(lines[1].contains("50.0 MiB"), "{table}");
        assert!(table.contains("fit: Amdahl") || table.contains("fit: USL"), "{table}");
        assert!(table.contains("predicted speedup: 8 workers "), "{table}");
        assert!(table.contains("recommended: --jobs 8 "), "{table}");
        assert!(table.contains("whole grid (10000 tasks) at 8 workers: about "));
        assert!(table.contains("64 shards "), "{table}");
    }

    #[test]
    fn without_a_fit_the_table_says_so() {
        let ms: Vec<Measurement> = measurements().into_iter().filter(|m| m.jobs == 4).collect();
        let r = summarize("s", 1000, vec![], &ms, machine());
        assert!(render_table(&r).contains("fit: none"));
    }

    #[test]
    fn an_empty_report_still_renders() {
        let r = summarize("s", 10, vec![], &[], machine());
        let table = render_table(&r);
        assert!(table.starts_with("jobs  io  tasks"), "{table}");
    }
}
