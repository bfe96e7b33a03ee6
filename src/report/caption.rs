//! The one line under a plot's title (and in the report's figure captions) that says
//! what a point and its band are, so a chart read on its own is not misread: "mean ±
//! SEM of 5 replicates per point", or "mean over k (200 values); no band across them".

use super::aggregate::PlotAgg;
use super::band::Band;
use super::input::Layout;
use super::lines::MAX_BANDS;
use super::survey::Survey;

/// Replicates per grid point, as captions name them: a fixed count ("5 replicates"), or
/// the range of adaptive replicates ("5 to 200 replicates").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reps {
    /// The fewest a point runs.
    pub min: u32,
    /// The most a point runs.
    pub max: u32,
}

impl Reps {
    /// The replicates of the manifest's sweep.
    pub fn of(m: &crate::outdir::Manifest) -> Reps {
        let min = m.adaptive.as_ref().and_then(|a| a["min"].as_u64()).map_or(m.replicates, |n| n as u32);
        Reps { min, max: m.replicates }
    }
}

impl std::fmt::Display for Reps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max) {
            (1, 1) => f.write_str("1 replicate"),
            (a, b) if a == b => write!(f, "{a} replicates"),
            (a, b) => write!(f, "{a} to {b} replicates"),
        }
    }
}

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
