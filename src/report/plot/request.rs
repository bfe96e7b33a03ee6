//! What `sweep plot` is asked to draw.

use crate::report::data::band::Band;

/// What `sweep plot` draws.
#[derive(Debug, Clone, Default)]
pub struct PlotRequest {
    /// The parameter on the x axis.
    pub x: String,
    /// The metric on the y axis (or `seconds`, `attempts`).
    pub y: String,
    /// One line per value of this parameter.
    pub by: Option<String>,
    /// The spread around each grid point's mean.
    pub band: Band,
    /// Draw x on a log scale (it is anyway for `logspace` and `geomspace` axes, and for
    /// positive values spanning three decades or more).
    pub log_x: bool,
    /// Draw y on a log scale.
    pub log_y: bool,
    /// Draw a heatmap instead: the metric's mean over `x` (across) and this parameter (up).
    pub heatmap: Option<String>,
}
