//! The metrics section: which plots a report shows (each numeric metric against each
//! swept parameter, one line per value of a parameter with few values), and the plots
//! with their captions.

use std::fmt::Write as _;

use super::{escape, ReportError};
use crate::outdir::Manifest;
use crate::report::data::aggregate::PlotAgg;
use crate::report::data::axis::{Axis, AxisKind, MAX_SCATTER_POSITIONS, MAX_X_POSITIONS};
use crate::report::data::band::Band;
use crate::report::data::heat::{heatmap_params, HeatAgg, MAX_HEAT_SLOTS};
use crate::report::data::input::{Layout, Results, Units};
use crate::report::data::survey::{ParamSurvey, Survey};
use crate::report::draw::caption::{subtitle, Reps};
use crate::report::draw::drawing::Chart;
use crate::report::draw::lines::draw_plot;

/// Most metrics plotted.
pub const MAX_METRICS: usize = 8;
/// Most parameters each metric is plotted against.
pub const MAX_PARAMS: usize = 4;
/// A second parameter with at most this many values gets one line per value (the one
/// with the fewest values, when several qualify).
pub const MAX_SERIES_VALUES: usize = 8;

/// The plots to draw, still empty, and the metric columns they show; parameters named in
/// `log_spaced` get a log x axis, those in `sampled` (a design's) up to
/// [`MAX_SCATTER_POSITIONS`] points.
pub(super) fn choose(
    survey: &Survey,
    layout: &Layout,
    log_spaced: &[String],
    sampled: &[String],
) -> (Vec<PlotAgg>, Vec<usize>) {
    let x_params: Vec<&ParamSurvey> = survey.params.iter().filter(|p| p.varies()).take(MAX_PARAMS).collect();
    let metrics: Vec<usize> =
        survey.metrics.iter().filter(|m| m.numeric && m.finite > 0).take(MAX_METRICS).map(|m| m.column).collect();
    // A metric drawn in a panel with others of its prefix is one line there, not several.
    let grouped: Vec<usize> =
        super::groups::panels(&metrics, layout).into_iter().filter(|g| g.len() > 1).flatten().collect();
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
            let log = log_spaced.iter().any(|n| n == layout.name(x.column));
            let cap = if sampled.iter().any(|n| n == layout.name(x.column)) {
                MAX_SCATTER_POSITIONS
            } else {
                MAX_X_POSITIONS
            };
            let series = series.filter(|_| !grouped.contains(&m));
            plots.push(PlotAgg::new(m, Axis::with_scale(x, cap, log), series, Band::Sem));
        }
    }
    (plots, metrics)
}

/// The heatmap of the first plotted metric over the first two numeric swept
/// parameters, when there are two.
pub(super) fn choose_heatmap(
    survey: &Survey,
    layout: &Layout,
    log_spaced: &[String],
    metrics: &[usize],
) -> Vec<HeatAgg> {
    let (Some(&z), Some((a, b))) = (metrics.first(), heatmap_params(survey)) else {
        return Vec::new();
    };
    let axis =
        |p: &ParamSurvey| Axis::with_scale(p, MAX_HEAT_SLOTS, log_spaced.iter().any(|n| n == layout.name(p.column)));
    vec![HeatAgg::new(z, axis(a), axis(b))]
}

/// Writes the section: notes on what is and is not plotted, then the plots per metric
/// (the heatmaps first).
pub(super) fn write(
    h: &mut String,
    m: &Manifest,
    results: &Results,
    s: &Survey,
    (plots, heats): (&[PlotAgg], &[HeatAgg]),
    metrics: &[usize],
) -> Result<(), ReportError> {
    let layout = &results.layout;
    let units = Units::of(m);
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
        notes.push(format!(
            "Each point is the mean over the {} of one grid point, with a shaded band (or error bar, \
             for categorical parameters) of ± one standard error of that mean. Where other parameters vary too, a \
             point is the mean of their grid points' means and has no band: a band across parameters would show \
             their effect, not the noise. Only finished tasks count.",
            Reps::of(m)
        ));
    }
    for n in notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&n));
    }
    for panel in super::groups::panels(metrics, layout) {
        if panel.len() > 1 {
            super::groups::write(h, (m, s, layout), (plots, heats), &panel)?;
            continue;
        }
        let metric = panel[0];
        let y_name = layout.name(metric);
        let _ = writeln!(h, "<h3>{}</h3>", escape(&units.label(y_name)));
        if let Some(ms) = s.metric(metric) {
            if ms.nonfinite > 0 {
                let _ = writeln!(h, "<p class=\"note\">{} NaN or infinite values left out.</p>", ms.nonfinite);
            }
        }
        h.push_str("<div class=\"plots\">\n");
        for heat in heats.iter().filter(|x| x.z == metric) {
            super::heat::write(h, heat, (m, s, layout))?;
        }
        for p in plots.iter().filter(|p| p.y == metric) {
            let x_name = layout.name(p.x.column);
            let by = p.series_column.map(|c| layout.name(c));
            let sub = subtitle(p, s, layout, Reps::of(m), false);
            let chart = Chart {
                title: None,
                subtitle: Some(&sub),
                x_name,
                y_name,
                x_label: &units.label(x_name),
                y_label: &units.label(y_name),
                series_name: by,
                log_y: false,
                scatter: crate::report::data::input::sampled_params(m).iter().any(|n| n == x_name),
                refined: crate::report::data::input::refined_params(m).iter().any(|n| n == x_name),
                width: 600,
                height: 380,
            };
            let svg = draw_plot(p, &chart)?;
            let mut cap = format!("{y_name} vs {x_name}");
            if let Some(b) = by {
                let _ = write!(cap, ", one line per value of {b}");
            }
            let _ = write!(cap, ": {sub}");
            match &p.x.kind {
                AxisKind::Binned { bins, .. } => {
                    let _ = write!(cap, "; {x_name} binned into {bins} intervals");
                }
                AxisKind::Categories { dropped: true, names } => {
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
