//! `[refine]`: adaptive refinement of a curve along one axis of `[params]` (see
//! [`crate::grid::refine`]).

use super::params::{Layout, ParamAxis};
use super::{raw, Ctx, SpecError};
use crate::grid::refine::DEFAULT_BATCH;
use crate::grid::Refine;
use crate::model::Model;
use crate::text::did_you_mean;
use crate::value::Value;
use std::ops::Range;
use toml::Spanned;

const EXAMPLE: &str =
    "[params]\nx = { linspace = [0.0, 1.0, 11] }\n[refine]\naxis = \"x\"\nmetric = \"y\"\nbudget = 60";

/// A validated `[refine]` and where its parts are written.
pub(super) struct Checked {
    pub rule: Refine,
    /// The axis's own values: the start of every curve.
    pub start: usize,
    metric_span: Range<usize>,
}

impl Ctx<'_> {
    /// `[refine]` over the parameters of `[params]` (`None` without the table). `adaptive`:
    /// whether the spec has adaptive replicates, which refinement does not combine with.
    pub(super) fn refine(
        &self,
        table: Option<&Spanned<raw::RawRefine>>,
        params: &[ParamAxis],
        zip: Option<&raw::ZipGroups>,
        adaptive: bool,
    ) -> Result<Option<Checked>, SpecError> {
        let Some(table) = table else { return Ok(None) };
        let t = table.get_ref();
        let help = || Some(format!("write e.g.\n{EXAMPLE}"));
        if adaptive {
            return Err(self.at(
                table,
                "[refine] needs a fixed number of replicates; this spec has adaptive replicates",
                Some("write `replicates = N` (the rule refines the mean of the N)".into()),
            ));
        }
        let Some(axis) = &t.axis else {
            return Err(self.at(table, "[refine] needs `axis`, the parameter refined", help()));
        };
        let Some(metric) = &t.metric else {
            return Err(self.at(table, "[refine] needs `metric`, the metric whose curve is refined", help()));
        };
        let Some(budget) = &t.budget else {
            return Err(self.at(table, "[refine] needs `budget`, the most points of a curve", help()));
        };
        let Some(p) = params.iter().find(|p| &p.name == axis.get_ref()) else {
            let names = params.iter().filter(|p| !p.sampled).map(|p| p.name.as_str());
            let hint = did_you_mean(axis.get_ref(), names.clone())
                .unwrap_or_else(|| format!("refine one of [params]: {}", names.collect::<Vec<_>>().join(", ")));
            return Err(self.at(
                axis,
                format!("[refine] names `{}`, which is not in [params]", axis.get_ref()),
                Some(hint),
            ));
        };
        if p.sampled {
            return Err(self.at(
                axis,
                "a [sample] parameter cannot be refined",
                Some("refine a parameter of [params]".into()),
            ));
        }
        let zipped =
            zip.is_some_and(|z| z.get_ref().iter().any(|g| g.get_ref().iter().any(|m| m.get_ref() == &p.name)));
        if zipped {
            return Err(self.at(axis, format!("`{}` is zipped; a refined axis is one parameter's", p.name), None));
        }
        let line = self.line_of(p.key_span.start);
        if let Some(v) = p.values.iter().find(|v| !matches!(v, Value::Float(f) if f.is_finite())) {
            return Err(self.at(
                axis,
                format!("`{}` (line {line}) holds {v}; a refined axis holds finite floats", p.name),
                Some("write its values as floats (0.0, not 0), or use `linspace`".into()),
            ));
        }
        let start = p.values.len();
        if start < 2 {
            return Err(self.at(
                axis,
                format!("`{}` (line {line}) has {start} value; a curve starts from at least two", p.name),
                Some("give it the two ends at least, e.g. `x = { linspace = [0.0, 1.0, 11] }`".into()),
            ));
        }
        if *budget.get_ref() < start as i64 || *budget.get_ref() > u32::MAX as i64 {
            return Err(self.at(
                budget,
                format!("`budget` = {} is fewer than the {start} values `{}` starts from", budget.get_ref(), p.name),
                Some(format!("the budget counts every point of a curve: write `budget = {}` or more", start * 4)),
            ));
        }
        let batch = match &t.batch {
            Some(b) if *b.get_ref() < 1 || *b.get_ref() > u32::MAX as i64 => {
                return Err(self.at(b, "`batch` (points a round adds to a curve) must be at least 1", None))
            }
            Some(b) => *b.get_ref() as u32,
            None => DEFAULT_BATCH,
        };
        let tolerance = match &t.tolerance {
            Some(x) if !(x.get_ref().is_finite() && *x.get_ref() > 0.0) => {
                return Err(self.at(x, "`tolerance` must be a number > 0", Some("e.g. `tolerance = 0.01`".into())))
            }
            x => x.as_ref().map(|x| *x.get_ref()),
        };
        let rule = Refine {
            axis: p.name.clone(),
            metric: metric.get_ref().clone(),
            budget: *budget.get_ref() as u32,
            batch,
            tolerance,
        };
        Ok(Some(Checked { rule, start, metric_span: metric.span() }))
    }

    /// A model must report the refined metric.
    pub(super) fn check_refine_metric(&self, checked: &Checked, model: &dyn Model) -> Result<(), SpecError> {
        self.check_model_metric(&checked.rule.metric, &checked.metric_span, model)
    }
}

impl Checked {
    /// Pads the refined axis of `layout` to `budget` slots: the slots past the start values
    /// hold the first value until a round fills them (see [`crate::grid::refine::Slots`]).
    /// Returns the axis's column.
    pub(super) fn pad(&self, layout: &mut Layout) -> usize {
        let col = layout.columns.iter().position(|c| *c == self.rule.axis).expect("a parameter of [params]");
        let axis = layout.axes.iter_mut().find(|a| a.names == [self.rule.axis.clone()]).expect("its own axis");
        let first = axis.values[0][0].clone();
        axis.values[0].resize(self.rule.budget as usize, first);
        col
    }
}
