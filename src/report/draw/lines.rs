//! Metric plots: the mean per x position, one line per series, with a band (numeric x)
//! or error bars (categorical x) from its band (`data::band`) where a point is one grid point.
//! A header carries the title and a subtitle saying what each point is; the SVG carries
//! its numbers in a `<metadata>` element ([`super::metadata`]).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{
    axis_label, color, draw_err, draw_header, house_style, padded, Area, DrawResult, Ticked, DESC_FONT, FONT, TICK_FONT,
};
use super::drawing::{Chart, Drawing, Line, MAX_BANDS};
use super::{metadata, ticks};
use crate::report::data::aggregate::{PlotAgg, Point};
use crate::report::ReportError;

/// Points per line up to which each mean also gets a marker.
const MARKERS_UP_TO: usize = 40;

/// Draws an aggregated plot of one metric as an SVG document with its data in a
/// `<metadata>` element.
pub(crate) fn draw_plot(plot: &PlotAgg, chart: &Chart) -> Result<String, ReportError> {
    draw(&Drawing::of(plot, chart.y_name), chart)
}

/// Draws the lines of `d` as an SVG document with its data in a `<metadata>` element.
pub(crate) fn draw(d: &Drawing, chart: &Chart) -> Result<String, ReportError> {
    let what = format!("{} vs {}", chart.y_label, chart.x_label);
    let err = draw_err(&what);
    let lines: Vec<Line> = d.lines.iter().map(|(l, _)| l.clone()).collect();
    let drawn: Vec<Line> =
        if chart.log_y { lines.iter().map(|(s, p)| (s.clone(), log_points(p))).collect() } else { lines.clone() };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (chart.width, chart.height)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let body = draw_header(&root, chart.title, chart.subtitle).map_err(&err)?;
        let legend = d.legend && !drawn.is_empty();
        let (area, legend_area) = if legend {
            let (a, l) = body.split_horizontally(chart.width.saturating_sub(150));
            (a, Some(l))
        } else {
            (body.clone(), None)
        };
        if drawn.iter().all(|(_, p)| p.is_empty()) {
            draw_message(&area, "no finished tasks with this metric yet").map_err(&err)?;
        } else {
            draw_lines(&area, d, &drawn, chart).map_err(&err)?;
        }
        if let Some(l) = legend_area {
            let name = chart.series_name.unwrap_or("");
            draw_legend(&l, name, drawn.iter().map(|(s, _)| s.as_str()), &d.labels).map_err(&err)?;
        }
        root.present().map_err(&err)?;
    }
    Ok(metadata::embed(&svg, &metadata::plot_data(d, chart)))
}

/// Points with y as log10: non-positive means are left out, a band reaching zero or
/// below is cut at the bottom of the plot.
fn log_points(points: &[Point]) -> Vec<Point> {
    points
        .iter()
        .filter(|p| p.mean > 0.0)
        .map(|p| Point {
            mean: p.mean.log10(),
            band: p.band.map(|(lo, hi)| (if lo > 0.0 { lo.log10() } else { f64::NEG_INFINITY }, hi.log10())),
            ..*p
        })
        .collect()
}

fn draw_message<'a>(area: &Area<'a>, message: &str) -> DrawResult<'a> {
    let (w, h) = area.dim_in_pixel();
    let style = TextStyle::from((FONT, 20).into_font())
        .color(&RGBColor(110, 110, 110))
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(message.to_string(), (w as i32 / 2, h as i32 / 2), style))
}

/// The smallest and largest of finite values.
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

fn draw_lines<'a>(area: &Area<'a>, plot: &Drawing, lines: &[Line], chart: &Chart) -> DrawResult<'a> {
    let categorical = plot.x.categorical();
    let all = || lines.iter().flat_map(|(_, p)| p.iter());
    let (x0, x1) = if categorical {
        (-0.5, plot.x.slots() as f64 - 0.5)
    } else {
        let (lo, hi) = extent(all().map(|p| p.x));
        padded(lo, hi, 0.03)
    };
    let (y0, y1) = {
        let (lo, hi) = extent(all().flat_map(|p| {
            let (a, b) = p.y_extent();
            [a, b]
        }));
        padded(lo, hi, 0.05)
    };
    let x_ticks = if categorical {
        let n = plot.x.slots();
        let every = n.div_ceil(12).max(1);
        (0..n).step_by(every).map(|i| i as f64).collect()
    } else if plot.x.log {
        ticks::log(x0, x1, 10)
    } else {
        ticks::linear(x0, x1, 8)
    };
    let y_ticks = if chart.log_y { ticks::log(y0, y1, 8) } else { ticks::linear(y0, y1, 7) };
    let x_step = if x_ticks.len() >= 2 { x_ticks[1] - x_ticks[0] } else { 0.0 };
    let x_fmt = |v: &f64| match () {
        _ if plot.x.log => ticks::log_label(*v),
        _ if categorical => plot.x.label(*v),
        _ => ticks::linear_label(*v, x_step),
    };
    let y_step = if y_ticks.len() >= 2 { y_ticks[1] - y_ticks[0] } else { 0.0 };
    let y_fmt = |v: &f64| if chart.log_y { ticks::log_label(*v) } else { ticks::linear_label(*v, y_step) };
    // The y label area holds the widest tick label, a gap, and the rotated description:
    // sized from the labels so that the two never overlap.
    let y_labels: Vec<String> = y_ticks.iter().map(y_fmt).collect();
    let y_area = ticks::text_width(y_labels.iter().map(String::as_str), TICK_FONT) + DESC_FONT + 22;
    let mut ch = ChartBuilder::on(area)
        .margin(12)
        .margin_top(4)
        .x_label_area_size(46)
        .y_label_area_size(y_area)
        .build_cartesian_2d(Ticked::new(x0..x1, x_ticks), Ticked::new(y0..y1, y_ticks))?;
    let mut mesh = ch.configure_mesh();
    mesh.x_desc(axis_label(plot.x.log, chart.x_label))
        .y_desc(axis_label(chart.log_y, chart.y_label))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt);
    house_style(&mut mesh, true).draw()?;
    let bands = lines.len() <= MAX_BANDS;
    let n = lines.len().max(1) as f64;
    for (i, (label, points)) in lines.iter().enumerate() {
        let c = color(plot.labels.iter().position(|s| s == label).unwrap_or(i));
        // Clip a band cut by the log scale to the plot.
        let band = |p: &Point| p.band.filter(|_| bands).map(|(lo, hi)| (lo.max(y0), hi.min(y1)));
        if categorical {
            // Spread series sideways a little so their error bars do not overlap.
            let off = if n > 1.0 { (i as f64 - (n - 1.0) / 2.0) * (0.5 / n) } else { 0.0 };
            let w = 0.12 / n.sqrt();
            ch.draw_series(points.iter().filter_map(|p| {
                let (lo, hi) = band(p)?;
                Some(error_bar(p.x + off, lo, hi, w, c))
            }))?;
            ch.draw_series(LineSeries::new(points.iter().map(|p| (p.x + off, p.mean)), c.mix(0.5).stroke_width(1)))?;
            ch.draw_series(points.iter().map(|p| Circle::new((p.x + off, p.mean), 3, c.filled())))?;
            continue;
        }
        if chart.scatter {
            let r = if points.len() <= 1000 { 3 } else { 2 };
            ch.draw_series(points.iter().map(|p| Circle::new((p.x, p.mean), r, c.mix(0.75).filled())))?;
            continue;
        }
        // A band over each run of neighbouring points that have one; a lone point with a
        // band between two without gets an error bar instead.
        let alpha = if lines.len() > 1 { 0.14 } else { 0.2 };
        let w = (x1 - x0) * 0.006;
        for run in points.split(|p| band(p).is_none()).filter(|r| !r.is_empty()) {
            if run.len() == 1 {
                let (lo, hi) = band(&run[0]).expect("a run has bands");
                ch.draw_series(std::iter::once(error_bar(run[0].x, lo, hi, w, c)))?;
                continue;
            }
            let outline: Vec<(f64, f64)> = run
                .iter()
                .map(|p| (p.x, band(p).expect("a run has bands").1))
                .chain(run.iter().rev().map(|p| (p.x, band(p).expect("a run has bands").0)))
                .collect();
            ch.draw_series(std::iter::once(Polygon::new(outline, c.mix(alpha).filled())))?;
        }
        ch.draw_series(LineSeries::new(points.iter().map(|p| (p.x, p.mean)), c.stroke_width(2)))?;
        if points.len() <= MARKERS_UP_TO || chart.refined {
            ch.draw_series(points.iter().map(|p| Circle::new((p.x, p.mean), 3, c.filled())))?;
        }
    }
    Ok(())
}

/// A vertical bar from `lo` to `hi` at `x` with caps `w` wide on each side.
fn error_bar(x: f64, lo: f64, hi: f64, w: f64, c: RGBColor) -> PathElement<(f64, f64)> {
    PathElement::new(vec![(x - w, hi), (x + w, hi), (x, hi), (x, lo), (x - w, lo), (x + w, lo)], c.stroke_width(1))
}

fn draw_legend<'a, 's>(
    area: &Area<'a>,
    name: &str,
    shown: impl Iterator<Item = &'s str>,
    all: &[String],
) -> DrawResult<'a> {
    area.draw(&Text::new(crate::text::shorten(name, 18), (8, 20), (FONT, 17).into_font().style(FontStyle::Bold)))?;
    for (row, label) in shown.enumerate() {
        let c = color(all.iter().position(|s| s == label).unwrap_or(row));
        let y = 42 + row as i32 * 20;
        area.draw(&Rectangle::new([(8, y), (26, y + 10)], c.filled()))?;
        // Values like 3.1622776601683795 (from logspace) read better rounded.
        let text = match crate::report::data::input::parse_number(label) {
            Some(v) if v.is_finite() => crate::text::number(v),
            _ => crate::text::shorten(label, 16),
        };
        area.draw(&Text::new(text, (32, y - 1), (FONT, 16).into_font()))?;
    }
    Ok(())
}
