//! What people see: progress while a sweep runs, the summary after it, and reports on an
//! out directory (`sweep report` as HTML, `sweep plot` as SVG).
//!
//! Reports and plots read an out directory (`input`), survey `results.csv` in a first
//! pass (`survey`), choose axes from what it found (`axis`), aggregate a second pass into
//! a bounded number of cells, one grid point's replicates at a time (`aggregate`, with
//! the band arithmetic in `band`), and draw those (`lines` for metrics, `chart` for what
//! charts share and the histogram, `heat` and `heatmap` for a metric over two
//! parameters, `replicates` for adaptive replicates' count per point; `ticks` chooses tick labels, `caption` says what a
//! point is, `data` embeds the numbers in the SVG, `select` reads
//! which metrics `--y` names, `multi` draws several on one axis,
//! `paired` compares the levels of a `common_seed` parameter replicate by replicate).

mod aggregate;
mod axis;
mod band;
mod caption;
mod chart;
mod data;
mod error;
mod heat;
mod heatmap;
pub mod html;
mod input;
mod lines;
mod multi;
mod paired;
pub mod plot;
pub mod progress;
mod replicates;
mod select;
mod survey;
mod ticks;

pub use error::ReportError;

/// Fake out directories for tests (shared with the integration tests and the bench).
#[cfg(test)]
#[path = "../../tests/common/outdir.rs"]
pub(crate) mod testdata;
