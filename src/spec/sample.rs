//! `[sample]`: a space-filling design over named ranges, one more axis of the grid whose
//! values are the design's points (see [`crate::grid::Design`]).

use super::params::ParamAxis;
use super::{raw, Ctx, SpecError};
use crate::grid::{Design, Method, Scale, MAX_DIMENSIONS, MAX_VALUES};
use crate::text::did_you_mean;
use toml::Spanned;

const EXAMPLE: &str =
    "[sample]\nmethod = \"sobol\"\nn = 256\nx = [0.0, 1.0]\nD = { log = [1e-3, 1.0] }\nlayers = { int = [1, 8] }";

impl Ctx<'_> {
    /// The design of `[sample]` and its parameters' values, as parameters that follow
    /// those of `[params]`; `None` without a `[sample]` table.
    pub(super) fn sample(
        &self,
        table: Option<&Spanned<raw::SpannedTable>>,
        params: &[ParamAxis],
        seed: u64,
    ) -> Result<Option<(Design, Vec<ParamAxis>)>, SpecError> {
        let Some(table) = table else { return Ok(None) };
        let help = || Some(format!("write e.g.\n{EXAMPLE}"));
        let (mut method, mut n) = (None, None);
        let mut ranges = Vec::new();
        for (key, value) in table.get_ref() {
            match key.get_ref().as_str() {
                "method" => {
                    let toml::Value::String(m) = value.get_ref() else {
                        return Err(self.at(value, "`method` is a string", Some(methods())));
                    };
                    let Some(m) = Method::parse(m) else {
                        let hint =
                            did_you_mean(m, Method::NAMES).map_or_else(methods, |s| format!("{s} ({})", methods()));
                        return Err(self.at(value, format!("unknown sampling method `{m}`"), Some(hint)));
                    };
                    method = Some(m);
                }
                "n" => match value.get_ref() {
                    toml::Value::Integer(k) if *k >= 1 => n = Some((*k as u64, value)),
                    toml::Value::Integer(k) => {
                        return Err(self.at(
                            value,
                            format!("`n` = {k}: a design needs at least 1 point"),
                            Some("write e.g. `n = 256`".into()),
                        ))
                    }
                    _ => {
                        return Err(self.at(
                            value,
                            "`n` is the number of points, an integer",
                            Some("write e.g. `n = 256`".into()),
                        ))
                    }
                },
                name => {
                    if let Some(p) = params.iter().find(|p| p.name == name) {
                        return Err(self.at(
                            key,
                            format!("parameter `{name}` is both sampled in [sample] and swept in [params]"),
                            Some(format!("keep one of the two; line {} sweeps it", self.line_of(p.key_span.start))),
                        ));
                    }
                    ranges.push((key, value.span(), self.scale(name, value)?));
                }
            }
        }
        let Some(method) = method else {
            return Err(self.at(table, "[sample] needs a `method`", Some(methods())));
        };
        let Some((n, n_at)) = n else {
            return Err(self.at(table, "[sample] needs `n`, the number of points", help()));
        };
        if n > method.max_points() {
            let more = match method {
                Method::Sobol => "; for more, use method = \"halton\" or \"random\"",
                _ => "",
            };
            return Err(self.at(
                n_at,
                format!(
                    "`n` = {n} is more than the {} points a `{}` design may have",
                    method.max_points(),
                    method.name()
                ),
                Some(format!("lower `n`{more}")),
            ));
        }
        if ranges.is_empty() {
            return Err(self.at(table, "[sample] has no ranges to sample", help()));
        }
        if ranges.len() > MAX_DIMENSIONS {
            return Err(self.at(
                ranges[MAX_DIMENSIONS].0,
                format!("[sample] has {} ranges; a design may have at most {MAX_DIMENSIONS}", ranges.len()),
                None,
            ));
        }
        if n.saturating_mul(ranges.len() as u64) > MAX_VALUES {
            return Err(self.at(
                n_at,
                format!(
                    "`n` = {n} points of {} ranges are more than the {MAX_VALUES} values a design may hold",
                    ranges.len()
                ),
                Some(format!("lower `n` to at most {}", MAX_VALUES / ranges.len() as u64)),
            ));
        }
        let design = Design {
            method,
            n,
            names: ranges.iter().map(|(k, _, _)| k.get_ref().clone()).collect(),
            scales: ranges.iter().map(|(_, _, s)| *s).collect(),
        };
        let values = design.values(seed);
        let sampled = ranges
            .iter()
            .zip(values)
            .map(|((key, span, _), values)| ParamAxis {
                name: key.get_ref().clone(),
                key_span: key.span(),
                value_span: span.clone(),
                values,
                sampled: true,
            })
            .collect();
        Ok(Some((design, sampled)))
    }

    /// One range: `[lo, hi]`, `{ uniform = [lo, hi] }`, `{ log = [lo, hi] }` or `{ int = [lo, hi] }`.
    fn scale(&self, name: &str, value: &Spanned<toml::Value>) -> Result<Scale, SpecError> {
        use toml::Value as T;
        let shapes = format!(
            "write `{name} = [0.0, 1.0]` (uniform), `{name} = {{ log = [1e-3, 1.0] }}` (uniform in log10) \
             or `{name} = {{ int = [1, 8] }}` (integers, both ends included)"
        );
        let (kind, bounds) = match value.get_ref() {
            T::Array(a) => ("uniform", a),
            T::Table(t) if t.len() == 1 => match t.iter().next().expect("one entry") {
                (k, T::Array(a)) if ["uniform", "log", "int"].contains(&k.as_str()) => (k.as_str(), a),
                (k, _) => {
                    let hint =
                        did_you_mean(k, ["uniform", "log", "int"]).map_or(shapes.clone(), |s| format!("{s}; {shapes}"));
                    return Err(self.at(value, format!("range `{name}`: unknown range `{k}`"), Some(hint)));
                }
            },
            _ => return Err(self.at(value, format!("range `{name}` is not a range"), Some(shapes))),
        };
        let num = |x: &T| match x {
            T::Integer(i) => Some(*i as f64),
            T::Float(f) if f.is_finite() => Some(*f),
            _ => None,
        };
        let [lo_v, hi_v] = bounds.as_slice() else {
            return Err(self.at(value, format!("range `{name}` takes two bounds, [lo, hi]"), Some(shapes)));
        };
        if kind == "int" {
            let (T::Integer(lo), T::Integer(hi)) = (lo_v, hi_v) else {
                return Err(self.at(
                    value,
                    format!("range `{name}`: int bounds must be integers, not {lo_v} and {hi_v}"),
                    Some(format!(
                        "write e.g. `{name} = {{ int = [1, 8] }}`, or a float range `{name} = [{lo_v}, {hi_v}]`"
                    )),
                ));
            };
            if lo >= hi {
                return Err(self.at(
                    value,
                    format!("range `{name}`: lo ({lo}) must be less than hi ({hi})"),
                    Some(fix_order(name)),
                ));
            }
            return Ok(Scale::Int(*lo, *hi));
        }
        let (Some(lo), Some(hi)) = (num(lo_v), num(hi_v)) else {
            return Err(self.at(value, format!("range `{name}`: bounds must be finite numbers"), Some(shapes)));
        };
        if lo >= hi {
            return Err(self.at(
                value,
                format!("range `{name}`: lo ({lo}) must be less than hi ({hi})"),
                Some(fix_order(name)),
            ));
        }
        if kind == "log" {
            if lo <= 0.0 && hi >= 0.0 {
                return Err(self.at(
                    value,
                    format!("range `{name}`: a log range cannot include 0 (it is from {lo} to {hi})"),
                    Some(format!(
                        "give bounds of one sign, e.g. `{name} = {{ log = [1e-3, 1.0] }}`, or a uniform range"
                    )),
                ));
            }
            return Ok(Scale::Log(lo, hi));
        }
        Ok(Scale::Uniform(lo, hi))
    }
}

fn methods() -> String {
    "methods: sobol (scrambled, balanced at powers of two), halton (scrambled), lhs (Latin hypercube), random".into()
}

fn fix_order(name: &str) -> String {
    format!("write the lower bound first, e.g. `{name} = [0.0, 1.0]`")
}
