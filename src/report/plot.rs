//! `sweep plot`: one metric against one parameter, as SVG.
//!
//! Values are aggregated over replicates and over the other parameters: each x position
//! shows the mean, with a band (numeric x) or error bars (categorical x) from the minimum
//! to the maximum. Charts are drawn with plotters' SVG backend, which writes text as SVG
//! `<text>` elements, so no fonts are needed to render them.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use super::table::ReportError;
use super::table::{aggregate, Axis, Histogram, Manifest, PlotAgg, Point, Results, Survey};

/// Most x positions of a plot: parameters with more distinct values are binned.
pub const MAX_X_POSITIONS: usize = 200;
/// Most lines (values of the `--by` parameter) in one plot.
pub const MAX_SERIES: usize = 20;
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

/// Renders `sweep plot DIR --x X --y Y [--by BY]` as an SVG document.
///
/// `x` and `by` must be parameters (columns of the grid); `y` a numeric metric, or
/// `seconds` / `attempts`. Only done tasks contribute. Unknown names give
/// [`ReportError::UnknownColumn`] listing the available ones.
pub fn render_plot(out_dir: &Path, x: &str, y: &str, by: Option<&str>) -> Result<String, ReportError> {
    let manifest = Manifest::read(out_dir)?;
    let results = Results::open(out_dir, &manifest)?;
    let layout = &results.layout;
    let params: Vec<String> = layout.params.iter().map(|&i| layout.name(i).to_string()).collect();
    let find_param = |flag: &'static str, name: &str, avail: Vec<String>| -> Result<usize, ReportError> {
        layout.params.iter().copied().find(|&i| layout.name(i) == name).ok_or_else(|| ReportError::UnknownColumn {
            flag,
            what: "parameter",
            name: name.to_string(),
            suggestion: crate::text::did_you_mean(name, avail.iter().map(String::as_str)),
            available: avail,
        })
    };
    let x_col = find_param("--x", x, params.clone())?;
    let mut y_names: Vec<String> = layout.metrics.iter().map(|&i| layout.name(i).to_string()).collect();
    y_names.extend(["seconds".to_string(), "attempts".to_string()]);
    let y_col = layout
        .metrics
        .iter()
        .copied()
        .chain([layout.seconds, layout.attempts])
        .find(|&i| layout.name(i) == y)
        .ok_or_else(|| ReportError::UnknownColumn {
            flag: "--y",
            what: "metric",
            name: y.to_string(),
            suggestion: crate::text::did_you_mean(y, y_names.iter().map(String::as_str)),
            available: y_names.clone(),
        })?;
    let by_col = match by {
        None => None,
        Some(b) if b == x => {
            return Err(ReportError::Unsupported(format!("--by `{b}` is the same parameter as --x")));
        }
        Some(b) => Some(find_param("--by", b, params.iter().filter(|p| *p != x).cloned().collect())?),
    };

    let survey = Survey::scan(&results)?;
    if let Some(m) = survey.metric(y_col) {
        if !m.numeric {
            return Err(ReportError::Unsupported(format!(
                "metric `{y}` is not numeric (it has values like `{}`), so it cannot be plotted",
                m.example_bad.as_deref().unwrap_or("")
            )));
        }
    }
    let x_survey = survey.param(x_col).expect("x is a parameter");
    let series = match by_col {
        None => None,
        Some(c) => {
            let p = survey.param(c).expect("by is a parameter");
            match p.distinct_count() {
                Some(n) if n <= MAX_SERIES => Some(p),
                _ => {
                    return Err(ReportError::Unsupported(format!(
                        "--by `{}` has {}{} values; at most {MAX_SERIES} lines can be drawn (use it as --x instead)",
                        layout.name(c),
                        if p.overflow { "over " } else { "" },
                        p.distinct.len()
                    )))
                }
            }
        }
    };
    let mut plots = [PlotAgg::new(y_col, Axis::new(x_survey, MAX_X_POSITIONS), series)];
    aggregate(&results, &survey, &mut plots, false)?;
    let title = match by {
        Some(b) => format!("{y} vs {x} by {b}"),
        None => format!("{y} vs {x}"),
    };
    let chart = Chart { title: Some(&title), x_name: x, y_name: y, series_name: by, width: 800, height: 500 };
    draw_plot(&plots[0], &chart)
}

/// Refuses output paths this module cannot write: PNG (which would need fonts) and
/// anything that is not `.svg`.
pub fn check_output_path(path: &Path) -> Result<(), ReportError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => Ok(()),
        Some("png") => Err(ReportError::PngUnsupported { path: path.to_path_buf() }),
        _ => Err(ReportError::Unsupported(format!(
            "{}: unsupported plot format; the output file must end in .svg",
            path.display()
        ))),
    }
}

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
    use super::super::table::testdata;
    use super::*;

    #[test]
    fn plots_a_metric_by_a_parameter() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let svg = render_plot(dir.path(), "k", "conc", Some("solver")).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("conc vs k by solver"));
        assert!(svg.contains("\neuler\n</text>") && svg.contains("\nrk4\n</text>"), "legend");
        assert_eq!(svg.matches("<polygon").count(), 2, "one min-max band per line");

        let svg = render_plot(dir.path(), "solver", "seconds", None).unwrap();
        assert!(svg.contains("\neuler\n</text>"), "categories on the x axis");
        assert_eq!(svg.matches("<polygon").count(), 0, "error bars, not bands");
    }

    #[test]
    fn unknown_columns_are_named() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let err = render_plot(dir.path(), "kk", "conc", None).unwrap_err().to_string();
        assert_eq!(err, "--x: no parameter `kk` in this sweep (did you mean `k`?); available: k, c0, solver");
        let err = render_plot(dir.path(), "k", "cnc", None).unwrap_err().to_string();
        assert!(err.contains("--y: no metric `cnc`") && err.contains("did you mean `conc`?"), "{err}");
        assert!(err.contains("available: conc, steps, label, seconds, attempts"), "{err}");
        let err = render_plot(dir.path(), "k", "conc", Some("solvr")).unwrap_err().to_string();
        assert!(err.contains("--by: no parameter `solvr`") && err.contains("available: c0, solver"), "{err}");
        let err = render_plot(dir.path(), "k", "conc", Some("k")).unwrap_err().to_string();
        assert!(err.contains("same parameter"), "{err}");
        let err = render_plot(dir.path(), "k", "label", None).unwrap_err().to_string();
        assert!(err.contains("`label` is not numeric") && err.contains("`ok`"), "{err}");
    }

    #[test]
    fn too_many_series_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        testdata::large(dir.path(), 30, 2);
        let err = render_plot(dir.path(), "c0", "a", Some("k")).unwrap_err().to_string();
        assert!(err.contains("--by `k` has 30 values; at most 20"), "{err}");
        assert!(render_plot(dir.path(), "k", "a", Some("c0")).is_ok());
    }

    #[test]
    fn only_svg_output() {
        assert!(check_output_path(Path::new("a/plot.svg")).is_ok());
        assert!(check_output_path(Path::new("plot.SVG")).is_ok());
        let err = check_output_path(Path::new("plot.png")).unwrap_err();
        assert!(matches!(err, ReportError::PngUnsupported { .. }));
        assert!(err.to_string().contains("PNG output is not supported"), "{err}");
        assert!(check_output_path(Path::new("plot.pdf")).is_err());
        assert!(check_output_path(Path::new("plot")).is_err());
    }

    #[test]
    fn empty_plot_says_so() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
        let header = csv.lines().next().unwrap();
        std::fs::write(dir.path().join("results.csv"), format!("{header}\n")).unwrap();
        let svg = render_plot(dir.path(), "k", "conc", None).unwrap();
        assert!(svg.contains("no finished tasks"), "{svg}");
    }
}
