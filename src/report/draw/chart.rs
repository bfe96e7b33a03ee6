//! What every chart shares (colours, fonts, padded ranges, drawing errors) and the
//! duration histogram; metric plots are drawn in [`super::lines`]. Charts are drawn with
//! plotters' SVG backend, which writes text as SVG `<text>` elements, so no fonts are
//! needed to render them.

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::data::aggregate::Histogram;
use crate::report::ReportError;

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

pub(crate) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub(crate) const FONT: &str = "sans-serif";
/// Font size of tick labels.
pub(crate) const TICK_FONT: u32 = 15;
/// Font size of axis descriptions.
pub(crate) const DESC_FONT: u32 = 17;

/// An axis description, which says when the axis is logarithmic.
pub(crate) fn axis_label(log: bool, label: &str) -> String {
    if log {
        format!("{label}, log scale")
    } else {
        label.to_string()
    }
}

/// Every chart's axes: the fonts of descriptions and tick labels, and, with `grid`, faint
/// grid lines.
pub(crate) fn house_style<'m, 'a, 'b, X, Y, XT, YT, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    grid: bool,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
    DB: DrawingBackend,
{
    mesh.axis_desc_style((FONT, DESC_FONT)).label_style((FONT, TICK_FONT));
    if grid {
        mesh.bold_line_style(RGBColor(225, 225, 225)).light_line_style(RGBColor(245, 245, 245));
    }
    mesh
}

pub(crate) fn draw_err<E: std::error::Error + Send + Sync>(
    what: &str,
) -> impl Fn(DrawingAreaErrorKind<E>) -> ReportError + '_ {
    move |e| ReportError::Draw { what: what.to_string(), message: e.to_string() }
}

pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(crate) type DrawResult<'a> = Result<(), DrawingAreaErrorKind<<SVGBackend<'a> as DrawingBackend>::ErrorType>>;

/// Axes of a count against a number (a duration histogram, replicates per point).
pub(crate) type CountChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The chart of a count against a number on `root`: x over `x`, counts from 0 to `top`, with
/// the margins and label areas of the report's count charts.
pub(crate) fn count_chart<'a, 'b>(
    root: &'a Area<'b>,
    x: std::ops::Range<f64>,
    top: f64,
) -> Result<CountChart<'a, 'b>, DrawingAreaErrorKind<<SVGBackend<'b> as DrawingBackend>::ErrorType>> {
    ChartBuilder::on(root).margin(12).x_label_area_size(44).y_label_area_size(64).build_cartesian_2d(x, 0.0..top)
}

/// A count axis's label: whole numbers only (a count of 2.5 tasks is no tick).
pub(crate) fn whole(v: &f64) -> String {
    if v.fract() == 0.0 {
        crate::text::number(*v)
    } else {
        String::new()
    }
}

/// A range around `[lo, hi]` widened by `frac` of its width on each side; never empty.
pub(crate) fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    let d = (hi - lo) * frac;
    (lo - d, hi + d)
}

/// A linear f64 range whose ticks are ours ([`super::ticks`]), not plotters' own.
/// (plotters' `with_key_points` would do, but it lacks the value formatter that
/// `configure_mesh` requires.)
pub(crate) struct Ticked {
    inner: plotters::coord::types::RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    pub(crate) fn new(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Self {
        Ticked { inner: range.into(), ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Light grid lines would be plotters' guesses between our ticks: none.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
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
        let mut ch = count_chart(&root, lo..hi, top).map_err(&err)?;
        let x_fmt = |v: &f64| crate::text::number(*v);
        let most = h.counts.iter().copied().max().unwrap_or(0) as usize;
        let mut mesh = ch.configure_mesh();
        mesh.x_desc("seconds")
            .y_labels((most + 1).clamp(2, 8))
            .y_desc("tasks")
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&whole);
        house_style(&mut mesh, true).draw().map_err(&err)?;
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

/// Draws a chart's title and subtitle, centred in a strip at the top of `root` as tall as
/// they need, and returns the area below it.
pub(crate) fn draw_header<'a>(
    root: &Area<'a>,
    title: Option<&str>,
    subtitle: Option<&str>,
) -> Result<Area<'a>, DrawingAreaErrorKind<<SVGBackend<'a> as DrawingBackend>::ErrorType>> {
    let height = title.map_or(0, |_| 30) + subtitle.map_or(0, |_| 22);
    let (area, body) = root.split_vertically(height + 6);
    let (w, _) = area.dim_in_pixel();
    let centre = |size: u32| TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    let mut y = 8;
    if let Some(t) = title {
        area.draw(&Text::new(t.to_string(), (w as i32 / 2, y), centre(22)))?;
        y += 30;
    }
    if let Some(s) = subtitle {
        let style = centre(14).color(&RGBColor(90, 90, 90));
        area.draw(&Text::new(crate::text::shorten(s, (w as usize / 7).max(20)), (w as i32 / 2, y), style))?;
    }
    Ok(body)
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
