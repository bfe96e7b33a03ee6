//! Adaptive replicates in the report: how many replicates each grid point ran, from
//! `points.csv`, drawn against the first swept parameter (or the point's place in grid
//! order when that parameter is not numeric), with the points that stopped at `max` apart.

use plotters::prelude::*;
use std::path::Path;

use super::escape;
use crate::outdir::Manifest;
use crate::report::draw::chart::{color, count_chart, draw_err, house_style, padded, whole};
use crate::report::ReportError;
use std::fmt::Write as _;

/// Grid points drawn at most (the first ones, in grid order): the chart stays small.
pub(crate) const MAX_POINTS: usize = 5000;

/// What `points.csv` says, cut to [`MAX_POINTS`] points.
pub(crate) struct PointCounts {
    /// The x axis: the first swept parameter, or "grid point".
    pub x_name: String,
    /// (x, n, stopped at max) per drawn point.
    pub points: Vec<(f64, u32, bool)>,
    /// Points in the file.
    pub total: u64,
    /// Points that met the target.
    pub met: u64,
    /// Points that stopped at max.
    pub max: u64,
    /// Points still running or failed.
    pub open: u64,
    /// Replicates run over all points (the sum of `n`).
    pub replicates: u64,
}

/// Reads `points.csv` in `out_dir`, a row at a time; `None` when there is none.
pub(crate) fn read(out_dir: &Path) -> Option<PointCounts> {
    let mut r = csv::Reader::from_path(crate::outdir::OutDir::new(out_dir).points()).ok()?;
    let headers = r.headers().ok()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (metric, n, state) = (col("metric")?, col("n")?, col("state")?);
    let numeric_first = metric > 0;
    let mut c = PointCounts {
        x_name: if numeric_first { headers[0].to_string() } else { "grid point".into() },
        points: Vec::new(),
        total: 0,
        met: 0,
        max: 0,
        open: 0,
        replicates: 0,
    };
    let mut first_values = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let Ok(rec) = rec else { continue };
        let count: u32 = rec.get(n).and_then(|v| v.parse().ok()).unwrap_or(0);
        let at_max = rec.get(state) == Some("max");
        match rec.get(state) {
            Some("met") => c.met += 1,
            Some("max") => c.max += 1,
            _ => c.open += 1,
        }
        c.total += 1;
        c.replicates += count as u64;
        if c.points.len() < MAX_POINTS {
            first_values.push(rec.get(0).and_then(|v| v.parse::<f64>().ok()).filter(|_| numeric_first));
            c.points.push((i as f64, count, at_max));
        }
    }
    // The first parameter gives x only when every drawn point has a number there.
    if numeric_first && first_values.iter().all(Option::is_some) {
        for (p, x) in c.points.iter_mut().zip(first_values) {
            p.0 = x.expect("checked");
        }
    } else {
        c.x_name = "grid point (in grid order)".into();
    }
    Some(c)
}

/// Draws n against x as an SVG document: points that met the target in the first colour,
/// those that stopped at max in the second.
pub(crate) fn draw(c: &PointCounts, width: u32, height: u32) -> Result<String, ReportError> {
    let err = draw_err("the replicates per point");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let (lo, hi) = c.points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| (l.min(p.0), h.max(p.0)));
        let (lo, hi) = if lo.is_finite() { padded(lo, hi, 0.05) } else { (0.0, 1.0) };
        let top = c.points.iter().map(|p| p.1).max().unwrap_or(1).max(1) as f64 * 1.1;
        let mut ch = count_chart(&root, lo..hi, top).map_err(&err)?;
        let x_fmt = |v: &f64| crate::text::number(*v);
        let mut mesh = ch.configure_mesh();
        mesh.x_desc(c.x_name.as_str()).y_desc("replicates run (n)").x_label_formatter(&x_fmt).y_label_formatter(&whole);
        house_style(&mut mesh, true).draw().map_err(&err)?;
        for (at_max, colour) in [(false, color(0)), (true, color(3))] {
            let dots = c.points.iter().filter(|p| p.2 == at_max);
            ch.draw_series(dots.map(|p| Circle::new((p.0, p.1 as f64), 4, colour.filled()))).map_err(&err)?;
        }
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

/// The report's section on adaptive replicates (none for a fixed count): how many
/// replicates each point ran, drawn, and what the rule decided.
pub(crate) fn write_section(h: &mut String, out_dir: &Path, m: &Manifest) -> Result<(), ReportError> {
    let Some(rule) = &m.adaptive else { return Ok(()) };
    h.push_str("<h2 id=\"replicates\">Replicates per point</h2>\n");
    let Some(c) = read(out_dir) else {
        h.push_str("<p class=\"note\">points.csv could not be read.</p>\n");
        return Ok(());
    };
    let svg = draw(&c, 760, 340)?;
    let target = ["ci95_rel", "ci95_abs"].iter().find_map(|k| rule.get(*k).map(|v| format!("{k} = {v}")));
    let mut cap = format!(
        "Replicates run per grid point (adaptive: {} to {}, until the 95% CI of {} meets {}): {} points, {} replicates \
         in all; {} met the target, {} stopped at max (in red), {} not decided.",
        rule["min"],
        rule["max"],
        rule["metric"].as_str().unwrap_or("?"),
        target.unwrap_or_default(),
        c.total,
        c.replicates,
        c.met,
        c.max,
        c.open
    );
    if c.total > c.points.len() as u64 {
        cap.push_str(&format!(" The first {} points are drawn.", c.points.len()));
    }
    let _ = writeln!(h, "<figure>{svg}<figcaption>{}</figcaption></figure>", escape(&cap));
    Ok(())
}
