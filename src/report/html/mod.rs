//! `sweep report`: one self-contained HTML page describing an out directory.
//!
//! The page needs nothing outside itself: CSS is inline, plots are inline SVG, and there
//! are no scripts, external fonts, stylesheets or images. `results.csv` is streamed twice
//! and only aggregates are kept, so the page's size and drawing work do not grow with the
//! number of tasks beyond fixed caps.

mod bench;
mod glance;
mod groups;
mod heat;
mod metrics;
mod paired;
mod replicates;
mod style;

use std::fmt::Write as _;
use std::path::Path;

use super::data::aggregate::{aggregate, Histogram};
use super::data::input::{read_manifest, Results};
use super::data::survey::{Survey, SLOWEST};
use super::draw::caption::Reps;
use super::draw::chart::draw_histogram;
pub use super::ReportError;
use crate::outdir::{Manifest, OutDir};
pub use metrics::{MAX_METRICS, MAX_PARAMS, MAX_SERIES_VALUES};
pub use style::escape;

/// Most failure groups listed.
pub const MAX_FAILURE_ROWS: usize = 50;

/// Renders the report for the out directory `out_dir` as one self-contained HTML page.
///
/// Reads `manifest.json` and `results.csv` (both required), `spec.toml` and
/// `bench/speedup.svg` / `bench/bench.json` (optional). Works on partial sweeps.
pub fn render_report(out_dir: &Path) -> Result<String, ReportError> {
    render_report_with(out_dir, None)
}

/// [`render_report`], with the paired comparison of a `common_seed` sweep taken from the
/// level `baseline` (`sweep report --baseline`; default: the first level).
pub fn render_report_with(out_dir: &Path, baseline: Option<&str>) -> Result<String, ReportError> {
    let manifest = read_manifest(out_dir)?;
    let results = Results::open(out_dir, &manifest)?;
    let survey = Survey::scan(&results)?;
    let layout = &results.layout;

    // Choose the plots, then fill them (and the histogram) in a second pass.
    let log_spaced = super::data::input::log_spaced_params(out_dir);
    // Parameters with too many values to bin: a design's, and a refined axis's.
    let mut scattered = super::data::input::sampled_params(&manifest);
    scattered.extend(super::data::input::refined_params(&manifest));
    let (mut plots, metrics) = metrics::choose(&survey, layout, &log_spaced, &scattered);
    let mut heats = metrics::choose_heatmap(&survey, layout, &log_spaced, &metrics);
    let histogram = aggregate(&results, &survey, &mut plots, &mut heats, true)?;

    let name = &manifest.name;
    let mut h = String::with_capacity(256 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n<title>sweep report: {}</title>\n<style>\n{}</style>\n</head>\n<body>\n<main>\n",
        escape(name),
        style::CSS
    );
    let _ = writeln!(h, "<h1>{}</h1>", escape(name));
    let _ =
        writeln!(h, "<p class=\"sub\">Sweep report for <code>{}</code></p>", escape(&out_dir.display().to_string()));

    glance::write(&mut h, &OutDir::new(out_dir), &manifest, &survey);
    write_facts(&mut h, &manifest);
    write_status(&mut h, &manifest, &survey);
    replicates::write_section(&mut h, out_dir, &manifest)?;
    write_failures(&mut h, &survey);
    write_durations(&mut h, &survey, histogram.as_ref())?;
    metrics::write(&mut h, &manifest, &results, &survey, (&plots, &heats), &metrics)?;
    paired::write(&mut h, &results, &manifest, &metrics, baseline)?;
    bench::write(&mut h, out_dir);

    h.push_str("<h2 id=\"spec\">Spec</h2>\n");
    match std::fs::read_to_string(OutDir::new(out_dir).spec()) {
        Ok(spec) => {
            let _ = writeln!(h, "<pre>{}</pre>", escape(&spec));
        }
        Err(e) => {
            let _ = writeln!(h, "<p class=\"note\">spec.toml could not be read: {}</p>", escape(&e.to_string()));
        }
    }
    let _ = writeln!(h, "<p class=\"note\">Columns in results.csv: {}.</p>", escape(&layout.headers.join(", ")));
    h.push_str("</main>\n</body>\n</html>\n");
    Ok(h)
}

fn write_facts(h: &mut String, m: &Manifest) {
    h.push_str("<h2 id=\"facts\">Sweep</h2>\n<div class=\"card\"><table class=\"facts\">\n");
    let mut row = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
        }
    };
    row("Name", Some(m.name.clone()));
    row("Kind", Some(m.kind.clone()));
    row("Model", m.model.clone());
    row("Seed", Some(m.seed.to_string()));
    match &m.adaptive {
        None => {
            row("Replicates", Some(m.replicates.to_string()));
            row("Tasks", Some(m.tasks.to_string()));
        }
        // The manifest's counts are the most adaptive replicates can run.
        Some(_) => {
            row("Replicates", Some(format!("{} per point (adaptive)", Reps::of(m))));
            row("Tasks", Some(format!("at most {}", m.tasks)));
        }
    }
    row("Parameters", (!m.columns.is_empty()).then(|| m.columns.join(", ")));
    if !m.fixed.is_empty() {
        let fixed = m.fixed.iter().map(|(k, v)| format!("{k} = {}", json_text(v)));
        row("Fixed", Some(fixed.collect::<Vec<_>>().join(", ")));
    }
    row("Tool version", Some(m.tool_version.clone()));
    row("Created", Some(m.created.clone()));
    row("Updated", Some(m.updated.clone()));
    row("Spec hash", Some(m.spec_hash.clone()));
    h.push_str("</table></div>\n");
}

/// A JSON value as people write it: strings without their quotes.
fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn write_status(h: &mut String, m: &Manifest, s: &Survey) {
    h.push_str("<h2 id=\"status\">Status</h2>\n<div class=\"counts\">\n");
    for (status, n) in &s.status {
        let class = match status.as_str() {
            "done" | "failed" | "pending" => status.as_str(),
            _ => "other",
        };
        let _ = writeln!(h, "<div class=\"count {class}\"><b>{n}</b>{}</div>", escape(status));
    }
    h.push_str("</div>\n");
    if s.rows > 0 {
        h.push_str("<div class=\"bar\">");
        for k in ["done", "failed", "pending"] {
            let pct = s.count(k) as f64 * 100.0 / s.rows as f64;
            if pct > 0.0 {
                let _ = write!(h, "<span class=\"{k}\" style=\"width:{pct:.3}%\" title=\"{k}\"></span>");
            }
        }
        h.push_str("</div>\n");
    }
    let mut notes = Vec::new();
    if s.count("pending") > 0 {
        notes.push(format!("The sweep is incomplete: {} tasks are still pending.", s.count("pending")));
    }
    // With adaptive replicates or [refine] the manifest counts the most a sweep can run.
    if m.tasks != s.rows && m.adaptive.is_none() && m.refine.is_none() {
        notes.push(format!("The manifest lists {} tasks but results.csv has {} rows.", m.tasks, s.rows));
    }
    if s.malformed > 0 {
        notes.push(format!("{} malformed rows in results.csv were skipped.", s.malformed));
    }
    for n in notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&n));
    }
}

fn write_failures(h: &mut String, s: &Survey) {
    let failed = s.count("failed");
    h.push_str("<h2 id=\"failures\">Failures</h2>\n");
    if failed == 0 {
        h.push_str("<p class=\"note\">No task failed.</p>\n");
        return;
    }
    let groups = s.failure_groups();
    let _ = writeln!(
        h,
        "<p class=\"note\">{failed} failed tasks, {} distinct messages{}.</p>",
        groups.len(),
        if groups.len() > MAX_FAILURE_ROWS {
            format!(" (the {MAX_FAILURE_ROWS} most frequent shown)")
        } else {
            String::new()
        }
    );
    h.push_str(
        "<div class=\"card\"><table class=\"failures\">\n<tr><th class=\"num\">Count</th><th>Class</th>\
         <th>Message</th><th>Example</th></tr>\n",
    );
    for (msg, g) in groups.iter().take(MAX_FAILURE_ROWS) {
        let classes = g.classes.iter().map(|(c, n)| if g.classes.len() > 1 { format!("{c} ({n})") } else { c.clone() });
        let classes = classes.collect::<Vec<_>>().join(", ");
        let msg = if msg.is_empty() { "(no message)".to_string() } else { crate::text::shorten(msg, 2000) };
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"msg\">{}</td><td><code>{}</code><br>task {} replicate {}</td></tr>",
            g.count,
            escape(&classes),
            escape(&msg),
            escape(&g.example_params),
            escape(&g.example_task),
            escape(&g.example_replicate),
        );
    }
    if s.failures_ungrouped > 0 {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td></td><td class=\"msg\">(other messages, not grouped)</td><td></td></tr>",
            s.failures_ungrouped
        );
    }
    h.push_str("</table></div>\n");
}

fn write_durations(h: &mut String, s: &Survey, hist: Option<&Histogram>) -> Result<(), ReportError> {
    h.push_str("<h2 id=\"durations\">Task durations</h2>\n");
    let Some(hist) = hist else {
        h.push_str("<p class=\"note\">No finished task yet.</p>\n");
        return Ok(());
    };
    let n = s.seconds_count;
    let _ = writeln!(
        h,
        "<p class=\"note\">{n} finished tasks: total {} s of compute, mean {} s, min {} s, max {} s.</p>",
        crate::text::number(s.seconds_sum),
        crate::text::number(s.seconds_sum / n as f64),
        crate::text::number(s.seconds_min),
        crate::text::number(s.seconds_max)
    );
    let svg = draw_histogram(hist, 760, 300)?;
    let _ = writeln!(
        h,
        "<figure>{svg}<figcaption>Histogram of the seconds taken by finished tasks ({} bins).</figcaption></figure>",
        hist.counts.len()
    );
    let _ = writeln!(h, "<h3>The {} slowest tasks</h3>", SLOWEST.min(s.slowest.len()));
    h.push_str(
        "<div class=\"card\"><table class=\"slowest\">\n<tr><th class=\"num\">Seconds</th><th>Task</th>\
         <th class=\"num\">Replicate</th><th>Parameters</th></tr>\n",
    );
    for t in &s.slowest {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            escape(&if t.seconds_text.len() <= 10 { t.seconds_text.clone() } else { crate::text::number(t.seconds) }),
            escape(&t.task),
            escape(&t.replicate),
            escape(&t.params)
        );
    }
    h.push_str("</table></div>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testdata;
    use super::*;

    /// Counts `<tag` openings in `html`.
    fn count_tag(html: &str, tag: &str) -> usize {
        html.matches(&format!("<{tag}")).count()
    }

    /// Checks that every element opened is closed, in order (void elements excepted).
    pub(super) fn assert_well_formed(html: &str) {
        const VOID: [&str; 5] = ["meta", "link", "br", "img", "input"];
        let mut stack: Vec<String> = Vec::new();
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let end = rest.find('>').expect("unterminated tag");
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            if tag.starts_with('!') {
                continue;
            }
            let self_closing = tag.ends_with('/');
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().unwrap_or_else(|| panic!("</{name}> without an opening tag"));
                assert_eq!(open, name.trim(), "mismatched closing tag");
            } else {
                let name: String = tag.chars().take_while(|c| !c.is_whitespace() && *c != '/').collect();
                if !self_closing && !VOID.contains(&name.as_str()) {
                    stack.push(name);
                }
            }
        }
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    }

    /// Values of `attr="..."` attributes.
    fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
        let pat = format!(" {attr}=\"");
        html.match_indices(&pat)
            .map(|(i, _)| {
                let v = &html[i + pat.len()..];
                &v[..v.find('"').unwrap()]
            })
            .collect()
    }

    #[test]
    fn report_of_a_partial_sweep() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let html = render_report(dir.path()).unwrap();

        // Facts and escaping.
        assert!(html.contains("<h1>reaction &lt;test&gt;</h1>"));
        assert!(html.contains("# a &lt;comment&gt; &amp; more"), "spec is escaped in <pre>");
        assert!(
            html.contains("<td>42</td>") && html.contains("<td>0.1.0</td>") && html.contains("2026-11-22T03:10:00Z")
        );
        // Counts.
        assert!(html.contains("<div class=\"count done\"><b>42</b>done</div>"), "{html}");
        assert!(html.contains("<div class=\"count failed\"><b>8</b>failed</div>"));
        assert!(html.contains("<div class=\"count pending\"><b>10</b>pending</div>"));
        assert!(html.contains("10 tasks are still pending"));
        // Failures grouped by message, most frequent first.
        assert!(html.contains("8 failed tasks, 2 distinct messages"));
        let diverged = html.find("diverged at t=3, &lt;bad&gt;").expect("first message");
        let timed_out = html.find("timed out after 10s").expect("second message");
        assert!(diverged < timed_out);
        assert!(html.contains("<tr><td class=\"num\">5</td><td>error</td>"));
        assert!(html.contains("<tr><td class=\"num\">3</td><td>timeout</td>"));
        assert!(html.contains("k=0.1, c0=2, solver=rk4"), "example parameters");
        // Durations: histogram and the 10 slowest.
        assert!(html.contains("42 finished tasks"));
        let slowest = &html[html.find("<table class=\"slowest\">").unwrap()..];
        let slowest = &slowest[..slowest.find("</table>").unwrap()];
        assert_eq!(slowest.matches("<tr>").count(), 1 + 10);
        assert!(slowest.contains("<td class=\"num\">0.59</td><td><code>t0049</code>"));
        // Plots: conc and steps against k, c0 and solver; label is not numeric.
        assert!(html.contains("Not plotted (not numeric): label."));
        assert_eq!(count_tag(&html, "svg"), 1 + 1 + 2 * 3, "histogram, a heatmap of conc over k and c0, 6 plots");
        assert!(html.contains(
            "conc over k and c0: each cell is the mean over solver (2 values) of the grid points&#39; means"
        ));
        // The opening card: the sweep, its counts, failures grouped as the run summary prints them.
        let glance = &html[html.find("<div class=\"card glance\">").unwrap()..];
        let glance = &glance[..glance.find("</div>").unwrap()];
        assert!(glance.contains("<b>reaction &lt;test&gt;</b>: built-in model <code>reaction</code>"), "{glance}");
        assert!(glance.contains("60 tasks (30 grid points × 2 replicates): <b>42</b> done, <b>8</b> failed"));
        assert!(glance.contains(
            "5 tasks: <span class=\"msg\">diverged at t=3, &lt;bad&gt;</span>; first: <code>k=0.1, c0=1, solver=rk4</code> (task t0003)"
        ), "{glance}");
        assert!(html.contains("conc vs k, one line per value of solver"));
        assert!(html.contains("conc vs c0, one line per value of solver"));
        assert!(html.contains("conc vs solver, one line per value of c0"));
        assert!(html.contains(">\neuler\n</text>") && html.contains(">\nrk4\n</text>"), "categories label the x axis");
        // Self-contained.
        for attr in ["src", "href"] {
            for v in attr_values(&html, attr) {
                assert!(!v.contains("http://") && !v.contains("https://"), "{attr}={v}");
            }
        }
        assert!(!html.contains("<script") && !html.contains("@import") && !html.contains("url("));
        assert_well_formed(&html);
    }

    #[test]
    fn empty_and_unstarted_sweeps() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        // Every row pending: no durations, no plots, still a page.
        let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
        let mut lines = csv.lines();
        let mut pending = format!("{}\n", lines.next().unwrap());
        for (i, _) in lines.enumerate() {
            pending.push_str(&format!("t{i},0,1,0.1,1,euler,pending,0,,,,,,\n"));
        }
        std::fs::write(dir.path().join("results.csv"), pending).unwrap();
        let html = render_report(dir.path()).unwrap();
        assert!(html.contains("No finished task yet."));
        assert!(html.contains("No task failed."));
        assert_well_formed(&html);

        std::fs::remove_file(dir.path().join("manifest.json")).unwrap();
        let err = render_report(dir.path()).unwrap_err().to_string();
        assert!(err.contains("manifest.json"), "{err}");
    }

    #[test]
    fn large_sweep_stays_small() {
        let dir = tempfile::tempdir().unwrap();
        // 2500 x 8 x 5 replicates = 100,000 tasks: k is binned, c0 gives 8 lines per plot.
        testdata::large(dir.path(), 2500, 8);
        let html = render_report(dir.path()).unwrap();
        assert!(html.len() < 2_000_000, "report is {} bytes", html.len());
        assert!(html.contains("k binned into 200 intervals"));
        // Drawing elements are capped no matter how many tasks there are.
        let elements: usize =
            ["polyline", "polygon", "circle", "rect", "line ", "text"].iter().map(|t| count_tag(&html, t)).sum();
        assert!(elements < 6000, "{elements} SVG elements");
        assert!(html.contains("<div class=\"count done\"><b>98969</b>done</div>"), "count");
        assert_well_formed(&html);
    }
}
