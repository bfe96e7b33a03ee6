//! The report's paired comparison (a sweep with `common_seed`): per setting of the other
//! parameters, each level's mean, its paired difference from the reference level with a
//! 95 % interval, and how much narrower pairing made the intervals, in a sentence.
//! Each row carries its exact figures in `data-` attributes, for readers and tests.

use std::fmt::Write as _;

use super::{escape, ReportError};
use crate::outdir::Manifest;
use crate::report::data::input::Results;
use crate::report::data::paired::{compare, Absent, Paired, Row, MAX_VALUES};
use crate::text::number;

/// Most rows shown per metric.
pub const MAX_PAIRED_ROWS: usize = 240;

/// Writes the section when the sweep has a `common_seed` parameter with several levels.
pub(super) fn write(
    h: &mut String,
    results: &Results,
    manifest: &Manifest,
    metrics: &[usize],
    baseline: Option<&str>,
) -> Result<(), ReportError> {
    let p = match compare(results, manifest, metrics, baseline)? {
        Ok(p) => p,
        Err(Absent::NotPaired) => return Ok(()),
        Err(Absent::TooLarge(n)) => {
            h.push_str("<h2 id=\"paired\">Paired comparison</h2>\n");
            let _ = writeln!(
                h,
                "<p class=\"note\">The sweep has {n} values of its metrics, more than the {MAX_VALUES} the report \
                 compares; compare the levels with <code>sweep.open</code> instead.</p>"
            );
            return Ok(());
        }
    };
    let compared = p.compared.join(", ");
    let _ = writeln!(h, "<h2 id=\"paired\">Paired comparison: {}</h2>", escape(&compared));
    let _ = writeln!(
        h,
        "<p class=\"note\">Tasks that differ only in {c} share their seed (<code>common_seed</code>), so replicate r \
         of every level drew the same random numbers, and each difference is taken replicate by replicate. \
         Differences are from <b>{r}</b>, the reference ({how}), with 95&nbsp;% intervals over the replicates \
         both levels ran (Student&#39;s t).</p>",
        c = escape(&compared),
        r = escape(&p.levels[p.reference]),
        how = if baseline.is_some() {
            "chosen with --baseline"
        } else {
            "the first level; choose another with <code>sweep report --baseline LEVEL</code>"
        },
    );
    for (metric, rows) in &p.metrics {
        let _ = writeln!(h, "<h3>{}</h3>", escape(metric));
        let _ = writeln!(h, "<p>{}</p>", escape(&sentence(rows)));
        write_table(h, &p, metric, rows);
    }
    Ok(())
}

/// How much narrower the paired intervals are than unpaired ones, as a sentence.
pub(crate) fn sentence(rows: &[Row]) -> String {
    let mut r: Vec<f64> = rows.iter().filter_map(|r| r.diff.and_then(|d| d.narrower())).collect();
    if r.is_empty() {
        return "Too few replicates to give intervals (each difference needs at least two).".into();
    }
    r.sort_by(f64::total_cmp);
    let median = if r.len() % 2 == 1 { r[r.len() / 2] } else { (r[r.len() / 2 - 1] + r[r.len() / 2]) / 2.0 };
    let (lo, hi) = (r[0], r[r.len() - 1]);
    let times = |x: f64| format!("{:.1}", if x >= 1.0 { x } else { 1.0 / x });
    let how = if median >= 1.0 { "narrower" } else { "wider" };
    let over = match r.len() {
        1 => "one comparison".to_string(),
        n => format!("median of {n} comparisons; the ratio runs from {lo:.1} to {hi:.1}"),
    };
    format!(
        "Paired, the 95 % intervals of the differences are {} times {how} than unpaired intervals over the same \
         replicates would be ({over}).",
        times(median)
    )
}

fn write_table(h: &mut String, p: &Paired, metric: &str, rows: &[Row]) {
    let setting_head = if p.others.is_empty() { "setting".to_string() } else { p.others.join(", ") };
    let _ = writeln!(
        h,
        "<div class=\"card\"><table class=\"paired\" data-metric=\"{}\">\n<tr><th>{}</th><th>{}</th>\
         <th class=\"num\">mean</th><th class=\"num\">difference</th><th class=\"num\">95&nbsp;% interval</th>\
         <th class=\"num\">pairs</th><th class=\"num\">narrower than unpaired</th></tr>",
        escape(metric),
        escape(&setting_head),
        escape(&p.compared.join(", "))
    );
    let mut last = None;
    for r in rows.iter().take(MAX_PAIRED_ROWS) {
        let setting = &p.settings[r.setting];
        let shown = if last == Some(r.setting) { String::new() } else { escape(setting) };
        last = Some(r.setting);
        let f = |x: f64| if x.is_finite() { number(x) } else { "–".into() };
        let mut data = format!(
            " data-setting=\"{}\" data-level=\"{}\" data-n=\"{}\" data-mean=\"{}\"",
            escape(setting),
            escape(&p.levels[r.level]),
            r.n,
            r.mean
        );
        let cells = match r.diff {
            None => "<td class=\"num\">reference</td><td></td><td></td><td></td>".to_string(),
            Some(d) => {
                let _ = write!(
                    data,
                    " data-pairs=\"{}\" data-diff=\"{}\" data-half=\"{}\" data-unpaired-half=\"{}\"",
                    d.pairs, d.mean, d.half, d.unpaired_half
                );
                let interval = match d.half.is_finite() {
                    true => format!("[{}, {}]", f(d.mean - d.half), f(d.mean + d.half)),
                    false => "–".into(),
                };
                let narrower = d.narrower().map_or("–".into(), |x| format!("{:.1}×", x));
                format!(
                    "<td class=\"num\">{}</td><td class=\"num\">{interval}</td><td class=\"num\">{}</td>\
                     <td class=\"num\">{narrower}</td>",
                    f(d.mean),
                    d.pairs
                )
            }
        };
        let _ = writeln!(
            h,
            "<tr{data}><td>{shown}</td><td>{}</td><td class=\"num\">{}</td>{cells}</tr>",
            escape(&p.levels[r.level]),
            f(r.mean)
        );
    }
    h.push_str("</table></div>\n");
    if rows.len() > MAX_PAIRED_ROWS {
        let _ = writeln!(h, "<p class=\"note\">The first {MAX_PAIRED_ROWS} of {} rows shown.</p>", rows.len());
    }
}
