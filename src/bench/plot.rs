//! The speedup plot written to `bench/speedup.svg`.
//!
//! Drawn with plotters' SVG backend without its `ttf` feature: text is emitted as SVG
//! `<text>` elements for the viewer to render, so no font files are loaded (or needed) when
//! the plot is made. Label widths used for layout are plotters' built-in estimate.

use plotters::prelude::*;

use super::fit::Fit;

/// Plot size in pixels.
const WIDTH: u32 = 720;
const HEIGHT: u32 = 480;
/// Radius of a measured point's marker, in pixels.
const MARKER_RADIUS: i32 = 4;

/// One measured worker count on the speedup plot: speedups relative to one worker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedupPoint {
    /// Number of workers.
    pub jobs: f64,
    /// Median speedup over the repetitions.
    pub median: f64,
    /// Smallest speedup over the repetitions (bottom of the error bar).
    pub min: f64,
    /// Largest speedup over the repetitions (top of the error bar).
    pub max: f64,
}

/// Draws measured speedup against worker count as an SVG document: one marker per point at
/// its median with a min–max error bar, the ideal line `y = x` (dashed) and, when given, the
/// fitted model's speedup curve. Axes are labelled "workers" and "speedup".
///
/// Points with non-finite values are skipped. The result is always a complete SVG
/// document.
pub fn speedup_svg(points: &[SpeedupPoint], fit: Option<&Fit>, title: &str) -> String {
    let points: Vec<SpeedupPoint> =
        points.iter().copied().filter(|p| [p.jobs, p.median, p.min, p.max].iter().all(|v| v.is_finite())).collect();
    let mut svg = String::new();
    match draw(&mut svg, &points, fit, title) {
        Ok(()) => svg,
        Err(e) => fallback_svg(&format!("could not draw the speedup plot: {e}")),
    }
}

fn draw(
    svg: &mut String,
    points: &[SpeedupPoint],
    fit: Option<&Fit>,
    title: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let max_jobs = points.iter().map(|p| p.jobs).fold(1.0f64, f64::max);
    let x_max = (max_jobs * 1.1).max(2.0);
    let curve: Vec<(f64, f64)> = match fit {
        Some(fit) => (0..=200)
            .map(|i| 1.0 + (x_max - 1.0) * f64::from(i) / 200.0)
            .map(|n| (n, fit.speedup(n)))
            .filter(|&(_, s)| s.is_finite())
            .collect(),
        None => Vec::new(),
    };
    let y_top = points.iter().map(|p| p.max.max(p.median)).chain(curve.iter().map(|c| c.1)).fold(1.0f64, f64::max);
    let y_max = y_top * 1.1;
    let y_min = points.iter().map(|p| p.min.min(p.median)).fold(0.0f64, f64::min);

    let tick = |v: &f64| crate::text::number(*v);
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..x_max, y_min..y_max)?;
    chart
        .configure_mesh()
        .x_desc("workers")
        .y_desc("speedup")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .max_light_lines(4)
        .light_line_style(BLACK.mix(0.06))
        .bold_line_style(BLACK.mix(0.15))
        .draw()?;

    // Ideal scaling, y = x, stopped where it leaves the plot.
    let ideal_end = x_max.min(y_max);
    chart
        .draw_series(DashedLineSeries::new([(0.0, 0.0), (ideal_end, ideal_end)], 6, 4, BLACK.mix(0.5).stroke_width(1)))?
        .label("ideal (y = x)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.5)));

    if let Some(fit) = fit {
        let label = format!("{} fit (σ = {:.3}, κ = {:.2e})", fit.model.name(), fit.sigma, fit.kappa);
        chart
            .draw_series(LineSeries::new(curve, RED.stroke_width(2)))?
            .label(label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    }

    if !points.is_empty() {
        let cap = x_max * 0.008;
        chart.draw_series(points.iter().flat_map(|p| {
            let style = BLUE.stroke_width(1);
            [
                PathElement::new([(p.jobs, p.min), (p.jobs, p.max)], style),
                PathElement::new([(p.jobs - cap, p.min), (p.jobs + cap, p.min)], style),
                PathElement::new([(p.jobs - cap, p.max), (p.jobs + cap, p.max)], style),
            ]
        }))?;
        chart
            .draw_series(points.iter().map(|p| Circle::new((p.jobs, p.median), MARKER_RADIUS, BLUE.filled())))?
            .label("measured (median, min–max)")
            .legend(|(x, y)| Circle::new((x + 10, y), MARKER_RADIUS, BLUE.filled()));
    }

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}

/// A minimal SVG carrying only a message, for the (unexpected) case that drawing fails.
fn fallback_svg(message: &str) -> String {
    let escaped = message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\">\
         <text x=\"20\" y=\"40\" font-family=\"sans-serif\">{escaped}</text></svg>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::fit::fit;

    fn points() -> Vec<SpeedupPoint> {
        [(1.0, 1.0), (2.0, 1.9), (4.0, 3.5), (8.0, 5.9), (16.0, 8.1)]
            .iter()
            .map(|&(jobs, median)| SpeedupPoint { jobs, median, min: median * 0.95, max: median * 1.04 })
            .collect()
    }

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"))
    }

    fn count(doc: &roxmltree::Document<'_>, tag: &str) -> usize {
        doc.descendants().filter(|n| n.tag_name().name() == tag).count()
    }

    fn texts(doc: &roxmltree::Document<'_>) -> Vec<String> {
        doc.descendants()
            .filter(|n| n.tag_name().name() == "text")
            .filter_map(|n| n.text())
            .map(|t| t.trim().to_string())
            .collect()
    }

    #[test]
    fn plot_is_well_formed_svg_with_one_marker_per_point() {
        let pts = points();
        let data: Vec<(f64, f64)> = pts.iter().map(|p| (p.jobs, 100.0 * p.median)).collect();
        let f = fit(&data).unwrap();
        let svg = speedup_svg(&pts, Some(&f), "speedup of demo.toml");
        let doc = parse(&svg);
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        // One marker per point, plus the one in the legend.
        assert_eq!(count(&doc, "circle"), pts.len() + 1);
        let texts = texts(&doc);
        for expected in ["workers", "speedup", "speedup of demo.toml"] {
            assert!(texts.iter().any(|t| t == expected), "no {expected:?} in {texts:?}");
        }
        assert!(texts.iter().any(|t| t.starts_with("ideal")));
        assert!(texts.iter().any(|t| t.contains("fit (σ")), "{texts:?}");
    }

    #[test]
    fn plot_without_a_fit_has_no_fit_curve() {
        let pts = points();
        let doc_svg = speedup_svg(&pts, None, "t");
        let doc = parse(&doc_svg);
        assert_eq!(count(&doc, "circle"), pts.len() + 1);
        assert!(!texts(&doc).iter().any(|t| t.contains("fit")));
    }

    #[test]
    fn empty_and_odd_input_still_gives_a_document() {
        let doc_svg = speedup_svg(&[], None, "nothing <yet> & more");
        let doc = parse(&doc_svg);
        assert_eq!(count(&doc, "circle"), 0);
        assert!(texts(&doc).iter().any(|t| t == "nothing <yet> & more"));

        let mut pts = points();
        pts.push(SpeedupPoint { jobs: 32.0, median: f64::NAN, min: 1.0, max: 2.0 });
        let doc_svg = speedup_svg(&pts, None, "t");
        assert_eq!(count(&parse(&doc_svg), "circle"), pts.len());
    }

    #[test]
    fn fallback_is_well_formed() {
        let doc_svg = fallback_svg("a < b & c");
        parse(&doc_svg);
    }
}
