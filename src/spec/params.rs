//! `[params]` and `zip`: each parameter's values, and the axes they form.

use super::{raw, Ctx, SpecError};
use crate::grid::{generate, Axis, AxisGen};
use crate::text::did_you_mean;
use crate::value::{Value, ValueKind};
use std::ops::Range;
use toml::Spanned;

/// One parameter of `[params]` with its values and where it was written.
pub(super) struct ParamAxis {
    pub name: String,
    pub key_span: Range<usize>,
    pub value_span: Range<usize>,
    pub values: Vec<Value>,
    /// Whether the values are a `[sample]` design's (all such parameters form one axis,
    /// after those of `[params]`).
    pub sampled: bool,
}

/// The grid's shape as the spec writes it.
pub(super) struct Layout {
    /// Every parameter, in spec order (`[params]`, then `[sample]`).
    pub columns: Vec<String>,
    /// The axes.
    pub axes: Vec<Axis>,
    /// Which axis holds the `[sample]` design's points.
    pub sample: Option<usize>,
}

/// The first pair of equal positions along an axis (as task identities see values: -0.0
/// equals 0.0; a zipped axis compares whole tuples), by index.
fn first_duplicate(axis: &Axis) -> Option<(usize, usize)> {
    let mut seen = std::collections::HashMap::with_capacity(axis.len());
    for j in 0..axis.len() {
        let key: Vec<String> = axis.values.iter().map(|member| member[j].canonical()).collect();
        if let Some(&i) = seen.get(&key) {
            return Some((i, j));
        }
        seen.insert(key, j);
    }
    None
}

impl Ctx<'_> {
    /// `[params]`: each key becomes a list of values.
    /// A grid too large for any run is refused before its values are made: three axes of
    /// ten million values would take seconds and gigabytes only to be refused after.
    pub(super) fn params(
        &self,
        table: Option<&Spanned<raw::SpannedTable>>,
        zip: Option<&raw::ZipGroups>,
    ) -> Result<Vec<ParamAxis>, SpecError> {
        let Some(table) = table else { return Ok(Vec::new()) };
        let gens: Vec<_> = table
            .get_ref()
            .iter()
            .map(|(k, v)| self.axis_gen(k.get_ref(), v).map(|g| (k, v, g)))
            .collect::<Result<_, _>>()?;
        // Zipped parameters share one axis: only the first of a group counts.
        let groups = zip.map(|z| z.get_ref().as_slice()).unwrap_or(&[]);
        let follower = |name: &str| groups.iter().any(|g| g.get_ref().iter().skip(1).any(|m| m.get_ref() == name));
        let points = (gens.iter())
            .filter(|(k, _, _)| !follower(k.get_ref()))
            .fold(1u128, |p, (_, _, g)| p.saturating_mul(u128::from(g.count().max(1))));
        if points > u128::from(crate::grid::MAX_TASKS) {
            return Err(self.at(
                table,
                format!(
                    "the parameters give {points} grid points, more than the {} tasks a grid may have",
                    crate::grid::MAX_TASKS
                ),
                Some("split the sweep into several specs".into()),
            ));
        }
        let mut out = Vec::new();
        for (key, value, gen) in gens {
            let values =
                generate(&gen).map_err(|m| self.at(value, format!("parameter `{}`: {m}", key.get_ref()), None))?;
            out.push(ParamAxis {
                name: key.get_ref().clone(),
                key_span: key.span(),
                value_span: value.span(),
                values,
                sampled: false,
            });
        }
        Ok(out)
    }

    fn axis_gen(&self, name: &str, v: &Spanned<toml::Value>) -> Result<AxisGen, SpecError> {
        use toml::Value as T;
        match v.get_ref() {
            T::Array(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for item in items {
                    vals.push(self.scalar(name, item, v)?);
                }
                let any_float = vals.iter().any(|x| matches!(x, Value::Float(_)));
                if any_float {
                    // [1, 2.5] is a float axis.
                    vals = vals.into_iter().map(|x| x.coerce(ValueKind::Float).unwrap_or(x)).collect();
                }
                if let Some(first) = vals.first() {
                    if let Some(bad) = vals.iter().find(|x| x.kind() != first.kind()) {
                        return Err(self.at(
                            v,
                            format!(
                                "parameter `{name}` mixes a {} and a {} ({bad})",
                                first.kind().name(),
                                bad.kind().name()
                            ),
                            Some("give every value of a list the same type".into()),
                        ));
                    }
                }
                Ok(AxisGen::List(vals))
            }
            T::Table(t) => {
                let gens = ["linspace", "logspace", "geomspace", "range"];
                if t.len() != 1 {
                    return Err(self.at(
                        v,
                        format!("parameter `{name}`: a generator table has exactly one key"),
                        Some(format!(
                            "write e.g. `{name} = {{ linspace = [0.0, 1.0, 11] }}`; generators: {}",
                            gens.join(", ")
                        )),
                    ));
                }
                let (g, args) = t.iter().next().expect("one entry");
                let args: Vec<&T> = match args {
                    T::Array(a) => a.iter().collect(),
                    _ => Vec::new(),
                };
                let num = |x: &T| match x {
                    T::Integer(i) => Some(*i as f64),
                    T::Float(f) => Some(*f),
                    _ => None,
                };
                let three = |what: &str| -> Result<(f64, f64, i64), SpecError> {
                    match args.as_slice() {
                        [a, b, T::Integer(n)] if num(a).is_some() && num(b).is_some() => {
                            Ok((num(a).expect("checked"), num(b).expect("checked"), *n))
                        }
                        _ => Err(self.at(
                            v,
                            format!("parameter `{name}`: {what} takes [start, stop, n] with n an integer"),
                            Some(format!("write e.g. `{name} = {{ {what} = [0.1, 10.0, 20] }}`")),
                        )),
                    }
                };
                match g.as_str() {
                    "linspace" => three("linspace").map(|(a, b, n)| AxisGen::Linspace(a, b, n)),
                    "logspace" => three("logspace").map(|(a, b, n)| AxisGen::Logspace(a, b, n)),
                    "geomspace" => three("geomspace").map(|(a, b, n)| AxisGen::Geomspace(a, b, n)),
                    "range" => {
                        let conv = |x: &T| match x {
                            T::Integer(i) => Some(Value::Int(*i)),
                            T::Float(f) => Some(Value::Float(*f)),
                            _ => None,
                        };
                        let vals: Option<Vec<Value>> = args.iter().map(|x| conv(x)).collect();
                        match vals.as_deref() {
                            Some([s, e, st]) => Ok(AxisGen::Range(s.clone(), e.clone(), st.clone())),
                            Some([s, e]) => {
                                let one = if matches!((s, e), (Value::Int(_), Value::Int(_))) {
                                    Value::Int(1)
                                } else {
                                    Value::Float(1.0)
                                };
                                Ok(AxisGen::Range(s.clone(), e.clone(), one))
                            }
                            _ => Err(self.at(
                                v,
                                format!("parameter `{name}`: range takes [start, stop, step] (stop excluded)"),
                                Some(format!("write e.g. `{name} = {{ range = [0, 10, 2] }}`")),
                            )),
                        }
                    }
                    other => Err(self.at(
                        v,
                        format!("parameter `{name}`: unknown generator `{other}`"),
                        Some(did_you_mean(other, gens).unwrap_or_else(|| format!("generators: {}", gens.join(", ")))),
                    )),
                }
            }
            _ => Ok(AxisGen::List(vec![self.scalar(name, v.get_ref(), v)?])),
        }
    }

    pub(super) fn scalar(&self, name: &str, v: &toml::Value, at: &Spanned<toml::Value>) -> Result<Value, SpecError> {
        use toml::Value as T;
        Ok(match v {
            T::Integer(i) => Value::Int(*i),
            T::Float(f) => Value::Float(*f),
            T::String(s) => Value::Str(s.as_str().into()),
            T::Boolean(b) => Value::Bool(*b),
            other => {
                return Err(self.at(
                    at,
                    format!("parameter `{name}`: a {} is not a parameter value", other.type_str()),
                    Some("values are integers, floats, strings or bools; lists of them; or a generator table".into()),
                ))
            }
        })
    }

    /// Groups parameters into axes: zip groups become one axis at their first member's place,
    /// and the sampled parameters one axis after all others; returns the columns, the axes
    /// and which axis is the sample's.
    pub(super) fn axes(&self, params: &[ParamAxis], zip: Option<&raw::ZipGroups>) -> Result<Layout, SpecError> {
        let mut group_of: Vec<Option<usize>> = vec![None; params.len()];
        let groups = zip.map(|z| z.get_ref().as_slice()).unwrap_or(&[]);
        for (g, group) in groups.iter().enumerate() {
            if group.get_ref().len() < 2 {
                return Err(self.at(group, "a zip group pairs at least two parameters", None));
            }
            let mut len = None;
            for member in group.get_ref() {
                if params.iter().any(|p| p.sampled && &p.name == member.get_ref()) {
                    return Err(self.at(
                        member,
                        format!("zip names `{}`, which is sampled in [sample]", member.get_ref()),
                        Some("a design's parameters already vary together; zip pairs parameters of [params]".into()),
                    ));
                }
                let Some(i) = params.iter().position(|p| &p.name == member.get_ref()) else {
                    return Err(self.at(
                        member,
                        format!("zip names `{}`, which is not in [params]", member.get_ref()),
                        Some(did_you_mean(member.get_ref(), params.iter().map(|p| p.name.as_str())).unwrap_or_else(
                            || {
                                let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                                format!("zip pairs parameters swept in [params]: {}", names.join(", "))
                            },
                        )),
                    ));
                };
                if group_of[i].is_some() {
                    return Err(self.at(
                        member,
                        format!("`{}` is in more than one zip group (or twice in one)", member.get_ref()),
                        None,
                    ));
                }
                group_of[i] = Some(g);
                let n = params[i].values.len();
                match len {
                    None => len = Some((n, member.get_ref())),
                    Some((m, first)) if m != n => {
                        return Err(self.at(
                            group,
                            format!(
                                "zipped parameters have different lengths: `{first}` has {m} values, `{}` has {n}",
                                member.get_ref()
                            ),
                            Some("parameters that vary together need the same number of values".into()),
                        ))
                    }
                    _ => {}
                }
            }
        }
        let mut axes: Vec<Axis> = Vec::new();
        let mut axis_of_group: Vec<Option<usize>> = vec![None; groups.len()];
        let mut sample_axis: Option<usize> = None;
        for (i, p) in params.iter().enumerate() {
            if p.sampled {
                match sample_axis {
                    Some(a) => {
                        axes[a].names.push(p.name.clone());
                        axes[a].values.push(p.values.clone());
                    }
                    None => {
                        sample_axis = Some(axes.len());
                        axes.push(Axis { names: vec![p.name.clone()], values: vec![p.values.clone()] });
                    }
                }
                continue;
            }
            match group_of[i] {
                Some(g) => match axis_of_group[g] {
                    Some(a) => {
                        axes[a].names.push(p.name.clone());
                        axes[a].values.push(p.values.clone());
                    }
                    None => {
                        axis_of_group[g] = Some(axes.len());
                        axes.push(Axis { names: vec![p.name.clone()], values: vec![p.values.clone()] });
                    }
                },
                None => axes.push(Axis { names: vec![p.name.clone()], values: vec![p.values.clone()] }),
            }
        }
        for (a, axis) in axes.iter().enumerate() {
            let Some((i, j)) = first_duplicate(axis) else { continue };
            let first = params.iter().find(|p| p.name == axis.names[0]).expect("axes hold params");
            if sample_axis == Some(a) {
                return Err(self.err(
                    Some(first.value_span.clone()),
                    format!(
                        "[sample] points {} and {} are the same ({}): the same tasks would run twice",
                        i + 1,
                        j + 1,
                        axis.names
                            .iter()
                            .zip(&axis.values)
                            .map(|(n, v)| format!("{n}={}", v[i]))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Some("integer ranges hold few values: lower `n`, widen a range, or add a continuous range".into()),
                ));
            }
            let shown: Vec<String> = axis.values.iter().map(|m| m[i].to_string()).collect();
            let what = match axis.names.as_slice() {
                [one] => format!("parameter `{one}` has the value {}", shown[0]),
                many => format!("the zipped parameters {} have the values ({})", many.join(", "), shown.join(", ")),
            };
            return Err(self.err(
                Some(first.value_span.clone()),
                format!("{what} twice (values {} and {}): the same tasks would run twice", i + 1, j + 1),
                Some("give each value once".into()),
            ));
        }
        Ok(Layout { columns: params.iter().map(|p| p.name.clone()).collect(), axes, sample: sample_axis })
    }
}
