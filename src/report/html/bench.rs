//! The benchmark section: what `sweep run --bench` left in `bench/`, inlined when it is
//! safe to.

use std::fmt::Write as _;
use std::path::Path;

use super::escape;

/// `bench/speedup.svg` larger than this is linked by name instead of inlined.
const MAX_BENCH_SVG: u64 = 1 << 20;

/// Strips an XML declaration and doctype so an SVG file can be inlined in HTML.
fn inline_svg(text: &str) -> Option<&str> {
    let start = text.find("<svg")?;
    let end = text.rfind("</svg>")? + "</svg>".len();
    let svg = &text[start..end];
    // Inline only self-contained drawings: no scripts, no external references.
    let lower = svg.to_ascii_lowercase();
    let external = ["<script", "href=\"http", "href='http", "src=\"http", "url(http", "@import"];
    (!external.iter().any(|p| lower.contains(p))).then_some(svg)
}

/// Writes the section, or nothing when there is no benchmark.
pub(super) fn write(h: &mut String, out_dir: &Path) {
    let bench = crate::outdir::OutDir::new(out_dir).bench();
    let svg_path = bench.join("speedup.svg");
    let json_path = bench.join("bench.json");
    let svg = std::fs::metadata(&svg_path).ok().filter(|m| m.is_file());
    let json = std::fs::read_to_string(&json_path).ok();
    if svg.is_none() && json.is_none() {
        return;
    }
    h.push_str("<h2 id=\"bench\">Benchmark</h2>\n");
    if let Some(meta) = svg {
        let text = (meta.len() <= MAX_BENCH_SVG).then(|| std::fs::read_to_string(&svg_path).ok()).flatten();
        match text.as_deref().and_then(inline_svg) {
            Some(svg) => {
                let _ = writeln!(h, "<figure>{svg}<figcaption>bench/speedup.svg</figcaption></figure>");
            }
            None => {
                let _ = writeln!(
                    h,
                    "<p class=\"note\">bench/speedup.svg exists but was not inlined (too large, unreadable, or \
                     not a self-contained SVG); open it next to this report.</p>"
                );
            }
        }
    }
    if let Some(json) = json {
        let pretty = serde_json::from_str::<serde_json::Value>(&json)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or(json);
        let _ = writeln!(h, "<details><summary>bench/bench.json</summary><pre>{}</pre></details>", escape(&pretty));
    }
}

#[cfg(test)]
mod tests {
    use super::super::render_report;
    use super::super::tests::assert_well_formed;
    use super::*;
    use crate::report::testdata;

    #[test]
    fn bench_plot_is_inlined() {
        let dir = tempfile::tempdir().unwrap();
        testdata::small(dir.path());
        std::fs::create_dir(dir.path().join("bench")).unwrap();
        std::fs::write(
            dir.path().join("bench/speedup.svg"),
            "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">\
             <rect id=\"speedup-marker\" width=\"5\" height=\"5\"/></svg>\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("bench/bench.json"), "{\"cores\":[1,2]}").unwrap();
        let html = render_report(dir.path()).unwrap();
        assert!(html.contains("<rect id=\"speedup-marker\""));
        assert!(!html.contains("<?xml"));
        assert!(html.contains("&quot;cores&quot;"));
        assert_well_formed(&html);
    }

    #[test]
    fn only_self_contained_svg_is_inlined() {
        let svg = "<svg width=\"1\"><rect/></svg>";
        assert_eq!(inline_svg(&format!("<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n{svg}\n")), Some(svg));
        assert_eq!(inline_svg("<svg><script>alert(1)</script></svg>"), None);
        assert_eq!(inline_svg("<svg><image href=\"https://example.com/a.png\"/></svg>"), None);
        assert_eq!(inline_svg("not an svg"), None);
    }
}
