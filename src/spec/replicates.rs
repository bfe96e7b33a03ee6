//! `replicates`: a fixed count, or adaptive replicates (`{ min, max, round, until }`).

use super::raw::{RawAdaptive, RawReplicates};
use super::{Ctx, SpecError};
use crate::grid::{Adaptive, Target};
use crate::model::Model;
use crate::text::did_you_mean;
use std::ops::Range;
use toml::Spanned;

const EXAMPLE: &str = "replicates = { min = 5, max = 200, until = { metric = \"mean\", ci95_rel = 0.01 } }";

/// Adaptive replicates with where their metric was written, for the check against the model.
pub(super) struct Checked {
    pub rule: Adaptive,
    pub metric_span: Range<usize>,
}

impl Ctx<'_> {
    /// The grid's replicates per point (`max` when adaptive) and the adaptive rule, if any.
    pub(super) fn replicates(&self, raw: Option<&Spanned<RawReplicates>>) -> Result<(u32, Option<Checked>), SpecError> {
        let Some(r) = raw else { return Ok((1, None)) };
        match r.get_ref() {
            RawReplicates::Count(n) if *n < 1 => Err(self.at(r, "`replicates` must be at least 1", None)),
            RawReplicates::Count(n) if *n > i64::from(u32::MAX) => Err(self.at(
                r,
                format!("`replicates` = {n} is more than the {} replicates a point may have", u32::MAX),
                Some("lower it; a grid has at most 2^40 tasks in all".into()),
            )),
            RawReplicates::Count(n) => Ok((*n as u32, None)),
            RawReplicates::Adaptive(a) => {
                let checked = self.adaptive(r.span(), a)?;
                Ok((checked.rule.max, Some(checked)))
            }
        }
    }

    fn adaptive(&self, whole: Range<usize>, a: &RawAdaptive) -> Result<Checked, SpecError> {
        let missing = |key: &str| {
            self.err(
                Some(whole.clone()),
                format!("adaptive replicates need `{key}`"),
                Some(format!("write e.g. `{EXAMPLE}`")),
            )
        };
        let min = a.min.as_ref().ok_or_else(|| missing("min"))?;
        let max = a.max.as_ref().ok_or_else(|| missing("max"))?;
        let until = a.until.as_ref().ok_or_else(|| missing("until"))?;
        let count = |s: &Spanned<i64>| u32::try_from(*s.get_ref()).ok();
        let min_n = match count(min) {
            Some(n) if n >= 2 => n,
            _ => {
                return Err(self.at(
                    min,
                    "`min` must be at least 2: a confidence interval needs two replicates",
                    Some("write e.g. `min = 5`".into()),
                ))
            }
        };
        let max_n = match count(max) {
            Some(n) if n >= min_n => n,
            _ => {
                return Err(self.at(
                    max,
                    format!("`max` ({}) is less than `min` ({min_n})", max.get_ref()),
                    Some(format!("raise `max` to at least {min_n}, or lower `min`")),
                ))
            }
        };
        let round = match &a.round {
            None => min_n,
            Some(r) => match count(r) {
                Some(n) if n >= 1 => n,
                _ => {
                    return Err(self.at(
                        r,
                        "`round` must be at least 1",
                        Some(format!("`round` is how many replicates a point adds at a time (default: min = {min_n})")),
                    ))
                }
            },
        };
        let u = until.get_ref();
        let metric = u.metric.as_ref().ok_or_else(|| {
            self.at(
                until,
                "`until` needs the `metric` it is about",
                Some("write e.g. `until = { metric = \"mean\", ci95_rel = 0.01 }`".into()),
            )
        })?;
        let target = match (&u.ci95_rel, &u.ci95_abs) {
            (Some(t), None) => (t, Target::Relative(*t.get_ref())),
            (None, Some(t)) => (t, Target::Absolute(*t.get_ref())),
            (rel, _) => {
                let (span, what) = match rel {
                    Some(_) => (until.span(), "`until` has both `ci95_rel` and `ci95_abs`"),
                    None => (until.span(), "`until` needs a target: `ci95_rel` or `ci95_abs`"),
                };
                return Err(self.err(
                    Some(span),
                    what,
                    Some(
                        "keep one: `ci95_rel = 0.01` (half-width below 1% of |mean|) or `ci95_abs = 0.5` \
                         (below 0.5 in the metric's unit)"
                            .into(),
                    ),
                ));
            }
        };
        let (at, target) = target;
        if !(at.get_ref().is_finite() && *at.get_ref() > 0.0) {
            let example = match target {
                Target::Relative(_) => "ci95_rel = 0.01",
                Target::Absolute(_) => "ci95_abs = 0.5",
            };
            return Err(self.at(at, "the target must be a number > 0", Some(format!("write e.g. `{example}`"))));
        }
        Ok(Checked {
            rule: Adaptive { min: min_n, max: max_n, round, metric: metric.get_ref().clone(), target },
            metric_span: metric.span(),
        })
    }

    /// A built-in model declares its metrics: the adaptive metric must be one of them.
    pub(super) fn check_adaptive_metric(&self, checked: &Checked, model: &dyn Model) -> Result<(), SpecError> {
        self.check_model_metric(&checked.rule.metric, &checked.metric_span, model)
    }

    /// `metric` (written at `span`) is one of the metrics `model` declares: the metric of
    /// adaptive replicates, or of `[refine]`.
    pub(super) fn check_model_metric(
        &self,
        metric: &str,
        span: &std::ops::Range<usize>,
        model: &dyn Model,
    ) -> Result<(), SpecError> {
        let names: Vec<&str> = model.metrics().iter().map(|m| m.name).collect();
        if names.contains(&metric) {
            return Ok(());
        }
        Err(self.err(
            Some(span.clone()),
            format!("model `{}` has no metric `{metric}`", model.name()),
            Some(
                did_you_mean(metric, names.iter().copied())
                    .unwrap_or_else(|| format!("its metrics: {}", names.join(", "))),
            ),
        ))
    }
}
