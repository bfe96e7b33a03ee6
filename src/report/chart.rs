//! Charts drawn with plotters' SVG backend: a metric's mean per x position with a band
//! (numeric x) or error bars (categorical x) from the minimum to the maximum, one line per
//! series, and the duration histogram. The backend writes text as SVG `<text>` elements,
//! so no fonts are needed to render them.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::aggregate::{Histogram, PlotAgg, Point};
use super::ReportError;

/// Most lines that each get a min–max band; with more, bands would hide each other.
pub const MAX_BANDS: usize = 3;
/// Points per line up to which each mean also gets a marker.
const MARKERS_UP_TO: usize = 40;

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const FONT: &str = "sans-serif";

/// Presentation of one chart.
pub(crate) struct Chart<'a> {
    pub title: Option<&'a str>,
    pub x_name: &'a str,
    pub y_name: &'a str,
    pub series_name: Option<&'a str>,
    pub width: u32,
    pub height: u32,
}

fn draw_err<E: std::error::Error + Send + Sync>(what: &str) -> impl Fn(DrawingAreaErrorKind<E>) -> ReportError + '_ {
    move |e| ReportError::Draw { what: what.to_string(), message: e.to_string() }
}

/// Draws an aggregated plot as an SVG document.
pub(crate) fn draw_plot(plot: &PlotAgg, chart: &Chart) -> Result<String, ReportError> {
    let what = format!("{} vs {}", chart.y_name, chart.x_name);
    let err = draw_err(&what);
    let lines: Vec<(String, Vec<Point>)> = plot
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), plot.points(i)))
        .filter(|(_, p)| !p.is_empty())
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (chart.width, chart.height)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let legend = plot.series_column.is_some() && !lines.is_empty();
        let (area, legend_area) = if legend {
            let (a, l) = root.split_horizontally(chart.width.saturating_sub(150));
            (a, Some(l))
        } else {
            (root.clone(), None)
        };
        if lines.is_empty() {
            draw_empty(&area, chart, "no finished tasks with this metric yet").map_err(&err)?;
        } else {
            draw_lines(&area, plot, &lines, chart).map_err(&err)?;
        }
        if let Some(l) = legend_area {
            let name = chart.series_name.unwrap_or("");
            draw_legend(&l, name, lines.iter().map(|(s, _)| s.as_str()), &plot.series).map_err(&err)?;
        }
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult<'a> = Result<(), DrawingAreaErrorKind<<SVGBackend<'a> as DrawingBackend>::ErrorType>>;

fn draw_empty<'a>(area: &Area<'a>, chart: &Chart, message: &str) -> DrawResult<'a> {
    let (w, h) = area.dim_in_pixel();
    if let Some(t) = chart.title {
        area.draw(&Text::new(t.to_string(), (10, 10), (FONT, 22).into_font()))?;
    }
    let style = TextStyle::from((FONT, 20).into_font())
        .color(&RGBColor(110, 110, 110))
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(message.to_string(), (w as i32 / 2, h as i32 / 2), style))
}

fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    let d = (hi - lo) * frac;
    (lo - d, hi + d)
}

fn draw_lines<'a>(area: &Area<'a>, plot: &PlotAgg, lines: &[(String, Vec<Point>)], chart: &Chart) -> DrawResult<'a> {
    let categorical = plot.x.categorical();
    let all = || lines.iter().flat_map(|(_, p)| p.iter());
    let (x0, x1) = if categorical {
        (-0.5, plot.x.slots() as f64 - 0.5)
    } else {
        padded(
            all().map(|p| p.x).fold(f64::INFINITY, f64::min),
            all().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max),
            0.02,
        )
    };
    let (y0, y1) = padded(
        all().map(|p| p.min).fold(f64::INFINITY, f64::min),
        all().map(|p| p.max).fold(f64::NEG_INFINITY, f64::max),
        0.05,
    );
    let mut builder = ChartBuilder::on(area);
    builder.margin(12).x_label_area_size(44).y_label_area_size(64);
    if let Some(t) = chart.title {
        builder.caption(t, (FONT, 22));
    }
    let mut ch = builder.build_cartesian_2d(x0..x1, y0..y1)?;
    let x_fmt = |v: &f64| plot.x.label(*v);
    let y_fmt = |v: &f64| crate::text::number(*v);
    let x_desc = if plot.x.log { format!("{} (log scale)", chart.x_name) } else { chart.x_name.to_string() };
    ch.configure_mesh()
        .x_desc(x_desc)
        .y_desc(chart.y_name)
        .x_labels(if categorical { plot.x.slots().min(12) } else { 10 })
        .y_labels(8)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .axis_desc_style((FONT, 17))
        .label_style((FONT, 15))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(RGBColor(245, 245, 245))
        .draw()?;
    let n = lines.len().max(1) as f64;
    for (i, (label, points)) in lines.iter().enumerate() {
        let c = color(plot.series.iter().position(|s| s == label).unwrap_or(i));
        if categorical {
            // Spread series sideways a little so their error bars do not overlap.
            let off = if n > 1.0 { (i as f64 - (n - 1.0) / 2.0) * (0.5 / n) } else { 0.0 };
            let w = 0.12 / n.sqrt();
            ch.draw_series(points.iter().map(|p| {
                let x = p.x + off;
                PathElement::new(
                    vec![(x - w, p.max), (x + w, p.max), (x, p.max), (x, p.min), (x - w, p.min), (x + w, p.min)],
                    c.stroke_width(1),
                )
            }))?;
            ch.draw_series(LineSeries::new(points.iter().map(|p| (p.x + off, p.mean)), c.mix(0.5).stroke_width(1)))?;
            ch.draw_series(points.iter().map(|p| Circle::new((p.x + off, p.mean), 3, c.filled())))?;
        } else {
            if lines.len() <= MAX_BANDS && points.iter().any(|p| p.max > p.min) {
                let band: Vec<(f64, f64)> =
                    points.iter().map(|p| (p.x, p.max)).chain(points.iter().rev().map(|p| (p.x, p.min))).collect();
                ch.draw_series(std::iter::once(Polygon::new(
                    band,
                    c.mix(if lines.len() > 1 { 0.11 } else { 0.16 }).filled(),
                )))?;
            }
            ch.draw_series(LineSeries::new(points.iter().map(|p| (p.x, p.mean)), c.stroke_width(2)))?;
            if points.len() <= MARKERS_UP_TO {
                ch.draw_series(points.iter().map(|p| Circle::new((p.x, p.mean), 3, c.filled())))?;
            }
        }
    }
    Ok(())
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
        area.draw(&Text::new(crate::text::shorten(label, 16), (32, y - 1), (FONT, 16).into_font()))?;
    }
    Ok(())
}

/// Draws the duration histogram as an SVG document.
pub(crate) fn draw_histogram(h: &Histogram, width: u32, height: u32) -> Result<String, ReportError> {
    let err = draw_err("the duration histogram");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let bins = h.counts.len().max(1);
        let (lo, hi) = if h.hi > h.lo { (h.lo, h.hi) } else { padded(h.lo, h.hi, 0.0) };
        let step = (hi - lo) / bins as f64;
        let top = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.05;
        let mut ch = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(&err)?;
        let x_fmt = |v: &f64| crate::text::number(*v);
        let y_fmt = |v: &f64| {
            if v.fract() == 0.0 {
                crate::text::number(*v)
            } else {
                String::new()
            }
        };
        let most = h.counts.iter().copied().max().unwrap_or(0) as usize;
        ch.configure_mesh()
            .x_desc("seconds")
            .y_labels((most + 1).clamp(2, 8))
            .y_desc("tasks")
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(RGBColor(245, 245, 245))
            .draw()
            .map_err(&err)?;
        let bar = color(0);
        ch.draw_series(h.counts.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| {
            let a = lo + step * i as f64;
            Rectangle::new([(a, 0.0), (a + step, n as f64)], bar.mix(0.8).filled())
        }))
        .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_padded_and_never_empty() {
        assert_eq!(padded(0.0, 10.0, 0.1), (-1.0, 11.0));
        assert_eq!(padded(0.0, 0.0, 0.1), (-1.0, 1.0));
        assert_eq!(padded(-2.0, -2.0, 0.0), (-2.2, -1.8));
    }
}
