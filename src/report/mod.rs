//! What people see: progress while a sweep runs, the summary after it, and reports on an
//! out directory (`sweep report` as HTML, `sweep plot` as SVG).

pub mod html;
pub mod plot;
pub mod progress;
pub mod table;
