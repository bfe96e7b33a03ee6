//! `[output] dims`: the names of a saved array's own dimensions, checked against the grid.

use super::raw::RawDims;
use super::{Ctx, Dims, SpecError, TaskKind};
use crate::text::{did_you_mean, is_identifier};
use toml::Spanned;

/// Names the grid's own variables and dimensions take in `sweep.open`: a dimension of one
/// of these names would clash with them.
const TAKEN: &[&str] = &["replicate", "sample", "task", "seed", "status", "code"];

const EXAMPLE: &str = "e.g. `dims = { c = [\"t\"], t = [\"t\"] }` (array name = its dimensions' names)";

impl Ctx<'_> {
    /// `[output] dims`, checked: identifiers, no clash with the grid's dimensions, each
    /// name once per array, and arrays the task saves.
    pub(super) fn dims(
        &self,
        dims: Option<&Spanned<RawDims>>,
        task: &TaskKind,
        columns: &[String],
    ) -> Result<Dims, SpecError> {
        let Some(dims) = dims else { return Ok(Dims::new()) };
        if task.command().is_some() {
            return Err(self.at(
                dims,
                "`dims` names the dimensions of the arrays sweep saves; a [command] writes its own files",
                Some("remove `dims` from [output]".into()),
            ));
        }
        let mut out = Dims::new();
        for (array, names) in dims.get_ref() {
            self.check_array(array, task)?;
            let mut seen: Vec<&str> = Vec::new();
            for dim in names.get_ref() {
                let d = dim.get_ref().as_str();
                if !is_identifier(d) {
                    return Err(self.at(
                        dim,
                        format!(
                            "`{d}` is not a dimension name: use letters, digits and `_`, not starting with a digit"
                        ),
                        Some(EXAMPLE.into()),
                    ));
                }
                if columns.iter().any(|c| c == d) || TAKEN.contains(&d) {
                    let what = if columns.iter().any(|c| c == d) { "a swept parameter" } else { "sweep's own" };
                    return Err(self.at(
                        dim,
                        format!(
                            "dimension `{d}` of `{}` would clash with {what} `{d}` in the Dataset",
                            array.get_ref()
                        ),
                        Some(format!("name the dimension differently, e.g. `{d}_{}`", array.get_ref())),
                    ));
                }
                if seen.contains(&d) {
                    return Err(self.at(
                        dim,
                        format!("`{}` names dimension `{d}` twice", array.get_ref()),
                        Some("give each of the array's dimensions its own name".into()),
                    ));
                }
                seen.push(d);
            }
            out.insert(array.get_ref().clone(), names.get_ref().iter().map(|n| n.get_ref().clone()).collect());
        }
        // A dimension named after an array is that array's only dimension: its coordinate.
        for (array, names) in dims.get_ref() {
            for dim in names.get_ref() {
                let d = dim.get_ref();
                match out.get(d) {
                    Some(own) if own != std::slice::from_ref(d) => {
                        return Err(self.at(
                            dim,
                            format!(
                                "`{}` runs along `{d}`, which is also an array with dimensions [{}]: a dimension \
                                 named after an array is that array's coordinate",
                                array.get_ref(),
                                own.join(", ")
                            ),
                            Some(format!("write `{d} = [\"{d}\"]`, or name the dimension differently")),
                        ));
                    }
                    _ => {}
                }
            }
        }
        let implied: Vec<String> = out.values().flatten().filter(|d| !out.contains_key(*d)).cloned().collect();
        for d in implied {
            out.insert(d.clone(), vec![d]);
        }
        Ok(out)
    }

    /// An array `dims` names must be one the task saves: a model's (in its `save`, when
    /// given); a worker's arrays are known only when it returns them.
    fn check_array(&self, array: &Spanned<String>, task: &TaskKind) -> Result<(), SpecError> {
        let name = array.get_ref();
        if name.is_empty() {
            return Err(self.at(array, "an array name in `dims` is empty", Some(EXAMPLE.into())));
        }
        let Some(m) = task.model() else { return Ok(()) };
        let arrays = m.model.arrays();
        let all: Vec<&str> = arrays.iter().map(|a| a.name).collect();
        let model_name = m.model.name();
        if !all.contains(&name.as_str()) {
            let help = did_you_mean(name, all.iter().copied()).unwrap_or_else(|| {
                format!("arrays of `{model_name}`: {}", if all.is_empty() { "none".into() } else { all.join(", ") })
            });
            return Err(self.at(
                array,
                format!("`dims` names `{name}`, but model `{model_name}` has no such array"),
                Some(help),
            ));
        }
        if let Some(save) = &m.save {
            if !save.iter().any(|s| s == name) {
                return Err(self.at(
                    array,
                    format!("`dims` names `{name}`, which `save` leaves out"),
                    Some(format!("add \"{name}\" to `save` in [model], or remove `{name}` from `dims`")),
                ));
            }
        }
        Ok(())
    }
}
