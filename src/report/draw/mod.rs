//! SVG charts of aggregated results, drawn with plotters' SVG backend (text as SVG
//! `<text>` elements, so no fonts are loaded), each with its numbers embedded as JSON.

pub(super) mod caption;
pub(super) mod chart;
pub(super) mod drawing;
pub(super) mod heatmap;
pub(super) mod lines;
pub(super) mod metadata;
pub(super) mod ticks;
