//! One task of a built-in model, run through the public library API (no binary, no out
//! directory), for the statistical tests of the models.

use rand::SeedableRng;
use std::sync::Arc;
use sweep::model::{Metric, Model, Outputs, Params, Registry, TaskError, TaskRng};
use sweep::Value;

pub fn model(name: &str) -> Arc<dyn Model> {
    Registry::builtin().get(name).unwrap_or_else(|| panic!("no built-in model `{name}`"))
}

/// The model's defaults with `overrides` applied, in the model's parameter order.
pub fn values(model: &dyn Model, overrides: &[(&str, Value)]) -> Vec<Value> {
    let specs = model.params();
    for (name, _) in overrides {
        assert!(specs.iter().any(|s| s.name == *name), "no parameter `{name}`");
    }
    specs
        .iter()
        .map(|s| match overrides.iter().find(|(n, _)| *n == s.name) {
            Some((_, v)) => v.coerce(s.kind).expect("override of the right type"),
            None => s.default.clone().expect("every parameter has a default"),
        })
        .collect()
}

/// `check`s and runs one task seeded with `TaskRng::seed_from_u64(seed)`, keeping the
/// arrays named in `save`. A parameter set `check` refuses is an error too.
pub fn run_task(
    model: &dyn Model,
    overrides: &[(&str, Value)],
    seed: u64,
    save: &[&str],
) -> Result<Outputs, TaskError> {
    let specs = model.params();
    let vals = values(model, overrides);
    let params = Params::new(&specs, &vals);
    model.check(&params).map_err(|e| TaskError(format!("check: {e}")))?;
    let save: Arc<[String]> = save.iter().map(|s| s.to_string()).collect();
    let mut out = Outputs::new(Some(save));
    model.run(&params, &mut TaskRng::seed_from_u64(seed), &mut out)?;
    Ok(out)
}

/// [`run_task`] saving no arrays; the task must succeed.
pub fn task(model: &dyn Model, overrides: &[(&str, Value)], seed: u64) -> Outputs {
    run_task(model, overrides, seed, &[])
        .unwrap_or_else(|e| panic!("{} with {overrides:?}, seed {seed}: {e}", model.name()))
}

/// A numeric metric of a task's outputs.
pub fn metric(out: &Outputs, name: &str) -> f64 {
    out.get(name).and_then(Metric::as_f64).unwrap_or_else(|| panic!("no metric `{name}`"))
}
