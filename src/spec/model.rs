//! `[model]`: the model by name, its fixed parameters, `save`, and its own checks.

use super::params::ParamAxis;
use super::{raw, Ctx, ModelTask, Source, SpecError};
use crate::grid::Grid;
use crate::model::{ParamSpec, Params, Registry};
use crate::text::did_you_mean;
use crate::value::{Value, ValueKind};
use std::ops::Range;
use std::sync::Arc;
use toml::Spanned;

/// How many grid points `Model::check` is run on while validating (the rest are checked
/// when their task runs).
const CHECKED_POINTS: u64 = 10_000;

/// "a" or "an" before `word`.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Where `name` first occurs in `text` as a whole word (not inside a longer identifier).
fn mentions(text: &str, name: &str) -> Option<usize> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).map(|(i, _)| i).find(|&i| {
        !text[..i].chars().next_back().is_some_and(ident) && !text[i + name.len()..].chars().next().is_some_and(ident)
    })
}

impl Ctx<'_> {
    pub(super) fn model(
        &self,
        table: &Spanned<raw::SpannedTable>,
        params: &mut [ParamAxis],
        registry: &Registry,
    ) -> Result<ModelTask, SpecError> {
        let t = table.get_ref();
        let get = |k: &str| t.iter().find(|(key, _)| key.get_ref() == k);
        let Some((_, name_v)) = get("name") else {
            return Err(self.at(
                table,
                "[model] has no `name`",
                Some(format!("add `name = \"...\"`; models: {}", registry.names().join(", "))),
            ));
        };
        let toml::Value::String(model_name) = name_v.get_ref() else {
            return Err(self.at(name_v, "the model `name` must be a string", None));
        };
        let Some(model) = registry.get(model_name) else {
            let names = registry.names();
            let help = did_you_mean(model_name, names.iter().map(String::as_str))
                .map(|s| format!("{s} (models: {})", names.join(", ")))
                .unwrap_or_else(|| format!("models: {} (`sweep models` describes them)", names.join(", ")));
            return Err(self.at(name_v, format!("unknown model `{model_name}`"), Some(help)));
        };
        let specs = model.params();
        let arrays = model.arrays();
        let mut save = None;
        let mut fixed_given: Vec<(usize, Value)> = Vec::new();
        let unknown = |key: &Spanned<String>, what: &str| {
            let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
            let help = did_you_mean(key.get_ref(), names.iter().copied())
                .map(|s| format!("{s} (parameters of `{model_name}`: {})", names.join(", ")))
                .unwrap_or_else(|| format!("parameters of `{model_name}`: {}", names.join(", ")));
            self.at(key, format!("model `{model_name}` has no parameter `{}`{what}", key.get_ref()), Some(help))
        };
        for (key, value) in t {
            match key.get_ref().as_str() {
                "name" => {}
                "save" => {
                    let toml::Value::Array(items) = value.get_ref() else {
                        return Err(self.at(
                            value,
                            "`save` is a list of array names",
                            Some("e.g. `save = [\"t\"]`, or `save = []` for metrics only".into()),
                        ));
                    };
                    let mut names = Vec::new();
                    for item in items {
                        let toml::Value::String(s) = item else {
                            return Err(self.at(value, "`save` is a list of array names (strings)", None));
                        };
                        if !arrays.iter().any(|a| a.name == s) {
                            let all: Vec<&str> = arrays.iter().map(|a| a.name).collect();
                            let help = did_you_mean(s, all.iter().copied()).unwrap_or_else(|| {
                                format!(
                                    "arrays of `{model_name}`: {}",
                                    if all.is_empty() { "none".into() } else { all.join(", ") }
                                )
                            });
                            return Err(self.at(value, format!("model `{model_name}` has no array `{s}`"), Some(help)));
                        }
                        names.push(s.clone());
                    }
                    save = Some(Arc::from(names));
                }
                k => {
                    let Some(i) = specs.iter().position(|s| s.name == k) else {
                        return Err(unknown(key, ""));
                    };
                    if let Some(p) = params.iter().find(|p| p.name == k) {
                        let table = if p.sampled { "sampled in [sample]" } else { "swept in [params]" };
                        return Err(self.err(
                            Some(p.key_span.clone()),
                            format!("parameter `{k}` is both fixed in [model] and {table}"),
                            Some(format!("keep one of the two; line {} fixes it", self.line_of(key.span().start))),
                        ));
                    }
                    let v = self.scalar(k, value.get_ref(), value)?;
                    fixed_given.push((i, self.typed(&specs[i], v, value.span())?));
                }
            }
        }
        for p in params.iter_mut() {
            let Some(i) = specs.iter().position(|s| s.name == p.name) else {
                let key = Spanned::new(p.key_span.clone(), p.name.clone());
                return Err(unknown(&key, if p.sampled { " (in [sample])" } else { " (in [params])" }));
            };
            for v in p.values.iter_mut() {
                *v = self.typed(&specs[i], v.clone(), p.value_span.clone())?;
            }
        }
        let mut sources = Vec::with_capacity(specs.len());
        let mut fixed = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            // Grid columns are the [params] entries in order (see `Ctx::axes`).
            if let Some(column) = params.iter().position(|p| p.name == s.name) {
                sources.push(Source::Column(column));
                continue;
            }
            let v = match fixed_given.iter().find(|(j, _)| *j == i) {
                Some((_, v)) => v.clone(),
                None => match &s.default {
                    Some(d) => d.clone(),
                    None => {
                        return Err(self.at(
                            table,
                            format!("model `{model_name}` needs parameter `{}` ({})", s.name, s.doc),
                            Some(format!("set it in [model] (`{} = ...`) or sweep it in [params]", s.name)),
                        ))
                    }
                },
            };
            fixed.push((s.name.to_string(), v.clone()));
            sources.push(Source::Fixed(v));
        }
        Ok(ModelTask { model, specs, sources, fixed, save })
    }

    fn typed(&self, spec: &ParamSpec, v: Value, span: Range<usize>) -> Result<Value, SpecError> {
        let Some(v2) = v.coerce(spec.kind) else {
            return Err(self.err(
                Some(span),
                format!(
                    "parameter `{}` is {} {}, not the {} {}",
                    spec.name,
                    article(spec.kind.name()),
                    spec.kind.name(),
                    v.kind().name(),
                    match &v {
                        Value::Str(s) => format!("{s:?}"),
                        other => other.to_string(),
                    }
                ),
                Some(match (spec.kind, &spec.default) {
                    (ValueKind::Str, _) => format!("quote it: `{} = \"{v}\"`", spec.name),
                    (_, Some(d)) => format!("write e.g. `{} = {d}` (the default)", spec.name),
                    (k, None) => format!("give {} {} value", article(k.name()), k.name()),
                }),
            ));
        };
        if let (Value::Str(s), false) = (&v2, spec.choices.is_empty()) {
            if !spec.choices.contains(&&**s) {
                return Err(self.err(
                    Some(span),
                    format!("parameter `{}` is one of {}, not \"{s}\"", spec.name, spec.choices.join(", ")),
                    did_you_mean(s, spec.choices.iter().copied()),
                ));
            }
        }
        Ok(v2)
    }

    /// Runs the model's own `check` on the first grid points. The error points at the
    /// parameter the model's message names (swept first, then fixed in [model]), else at
    /// [params].
    pub(super) fn check_points(
        &self,
        mt: &ModelTask,
        grid: &Grid,
        params: &[ParamAxis],
        model_table: &Spanned<raw::SpannedTable>,
        params_span: Option<Range<usize>>,
    ) -> Result<(), SpecError> {
        let mut values = Vec::new();
        for point in 0..grid.points().min(CHECKED_POINTS) {
            mt.values_at(grid, point, &mut values);
            if let Err(m) = mt.model.check(&Params::new(&mt.specs, &values)) {
                let swept = params
                    .iter()
                    .filter_map(|p| Some((mentions(&m, &p.name)?, p.value_span.clone())))
                    .min_by_key(|x| x.0);
                let fixed = model_table
                    .get_ref()
                    .iter()
                    .filter(|(k, _)| !matches!(k.get_ref().as_str(), "name" | "save"))
                    .filter_map(|(k, v)| Some((mentions(&m, k.get_ref())?, v.span())))
                    .min_by_key(|x| x.0);
                let span = swept.or(fixed).map(|x| x.1).or(params_span).unwrap_or_else(|| model_table.span());
                let at: Vec<String> =
                    grid.columns.iter().enumerate().map(|(c, n)| format!("{n}={}", grid.value(point, c))).collect();
                let msg = if at.is_empty() { m } else { format!("{m} (at {})", at.join(", ")) };
                let help = format!("`sweep models {}` describes the model's parameters", mt.model.name());
                return Err(self.err(Some(span), msg, Some(help)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_finds_whole_words_only() {
        assert_eq!(mentions("rtol and atol must be > 0", "tol"), None);
        assert_eq!(mentions("rtol and atol must be > 0", "atol"), Some(9));
        assert_eq!(mentions("h_std must be >= 0, k and A > 0", "k"), Some(20));
        assert_eq!(mentions("dt must be > 0", "t"), None);
    }
}
