//! `sweep plot`: one metric against one parameter, as SVG.
//!
//! Each point is the mean over the replicates of one grid point, with a band (numeric x)
//! or error bars (categorical x) of the chosen [`Band`] (± SEM by default). When
//! parameters other than `--x` and `--by` vary, a point is the mean of their grid
//! points' means and has no band: a band across parameters would show their effect, not
//! the noise (see `aggregate`); the subtitle names what was averaged over. Charts are
//! drawn with plotters' SVG backend, which writes text as SVG `<text>` elements, so no
//! fonts are needed to render them; the numbers behind each point are embedded as JSON
//! in a `<metadata id="sweep-plot-data">` element.

use std::path::Path;

mod multi;
mod request;

use super::data::aggregate::{aggregate, PlotAgg};
use super::data::axis::Axis;
pub use super::data::axis::{MAX_SCATTER_POSITIONS, MAX_X_POSITIONS};
pub use super::data::band::Band;
use super::data::heat::{HeatAgg, MAX_HEAT_SLOTS};
use super::data::input::{read_manifest, Results};
use super::data::survey::Survey;
use super::draw::caption::Reps;
use super::draw::drawing::Chart;
pub use super::draw::drawing::MAX_BANDS;
use super::draw::heatmap::{draw_heatmap, HeatChart};
use super::draw::lines::draw_plot;
pub use super::draw::metadata::METADATA_ID;
pub use super::ReportError;
pub use request::PlotRequest;

/// Most lines (values of the `--by` parameter) in one plot.
pub const MAX_SERIES: usize = 20;

/// Renders `sweep plot DIR --x X --y Y [--by BY]` as an SVG document.
///
/// `x` and `by` must be parameters (columns of the grid); `y` a numeric metric, or
/// `seconds` / `attempts`. Only done tasks contribute. Unknown names give
/// [`ReportError::UnknownColumn`] listing the available ones.
pub fn render_plot(out_dir: &Path, req: &PlotRequest) -> Result<String, ReportError> {
    let (x, y, by) = (req.x.as_str(), req.y.as_str(), req.by.as_deref());
    let manifest = read_manifest(out_dir)?;
    let results = Results::open(out_dir, &manifest)?;
    let layout = &results.layout;
    let cols = &layout.columns;
    let params: Vec<String> = cols.params.clone().map(|i| layout.name(i).to_string()).collect();
    let find_param = |flag: &'static str, name: &str, avail: Vec<String>| -> Result<usize, ReportError> {
        cols.params.clone().find(|&i| layout.name(i) == name).ok_or_else(|| ReportError::UnknownColumn {
            flag,
            what: "parameter",
            name: name.to_string(),
            suggestion: crate::text::did_you_mean(name, avail.iter().map(String::as_str)),
            available: avail,
        })
    };
    let x_col = find_param("--x", x, params.clone())?;
    let y_cols: Vec<usize> = cols.metrics.clone().chain([cols.seconds, cols.attempts]).collect();
    let y_names: Vec<String> = y_cols.iter().map(|&i| layout.name(i).to_string()).collect();
    let chosen = super::data::select::metrics(y, &y_names, cols.metrics.len())?;
    let y_col = y_cols[chosen[0]];
    let y = y_names[chosen[0]].as_str();
    let several = chosen.len() > 1;
    if several {
        let why = match (by, &req.heatmap) {
            (Some(_), _) => Some("--by splits one metric into lines; with several --y metrics, each is a line"),
            (_, Some(_)) => Some("--heatmap draws one metric; give --y one name"),
            _ if chosen.len() > MAX_SERIES => Some("at most 20 metrics can be drawn on one plot"),
            _ => None,
        };
        if let Some(why) = why {
            let names: Vec<&str> = chosen.iter().map(|&i| y_names[i].as_str()).collect();
            return Err(ReportError::Unsupported(format!("--y `{}` names {}: {why}", req.y, names.join(", "))));
        }
    }
    let by_col = match by {
        None => None,
        Some(b) if b == x => {
            return Err(ReportError::Unsupported(format!("--by `{b}` is the same parameter as --x")));
        }
        Some(b) => Some(find_param("--by", b, params.iter().filter(|p| *p != x).cloned().collect())?),
    };
    let heat_col = match req.heatmap.as_deref() {
        None => None,
        Some(_) if by.is_some() => {
            return Err(ReportError::Unsupported("--heatmap and --by cannot be used together".into()));
        }
        Some(b) if b == x => {
            return Err(ReportError::Unsupported(format!("--heatmap `{b}` is the same parameter as --x")));
        }
        Some(b) => Some(find_param("--heatmap", b, params.iter().filter(|p| *p != x).cloned().collect())?),
    };

    let survey = Survey::scan(&results)?;
    for &c in &chosen {
        if let Some(m) = survey.metric(y_cols[c]) {
            if !m.numeric {
                return Err(ReportError::Unsupported(format!(
                    "metric `{}` is not numeric (it has values like `{}`), so it cannot be plotted",
                    y_names[c],
                    m.example_bad.as_deref().unwrap_or("")
                )));
            }
        }
    }
    let x_survey = survey.param(x_col).expect("x is a parameter");
    let series = match by_col {
        None => None,
        Some(c) => {
            let p = survey.param(c).expect("by is a parameter");
            match p.distinct_count() {
                Some(n) if n <= MAX_SERIES => Some(p),
                _ => {
                    return Err(ReportError::Unsupported(format!(
                        "--by `{}` has {}{} values; at most {MAX_SERIES} lines can be drawn (use it as --x instead)",
                        layout.name(c),
                        if p.overflow { "over " } else { "" },
                        p.distinct.len()
                    )))
                }
            }
        }
    };
    let log_spaced = super::data::input::log_spaced_params(out_dir);
    let log_x = req.log_x || log_spaced.iter().any(|p| p == x);
    let units = super::data::input::Units::of(&manifest);
    if let Some(c) = heat_col {
        let b = layout.name(c);
        let b_axis =
            Axis::with_scale(survey.param(c).expect("a parameter"), MAX_HEAT_SLOTS, log_spaced.iter().any(|p| p == b));
        let mut heats = [HeatAgg::new(y_col, Axis::with_scale(x_survey, MAX_HEAT_SLOTS, log_x), b_axis)];
        aggregate(&results, &survey, &mut [], &mut heats, false)?;
        let title = format!("{y} over {x} and {b}");
        let subtitle = heats[0].subtitle(&survey, layout, Reps::of(&manifest));
        let chart = HeatChart {
            title: Some(&title),
            subtitle: Some(&subtitle),
            names: [x, b, y],
            labels: [&units.label(x), &units.label(b), &units.label(y)],
            width: 800,
            height: 560,
        };
        return draw_heatmap(&heats[0], &chart);
    }
    let scatter = super::data::input::sampled_params(&manifest).iter().any(|p| p == x);
    let refined = super::data::input::refined_params(&manifest).iter().any(|p| p == x);
    let cap = if scatter || refined { MAX_SCATTER_POSITIONS } else { MAX_X_POSITIONS };
    let axis = Axis::with_scale(x_survey, cap, log_x);
    if several {
        let names: Vec<String> = chosen.iter().map(|&c| y_names[c].clone()).collect();
        let mut plots: Vec<PlotAgg> =
            chosen.iter().map(|&c| PlotAgg::new(y_cols[c], axis.clone(), None, req.band)).collect();
        aggregate(&results, &survey, &mut plots, &mut [], false)?;
        return multi::draw_metrics(&plots, &names, x, req, (&survey, layout, &manifest, scatter));
    }
    let mut plots = [PlotAgg::new(y_col, axis, series, req.band)];
    aggregate(&results, &survey, &mut plots, &mut [], false)?;
    let title = match by {
        Some(b) => format!("{y} vs {x} by {b}"),
        None => format!("{y} vs {x}"),
    };
    let subtitle = super::draw::caption::subtitle(&plots[0], &survey, layout, Reps::of(&manifest), true);
    let chart = Chart {
        title: Some(&title),
        subtitle: Some(&subtitle),
        x_name: x,
        y_name: y,
        x_label: &units.label(x),
        y_label: &units.label(y),
        series_name: by,
        log_y: req.log_y,
        scatter,
        refined,
        width: 800,
        height: 520,
    };
    draw_plot(&plots[0], &chart)
}

/// Where `sweep plot` writes by default: `<out>/plots/<y>-vs-<x>[-by-<by>].svg`, or
/// `<y>-over-<x>-and-<b>.svg` for a heatmap, with characters other than letters, digits,
/// `.`, `_` and `-` in the names replaced by `_`.
pub fn default_path(out_dir: &Path, req: &PlotRequest) -> std::path::PathBuf {
    let (x, y, by) = (req.x.as_str(), req.y.as_str(), req.by.as_deref());
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
    };
    let mut name = format!("{}-vs-{}", clean(y), clean(x));
    if let Some(b) = by {
        name.push_str(&format!("-by-{}", clean(b)));
    }
    if let Some(b) = &req.heatmap {
        name = format!("{}-over-{}-and-{}", clean(y), clean(x), clean(b));
    }
    crate::outdir::OutDir::new(out_dir).plots().join(format!("{name}.svg"))
}

/// Refuses output paths this module cannot write: PNG (which would need fonts) and
/// anything that is not `.svg`.
pub fn check_output_path(path: &Path) -> Result<(), ReportError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => Ok(()),
        Some("png") => Err(ReportError::PngUnsupported { path: path.to_path_buf() }),
        _ => Err(ReportError::Unsupported(format!(
            "{}: unsupported plot format; the output file must end in .svg",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata;

    fn req(x: &str, y: &str, by: Option<&str>) -> PlotRequest {
        PlotRequest { x: x.into(), y: y.into(), by: by.map(String::from), ..Default::default() }
    }

    #[test]
    fn plots_a_metric_by_a_parameter() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let svg = render_plot(dir.path(), &req("k", "conc", Some("solver"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("conc vs k by solver"));
        assert!(svg.contains("\neuler\n</text>") && svg.contains("\nrk4\n</text>"), "legend");
        // c0 varies too: each point pools three grid points, so no band, and the
        // subtitle says so.
        assert_eq!(svg.matches("<polygon").count(), 0, "no band across c0");
        assert!(svg.contains("mean over c0 (3 values); no band across them; use --by c0 to split"), "{svg}");
        assert!(svg.contains("\nk (1/s)\n</text>"), "the x label has the model's unit");

        let svg = render_plot(dir.path(), &req("solver", "seconds", None)).unwrap();
        assert!(svg.contains("\neuler\n</text>"), "categories on the x axis");
        assert_eq!(svg.matches("<polygon").count(), 0, "error bars, not bands");
    }

    #[test]
    fn one_band_per_line_when_points_are_grid_points() {
        let dir = tempfile::tempdir().unwrap();
        testdata::large(dir.path(), 10, 3);
        let svg = render_plot(dir.path(), &req("k", "a", Some("c0"))).unwrap();
        assert_eq!(svg.matches("<polygon").count(), 3, "one band per line");
        assert!(svg.contains("mean ± SEM of 5 replicates per point"), "{svg}");
        let none = PlotRequest { band: Band::None, ..req("k", "a", Some("c0")) };
        assert_eq!(render_plot(dir.path(), &none).unwrap().matches("<polygon").count(), 0);
    }

    /// The bug: long y tick labels ran into the rotated y axis label, whose area had a
    /// fixed width.
    #[test]
    fn y_tick_labels_never_overlap_the_y_axis_label() {
        let dir = tempfile::tempdir().unwrap();
        testdata::large(dir.path(), 6, 1);
        // Metric a becomes -0.0001234 plus a little: tick labels like "-0.0001232".
        let path = dir.path().join("results.csv");
        let csv = std::fs::read_to_string(&path).unwrap();
        let mut out = String::new();
        for (i, line) in csv.lines().enumerate() {
            let mut f: Vec<String> = line.split(',').map(String::from).collect();
            if i > 0 && f[5] == "done" {
                f[8] = format!("{}", -0.0001234 + i as f64 * 1e-8);
            }
            out.push_str(&f.join(","));
            out.push('\n');
        }
        std::fs::write(&path, out).unwrap();
        let svg = render_plot(dir.path(), &req("k", "a", None)).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let texts: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("text")).collect();
        let num = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
        let desc = texts.iter().find(|n| n.attribute("transform").is_some_and(|t| t.contains("rotate"))).unwrap();
        // Rotated a quarter turn, the label's glyphs extend one font size to the right of x.
        let desc_right = num(desc, "x") + num(desc, "font-size");
        let ticks: Vec<_> = texts.iter().filter(|n| n.attribute("text-anchor") == Some("end")).collect();
        assert!(ticks.len() >= 3, "y tick labels");
        for t in ticks {
            let label = t.text().unwrap().trim();
            assert!(label.starts_with("-0.0001"), "{label}");
            // Digits are about 0.55 em wide in sans-serif; 0.6 leaves a margin.
            let left = num(t, "x") - label.chars().count() as f64 * 0.6 * num(t, "font-size");
            assert!(left > desc_right, "tick label {label} starts at {left}, the axis label ends at {desc_right}");
        }
    }

    #[test]
    fn heatmap_of_a_metric_over_two_parameters() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let heat = PlotRequest { heatmap: Some("c0".into()), ..req("k", "conc", None) };
        let svg = render_plot(dir.path(), &heat).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let meta = doc.descendants().find(|n| n.has_tag_name("metadata")).unwrap();
        let data: serde_json::Value = serde_json::from_str(meta.text().unwrap()).unwrap();
        assert_eq!(
            (data["kind"].as_str(), data["x"].as_str(), data["y"].as_str()),
            (Some("heatmap"), Some("k"), Some("c0"))
        );
        let cells = data["cells"].as_array().unwrap();
        // Tasks 50..59 (k = 2, c0 = 2 and 3) are pending: 13 of the 15 cells have values.
        assert_eq!(cells.len(), 13);
        assert!(svg.contains("each cell is the mean over solver (2 values) of the grid points"), "solver pooled");
        let with_by = PlotRequest { by: Some("solver".into()), ..heat.clone() };
        assert!(render_plot(dir.path(), &with_by).unwrap_err().to_string().contains("cannot be used together"));
        let same = PlotRequest { heatmap: Some("k".into()), ..heat };
        assert!(render_plot(dir.path(), &same).unwrap_err().to_string().contains("same parameter"));
    }

    #[test]
    fn unknown_columns_are_named() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let err = render_plot(dir.path(), &req("kk", "conc", None)).unwrap_err().to_string();
        assert_eq!(err, "--x: no parameter `kk` in this sweep (did you mean `k`?); available: k, c0, solver");
        let err = render_plot(dir.path(), &req("k", "cnc", None)).unwrap_err().to_string();
        assert!(err.contains("--y: no metric `cnc`") && err.contains("did you mean `conc`?"), "{err}");
        assert!(err.contains("available: conc, steps, label, seconds, attempts"), "{err}");
        let err = render_plot(dir.path(), &req("k", "conc", Some("solvr"))).unwrap_err().to_string();
        assert!(err.contains("--by: no parameter `solvr`") && err.contains("available: c0, solver"), "{err}");
        let err = render_plot(dir.path(), &req("k", "conc", Some("k"))).unwrap_err().to_string();
        assert!(err.contains("same parameter"), "{err}");
        let err = render_plot(dir.path(), &req("k", "label", None)).unwrap_err().to_string();
        assert!(err.contains("`label` is not numeric") && err.contains("`ok`"), "{err}");
    }

    #[test]
    fn too_many_series_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        testdata::large(dir.path(), 30, 2);
        let err = render_plot(dir.path(), &req("c0", "a", Some("k"))).unwrap_err().to_string();
        assert!(err.contains("--by `k` has 30 values; at most 20"), "{err}");
        assert!(render_plot(dir.path(), &req("k", "a", Some("c0"))).is_ok());
    }

    #[test]
    fn default_paths_name_what_is_plotted() {
        let p = default_path(Path::new("runs/r"), &req("k", "conversion", None));
        assert_eq!(p, Path::new("runs/r/plots/conversion-vs-k.svg"));
        let p = default_path(Path::new("r"), &req("a b", "y/z", Some("c0")));
        assert_eq!(p, Path::new("r/plots/y_z-vs-a_b-by-c0.svg"));
        let heat = PlotRequest { heatmap: Some("c0".into()), ..req("k", "conc", None) };
        assert_eq!(default_path(Path::new("r"), &heat), Path::new("r/plots/conc-over-k-and-c0.svg"));
    }

    #[test]
    fn only_svg_output() {
        assert!(check_output_path(Path::new("a/plot.svg")).is_ok());
        assert!(check_output_path(Path::new("plot.SVG")).is_ok());
        let err = check_output_path(Path::new("plot.png")).unwrap_err();
        assert!(matches!(err, ReportError::PngUnsupported { .. }));
        assert!(err.to_string().contains("PNG output is not supported"), "{err}");
        assert!(check_output_path(Path::new("plot.pdf")).is_err());
        assert!(check_output_path(Path::new("plot")).is_err());
    }

    #[test]
    fn empty_plot_says_so() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
        let header = csv.lines().next().unwrap();
        std::fs::write(dir.path().join("results.csv"), format!("{header}\n")).unwrap();
        let svg = render_plot(dir.path(), &req("k", "conc", None)).unwrap();
        assert!(svg.contains("no finished tasks"), "{svg}");
    }
}
