//! What people see: progress while a sweep runs, the summary after it, and reports on an
//! out directory (`sweep report` as HTML, `sweep plot` as SVG).
//!
//! Reports and plots read an out directory (`input`), survey `results.csv` in a first
//! pass (`survey`), choose axes from what it found (`axis`), aggregate a second pass into
//! a bounded number of cells (`aggregate`) and draw those (`chart`).

mod aggregate;
mod axis;
mod chart;
mod error;
pub mod html;
mod input;
pub mod plot;
pub mod progress;
mod survey;

pub use error::ReportError;

/// Fake out directories for tests (shared with the integration tests and the bench).
#[cfg(test)]
#[path = "../../tests/common/outdir.rs"]
pub(crate) mod testdata;
