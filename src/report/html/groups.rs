//! Metrics that share a prefix (`err_mean`, `err_median`, `err_trimmed`: `err_`) are drawn
//! in one panel, one line per metric on one axis against each parameter, so that methods
//! whose errors one task returns side by side are compared at a glance.

use std::fmt::Write as _;

use super::{escape, ReportError};
use crate::outdir::Manifest;
use crate::report::data::aggregate::PlotAgg;
use crate::report::data::heat::HeatAgg;
use crate::report::data::input::{Layout, Units};
use crate::report::data::survey::Survey;
use crate::report::draw::caption::{subtitle, Reps};
use crate::report::draw::drawing::{Chart, Drawing, MAX_BANDS};
use crate::report::draw::lines::draw;

/// Most metrics in one panel; a larger family is split.
pub const MAX_GROUP: usize = 8;

/// The prefix a metric's family is named by: up to and including its first `_`, when
/// something precedes and follows it.
fn prefix(name: &str) -> Option<&str> {
    let i = name.find('_')?;
    (i > 0 && i + 1 < name.len()).then(|| &name[..=i])
}

/// The metric columns `metrics` in panels: those that share a prefix with another
/// together (at most [`MAX_GROUP`] each), the rest alone, in the order of each panel's
/// first metric.
pub(super) fn panels(metrics: &[usize], layout: &Layout) -> Vec<Vec<usize>> {
    let names: Vec<&str> = metrics.iter().map(|&m| layout.name(m)).collect();
    panels_of(&names).into_iter().map(|g| g.into_iter().map(|i| metrics[i]).collect()).collect()
}

/// [`panels`] by name: each panel as positions in `names`.
fn panels_of(names: &[&str]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let p = prefix(name);
        let shares = p.is_some_and(|p| names.iter().filter(|o| prefix(o) == Some(p)).count() > 1);
        // Any earlier metric of the same prefix shares it too, so its panel is open to this one.
        let open = out.iter_mut().find(|g| shares && g.len() < MAX_GROUP && prefix(names[g[0]]) == p);
        match open {
            Some(g) => g.push(i),
            None => out.push(vec![i]),
        }
    }
    out
}

/// Writes the panel of the metrics `group` (two or more): a plot per parameter they are
/// drawn against, one line per metric.
pub(super) fn write(
    h: &mut String,
    (m, s, layout): (&Manifest, &Survey, &Layout),
    (plots, heats): (&[PlotAgg], &[HeatAgg]),
    group: &[usize],
) -> Result<(), ReportError> {
    let units = Units::of(m);
    let names: Vec<String> = group.iter().map(|&c| layout.name(c).to_string()).collect();
    let family = format!("{}*", prefix(&names[0]).unwrap_or(""));
    let _ = writeln!(h, "<h3>{} <span class=\"note\">({})</span></h3>", escape(&family), escape(&names.join(", ")));
    h.push_str("<div class=\"plots\">\n");
    for heat in heats.iter().filter(|x| group.contains(&x.z)) {
        super::heat::write(h, heat, (m, s, layout))?;
    }
    let xs: Vec<usize> = plots.iter().filter(|p| p.y == group[0]).map(|p| p.x.column).collect();
    for x in xs {
        let members: Vec<&PlotAgg> =
            group.iter().filter_map(|&c| plots.iter().find(|p| p.y == c && p.x.column == x)).collect();
        let x_name = layout.name(x);
        let mut sub = subtitle(members[0], s, layout, Reps::of(m), false);
        if !members[0].pooled() && members.len() > MAX_BANDS {
            sub.push_str(&format!("; bands left out with more than {MAX_BANDS} lines"));
        }
        let chart = Chart {
            title: None,
            subtitle: Some(&sub),
            x_name,
            y_name: &family,
            x_label: &units.label(x_name),
            y_label: &family,
            series_name: Some("metric"),
            log_y: false,
            scatter: crate::report::data::input::sampled_params(m).iter().any(|n| n == x_name),
            refined: crate::report::data::input::refined_params(m).iter().any(|n| n == x_name),
            width: 600,
            height: 380,
        };
        let svg = draw(&Drawing::of_metrics(&members, &names), &chart)?;
        let total: u64 = members.iter().map(|p| p.total()).sum();
        let cap = format!("{} vs {x_name}, one line per metric: {sub} ({total} values).", names.join(", "));
        let _ = writeln!(h, "<figure>{svg}<figcaption>{}</figcaption></figure>", escape(&cap));
    }
    h.push_str("</div>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_of_one_prefix_share_a_panel() {
        let cases: [(&[&str], &[&[usize]]); 5] = [
            (&["err_mean", "spread", "err_median"], &[&[0, 2], &[1]]),
            (&["err_mean", "bias_mean"], &[&[0], &[1]]),
            (&["mean", "p025", "p975"], &[&[0], &[1], &[2]]),
            (&["_a", "_b", "a_", "a_"], &[&[0], &[1], &[2], &[3]]),
            (&["e_1", "e_2", "e_3", "e_4", "e_5", "e_6", "e_7", "e_8", "e_9"], &[&[0, 1, 2, 3, 4, 5, 6, 7], &[8]]),
        ];
        for (names, want) in cases {
            let want: Vec<Vec<usize>> = want.iter().map(|g| g.to_vec()).collect();
            assert_eq!(panels_of(names), want, "{names:?}");
        }
    }
}
