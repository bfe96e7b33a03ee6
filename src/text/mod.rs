//! Text for people and shells: "did you mean" suggestions, shell quoting and the compact
//! forms of numbers, sizes and durations that messages, tables and plots show.

mod human;
mod quote;
mod suggest;

pub use human::{binary_units, bytes, count, duration_rough, duration_short, number, shorten};
pub use quote::{shell_quote, shell_quote_always};
pub use suggest::{did_you_mean, is_identifier};
