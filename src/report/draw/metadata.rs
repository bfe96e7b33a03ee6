//! The numbers behind a plot, embedded in its SVG as JSON inside
//! `<metadata id="sweep-plot-data">`, so a reader (or a test) can take the values back
//! without scraping coordinates:
//!
//! ```json
//! {"x": "k", "y": "conversion", "by": null, "band": "sem", "log_x": true, "log_y": false,
//!  "scatter": false, "metrics": ["conversion"],
//!  "series": [{"label": "", "metric": "conversion", "points": [{"x": 0.1, "mean": 0.52, "lo": 0.50,
//!    "hi": 0.54, "half_width": 0.02, "replicates": 5, "grid_points": 1}]}]}
//! ```
//!
//! `x` is the parameter's value (not its log), or the category's name; `lo`, `hi` and
//! `half_width` (half of `hi − lo`) are absent when the point has no band. `scatter` is
//! true where x is a sampled parameter, drawn as markers alone. A plot of several metrics
//! (`--y a,b`) lists them in `metrics`, and each series is one metric, its `label` the
//! metric's name; with one metric, a series' `label` is its value of `by` (or empty).

use serde_json::{json, Value};

use super::drawing::{Chart, Drawing};
use crate::report::data::axis::AxisKind;

/// The `id` of the `<metadata>` element.
pub const METADATA_ID: &str = "sweep-plot-data";

/// The JSON data of the plot of `d`.
pub(crate) fn plot_data(d: &Drawing, chart: &Chart) -> String {
    let x_value = |x: f64| -> Value {
        match &d.x.kind {
            AxisKind::Categories { names, .. } => json!(names.get_index(x.round() as usize)),
            _ if d.x.log => json!(10f64.powf(x)),
            _ => json!(x),
        }
    };
    let series: Vec<Value> = (d.lines.iter())
        .map(|((label, points), metric)| {
            let points: Vec<Value> = points
                .iter()
                .map(|p| {
                    let mut o = json!({
                        "x": x_value(p.x),
                        "mean": p.mean,
                        "replicates": p.values,
                        "grid_points": p.grid_points,
                    });
                    if let Some((lo, hi)) = p.band {
                        o["lo"] = json!(lo);
                        o["hi"] = json!(hi);
                        o["half_width"] = json!((hi - lo) / 2.0);
                    }
                    o
                })
                .collect();
            json!({"label": label, "metric": metric, "points": points})
        })
        .collect();
    json!({
        "x": chart.x_name,
        "y": chart.y_name,
        "by": chart.series_name,
        "band": d.band.name(),
        "log_x": d.x.log,
        "log_y": chart.log_y,
        "scatter": chart.scatter,
        "metrics": d.metrics,
        "series": series,
    })
    .to_string()
}

/// `svg` with `json` in a `<metadata>` element right after the opening `<svg …>` tag.
pub(crate) fn embed(svg: &str, json: &str) -> String {
    let Some(end) = svg.find("<svg").and_then(|s| svg[s..].find('>').map(|e| s + e + 1)) else {
        return svg.to_string();
    };
    // Element text: only these need escaping, and quotes left alone keep the JSON readable.
    let escaped = json.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!("{}\n<metadata id=\"{METADATA_ID}\">{escaped}</metadata>{}", &svg[..end], &svg[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_follows_the_svg_tag() {
        let svg = "<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>\n";
        let out = embed(svg, "{\"a\":\"<b>&\"}");
        let doc = roxmltree::Document::parse(&out).unwrap();
        let meta = doc.descendants().find(|n| n.has_tag_name("metadata")).unwrap();
        assert_eq!(meta.attribute("id"), Some(METADATA_ID));
        assert_eq!(meta.text(), Some("{\"a\":\"<b>&\"}"));
        assert_eq!(embed("no svg", "{}"), "no svg");
    }
}
