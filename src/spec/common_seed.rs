//! `common_seed = ["method", ...]`: the parameters whose values leave a task's seed alone.

use super::{Ctx, SpecError};
use crate::grid::Grid;
use crate::text::did_you_mean;
use crate::value::Value;
use toml::Spanned;

impl Ctx<'_> {
    /// The names of `common_seed`, each a parameter of the task: swept (`[params]`,
    /// `[sample]`) or, for a model, one of its fixed parameters.
    pub(super) fn common_seed(
        &self,
        raw: Option<&Spanned<Vec<Spanned<String>>>>,
        grid: &Grid,
        fixed: &[(String, Value)],
    ) -> Result<Vec<String>, SpecError> {
        let Some(raw) = raw else { return Ok(Vec::new()) };
        let known: Vec<&str> = grid.columns.iter().chain(fixed.iter().map(|(n, _)| n)).map(String::as_str).collect();
        let mut out: Vec<String> = Vec::new();
        for name in raw.get_ref() {
            let n = name.get_ref();
            if out.contains(n) {
                return Err(self.at(name, format!("`common_seed` names `{n}` twice"), Some("name it once".into())));
            }
            if !known.contains(&n.as_str()) {
                let help = match n.as_str() {
                    // Neither is a parameter, and sharing either's seed would make replicates
                    // (or sample points) copies of one another.
                    "replicate" => "replicates always get seeds of their own; name the parameters whose levels \
                                    should see the same random numbers, e.g. `common_seed = [\"method\"]`"
                        .to_string(),
                    "sample" => "name the sampled parameters themselves".to_string(),
                    _ => did_you_mean(n, known.iter().copied()).unwrap_or_else(|| {
                        if grid.columns.is_empty() {
                            "the sweep has no swept parameters; add the one to share seeds across under [params]"
                                .to_string()
                        } else {
                            format!("common_seed names parameters of the sweep: {}", grid.columns.join(", "))
                        }
                    }),
                };
                return Err(self.at(name, format!("`common_seed` names `{n}`, which is not a parameter"), Some(help)));
            }
            out.push(n.clone());
        }
        Ok(out)
    }
}
