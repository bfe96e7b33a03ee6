//! Opens a rendered report in headless Chromium: takes a screenshot (kept under
//! `target/tmp/report-browser/` for a human to look at), checks the console stayed
//! clean, and checks the parsed DOM with `--dump-dom`.
//!
//! Skips, with a SKIPPED line on stderr, when no Chromium is installed; fails instead when
//! `CI=true` (see `require_tool`). Set `SWEEP_CHROMIUM` to the browser binary to pick one.

mod common;
use common::*;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// `SWEEP_CHROMIUM`, else the first Chromium or Chrome in `PATH`.
fn find_chromium() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("SWEEP_CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
        .ok_or_else(|| "no chromium in PATH (install `chromium` or set SWEEP_CHROMIUM)".to_string())
}

/// Runs the browser headless on `url` with `args`; returns (stdout, stderr).
fn chromium(bin: &Path, profile: &Path, args: &[&str], url: &str) -> (String, String) {
    let out_dir = profile.parent().unwrap();
    let (stdout_path, stderr_path) = (out_dir.join("stdout.txt"), out_dir.join("stderr.txt"));
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut status = None;
    if !poll_until(Duration::from_secs(120), || {
        status = child.try_wait().unwrap();
        status.is_some()
    }) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{} did not finish within 120 s", bin.display());
    }
    let status = status.unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "{} failed ({status}):\n{stderr}", bin.display());
    (
        std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    )
}

/// Console messages and failed loads in Chromium's log.
fn console_problems(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("net::ERR_")).collect()
}

#[test]
fn report_renders_in_chromium() {
    let Some(bin) = require_tool("chromium", find_chromium()) else { return };
    let env = Env::new();
    let out = env.path("out");
    std::fs::create_dir(&out).unwrap();
    outdir::small(&out);
    let html = sweep::report::html::render_report(&out).unwrap();
    let page = env.write("report.html", &html);
    let url = format!("file://{}", page.display());

    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::create_dir_all(&keep).unwrap();
    let shot = keep.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let (_, log) = chromium(
        &bin,
        &env.path("profile1"),
        &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2400"],
        &url,
    );
    let problems = console_problems(&log);
    assert!(problems.is_empty(), "console errors or failed loads:\n{}", problems.join("\n"));
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "screenshot {} is missing or blank ({size} bytes)", shot.display());
    std::fs::copy(&page, keep.join("report.html")).unwrap();
    let _ = writeln!(std::io::stderr(), "screenshot: {}", shot.display());

    let (dom, log) = chromium(&bin, &env.path("profile2"), &["--dump-dom"], &url);
    let problems = console_problems(&log);
    assert!(problems.is_empty(), "console errors or failed loads:\n{}", problems.join("\n"));
    assert!(dom.contains("<h1>reaction &lt;test&gt;</h1>"), "{dom}");
    assert_eq!(dom.matches("<svg").count(), 8, "histogram, a heatmap and six plots in the parsed DOM");
    assert!(dom.contains("class=\"card glance\""), "the opening card");
    assert!(dom.contains("<metadata id=\"sweep-plot-data\">"), "plot data survives HTML parsing");
    assert!(dom.contains("<b>42</b>done") && dom.contains("<b>8</b>failed") && dom.contains("<b>10</b>pending"));
    assert!(!dom.contains("<parsererror"), "an SVG failed to parse");
}

#[test]
fn paired_comparison_renders_in_chromium() {
    let Some(bin) = require_tool("chromium", find_chromium()) else { return };
    // The fin model's Monte Carlo with h_std compared on common seeds, at two fin lengths.
    let env = Env::with(
        "fin.toml",
        "seed = 3\nreplicates = 6\ncommon_seed = [\"h_std\"]\n[model]\nname = \"fin\"\nn_samples = 50\n\
         [params]\nL = [0.05, 0.1]\nh_std = [5.0, 10.0, 20.0]\n",
    );
    env.succeeds(&["run", "fin.toml", "-q"]);
    let html = sweep::report::html::render_report(&env.path("runs/fin")).unwrap();
    // The page cut to its head and the paired section, so the screenshot shows the section.
    let (start, head_end) = (html.find("<h2 id=\"paired\">").expect("a paired section"), html.find("<main>").unwrap());
    let end = start + 1 + html[start + 1..].find("<h2").unwrap();
    let page =
        env.write("paired.html", &format!("{}<main>\n{}</main></body></html>\n", &html[..head_end], &html[start..end]));
    let url = format!("file://{}", page.display());
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::create_dir_all(&keep).unwrap();
    let shot = keep.join("paired.png");
    let _ = std::fs::remove_file(&shot);
    let (_, log) = chromium(
        &bin,
        &env.path("profile1"),
        &[&format!("--screenshot={}", shot.display()), "--window-size=1280,1100"],
        &url,
    );
    assert!(console_problems(&log).is_empty(), "{log}");
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "screenshot {} is missing or blank ({size} bytes)", shot.display());
    let _ = writeln!(std::io::stderr(), "screenshot: {}", shot.display());

    let (dom, _) = chromium(&bin, &env.path("profile2"), &["--dump-dom"], &url);
    assert!(dom.contains("Paired comparison: h_std"), "{dom}");
    // Four metrics, each 2 settings × 3 levels, one header row per table.
    assert_eq!(dom.matches("<table class=\"paired\"").count(), 4);
    assert_eq!(dom.matches("<tr data-level=").count() + dom.matches("<tr data-setting=").count(), 24);
    assert!(dom.matches(">reference</td>").count() == 8, "the first level is each setting's reference");
}
