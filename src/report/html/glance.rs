//! The page's opening card: what a reader needs before any plot — which sweep this is,
//! how far it got, what failed (grouped by message, most frequent first, with the first
//! task of each, as the run summary prints them), how long it took, and the CPU and memory
//! its runs used (from `runs.jsonl`).

use std::fmt::Write as _;
use std::io::{BufRead as _, Read as _};
use std::time::SystemTime;

use super::escape;
use crate::outdir::{Manifest, OutDir};
use crate::report::data::survey::Survey;

/// Failure groups shown on the card (the Failures section lists more).
const GROUPS: usize = 3;

/// Writes the card.
pub(super) fn write(h: &mut String, out: &OutDir, m: &Manifest, s: &Survey) {
    h.push_str("<div class=\"card glance\"><table class=\"facts\">\n");
    let mut row = |k: &str, v: &str| {
        let _ = writeln!(h, "<tr><th>{}</th><td>{v}</td></tr>", escape(k));
    };
    let kind = match (&m.model, m.kind.as_str()) {
        (Some(model), _) => format!("built-in model <code>{}</code>", escape(model)),
        (None, "command") => "a command, run once per task".to_string(),
        (None, "python") => "a Python function on persistent workers".to_string(),
        (None, other) => escape(other),
    };
    row("Sweep", &format!("<b>{}</b>: {kind}", escape(&m.name)));
    let (done, failed, pending) = (s.count("done"), s.count("failed"), s.count("pending"));
    let tasks = match &m.adaptive {
        None => format!(
            "{} tasks ({} grid points × {} replicates)",
            s.rows,
            s.rows / u64::from(m.replicates.max(1)),
            m.replicates
        ),
        // The tasks are the replicates each point ran: their number per point varies.
        Some(a) => format!(
            "{} tasks ({} grid points × {} to {} replicates, adaptive)",
            s.rows,
            m.axes.iter().map(|x| x.len as u64).product::<u64>(),
            a["min"],
            a["max"]
        ),
    };
    row("Tasks", &format!("{tasks}: <b>{done}</b> done, <b>{failed}</b> failed, <b>{pending}</b> pending"));
    if failed > 0 {
        let mut text = String::new();
        for (msg, g) in s.failure_groups().iter().take(GROUPS) {
            let tasks = if g.count == 1 { "1 task".to_string() } else { format!("{} tasks", g.count) };
            let msg = if msg.is_empty() { "(no message)".to_string() } else { crate::text::shorten(msg, 200) };
            let _ = write!(
                text,
                "{tasks}: <span class=\"msg\">{}</span>; first: <code>{}</code> (task {})<br>",
                escape(&msg),
                escape(&g.example_params),
                escape(&g.example_task)
            );
        }
        let shown: u64 = s.failure_groups().iter().take(GROUPS).map(|(_, g)| g.count).sum();
        if failed > shown {
            let _ = write!(text, "and {} more with other errors (below)", failed - shown);
        }
        row("Failures", &text);
    } else {
        row("Failures", "none");
    }
    let compute = s.seconds_sum;
    match run_span(out) {
        Some((start, end)) => {
            let wall = end.duration_since(start).unwrap_or_default().as_secs_f64();
            let stamp = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
            let mut text = format!("{} s, from {} to {}", crate::text::number(wall), stamp(start), stamp(end));
            if wall > 0.0 && compute > 0.0 {
                let _ = write!(text, " (the tasks' own time: {} s in all)", crate::text::number(compute));
            }
            row("Wall time", &escape(&text));
        }
        None if compute > 0.0 => row("Task time", &escape(&format!("{} s in all", crate::text::number(compute)))),
        None => {}
    }
    if let Some(text) = runs_line(&crate::runlog::read(&out.runs())) {
        row("Runs and CPU", &escape(&text));
    }
    h.push_str("</table></div>\n");
}

/// The runs recorded in `runs.jsonl`: how many, their running time, and the CPU and peak
/// memory of sweep and of the task processes; `None` for sweeps run before it was kept.
fn runs_line(runs: &[crate::runlog::RunRecord]) -> Option<String> {
    let last = runs.last()?;
    let seconds: f64 = runs.iter().map(|r| r.seconds).sum();
    let slots: f64 = runs.iter().map(|r| r.seconds * r.jobs.max(1) as f64).sum();
    let cpu: f64 = runs.iter().map(|r| r.cpu_seconds).sum();
    let task_peak = runs.iter().map(|r| r.task_peak_rss_bytes).max().unwrap_or(0);
    let own_peak = runs.iter().map(|r| r.peak_rss_bytes).max().unwrap_or(0);
    let mut text = format!(
        "{} run{}, {} s running on {} worker{} (last run), CPU {} s: {:.0}% of the workers' time",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        crate::text::number(seconds),
        last.jobs,
        if last.jobs == 1 { "" } else { "s" },
        crate::text::number(cpu),
        if slots > 0.0 { 100.0 * cpu / slots } else { 0.0 }
    );
    if task_peak > 0 {
        let _ = write!(text, "; peak memory of a task process {}", crate::text::bytes(task_peak));
    }
    let _ = write!(text, "; of sweep itself {}", crate::text::bytes(own_peak));
    Some(text)
}

/// When the sweep's first run started (the earliest journal header) and when a journal
/// was last written. Includes any time between runs of a resumed sweep; none without a
/// journal.
fn run_span(out: &OutDir) -> Option<(SystemTime, SystemTime)> {
    let mut journals = vec![out.journal(None)];
    if let Ok(dir) = std::fs::read_dir(out.root.join("journal")) {
        journals.extend(dir.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "jsonl")));
    }
    let mut span: Option<(SystemTime, SystemTime)> = None;
    for path in journals {
        let Ok(file) = std::fs::File::open(&path) else { continue };
        let Ok(end) = file.metadata().and_then(|m| m.modified()) else { continue };
        let mut first = String::new();
        // Only the header line is read: a journal can hold millions of records.
        if std::io::BufReader::new(file).take(64 * 1024).read_line(&mut first).is_err() {
            continue;
        }
        let started = serde_json::from_str::<serde_json::Value>(&first)
            .ok()
            .and_then(|v| v.get("started")?.as_str().map(str::to_string))
            .and_then(|t| humantime::parse_rfc3339(&t).ok());
        let Some(start) = started else { continue };
        span = Some(match span {
            None => (start, end),
            Some((a, b)) => (a.min(start), b.max(end)),
        });
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_time_spans_the_journals() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutDir::new(dir.path());
        assert!(run_span(&out).is_none());
        std::fs::write(out.journal(None), "{\"sweep_journal\":1,\"started\":\"2026-11-22T03:10:00Z\"}\n{}\n").unwrap();
        std::fs::create_dir(dir.path().join("journal")).unwrap();
        std::fs::write(
            dir.path().join("journal/shard-0-of-2.jsonl"),
            "{\"sweep_journal\":1,\"started\":\"2026-11-22T03:00:00Z\"}\n",
        )
        .unwrap();
        let (start, end) = run_span(&out).unwrap();
        assert_eq!(humantime::format_rfc3339_seconds(start).to_string(), "2026-11-22T03:00:00Z");
        assert!(end > start);
    }

    #[test]
    fn runs_line_sums_the_runs_and_keeps_the_peaks() {
        use crate::runlog::{RunRecord, RUNLOG_FORMAT};
        assert_eq!(runs_line(&[]), None);
        let run = |seconds: f64, cpu: f64, task_peak: u64| RunRecord {
            format: RUNLOG_FORMAT,
            ended: 0,
            shard: None,
            jobs: 2,
            seconds,
            done: 1,
            failed: 0,
            cpu_seconds: cpu,
            task_cpu_seconds: cpu,
            peak_rss_bytes: 10 << 20,
            task_peak_rss_bytes: task_peak,
            threads: None,
        };
        let text = runs_line(&[run(1.0, 1.0, 80 << 20), run(3.0, 6.0, 40 << 20)]).unwrap();
        assert!(
            text.starts_with("2 runs, 4 s running on 2 workers (last run), CPU 7 s: 88% of the workers' time"),
            "{text}"
        );
        assert!(text.contains("a task process 80.0 MiB") && text.ends_with("of sweep itself 10.0 MiB"), "{text}");
    }
}
