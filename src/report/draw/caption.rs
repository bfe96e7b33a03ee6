//! The one line under a plot's title (and in the report's figure captions) that says
//! what a point and its band are, so a chart read on its own is not misread: "mean ±
//! SEM of 5 replicates per point", or "mean over k (200 values); no band across them".

use super::drawing::MAX_BANDS;
use crate::report::data::aggregate::PlotAgg;
use crate::report::data::band::Band;
use crate::report::data::input::Layout;
pub(crate) use crate::report::data::reps::Reps;
use crate::report::data::survey::Survey;

/// The subtitle of `plot`, for a sweep of `replicates` per grid point; `hint` adds how to
/// split pooled parameters on the command line (`sweep plot`, not the report).
pub(crate) fn subtitle(plot: &PlotAgg, survey: &Survey, layout: &Layout, reps: Reps, hint: bool) -> String {
    if let Some(note) = plot.pooled_note(survey, layout, hint) {
        return note;
    }
    let replicates = reps.max;
    let mut s = match plot.band {
        _ if replicates < 2 => format!("one value per point ({reps}): no band"),
        Band::None => format!("mean of {reps} per point"),
        b => format!("mean {} of {reps} per point", b.short()),
    };
    let lines = plot.series.len();
    if replicates >= 2 && plot.band != Band::None && lines > MAX_BANDS {
        s.push_str(&format!("; bands left out with more than {MAX_BANDS} lines"));
    }
    s
}
