//! The set of models a spec can name.

use super::Model;
use std::sync::Arc;

/// Models by name. [`Registry::builtin`] holds the built-in models; add your own with
/// [`Registry::register`] and run specs against it through [`crate::Sweep`].
#[derive(Clone, Default)]
pub struct Registry {
    models: Vec<Arc<dyn Model>>,
}

impl Registry {
    /// An empty registry.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in models: `reaction`, `fin`, `spin`, `regression`, `kinetic_fit`.
    pub fn builtin() -> Self {
        let mut r = Self::empty();
        for m in super::builtin::all() {
            r.models.push(m);
        }
        r
    }

    /// Adds a model; one with the same name is replaced.
    pub fn register(&mut self, model: impl Model) -> &mut Self {
        self.register_arc(Arc::new(model))
    }

    /// Adds a shared model; one with the same name is replaced.
    pub fn register_arc(&mut self, model: Arc<dyn Model>) -> &mut Self {
        self.models.retain(|m| m.name() != model.name());
        self.models.push(model);
        self
    }

    /// The model called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Model>> {
        self.models.iter().find(|m| m.name() == name).cloned()
    }

    /// All models, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Model>> {
        self.models.iter()
    }

    /// The names of all models.
    pub fn names(&self) -> Vec<String> {
        self.models.iter().map(|m| m.name().to_string()).collect()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
