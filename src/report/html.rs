//! `sweep report`: one self-contained HTML page describing an out directory.
//!
//! The page needs nothing outside itself: CSS is inline, plots are inline SVG, and there
//! are no scripts, external fonts, stylesheets or images. `results.csv` is streamed twice
//! and only aggregates are kept, so the page's size and drawing work do not grow with the
//! number of tasks beyond fixed caps.

use std::fmt::Write as _;
use std::path::Path;

use super::plot::{draw_histogram, draw_plot, Chart, MAX_X_POSITIONS};
pub use super::table::ReportError;
use super::table::{aggregate, Axis, Manifest, ParamSurvey, PlotAgg, Results, Survey, SLOWEST};

/// Most metrics plotted.
pub const MAX_METRICS: usize = 8;
/// Most parameters each metric is plotted against.
pub const MAX_PARAMS: usize = 4;
/// A second parameter with at most this many values gets one line per value (the one
/// with the fewest values, when several qualify).
pub const MAX_SERIES_VALUES: usize = 8;
/// Most failure groups listed.
pub const MAX_FAILURE_ROWS: usize = 50;
/// `bench/speedup.svg` larger than this is linked by name instead of inlined.
const MAX_BENCH_SVG: u64 = 1 << 20;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "\
:root{--fg:#1d2433;--muted:#5f6b7a;--line:#dde2ea;--bg:#f6f8fb;--done:#2ca02c;--failed:#d62728;--pending:#9aa4b2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 12px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:20px 0 8px}
.sub{color:var(--muted);margin:0 0 16px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px;margin:12px 0}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{width:180px}
code,pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:13px}
pre{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;overflow:auto;white-space:pre-wrap;word-break:break-word}
.counts{display:flex;gap:12px;flex-wrap:wrap}
.count{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:130px}
.count b{display:block;font-size:24px}
.count.done b{color:var(--done)}.count.failed b{color:var(--failed)}.count.pending b{color:var(--pending)}
.bar{display:flex;height:12px;border-radius:6px;overflow:hidden;background:var(--line);margin:12px 0}
.bar span{display:block;height:100%}
.bar .done{background:var(--done)}.bar .failed{background:var(--failed)}.bar .pending{background:var(--pending)}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px}
figure svg{display:block;max-width:100%;height:auto}
.plots figure svg{width:100%}
figcaption{color:var(--muted);font-size:13px;padding:4px 8px}
.note{color:var(--muted);font-size:14px}
.msg{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:13px;white-space:pre-wrap;word-break:break-word}
";

/// Renders the report for the out directory `out_dir` as one self-contained HTML page.
///
/// Reads `manifest.json` and `results.csv` (both required), `spec.toml` and
/// `bench/speedup.svg` / `bench/bench.json` (optional). Works on partial sweeps.
pub fn render_report(out_dir: &Path) -> Result<String, ReportError> {
    let manifest = Manifest::read(out_dir)?;
    let results = Results::open(out_dir, &manifest)?;
    let survey = Survey::scan(&results)?;
    let layout = &results.layout;

    // Choose the plots, then fill them (and the histogram) in a second pass.
    let x_params: Vec<&ParamSurvey> = survey.params.iter().filter(|p| p.varies()).take(MAX_PARAMS).collect();
    let metrics: Vec<usize> =
        survey.metrics.iter().filter(|m| m.numeric && m.finite > 0).take(MAX_METRICS).map(|m| m.column).collect();
    let mut plots = Vec::new();
    for &m in &metrics {
        for &x in &x_params {
            // One line per value of the other parameter with the fewest values (2 to 8).
            let series = survey
                .params
                .iter()
                .filter(|p| p.column != x.column)
                .filter_map(|p| p.distinct_count().filter(|n| (2..=MAX_SERIES_VALUES).contains(n)).map(|n| (n, p)))
                .min_by_key(|(n, _)| *n)
                .map(|(_, p)| p);
            plots.push(PlotAgg::new(m, Axis::new(x, MAX_X_POSITIONS), series));
        }
    }
    let histogram = aggregate(&results, &survey, &mut plots, true)?;

    let name = manifest.name.clone().unwrap_or_else(|| out_dir.display().to_string());
    let mut h = String::with_capacity(256 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n<title>sweep report: {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n",
        escape(&name)
    );
    let _ = writeln!(h, "<h1>{}</h1>", escape(&name));
    let _ =
        writeln!(h, "<p class=\"sub\">Sweep report for <code>{}</code></p>", escape(&out_dir.display().to_string()));

    write_facts(&mut h, &manifest, &survey);
    write_status(&mut h, &manifest, &survey);
    write_failures(&mut h, &survey);
    write_durations(&mut h, &survey, histogram.as_ref())?;
    write_plots(&mut h, &manifest, &results, &survey, &plots, &metrics)?;
    write_bench(&mut h, out_dir);

    h.push_str("<h2 id=\"spec\">Spec</h2>\n");
    match std::fs::read_to_string(out_dir.join("spec.toml")) {
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

fn write_facts(h: &mut String, m: &Manifest, s: &Survey) {
    h.push_str("<h2 id=\"facts\">Sweep</h2>\n<div class=\"card\"><table class=\"facts\">\n");
    let mut row = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
        }
    };
    row("Name", m.name.clone());
    row("Kind", m.kind.clone());
    row("Model", m.model.clone());
    row("Seed", m.seed.clone());
    row("Replicates", m.replicates.map(|r| r.to_string()));
    row("Tasks", Some(m.tasks.map_or_else(|| s.rows.to_string(), |t| t.to_string())));
    row("Parameters", (!m.columns.is_empty()).then(|| m.columns.join(", ")));
    if !m.fixed.is_empty() {
        row("Fixed", Some(m.fixed.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")));
    }
    row("Tool version", m.tool_version.clone());
    row("Created", m.created.clone());
    row("Updated", m.updated.clone());
    row("Spec hash", m.spec_hash.clone());
    h.push_str("</table></div>\n");
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
    if let Some(t) = m.tasks {
        if t != s.rows {
            notes.push(format!("The manifest lists {t} tasks but results.csv has {} rows.", s.rows));
        }
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

fn write_durations(h: &mut String, s: &Survey, hist: Option<&super::table::Histogram>) -> Result<(), ReportError> {
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

fn write_plots(
    h: &mut String,
    m: &Manifest,
    results: &Results,
    s: &Survey,
    plots: &[PlotAgg],
    metrics: &[usize],
) -> Result<(), ReportError> {
    let layout = &results.layout;
    h.push_str("<h2 id=\"metrics\">Metrics</h2>\n");
    let numeric: Vec<_> = s.metrics.iter().filter(|m| m.numeric).collect();
    let mut notes = Vec::new();
    if s.metrics.is_empty() {
        notes.push("This sweep has no metric columns.".to_string());
    } else if plots.is_empty() {
        if !s.params.iter().any(ParamSurvey::varies) {
            notes.push("No parameter takes more than one value, so there is nothing to plot against.".to_string());
        } else if metrics.is_empty() {
            notes.push("No numeric metric has a finished value yet.".to_string());
        }
    }
    let skipped: Vec<&str> = s.metrics.iter().filter(|m| !m.numeric).map(|m| layout.name(m.column)).collect();
    if !skipped.is_empty() {
        notes.push(format!("Not plotted (not numeric): {}.", skipped.join(", ")));
    }
    if numeric.len() > MAX_METRICS {
        notes.push(format!("Only the first {MAX_METRICS} of {} numeric metrics are plotted.", numeric.len()));
    }
    let varying = s.params.iter().filter(|p| p.varies()).count();
    if varying > MAX_PARAMS {
        notes.push(format!("Metrics are plotted against the first {MAX_PARAMS} of {varying} swept parameters."));
    }
    if !plots.is_empty() {
        let reps = m.replicates.map(|r| format!("{r} replicates")).unwrap_or_else(|| "replicates".into());
        notes.push(format!(
            "Each point is the mean over {reps} and over the other parameters' values; the shaded band \
             (or error bar, for categorical parameters) spans the minimum to the maximum. Only finished tasks count."
        ));
    }
    for n in notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&n));
    }
    for &metric in metrics {
        let y_name = layout.name(metric);
        let _ = writeln!(h, "<h3>{}</h3>", escape(y_name));
        if let Some(ms) = s.metric(metric) {
            if ms.nonfinite > 0 {
                let _ = writeln!(h, "<p class=\"note\">{} NaN or infinite values left out.</p>", ms.nonfinite);
            }
        }
        h.push_str("<div class=\"plots\">\n");
        for p in plots.iter().filter(|p| p.y == metric) {
            let x_name = layout.name(p.x.column);
            let by = p.series_column.map(|c| layout.name(c));
            let chart = Chart { title: None, x_name, y_name, series_name: by, width: 600, height: 360 };
            let svg = draw_plot(p, &chart)?;
            let mut cap = format!("{y_name} vs {x_name}");
            if let Some(b) = by {
                let _ = write!(cap, ", one line per value of {b}");
                if p.series.len() > super::plot::MAX_BANDS && !p.x.categorical() {
                    let _ = write!(cap, " (min–max bands left out with more than {} lines)", super::plot::MAX_BANDS);
                }
            }
            match &p.x.kind {
                super::table::AxisKind::Binned { bins, .. } => {
                    let _ = write!(cap, "; {x_name} binned into {bins} intervals");
                }
                super::table::AxisKind::Categories { dropped: true, names } => {
                    let _ = write!(cap, "; only the first {} values of {x_name} shown", names.len());
                }
                _ => {}
            }
            let _ = write!(cap, " ({} values).", p.total());
            let _ = writeln!(h, "<figure>{svg}<figcaption>{}</figcaption></figure>", escape(&cap));
        }
        h.push_str("</div>\n");
    }
    Ok(())
}

/// Strips an XML declaration and doctype so an SVG file can be inlined in HTML.
fn inline_svg(text: &str) -> Option<&str> {
    let start = text.find("<svg")?;
    let end = text.rfind("</svg>")? + "</svg>".len();
    let svg = &text[start..end];
    // Inline only self-contained drawings: no scripts, no external references.
    let lower = svg.to_ascii_lowercase();
    let external = ["<script", "href=\"http", "href='http", "src=\"http", "url(http", "@import"];
    (!external.iter().any(|p| lower.contains(p))).then_some(svg)
}

fn write_bench(h: &mut String, out_dir: &Path) {
    let bench = out_dir.join("bench");
    let svg_path = bench.join("speedup.svg");
    let json_path = bench.join("bench.json");
    let svg = std::fs::metadata(&svg_path).ok().filter(|m| m.is_file());
    let json = std::fs::read_to_string(&json_path).ok();
    if svg.is_none() && json.is_none() {
        return;
    }
    h.push_str("<h2 id=\"bench\">Benchmark</h2>\n");
    if let Some(meta) = svg {
        let text = (meta.len() <= MAX_BENCH_SVG).then(|| std::fs::read_to_string(&svg_path).ok()).flatten();
        match text.as_deref().and_then(inline_svg) {
            Some(svg) => {
                let _ = writeln!(h, "<figure>{svg}<figcaption>bench/speedup.svg</figcaption></figure>");
            }
            None => {
                let _ = writeln!(
                    h,
                    "<p class=\"note\">bench/speedup.svg exists but was not inlined (too large, unreadable, or \
                     not a self-contained SVG); open it next to this report.</p>"
                );
            }
        }
    }
    if let Some(json) = json {
        let pretty = serde_json::from_str::<serde_json::Value>(&json)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or(json);
        let _ = writeln!(h, "<details><summary>bench/bench.json</summary><pre>{}</pre></details>", escape(&pretty));
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::testdata;
    use super::*;

    /// Counts `<tag` openings in `html`.
    fn count_tag(html: &str, tag: &str) -> usize {
        html.matches(&format!("<{tag}")).count()
    }

    /// Checks that every element opened is closed, in order (void elements excepted).
    fn assert_well_formed(html: &str) {
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
        assert_eq!(count_tag(&html, "svg"), 1 + 2 * 3, "histogram + 6 plots");
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
    fn bench_plot_is_inlined() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        std::fs::create_dir(dir.path().join("bench")).unwrap();
        std::fs::write(
            dir.path().join("bench/speedup.svg"),
            "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">\
             <rect id=\"speedup-marker\" width=\"5\" height=\"5\"/></svg>\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("bench/bench.json"), "{\"cores\":[1,2]}").unwrap();
        let html = render_report(dir.path()).unwrap();
        assert!(html.contains("<rect id=\"speedup-marker\""));
        assert!(!html.contains("<?xml"));
        assert!(html.contains("&quot;cores&quot;"));
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
