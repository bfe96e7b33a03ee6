//! Reading an out directory's results and reducing them to what a chart draws: only
//! aggregates are kept, so memory does not grow with the number of tasks.

pub(super) mod aggregate;
pub(super) mod axis;
pub(super) mod band;
pub(super) mod heat;
pub(super) mod input;
pub(super) mod paired;
pub(super) mod reps;
pub(super) mod select;
pub(super) mod survey;
