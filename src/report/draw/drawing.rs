//! What a chart of lines draws, before it is drawn: the lines over one x axis with their
//! labels and metrics ([`Drawing`]), and how the chart is presented ([`Chart`]). Shared
//! by the drawing (`lines`), the numbers embedded in it (`metadata`) and the captions.

use crate::report::data::aggregate::{PlotAgg, Point};
use crate::report::data::axis::Axis;
use crate::report::data::band::Band;

/// Most lines that each get a band; with more, bands would hide each other (and the
/// subtitle says they were left out).
pub const MAX_BANDS: usize = 6;

/// Presentation of one chart.
pub(crate) struct Chart<'a> {
    pub title: Option<&'a str>,
    /// A line under the title: what a point and its band are.
    pub subtitle: Option<&'a str>,
    /// The parameter and metric names.
    pub x_name: &'a str,
    pub y_name: &'a str,
    /// Axis descriptions, units included.
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series_name: Option<&'a str>,
    /// Draw y on a log scale (values ≤ 0 are left out).
    pub log_y: bool,
    /// Draw markers only, no line and no band: x is a sampled parameter, whose
    /// neighbouring points differ in the other sampled parameters too.
    pub scatter: bool,
    /// Mark every point, however many: x is a `[refine]` axis, whose points show where
    /// the rounds refined the curve.
    pub refined: bool,
    pub width: u32,
    pub height: u32,
}

/// A line as drawn: its label and points, y in axis space (log10 on a log y axis).
pub(crate) type Line = (String, Vec<Point>);

/// What a chart of lines draws: the lines over one x axis, each labelled, and which
/// metric each shows.
pub(crate) struct Drawing<'a> {
    /// The x axis every line shares.
    pub x: &'a Axis,
    /// The spread around single-point means.
    pub band: Band,
    /// Every label a line may have, in colour order (so a line keeps its colour when
    /// another has no points).
    pub labels: Vec<String>,
    /// The lines that have points, with their metric's name.
    pub lines: Vec<(Line, String)>,
    /// Whether the lines are told apart by a legend.
    pub legend: bool,
    /// The metrics drawn, as asked for.
    pub metrics: Vec<String>,
}

impl<'a> Drawing<'a> {
    /// One metric, one line per value of the plot's series parameter (or one line).
    pub fn of(plot: &'a PlotAgg, metric: &str) -> Self {
        let lines = (plot.series.iter().enumerate())
            .map(|(i, s)| ((s.clone(), plot.points(i)), metric.to_string()))
            .filter(|((_, p), _)| !p.is_empty())
            .collect();
        Drawing {
            x: &plot.x,
            band: plot.band,
            labels: plot.series.clone(),
            lines,
            legend: plot.series_column.is_some(),
            metrics: vec![metric.to_string()],
        }
    }

    /// Several metrics over the same x axis (`plots` of one series each, in the order of
    /// `metrics`), one line per metric, labelled with its name.
    pub fn of_metrics(plots: &[&'a PlotAgg], metrics: &[String]) -> Self {
        let lines = (plots.iter().zip(metrics))
            .map(|(p, m)| ((m.clone(), p.points(0)), m.clone()))
            .filter(|((_, p), _)| !p.is_empty())
            .collect();
        Drawing {
            x: &plots[0].x,
            band: plots[0].band,
            labels: metrics.to_vec(),
            lines,
            legend: true,
            metrics: metrics.to_vec(),
        }
    }
}
