//! `sweep`: run a simulation over a parameter grid on every core, reproducibly and
//! resumably, into numpy-readable results.
//!
//! The crate is the engine behind the `sweep` command. Rust users can embed it: define a
//! [`model::Model`], add it to a [`model::Registry`], and run a spec with [`Sweep`].
#![warn(missing_docs)]

mod api;
pub mod app;
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod cluster;
pub mod code;
pub mod command;
pub mod confidence;
pub mod error;
pub mod exec;
pub mod exit;
pub mod grid;
pub mod io;
pub mod journal;
pub mod model;
pub mod outdir;
pub mod proc;
pub mod provenance;
pub mod report;
pub mod resources;
pub mod results;
pub mod runlog;
pub mod schema;
pub mod session;
pub mod slice;
pub mod spec;
pub mod store;
pub mod task;
pub mod text;
pub mod usage;
pub mod value;
pub mod verify;
pub mod worker;

pub use api::{Summary, Sweep};
pub use value::Value;

/// The README's Rust code blocks, compiled by `cargo test` as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The Rust code of docs/models.md (the library API), compiled by `cargo test` as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/models.md")]
pub struct ModelsChapterDoctests;
