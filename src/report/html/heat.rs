//! A heatmap's figure in the report: a metric's mean over two parameters, with its caption.

use std::fmt::Write as _;

use super::{escape, ReportError};
use crate::outdir::Manifest;
use crate::report::data::heat::HeatAgg;
use crate::report::data::input::{Layout, Units};
use crate::report::data::survey::Survey;
use crate::report::draw::caption::Reps;
use crate::report::draw::heatmap::{draw_heatmap, HeatChart};

/// Writes the figure of `heat`, a metric's mean over two parameters.
pub(super) fn write(
    h: &mut String,
    heat: &HeatAgg,
    (m, s, layout): (&Manifest, &Survey, &Layout),
) -> Result<(), ReportError> {
    let units = Units::of(m);
    let (a, b, y_name) = (layout.name(heat.x.column), layout.name(heat.y.column), layout.name(heat.z));
    let sub = heat.subtitle(s, layout, Reps::of(m));
    let chart = HeatChart {
        title: None,
        subtitle: Some(&sub),
        names: [a, b, y_name],
        labels: [&units.label(a), &units.label(b), &units.label(y_name)],
        width: 600,
        height: 380,
    };
    let svg = draw_heatmap(heat, &chart)?;
    let cap = format!("{y_name} over {a} and {b}: {sub} ({} values).", heat.total());
    let _ = writeln!(h, "<figure>{svg}<figcaption>{}</figcaption></figure>", escape(&cap));
    Ok(())
}
