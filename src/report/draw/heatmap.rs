//! Heatmaps: a metric's mean over two swept parameters, one coloured rectangle per cell
//! (viridis, which stays readable in grey and to colour-blind readers), with a colour
//! bar. The cells' values are embedded as JSON in `<metadata id="sweep-plot-data">`.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::json;

use super::chart::{
    axis_label, draw_err, draw_header, house_style, Area, DrawResult, Ticked, DESC_FONT, FONT, TICK_FONT,
};
use super::{metadata, ticks};
use crate::report::data::axis::{Axis, AxisKind};
use crate::report::data::heat::HeatAgg;
use crate::report::ReportError;

/// Presentation of one heatmap.
pub(crate) struct HeatChart<'a> {
    pub title: Option<&'a str>,
    pub subtitle: Option<&'a str>,
    /// Names of the x and y parameters and of the metric, for the embedded data.
    pub names: [&'a str; 3],
    /// Their descriptions, units included.
    pub labels: [&'a str; 3],
    pub width: u32,
    pub height: u32,
}

/// Viridis at five stops (matplotlib's values), interpolated linearly in between.
const VIRIDIS: [(f64, f64, f64); 5] =
    [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];

/// The colour of `t` in [0, 1].
fn viridis(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * (VIRIDIS.len() - 1) as f64;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The extent of each slot of an axis, in axis space: halfway to the neighbours for
/// exact values, the bins, or a unit around each category.
fn edges(a: &Axis) -> Vec<(f64, f64)> {
    match &a.kind {
        AxisKind::Exact(v) if v.len() == 1 => vec![(v[0] - 0.5, v[0] + 0.5)],
        AxisKind::Exact(v) => (0..v.len())
            .map(|i| {
                let lo = if i == 0 { v[0] - (v[1] - v[0]) / 2.0 } else { (v[i - 1] + v[i]) / 2.0 };
                let n = v.len() - 1;
                let hi = if i == n { v[n] + (v[n] - v[n - 1]) / 2.0 } else { (v[i] + v[i + 1]) / 2.0 };
                (lo, hi)
            })
            .collect(),
        AxisKind::Binned { lo, hi, bins } => {
            let w = (hi - lo) / *bins as f64;
            (0..*bins).map(|i| (lo + w * i as f64, lo + w * (i + 1) as f64)).collect()
        }
        AxisKind::Categories { names, .. } => (0..names.len()).map(|i| (i as f64 - 0.5, i as f64 + 0.5)).collect(),
    }
}

/// Formats a tick position as its label.
type TickLabel<'a> = Box<dyn Fn(&f64) -> String + 'a>;

/// Ticks and their labels for a heatmap axis: the values themselves when there are few.
fn axis_ticks(a: &Axis, lo: f64, hi: f64) -> (Vec<f64>, TickLabel<'_>) {
    let value = move |p: f64| if a.log { 10f64.powf(p) } else { p };
    match &a.kind {
        AxisKind::Categories { names, .. } => {
            let every = names.len().div_ceil(12).max(1);
            ((0..names.len()).step_by(every).map(|i| i as f64).collect(), Box::new(move |v| a.label(*v)))
        }
        AxisKind::Exact(v) if v.len() <= 12 => (v.clone(), Box::new(move |p| crate::text::number(value(*p)))),
        _ if a.log => (ticks::log(lo, hi, 8), Box::new(|p| ticks::log_label(*p))),
        _ => {
            let t = ticks::linear(lo, hi, 8);
            let step = if t.len() >= 2 { t[1] - t[0] } else { 0.0 };
            (t, Box::new(move |v| ticks::linear_label(*v, step)))
        }
    }
}

/// The value a slot stands for, for the embedded data.
fn slot_value(a: &Axis, slot: usize, edge: (f64, f64)) -> serde_json::Value {
    match &a.kind {
        AxisKind::Categories { names, .. } => json!(names.get_index(slot)),
        AxisKind::Exact(v) if a.log => json!(10f64.powf(v[slot])),
        AxisKind::Exact(v) => json!(v[slot]),
        _ if a.log => json!(10f64.powf((edge.0 + edge.1) / 2.0)),
        _ => json!((edge.0 + edge.1) / 2.0),
    }
}

/// Draws a heatmap as an SVG document with its cells in a `<metadata>` element.
pub(crate) fn draw_heatmap(h: &HeatAgg, chart: &HeatChart) -> Result<String, ReportError> {
    let what = format!("{} over {} and {}", chart.labels[2], chart.labels[0], chart.labels[1]);
    let err = draw_err(&what);
    let (xe, ye) = (edges(&h.x), edges(&h.y));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (chart.width, chart.height)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let body = draw_header(&root, chart.title, chart.subtitle).map_err(&err)?;
        match h.range() {
            None => {
                let (w, hh) = body.dim_in_pixel();
                let style = TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
                body.draw(&Text::new("no finished tasks with this metric yet", (w as i32 / 2, hh as i32 / 2), style))
                    .map_err(&err)?;
            }
            Some(range) => {
                let (area, bar) = body.split_horizontally(chart.width.saturating_sub(120));
                draw_cells(&area, h, &xe, &ye, range, chart).map_err(&err)?;
                draw_colour_bar(&bar, range, chart.labels[2]).map_err(&err)?;
            }
        }
        root.present().map_err(&err)?;
    }
    let mut cells = Vec::new();
    for (j, ey) in ye.iter().enumerate() {
        for (i, ex) in xe.iter().enumerate() {
            if let Some(m) = h.mean(i, j) {
                cells.push(json!({"x": slot_value(&h.x, i, *ex), "y": slot_value(&h.y, j, *ey), "mean": m}));
            }
        }
    }
    let [x, y, z] = chart.names;
    let meta = json!({"kind": "heatmap", "x": x, "y": y, "z": z, "log_x": h.x.log, "log_y": h.y.log, "cells": cells});
    Ok(metadata::embed(&svg, &meta.to_string()))
}

fn draw_cells<'a>(
    area: &Area<'a>,
    h: &HeatAgg,
    xe: &[(f64, f64)],
    ye: &[(f64, f64)],
    (zlo, zhi): (f64, f64),
    chart: &HeatChart,
) -> DrawResult<'a> {
    let (x0, x1) = (xe[0].0, xe[xe.len() - 1].1);
    let (y0, y1) = (ye[0].0, ye[ye.len() - 1].1);
    let (xt, x_fmt) = axis_ticks(&h.x, x0, x1);
    let (yt, y_fmt) = axis_ticks(&h.y, y0, y1);
    let widest = yt.iter().map(&y_fmt).collect::<Vec<_>>();
    let y_area = ticks::text_width(widest.iter().map(String::as_str), TICK_FONT) + DESC_FONT + 22;
    let mut ch = ChartBuilder::on(area)
        .margin(12)
        .margin_top(4)
        .x_label_area_size(46)
        .y_label_area_size(y_area)
        .build_cartesian_2d(Ticked::new(x0..x1, xt), Ticked::new(y0..y1, yt))?;
    let (xf, yf) = (|v: &f64| x_fmt(v), |v: &f64| y_fmt(v));
    let mut mesh = ch.configure_mesh();
    mesh.disable_mesh()
        .x_desc(axis_label(h.x.log, chart.labels[0]))
        .y_desc(axis_label(h.y.log, chart.labels[1]))
        .x_label_formatter(&xf)
        .y_label_formatter(&yf);
    house_style(&mut mesh, false).draw()?;
    let span = if zhi > zlo { zhi - zlo } else { 1.0 };
    let mut rects = Vec::new();
    for (j, &(ylo, yhi)) in ye.iter().enumerate() {
        for (i, &(xlo, xhi)) in xe.iter().enumerate() {
            if let Some(m) = h.mean(i, j) {
                rects.push(Rectangle::new([(xlo, ylo), (xhi, yhi)], viridis((m - zlo) / span).filled()));
            }
        }
    }
    ch.draw_series(rects)?;
    Ok(())
}

fn draw_colour_bar<'a>(area: &Area<'a>, (zlo, zhi): (f64, f64), label: &str) -> DrawResult<'a> {
    let (lo, hi) = if zhi > zlo { (zlo, zhi) } else { (zlo - 0.5, zhi + 0.5) };
    let t = ticks::linear(lo, hi, 6);
    let step = if t.len() >= 2 { t[1] - t[0] } else { 0.0 };
    let mut ch = ChartBuilder::on(area)
        .margin(12)
        .margin_top(4)
        .margin_left(4)
        .x_label_area_size(46)
        .right_y_label_area_size(64)
        .build_cartesian_2d(Ticked::new(0.0..1.0, vec![]), Ticked::new(lo..hi, t))?;
    ch.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_formatter(&|v| ticks::linear_label(*v, step))
        .x_desc(crate::text::shorten(label, 16))
        .axis_desc_style((FONT, 15))
        .label_style((FONT, 13))
        .draw()?;
    const STRIPS: usize = 64;
    let h = (hi - lo) / STRIPS as f64;
    ch.draw_series((0..STRIPS).map(|k| {
        let a = lo + h * k as f64;
        // Each strip overlaps the next a little: abutting edges leave anti-aliased seams.
        Rectangle::new(
            [(0.0, a), (1.0, (a + h * 1.5).min(hi))],
            viridis((a + h / 2.0 - zlo) / (zhi - zlo).max(f64::MIN_POSITIVE)).filled(),
        )
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::survey::ParamSurvey;

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(2.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
    }

    #[test]
    fn cells_span_halfway_to_their_neighbours() {
        let mut p = ParamSurvey::new(0);
        for v in ["1", "2", "4"] {
            p.add(v);
        }
        assert_eq!(edges(&Axis::new(&p, 60)), [(0.5, 1.5), (1.5, 3.0), (3.0, 5.0)]);
    }
}
