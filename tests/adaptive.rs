//! Adaptive replicates: replicates run in rounds until each grid point's 95 % confidence
//! interval is narrow enough. The counts depend on the values only (not on --jobs, timing
//! or kills), the achieved intervals meet the target, and replicates keep their ids.

mod common;
use common::*;
use std::collections::BTreeMap;

/// The fin model with a spread that grows with `h_std`: the relative half-width of `mean`
/// over replicates is about 0.0002 × h_std / √n, so the target 0.001 takes some 5 replicates
/// at h_std = 1 and some 100 at h_std = 10.
const SPREAD: &str = "seed = 1\n\
    replicates = { min = 5, max = 150, round = 5, until = { metric = \"mean\", ci95_rel = 0.001 } }\n\
    [model]\nname = \"fin\"\nn_samples = 100\nsave = []\n\
    [params]\nh_std = [1.0, 2.5, 5.0, 10.0]\n";

/// Slower tasks (some 10 to 25 ms each): about 200 of them keep two workers busy for
/// seconds, and the point at h_std = 12 stops at max.
const SLOW: &str = "seed = 7\n\
    replicates = { min = 4, max = 100, round = 4, until = { metric = \"mean\", ci95_abs = 0.004 } }\n\
    [model]\nname = \"fin\"\nn_samples = 20000\nsave = []\n\
    [params]\nh_std = [1.0, 3.0, 6.0, 12.0]\n";

/// points.csv of the sweep in `out`: h_std → (n, state).
fn counts(env: &Env, out: &str) -> BTreeMap<String, (u32, String)> {
    parse_csv(&env.read(&format!("{out}/points.csv")))
        .into_iter()
        .map(|r| (r["h_std"].clone(), (r["n"].parse().unwrap(), r["state"].clone())))
        .collect()
}

/// results.csv without the columns that differ from run to run.
fn results(env: &Env, out: &str) -> String {
    without_columns(&env.read(&format!("{out}/results.csv")), &["seconds", "attempts"])
}

#[test]
fn points_with_a_larger_spread_get_more_replicates() {
    let env = Env::with("s.toml", SPREAD);
    let err = env.succeeds_stderr(&["run", "s.toml", "--jobs", "2"]);
    assert!(err.contains("4 points met the target, 0 stopped at max"), "{err}");
    let n: Vec<u32> = ["1.0", "2.5", "5.0", "10.0"].iter().map(|h| counts(&env, "runs/s")[*h].0).collect();
    assert!(n.windows(2).all(|w| w[0] < w[1]), "n grows with h_std: {n:?}");
    assert_eq!(n[0], 5, "the narrowest point stops after its first round");
    assert!(n[3] >= 50, "{n:?}");
    // results.csv holds every replicate that ran, and nothing else: replicates 0..n of each point.
    let rows = env.results("runs/s");
    assert_eq!(rows.len() as u32, n.iter().sum::<u32>());
    assert!(rows.iter().all(|r| r["status"] == "done"));
    for (h, want) in ["1.0", "2.5", "5.0", "10.0"].iter().zip(&n) {
        let mut reps: Vec<u32> =
            rows.iter().filter(|r| r["h_std"] == *h).map(|r| r["replicate"].parse().unwrap()).collect();
        reps.sort();
        assert_eq!(reps, (0..*want).collect::<Vec<_>>(), "h_std = {h}");
    }
}

#[test]
fn a_finished_adaptive_sweep_is_complete_for_status_resume_and_exit_codes() {
    let env = Env::with("s.toml", SPREAD);
    env.succeeds(&["run", "s.toml", "-q"]);
    let total = env.results("runs/s").len();
    // The replicates no point needed are not tasks of the sweep: nothing is pending.
    let status = env.succeeds(&["status", "runs/s"]);
    assert!(status.contains(&format!("{total} tasks")) && status.contains("pending  0"), "{status}");
    assert!(status.contains("points   4: 4 met the target, 0 stopped at max, 0 not decided"), "{status}");
    let err = env.succeeds_stderr(&["run", "s.toml", "--resume"]);
    assert!(err.contains("this run: 0 done, 0 failed") && err.contains(&format!("{total} already done")), "{err}");
    env.succeeds_stderr(&["collect", "runs/s"]);
    assert_eq!(env.results("runs/s").len(), total);
    let dry = env.succeeds(&["run", "s.toml", "--dry-run"]);
    assert!(dry.contains("20 to 600 tasks (4 points x 5 to 150 replicates)"), "{dry}");
    // Replicate 9 of the first point (which stopped at 5), from the dry run's first tasks.
    let line = dry.lines().find(|l| l.split_whitespace().nth(1) == Some("9")).expect("replicate 9");
    let id = line.split_whitespace().next().unwrap();
    let one = env.succeeds(&["status", "runs/s", id]);
    assert!(one.contains("not needed: adaptive replicates have asked this point for 5 replicates"), "{one}");
}

#[test]
fn counts_do_not_depend_on_jobs() {
    let env = Env::with("s.toml", SPREAD);
    env.succeeds(&["run", "s.toml", "-q", "--jobs", "1", "--out", "one"]);
    env.succeeds(&["run", "s.toml", "-q", "--jobs", "2", "--out", "two"]);
    assert_eq!(counts(&env, "one"), counts(&env, "two"));
    assert_eq!(results(&env, "one"), results(&env, "two"));
    assert_eq!(env.read("one/points.csv"), env.read("two/points.csv"));
}

#[test]
fn kill_9_mid_run_then_resume_gives_the_same_counts() {
    let env = Env::with("k.toml", SLOW);
    env.succeeds(&["run", "k.toml", "-q", "--jobs", "2", "--out", "clean"]);
    let clean = counts(&env, "clean");
    let total: u32 = clean.values().map(|(n, _)| n).sum();
    assert!(clean.values().any(|(_, s)| s == "max") && clean.values().any(|(_, s)| s == "met"), "{clean:?}");
    // The kills land while tasks, and rounds, are in flight.
    env.kill_9_mid_run("k.toml", "k", 3, total as usize);
    // Killed mid-sweep, the sweep is unfinished for status, whatever round it was in.
    env.exits(&["status", "k"], 1);
    env.succeeds(&["run", "k.toml", "-q", "--jobs", "1", "--out", "k", "--resume"]);
    assert_eq!(counts(&env, "k"), clean);
    assert_eq!(results(&env, "k"), results(&env, "clean"));
}

#[test]
fn replicates_keep_their_ids_and_raising_max_extends_the_sweep() {
    let env = Env::with("s.toml", SPREAD);
    // A fixed count shares its tasks with adaptive replicates: same ids, seeds and values.
    env.write(
        "f.toml",
        &SPREAD.replace(
            "replicates = { min = 5, max = 150, round = 5, until = { metric = \"mean\", ci95_rel = 0.001 } }",
            "replicates = 10",
        ),
    );
    env.succeeds(&["run", "f.toml", "-q"]);
    env.succeeds(&["run", "s.toml", "-q"]);
    let key = |r: &BTreeMap<String, String>| (r["h_std"].clone(), r["replicate"].clone());
    let fixed: BTreeMap<_, _> = env.results("runs/f").into_iter().map(|r| (key(&r), r)).collect();
    let adaptive = env.results("runs/s");
    for r in adaptive.iter().filter(|r| r["replicate"].parse::<u32>().unwrap() < 10) {
        let f = &fixed[&key(r)];
        assert_eq!((&f["task"], &f["seed"], &f["mean"]), (&r["task"], &r["seed"], &r["mean"]));
    }
    // A small max stops the noisy points early; raising it with --resume runs only the new
    // replicates and ends where a sweep started with the larger max ends.
    let small = SPREAD.replace("max = 150", "max = 20");
    env.write("g.toml", &small);
    env.succeeds(&["run", "g.toml", "-q", "--out", "grow"]);
    let before = counts(&env, "grow");
    assert_eq!(before["10.0"], (20, "max".to_string()), "{before:?}");
    let ran_before = env.results("grow").len();
    std::fs::write(env.path("g.toml"), SPREAD).unwrap();
    let err = env.succeeds_stderr(&["run", "g.toml", "--out", "grow", "--resume"]);
    assert!(err.contains(&format!("{ran_before} already done")), "{err}");
    assert_eq!(counts(&env, "grow"), counts(&env, "runs/s"));
    assert_eq!(results(&env, "grow"), results(&env, "runs/s"));
}

#[test]
fn numpy_finds_the_achieved_interval_within_the_target() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with("s.toml", SPREAD);
    env.succeeds(&["run", "s.toml", "-q"]);
    env.write("k.toml", SLOW);
    env.succeeds(&["run", "k.toml", "-q"]);
    // The t quantile by bisection on the t distribution's CDF, integrated numerically: no
    // table shared with sweep.
    let script = r#"
import csv, math, os, sys
import numpy as np

def t975(df):
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    def cdf(t):
        x = np.linspace(0.0, t, 200001)
        y = c * (1 + x * x / df) ** (-(df + 1) / 2)
        return 0.5 + float(np.sum((y[1:] + y[:-1]) / 2) * (x[1] - x[0]))
    lo, hi = 0.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < 0.975 else (lo, mid)
    return (lo + hi) / 2

def half(v):
    return t975(len(v) - 1) * np.std(v, ddof=1) / math.sqrt(len(v))

out, kind, target, rmin, rmax, rnd = sys.argv[1], sys.argv[2], float(sys.argv[3]), *map(int, sys.argv[4:7])
rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
points = list(csv.DictReader(open(os.path.join(out, "points.csv"))))
checked = 0
sizes, s = [], rmin
while True:
    sizes.append(s)
    if s >= rmax:
        break
    s = min(s + rnd, rmax)
for p in points:
    reps = sorted((int(r["replicate"]), float(r["mean"])) for r in rows if r["h_std"] == p["h_std"])
    v = np.array([m for _, m in reps])
    n = int(p["n"])
    assert [r for r, _ in reps] == list(range(n)), (p, len(reps))
    limit = lambda v: target * abs(np.mean(v)) if kind == "rel" else target
    h = half(v)
    assert abs(h - float(p["ci95_half_width"])) <= 1e-4 * h, (h, p)
    assert n in sizes, (n, sizes)
    if p["state"] == "met":
        assert h < limit(v), (p["h_std"], n, h, limit(v))
        checked += 1
        # The rule stopped at the first complete round that met the target.
        if n > rmin:
            w = v[: max(s for s in sizes if s < n)]
            assert half(w) >= limit(w), (p["h_std"], len(w), half(w), limit(w))
    else:
        assert p["state"] == "max" and n == rmax and h >= limit(v), p
print("ok", checked)
"#;
    let path = env.write("check.py", script);
    for (out, args) in [("runs/s", ["rel", "0.001", "5", "150", "5"]), ("runs/k", ["abs", "0.004", "4", "100", "4"])] {
        let o = std::process::Command::new("python3").arg(&path).arg(env.path(out)).args(args).output().unwrap();
        assert!(o.status.success(), "{out}: {}\n{}", text(&o.stdout), stderr(&o));
        assert!(text(&o.stdout).starts_with("ok "), "{}", text(&o.stdout));
    }
}

#[test]
fn adaptive_replicates_refuse_shards() {
    let env = Env::with("s.toml", SPREAD);
    let err = env.fails(&["run", "s.toml", "--shard", "0/2"], 2);
    assert!(err.contains("adaptive replicates, which do not run in shards"), "{err}");
    assert!(!env.path("runs/s").exists(), "nothing is written");
    let err = env.fails(&["slurm", "s.toml", "--shards", "4"], 2);
    assert!(err.contains("do not run in shards"), "{err}");
}

#[test]
fn the_report_plots_replicates_per_point() {
    let env = Env::with("s.toml", SPREAD);
    env.succeeds(&["run", "s.toml", "-q"]);
    env.succeeds_stderr(&["report", "runs/s"]);
    let html = env.read("runs/s/report.html");
    let section = &html[html.find("<h2 id=\"replicates\">Replicates per point</h2>").expect("the section")..];
    let figure = &section[..section.find("</figure>").unwrap()];
    assert!(figure.contains("<svg") && figure.contains("replicates run (n)") && figure.contains("h_std"), "{figure}");
    assert!(figure.contains("4 met the target, 0 stopped at max"), "{figure}");
    assert!(html.contains("4 grid points × 5 to 150 replicates, adaptive"));
    assert!(html.contains("<th>Replicates</th><td>5 to 150 replicates per point (adaptive)</td>"));
    assert!(html.contains("<th>Tasks</th><td>at most 600</td>"));
    assert!(html.contains("mean ± SEM of 5 to 150 replicates per point"));
    assert!(!html.contains("The manifest lists"), "rows are the replicates that ran, not the most that could");
}
