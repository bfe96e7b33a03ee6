//! The built-in models, one file each.

use super::Model;
use std::sync::Arc;

#[path = "fin.rs"]
mod fin;
#[path = "kinetic_fit.rs"]
mod kinetic_fit;
#[path = "reaction.rs"]
mod reaction;
#[path = "regression.rs"]
mod regression;
#[path = "spin.rs"]
mod spin;

pub use fin::Fin;
pub use kinetic_fit::KineticFit;
pub use reaction::Reaction;
pub use regression::Regression;
pub use spin::Spin;

/// Every built-in model, in the order `sweep models` lists them.
pub(crate) fn all() -> Vec<Arc<dyn Model>> {
    vec![Arc::new(Reaction), Arc::new(Fin), Arc::new(Spin), Arc::new(Regression), Arc::new(KineticFit)]
}
