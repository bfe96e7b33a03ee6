//! `sweep`: run a simulation over a parameter grid on every core, reproducibly and
//! resumably, into numpy-readable results.
//!
//! The crate is the engine behind the `sweep` command. Rust users can embed it: define a
//! [`model::Model`], add it to a [`model::Registry`], and run a spec with [`Sweep`].
#![warn(missing_docs)]

pub mod command;
pub mod exec;
pub mod grid;
pub mod model;
pub mod report;
pub mod spec;
pub mod value;

pub use value::Value;
