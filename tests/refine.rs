//! `[refine]`: a curve refined in rounds where it changes. Its points beat a uniform grid
//! of three times as many, are the same whatever --jobs and after kill -9 + --resume, are
//! real tasks with their own ids, and refine.csv says why each was added.

mod common;
use common::*;
use std::collections::BTreeMap;

/// A directory with `s.toml`, whose curve is a tanh step of width 0.01 at x = 0.43 (off
/// the start grid) plus `shift` (a third argument, 0 without), computed by awk after
/// `sleep` seconds (so that a kill lands mid-run); `extra` ends the [refine] table.
fn env(extra: &str, sleep: &str) -> Env {
    let env = Env::with("s.toml", &spec(extra));
    env.write(
        "step.sh",
        &format!(
            "sleep {sleep}\nawk -v x=\"$1\" -v out=\"$2\" -v s=\"${{3:-0}}\" 'BEGIN {{ u = (x - 0.43 - s) / 0.01; \
             if (u > 30) u = 30; if (u < -30) u = -30; e = exp(2 * u); \
             printf \"{{\\\"y\\\": %.17g}}\", (e - 1) / (e + 1) > (out \"/metrics.json\") }}'\n"
        ),
    );
    env
}

fn spec(extra: &str) -> String {
    format!(
        "[command]\nargv = [\"sh\", \"step.sh\", \"{{x}}\", \"{{out}}\"]\n\
         [params]\nx = {{ linspace = [0.0, 1.0, 11] }}\n\
         [refine]\naxis = \"x\"\nmetric = \"y\"\nbudget = 60\n{extra}"
    )
}

fn step(x: f64) -> f64 {
    ((x - 0.43) / 0.01).tanh()
}

/// The (x, y) of results.csv, sorted by x.
fn curve(env: &Env, out: &str) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> =
        env.results(out).iter().map(|r| (r["x"].parse().unwrap(), r["y"].parse().unwrap())).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

/// The mean and the largest |error| of the piecewise-linear interpolation of `pts` against
/// [`step`], over 200,001 evenly spaced x in [0, 1].
fn interpolation_error(pts: &[(f64, f64)]) -> (f64, f64) {
    let n = 200_001;
    let (mut sum, mut max, mut j) = (0.0, 0.0f64, 0);
    for i in 0..n {
        let x = i as f64 / (n - 1) as f64;
        while j + 2 < pts.len() && pts[j + 1].0 < x {
            j += 1;
        }
        let ((x0, y0), (x1, y1)) = (pts[j], pts[j + 1]);
        let e = (y0 + (y1 - y0) * (x - x0) / (x1 - x0) - step(x)).abs();
        sum += e;
        max = max.max(e);
    }
    (sum / n as f64, max)
}

/// results.csv without the columns that differ from run to run.
fn results(env: &Env, out: &str) -> String {
    without_columns(&env.read(&format!("{out}/results.csv")), &["seconds", "attempts"])
}

#[test]
fn sixty_refined_points_beat_a_uniform_grid_of_three_times_as_many_on_a_tanh_step() {
    let env = env("", "0");
    let err = env.succeeds_stderr(&["run", "s.toml", "--jobs", "2"]);
    assert!(err.contains("60 tasks: 60 done"), "{err}");
    let refined = curve(&env, "runs/s");
    assert_eq!(refined.len(), 60);
    let uniform: Vec<(f64, f64)> = (0..180).map(|i| i as f64 / 179.0).map(|x| (x, step(x))).collect();
    let (r, u) = (interpolation_error(&refined), interpolation_error(&uniform));
    assert!(r.0 <= u.0, "mean error: 60 refined points {:.3e}, 180 uniform {:.3e}", r.0, u.0);
    assert!(r.1 <= u.1, "largest error: 60 refined points {:.3e}, 180 uniform {:.3e}", r.1, u.1);
    // Most of the points went to the step.
    assert!(refined.iter().filter(|p| (p.0 - 0.43).abs() < 0.05).count() >= 30, "{refined:?}");
}

#[test]
fn refine_csv_says_why_each_point_was_added() {
    let env = env("batch = 4\n", "0");
    env.succeeds(&["run", "s.toml", "-q"]);
    let rows = parse_csv(&env.read("runs/s/refine.csv"));
    assert_eq!(rows.len(), 60);
    let xs: Vec<f64> = rows.iter().map(|r| r["x"].parse().unwrap()).collect();
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "along x: {xs:?}");
    let start: Vec<_> = rows.iter().filter(|r| r["round"] == "0").collect();
    assert_eq!(start.len(), 11, "the start values are round 0");
    assert!(start.iter().all(|r| r["lo"].is_empty() && r["loss"].is_empty()));
    let mut per_round = BTreeMap::new();
    for r in rows.iter().filter(|r| r["round"] != "0") {
        *per_round.entry(r["round"].parse::<u32>().unwrap()).or_insert(0) += 1;
        let (x, lo, hi): (f64, f64, f64) =
            (r["x"].parse().unwrap(), r["lo"].parse().unwrap(), r["hi"].parse().unwrap());
        assert!(lo < x && x < hi && r["loss"].parse::<f64>().unwrap() > 0.0, "{r:?}");
        assert_eq!((r["state"].as_str(), r["n"].as_str(), r["metric"].as_str()), ("budget", "1", "y"));
    }
    // 49 points, 4 a round: 12 full rounds and one of 1.
    assert_eq!(per_round.len(), 13, "{per_round:?}");
    assert!(per_round.values().take(12).all(|&n| n == 4) && per_round[&13] == 1, "{per_round:?}");
    let status = env.succeeds(&["status", "runs/s"]);
    assert!(status.contains("60 tasks") && status.contains("pending  0"), "{status}");
    // `collect` writes both files again from the journal, the same.
    let (results, refine) = (env.read("runs/s/results.csv"), env.read("runs/s/refine.csv"));
    std::fs::remove_file(env.path("runs/s/results.csv")).unwrap();
    std::fs::remove_file(env.path("runs/s/refine.csv")).unwrap();
    env.succeeds_stderr(&["collect", "runs/s"]);
    assert_eq!(env.read("runs/s/refine.csv"), refine);
    let drop = ["seconds", "attempts"];
    assert_eq!(without_columns(&env.read("runs/s/results.csv"), &drop), without_columns(&results, &drop));
}

#[test]
fn the_points_are_the_same_at_jobs_1_and_2_and_after_kill_9_and_resume() {
    let env = env("", "0.02");
    env.succeeds(&["run", "s.toml", "-q", "--jobs", "1", "--out", "one"]);
    env.succeeds(&["run", "s.toml", "-q", "--jobs", "2", "--out", "two"]);
    assert_eq!(results(&env, "one"), results(&env, "two"));
    assert_eq!(env.read("one/refine.csv"), env.read("two/refine.csv"));
    // Killed while tasks, and rounds, are in flight, three times over.
    env.kill_9_mid_run("s.toml", "k", 3, 60);
    // Once more, late: the resume then reads back rounds of refined points, not start values.
    let mut child = env.spawn(&["run", "s.toml", "--out", "k", "-q", "--jobs", "2", "--resume"]);
    wait_until("35 tasks journaled", std::time::Duration::from_secs(30), || env.journaled_done("k").len() >= 35);
    kill9(&mut child);
    assert!(env.journaled_done("k").len() < 60, "killed before the end");
    env.exits(&["status", "k"], 1);
    env.succeeds(&["run", "s.toml", "-q", "--jobs", "2", "--out", "k", "--resume"]);
    assert_eq!(results(&env, "k"), results(&env, "one"));
    assert_eq!(env.read("k/refine.csv"), env.read("one/refine.csv"));
    // Every task the runs chose is one of the 60: a killed run's rounds were found again.
    let journal = env.read("k/journal.jsonl");
    assert_eq!(done_tasks(&journal).len(), 60);
    let records = journal_lines(&journal).iter().filter(|v| v.get("m").is_some()).count();
    assert!(records <= 60 + 4 * 2, "at most the tasks in flight at each kill ran again: {records}");
    let err = env.succeeds_stderr(&["run", "s.toml", "--out", "k", "--resume"]);
    assert!(err.contains("60 already done"), "{err}");
}

#[test]
fn each_curve_of_the_other_axes_is_refined_on_the_mean_of_its_replicates() {
    // Two curves: the step at 0.43 and at 0.43 + 0.3; two replicates each, whose mean is
    // the step (the command ignores the seed).
    let env = env("batch = 3\n", "0");
    let text = spec("batch = 3\n")
        .replace("\"{out}\"]", "\"{out}\", \"{shift}\"]")
        .replace("[params]\n", "[params]\nshift = [0.0, 0.3]\n");
    env.write("s.toml", &format!("replicates = 2\n{text}"));
    env.succeeds(&["run", "s.toml", "-q"]);
    let rows = env.results("runs/s");
    assert_eq!(rows.len(), 2 * 60 * 2, "two curves of 60 points, two replicates each");
    for (shift, at) in [("0.0", 0.43), ("0.3", 0.73)] {
        let near = rows.iter().filter(|r| r["shift"] == shift && r["replicate"] == "0");
        let near = near.filter(|r| (r["x"].parse::<f64>().unwrap() - at).abs() < 0.05).count();
        assert!(near >= 30, "shift {shift}: {near} points near its step at {at}");
    }
    let refine = parse_csv(&env.read("runs/s/refine.csv"));
    assert_eq!(refine.len(), 120);
    assert!(refine.iter().all(|r| r["n"] == "2"), "the mean of both replicates");
}

#[test]
fn a_refined_sweep_does_not_run_in_shards_or_slices() {
    let env = env("", "0");
    let err = env.fails(&["run", "s.toml", "--shard", "1/2"], 2);
    assert!(err.contains("has [refine], which do not run in shards"), "{err}");
    let err = env.fails(&["run", "s.toml", "--limit", "5"], 2);
    assert!(err.contains("has [refine], whose rounds choose the tasks"), "{err}");
}

#[test]
fn bad_refine_tables_are_spec_errors_with_their_line() {
    let cases = [
        ("axis = \"x\"", "axis = \"z\"", "[refine] names `z`, which is not in [params]"),
        ("budget = 60", "budget = 5", "`budget` = 5 is fewer than the 11 values `x` starts from"),
        ("budget = 60", "budget = 60\nbatch = 0", "`batch` (points a round adds to a curve) must be at least 1"),
        ("budget = 60", "budget = 60\ntolerance = -1.0", "`tolerance` must be a number > 0"),
        ("metric = \"y\"\n", "", "[refine] needs `metric`"),
        ("x = { linspace = [0.0, 1.0, 11] }", "x = [0, 1]", "a refined axis holds finite floats"),
        ("x = { linspace = [0.0, 1.0, 11] }", "x = [0.5]", "a curve starts from at least two"),
        ("budget = 60", "budget = 60\nstep = 2", "unknown key `step`"),
        (
            "[command]",
            "replicates = { min = 2, max = 4, until = { metric = \"y\", ci95_abs = 1.0 } }\n[command]",
            "[refine] needs a fixed number of replicates",
        ),
    ];
    for (from, to, want) in cases {
        let env = env("", "0");
        env.write("s.toml", &spec("").replacen(from, to, 1));
        let err = env.fails(&["run", "s.toml"], 2);
        assert!(err.contains(want), "{to}: {err}");
        assert!(err.contains("s.toml:"), "names the file and line: {err}");
        assert!(!env.path("runs").exists(), "nothing written");
    }
}

#[test]
fn raising_the_budget_on_resume_refines_on_and_another_batch_is_refused() {
    let env = env("", "0");
    env.succeeds(&["run", "s.toml", "-q"]);
    env.write("s.toml", &spec("").replace("budget = 60", "budget = 80"));
    let err = env.succeeds_stderr(&["run", "s.toml", "--resume"]);
    assert!(err.contains("this run: 20 done") && err.contains("60 already done"), "{err}");
    env.succeeds(&["run", "s.toml", "-q", "--out", "fresh"]);
    assert_eq!(results(&env, "runs/s"), results(&env, "fresh"), "as if started with 80");
    env.write("s.toml", &spec("batch = 3\n").replace("budget = 60", "budget = 80"));
    let err = env.fails(&["run", "s.toml", "--resume"], 2);
    assert!(err.contains("[refine] `batch` changed from 8 to 3: other points would be chosen"), "{err}");
}

#[test]
fn the_plot_and_the_report_mark_every_point_of_the_curve() {
    let env = env("", "0");
    env.succeeds(&["run", "s.toml", "-q"]);
    env.succeeds_stderr(&["plot", "runs/s", "--x", "x", "--y", "y", "-o", "p.svg"]);
    let svg = env.read("p.svg");
    assert_eq!(svg.matches("<circle").count(), 60, "a marker on each of the 60 points");
    env.succeeds_stderr(&["report", "runs/s"]);
    let html = env.read("runs/s/report.html");
    assert!(html.matches("<circle").count() >= 60, "the report's plot of y against x marks them too");
}

#[test]
fn verify_reruns_refined_points_at_their_own_values() {
    // Regression: the rerun's copy of the spec had its refined slots empty, so every
    // refined point "stopped before it ran".
    let env = env("", "0");
    env.succeeds(&["run", "s.toml", "-q"]);
    let out = env.succeeds(&["verify", "runs/s"]);
    assert!(out.contains("20 of 20 tasks match exactly"), "{out}");
}

#[test]
fn set_reaches_the_keys_of_refine() {
    let env = env("", "0");
    env.succeeds(&["run", "s.toml", "-q", "--set", "refine.budget=30"]);
    assert_eq!(env.results("runs/s").len(), 30);
}

#[test]
fn a_python_function_gets_each_refined_point_as_its_parameter() {
    // A persistent worker's requests carry the refined x of each curve, not the slot's.
    if require_tool("python3", python_modules("math")).is_none() {
        return;
    }
    let env = env("", "0");
    env.write(
        "f.py",
        "import math\n\ndef f(x, shift):\n    return {'y': math.tanh((x - 0.43 - shift) / 0.01), 'x_seen': x}\n",
    );
    let text = spec("")
        .replace("[command]\nargv = [\"sh\", \"step.sh\", \"{x}\", \"{out}\"]", "[python]\nfunction = \"f.py:f\"");
    env.write("s.toml", &text.replace("[params]\n", "[params]\nshift = [0.0, 0.3]\n"));
    env.succeeds(&["run", "s.toml", "-q", "--jobs", "2"]);
    let rows = env.results("runs/s");
    assert_eq!(rows.len(), 120);
    assert!(rows.iter().all(|r| r["x"] == r["x_seen"]), "the function saw the x of its row");
    let at = |shift: &str, step: f64| {
        rows.iter().filter(|r| r["shift"] == shift && (r["x"].parse::<f64>().unwrap() - step).abs() < 0.05).count()
    };
    assert!(at("0.0", 0.43) >= 30 && at("0.3", 0.73) >= 30, "each curve refined at its own step");
}

#[test]
fn a_tolerance_stops_the_curve_before_its_budget_and_the_sweep_is_complete() {
    let env = env("tolerance = 0.1\n", "0");
    env.succeeds(&["run", "s.toml", "-q"]);
    let rows = parse_csv(&env.read("runs/s/refine.csv"));
    assert!(rows.len() > 11 && rows.len() < 60, "{}", rows.len());
    assert!(rows.iter().all(|r| r["state"] == "tolerance"));
    let status = env.succeeds(&["status", "runs/s"]);
    assert!(status.contains(&format!("{} tasks", rows.len())) && status.contains("pending  0"), "{status}");
    env.succeeds_stderr(&["report", "runs/s"]);
    assert!(!env.read("runs/s/report.html").contains("The manifest lists"), "no complaint about the budget unused");
}

#[test]
fn a_metric_no_task_reports_is_warned_of() {
    let env = env("", "0");
    env.write("s.toml", &spec("").replace("metric = \"y\"", "metric = \"yy\"").replace("budget = 60", "budget = 20"));
    let err = env.succeeds_stderr(&["run", "s.toml"]);
    assert!(err.contains("warning: no task reported the metric `yy` that [refine] follows"), "{err}");
}

#[test]
fn a_built_in_model_refines_along_its_parameter_and_its_metrics_are_checked() {
    let text = "[model]\nname = \"reaction\"\nsave = []\n[params]\nk = { linspace = [0.01, 2.0, 6] }\n\
                solver = [\"rk45\", \"rk4\"]\n[refine]\naxis = \"k\"\nmetric = \"c_final\"\nbudget = 20\nbatch = 4\n";
    let env = Env::with("m.toml", text);
    let err = env.succeeds_stderr(&["run", "m.toml"]);
    assert!(err.contains("40 tasks: 40 done") && err.contains("2 curves: 2 finished"), "{err}");
    env.write("m.toml", &text.replace("metric = \"c_final\"", "metric = \"c_fina\""));
    let err = env.fails(&["run", "m.toml", "--out", "other"], 2);
    assert!(err.contains("model `reaction` has no metric `c_fina`") && err.contains("m.toml:9:"), "{err}");
}

#[test]
fn a_failed_point_holds_its_curve_until_a_resume_runs_it_again() {
    let env = env("", "0");
    env.succeeds(&["run", "s.toml", "-q", "--out", "clean"]);
    // The start point x = 0.5 fails the first time it runs, then succeeds.
    let script = env.read("step.sh");
    env.write("step.sh", &format!("if [ \"$1\" = 0.5 ] && [ ! -e once ]; then touch once; exit 3; fi\n{script}"));
    let out = env.exits(&["run", "s.toml", "--out", "k"], 1);
    assert!(out.stderr.contains("1 curve: 0 finished, 0 refining, 1 held by a failed point"), "{}", out.stderr);
    let rows = parse_csv(&env.read("k/refine.csv"));
    assert_eq!(rows.len(), 11, "no round ran past the start values");
    assert!(rows.iter().all(|r| r["state"] == "failed"), "{rows:?}");
    env.succeeds(&["run", "s.toml", "-q", "--out", "k", "--resume"]);
    assert_eq!(results(&env, "k"), results(&env, "clean"), "then refined as if nothing had failed");
}

#[test]
fn bench_times_the_start_values_not_slots_without_a_point() {
    // Regression: the sample was drawn over every slot of the budget, and a slot no round
    // has filled ran at a placeholder value.
    let env = env("", "0");
    let err = env.succeeds_stderr(&["run", "s.toml", "--bench", "--bench-jobs", "1,2"]);
    assert!(err.contains("pilot: 11 tasks") && err.contains("timing 11 of 60 tasks"), "{err}");
}
