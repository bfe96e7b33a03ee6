//! Reports on an out directory: `sweep report` as one HTML page, `sweep plot` as SVG.
//!
//! Three rooms, each importing only from those before it:
//!
//! - `data`: reading the out directory (`input`), a first pass over `results.csv`
//!   (`survey`), the axes chosen from it (`axis`), a second pass that aggregates one grid
//!   point's replicates at a time into a bounded number of cells (`aggregate`, with the
//!   band arithmetic in `band` and the heatmap cells in `heat`), replicates per point
//!   (`reps`), which metrics `--y` names (`select`), and the paired comparison of a
//!   `common_seed` parameter's levels (`paired`);
//! - `draw`: SVG charts (`chart` for what charts share and the histogram, `drawing` for
//!   what a chart of lines holds, `lines` to draw it, `heatmap`), tick labels (`ticks`),
//!   the subtitle saying what a point is (`caption`), and the numbers embedded in the SVG
//!   (`metadata`);
//! - [`html`] and [`plot`]: the two commands' pages.
//!
//! The progress bar of a running sweep belongs to the command line (`app::progress`).

mod data;
mod draw;
mod error;
pub mod html;
pub mod plot;

pub use error::ReportError;

/// Fake out directories for tests (shared with the integration tests and the bench).
#[cfg(test)]
#[path = "../../tests/common/outdir.rs"]
pub(crate) mod testdata;
