//! `sweep plot --y a,b,c` (or `--y 'err_*'`): several metrics against one parameter, one
//! line each on one axis, with a legend; points and bands as for one metric.

use super::request::PlotRequest;
use crate::outdir::Manifest;
use crate::report::data::aggregate::PlotAgg;
use crate::report::data::band::Band;
use crate::report::data::input::{Layout, Units};
use crate::report::data::survey::Survey;
use crate::report::draw::caption::{subtitle, Reps};
use crate::report::draw::drawing::{Chart, Drawing, MAX_BANDS};
use crate::report::draw::lines::draw;
use crate::report::ReportError;

/// What a plot of several metrics reads besides its aggregates: the survey, the columns,
/// the manifest, and whether x is a sampled parameter (drawn as a scatter).
pub(crate) type Context<'a> = (&'a Survey, &'a Layout, &'a Manifest, bool);

/// Draws `plots` (one per metric of `names`, each of one series) against `x`.
pub(crate) fn draw_metrics(
    plots: &[PlotAgg],
    names: &[String],
    x: &str,
    req: &PlotRequest,
    (survey, layout, manifest, scatter): Context,
) -> Result<String, ReportError> {
    let units = Units::of(manifest);
    let reps = Reps::of(manifest);
    let mut sub = subtitle(&plots[0], survey, layout, reps, true);
    if !plots[0].pooled() && reps.max >= 2 && req.band != Band::None && plots.len() > MAX_BANDS {
        sub.push_str(&format!("; bands left out with more than {MAX_BANDS} lines"));
    }
    let title = format!("{} vs {x}", names.join(", "));
    // The metrics' unit on the axis when they share one (errors of several estimators do).
    let labels: Vec<String> = names.iter().map(|n| units.label(n)).collect();
    let unit = |l: &String, n: &String| l.strip_prefix(n.as_str()).unwrap_or("").to_string();
    let first_unit = unit(&labels[0], &names[0]);
    let shared = labels.iter().zip(names).all(|(l, n)| unit(l, n) == first_unit);
    // The names when they fit; else what --y said (`err_*`).
    let joined = names.join(", ");
    let named = crate::text::shorten(if joined.chars().count() <= 48 { &joined } else { &req.y }, 60);
    let y_label = if shared { format!("{named}{first_unit}") } else { named };
    let chart = Chart {
        title: Some(&title),
        subtitle: Some(&sub),
        x_name: x,
        y_name: &req.y,
        x_label: &units.label(x),
        y_label: &y_label,
        series_name: Some("metric"),
        log_y: req.log_y,
        scatter,
        refined: crate::report::data::input::refined_params(manifest).iter().any(|n| n == x),
        width: 800,
        height: 520,
    };
    let plots: Vec<&PlotAgg> = plots.iter().collect();
    draw(&Drawing::of_metrics(&plots, names), &chart)
}
