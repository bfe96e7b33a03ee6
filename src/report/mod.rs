//! Reports on an out directory: `sweep report` (HTML) and `sweep plot` (SVG).

pub mod html;
pub mod plot;
pub mod table;
