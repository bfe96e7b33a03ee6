//! The paired comparison of a sweep with `common_seed`: within one setting of the other
//! parameters, replicate `r` of every level (method) ran on the same seed, so the
//! differences between levels are taken replicate by replicate, and their intervals are
//! narrower than those of two independent means by as much as the shared noise.
//!
//! For each metric, setting and level: the level's mean over its replicates; for each
//! level but the reference, the mean of the paired differences `level − reference` over
//! the replicates both have, with the 95 % half-width t(0.975, n − 1) × sd / √n, and the
//! half-width the same replicates would give unpaired, t(0.975, n − 1) ×
//! √(var_level / n + var_reference / n): their ratio is how much pairing gains.
//!
//! Unlike the plots, this keeps one value per done task and metric, so it is capped
//! ([`MAX_VALUES`]); past the cap the report says so instead.

use std::collections::HashMap;

use super::input::{parse_number, Results};
use crate::confidence::t975;
use crate::outdir::Manifest;
use crate::report::ReportError;

/// Most values (done tasks × metrics) the comparison keeps in memory.
pub(crate) const MAX_VALUES: usize = 4_000_000;

/// One level of one setting, for one metric.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// Index into [`Paired::settings`].
    pub setting: usize,
    /// Index into [`Paired::levels`].
    pub level: usize,
    /// Replicates with a finite value, and their mean.
    pub n: u64,
    pub mean: f64,
    /// The paired difference from the reference level (none for the reference itself).
    pub diff: Option<Diff>,
}

/// The paired difference of a level from the reference over the replicates both ran.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Diff {
    /// Replicates in both.
    pub pairs: u64,
    /// Mean of `level − reference`.
    pub mean: f64,
    /// 95 % half-width of that mean (NaN under two pairs).
    pub half: f64,
    /// The half-width the same replicates would give as two independent samples.
    pub unpaired_half: f64,
}

impl Diff {
    /// How many times narrower the paired interval is than the unpaired one (None when
    /// either is not a positive finite width).
    pub fn narrower(&self) -> Option<f64> {
        let r = self.unpaired_half / self.half;
        (self.half > 0.0 && r.is_finite()).then_some(r)
    }
}

/// The comparison of one sweep.
#[derive(Debug, Clone)]
pub(crate) struct Paired {
    /// The `common_seed` parameters that the sweep varies: a level is a value of each.
    pub compared: Vec<String>,
    /// The other swept parameters: a setting is a value of each.
    pub others: Vec<String>,
    /// Levels, in grid order (`a` or `a, x` for two compared parameters).
    pub levels: Vec<String>,
    /// Settings, in grid order (`n=5, noise=0.1`; empty when no other parameter varies).
    pub settings: Vec<String>,
    /// The reference level.
    pub reference: usize,
    /// Per metric (in `metrics` order): its name and rows, by setting then level.
    pub metrics: Vec<(String, Vec<Row>)>,
}

/// Why there is no comparison to show.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Absent {
    /// The sweep has no `common_seed`, or its parameters take one value.
    NotPaired,
    /// More values than [`MAX_VALUES`].
    TooLarge(usize),
}

/// Values of one (setting, replicate): per level, the metrics' values.
type Cell = HashMap<usize, Vec<f64>>;

/// Reads the comparison of `metrics` (columns) from `results`; `baseline` names the
/// reference level (default: the first).
pub(crate) fn compare(
    results: &Results,
    manifest: &Manifest,
    metrics: &[usize],
    baseline: Option<&str>,
) -> Result<Result<Paired, Absent>, ReportError> {
    let layout = &results.layout;
    let params: Vec<usize> = layout.columns.params.clone().collect();
    let swept = |i: &&usize| manifest.columns.iter().any(|c| c == layout.name(**i));
    let compared: Vec<usize> = params
        .iter()
        .filter(swept)
        .filter(|&&i| manifest.common_seed.iter().any(|c| c == layout.name(i)))
        .copied()
        .collect();
    if compared.is_empty() {
        if let Some(b) = baseline {
            return Err(ReportError::Unsupported(format!(
                "--baseline `{b}`: this sweep has no common_seed parameter to compare levels of \
                 (add `common_seed = [\"method\"]` to the spec)"
            )));
        }
        return Ok(Err(Absent::NotPaired));
    }
    let others: Vec<usize> = params.iter().filter(swept).filter(|i| !compared.contains(i)).copied().collect();
    let (mut levels, mut settings): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    let (mut level_ix, mut setting_ix): (HashMap<String, usize>, HashMap<String, usize>) = Default::default();
    let mut cells: HashMap<(usize, String), Cell> = HashMap::new();
    let mut kept = 0usize;
    let join = |row: &csv::StringRecord, cols: &[usize], named: bool| -> String {
        let parts = cols.iter().map(|&c| match named {
            true => format!("{}={}", layout.name(c), &row[c]),
            false => row[c].to_string(),
        });
        parts.collect::<Vec<_>>().join(", ")
    };
    let status = layout.columns.status;
    results.for_each(|row| {
        if &row[status] != "done" || kept > MAX_VALUES {
            return;
        }
        let index = |ix: &mut HashMap<String, usize>, all: &mut Vec<String>, key: String| {
            *ix.entry(key.clone()).or_insert_with(|| {
                all.push(key);
                all.len() - 1
            })
        };
        let level = index(&mut level_ix, &mut levels, join(row, &compared, false));
        let setting = index(&mut setting_ix, &mut settings, join(row, &others, true));
        let values: Vec<f64> =
            metrics.iter().map(|&m| parse_number(&row[m]).filter(|v| v.is_finite()).unwrap_or(f64::NAN)).collect();
        kept += values.len();
        let rep = row[layout.columns.replicate].to_string();
        cells.entry((setting, rep)).or_default().insert(level, values);
    })?;
    if kept > MAX_VALUES {
        return Ok(Err(Absent::TooLarge(kept)));
    }
    if levels.len() < 2 {
        return Ok(Err(Absent::NotPaired));
    }
    let reference = match baseline {
        None => 0,
        Some(b) => levels.iter().position(|l| l == b).ok_or_else(|| {
            let names: Vec<&str> = compared.iter().map(|&c| layout.name(c)).collect();
            ReportError::Unsupported(format!(
                "--baseline `{b}` is no level of {} in this sweep{}; levels: {}",
                names.join(", "),
                crate::text::did_you_mean(b, levels.iter().map(String::as_str))
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                levels.join("; ")
            ))
        })?,
    };
    // Each setting's replicates, each a (level → values) cell.
    let mut by_setting: Vec<Vec<Cell>> = vec![Vec::new(); settings.len()];
    for ((s, _), cell) in cells {
        by_setting[s].push(cell);
    }
    let mut out = Vec::new();
    for (k, &m) in metrics.iter().enumerate() {
        let mut rows = Vec::new();
        for (s, reps) in by_setting.iter().enumerate() {
            let value = |c: &Cell, l: usize| c.get(&l).map(|v| v[k]).filter(|v| v.is_finite());
            for l in 0..levels.len() {
                let own: Vec<f64> = reps.iter().filter_map(|c| value(c, l)).collect();
                if own.is_empty() {
                    continue;
                }
                let (mean, _) = crate::confidence::mean_ci95(&own);
                let diff = (l != reference).then(|| {
                    let pairs: Vec<(f64, f64)> =
                        reps.iter().filter_map(|c| Some((value(c, l)?, value(c, reference)?))).collect();
                    diff_of(&pairs)
                });
                rows.push(Row { setting: s, level: l, n: own.len() as u64, mean, diff: diff.flatten() });
            }
        }
        out.push((layout.name(m).to_string(), rows));
    }
    let name = |cols: &[usize]| cols.iter().map(|&c| layout.name(c).to_string()).collect();
    Ok(Ok(Paired { compared: name(&compared), others: name(&others), levels, settings, reference, metrics: out }))
}

/// The paired difference of `(level, reference)` pairs; None without any.
fn diff_of(pairs: &[(f64, f64)]) -> Option<Diff> {
    let n = pairs.len();
    if n == 0 {
        return None;
    }
    let d: Vec<f64> = pairs.iter().map(|(a, b)| a - b).collect();
    let (mean, half) = crate::confidence::mean_ci95(&d);
    let var = |xs: &mut dyn Iterator<Item = f64>| -> f64 {
        let xs: Vec<f64> = xs.collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n as f64 - 1.0)
    };
    let unpaired_half = match n {
        1 => f64::NAN,
        _ => {
            let (va, vb) = (var(&mut pairs.iter().map(|p| p.0)), var(&mut pairs.iter().map(|p| p.1)));
            t975(n as u64 - 1) * ((va + vb) / n as f64).sqrt()
        }
    };
    Some(Diff { pairs: n as u64, mean, half, unpaired_half })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_removes_the_shared_noise() {
        // The level is the reference plus 1 plus a little: paired, the spread is the little.
        let pairs: Vec<(f64, f64)> =
            [3.0, 7.0, 1.0, 9.0, 4.0].iter().enumerate().map(|(i, &b)| (b + 1.0 + 0.1 * i as f64, b)).collect();
        let d = diff_of(&pairs).unwrap();
        assert_eq!(d.pairs, 5);
        assert!((d.mean - 1.2).abs() < 1e-12);
        // sd of 1.0, 1.1, ..., 1.4 is 0.158114; t(0.975, 4) = 2.776445.
        assert!((d.half - 2.776445 * 0.1581139 / 5f64.sqrt()).abs() < 1e-6, "{d:?}");
        assert!(d.narrower().unwrap() > 20.0, "{d:?}");
        assert!(diff_of(&[]).is_none());
        let one = diff_of(&[(2.0, 1.0)]).unwrap();
        assert_eq!((one.mean, one.narrower()), (1.0, None));
    }
}
