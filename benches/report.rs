//! Times `render_report` and `render_plot` on synthetic 100,000-task sweeps and checks the page stays under
//! 5 s and 2 MB. Run with `cargo bench --bench report`; set `SWEEP_BENCH_REPORT_DIR` to
//! keep the rendered pages there.

#[path = "../tests/common/outdir.rs"]
mod outdir;

use std::time::Instant;

const MAX_SECONDS: f64 = 5.0;
const MAX_BYTES: usize = 2_000_000;

fn main() {
    let keep = std::env::var_os("SWEEP_BENCH_REPORT_DIR").map(std::path::PathBuf::from);
    let mut ok = true;
    // (k values, c0 values): 100,000 tasks each with 5 replicates.
    // 200 x 100: every k value is its own x position, no second parameter is small enough
    // for lines. 2500 x 8: k is binned into 200 positions and each plot has 8 lines.
    for (nk, nc) in [(200, 100), (2500, 8)] {
        let dir = tempfile::tempdir().expect("tempdir");
        outdir::large(dir.path(), nk, nc);
        let csv = std::fs::metadata(dir.path().join("results.csv")).expect("results.csv").len();
        let start = Instant::now();
        let html = sweep::report::html::render_report(dir.path()).expect("render_report");
        let secs = start.elapsed().as_secs_f64();
        let tasks = nk * nc * 5;
        println!(
            "report {nk}x{nc}x5 = {tasks} tasks (results.csv {:.1} MB): {secs:.3} s, {:.0} KB",
            csv as f64 / 1e6,
            html.len() as f64 / 1e3
        );
        if let Some(keep) = &keep {
            std::fs::create_dir_all(keep).expect("create report dir");
            std::fs::write(keep.join(format!("report-{nk}x{nc}.html")), &html).expect("write report");
        }
        if secs > MAX_SECONDS || html.len() > MAX_BYTES {
            eprintln!("  over budget: limits are {MAX_SECONDS} s and {MAX_BYTES} bytes");
            ok = false;
        }
        // `sweep plot DIR --x k --y a [--by c0]`: the same aggregation for one plot (one line
        // per c0 value where there are few enough to draw).
        let by = (nc <= 20).then_some("c0");
        let start = Instant::now();
        let req = sweep::report::plot::PlotRequest {
            x: "k".into(),
            y: "a".into(),
            by: by.map(String::from),
            ..Default::default()
        };
        let svg = sweep::report::plot::render_plot(dir.path(), &req).expect("render_plot");
        let secs = start.elapsed().as_secs_f64();
        println!(
            "plot   {nk}x{nc}x5 = {tasks} tasks --x k --y a --by {by:?}: {secs:.3} s, {:.0} KB",
            svg.len() as f64 / 1e3
        );
        if secs > MAX_SECONDS || svg.len() > MAX_BYTES {
            eprintln!("  over budget: limits are {MAX_SECONDS} s and {MAX_BYTES} bytes");
            ok = false;
        }
    }
    if !ok {
        std::process::exit(1);
    }
}
