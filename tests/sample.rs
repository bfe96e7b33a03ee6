//! `[sample]`: space-filling designs over named ranges, crossed with `[params]` and
//! replicates. The designs are stratified where their method promises it, seeded from the
//! master seed, extendable on `--resume` where the sequence allows, and their points are
//! tasks whose identity is their values.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};

/// The reaction model (milliseconds a task) over a design of `n` points on three ranges.
fn spec(method: &str, n: u64, seed: u64) -> String {
    format!(
        "seed = {seed}\n[model]\nname = \"reaction\"\nsave = []\n\
         [sample]\nmethod = \"{method}\"\nn = {n}\n\
         k = {{ log = [1e-3, 1.0] }}\nc0 = [0.5, 2.0]\nt_final = {{ uniform = [1.0, 10.0] }}\n"
    )
}

/// Each column's values, in results.csv's order.
fn column(rows: &[BTreeMap<String, String>], name: &str) -> Vec<f64> {
    rows.iter().map(|r| r[name].parse().unwrap()).collect()
}

/// Whether `xs`, mapped to [0, 1) by `unit`, puts exactly one point in each of n equal strata.
fn one_per_stratum(xs: &[f64], unit: impl Fn(f64) -> f64) -> bool {
    let n = xs.len();
    let strata: BTreeSet<usize> = xs.iter().map(|&x| (unit(x) * n as f64).floor() as usize).collect();
    strata.len() == n && strata.iter().all(|&s| s < n)
}

/// Checks the three ranges of [`spec`], k in log space.
#[track_caller]
fn stratified(rows: &[BTreeMap<String, String>]) -> bool {
    let (lo, hi) = (1e-3f64.log10(), 0.0);
    one_per_stratum(&column(rows, "k"), |x| (x.log10() - lo) / (hi - lo))
        && one_per_stratum(&column(rows, "c0"), |x| (x - 0.5) / 1.5)
        && one_per_stratum(&column(rows, "t_final"), |x| (x - 1.0) / 9.0)
}

#[test]
fn sobol_at_a_power_of_two_and_lhs_at_any_n_put_one_point_in_each_stratum() {
    let env = Env::new();
    for (name, method, n) in [("sobol", "sobol", 64), ("lhs", "lhs", 50), ("random", "random", 64)] {
        env.write(&format!("{name}.toml"), &spec(method, n, 5));
        env.succeeds(&["run", &format!("{name}.toml"), "-q"]);
        let rows = env.results(&format!("runs/{name}"));
        assert_eq!(rows.len() as u64, n);
        assert!(rows.iter().all(|r| r["status"] == "done"));
        // Random points are not stratified: the check is one that can fail.
        assert_eq!(stratified(&rows), method != "random", "{method}");
    }
}

#[test]
fn the_master_seed_decides_the_design() {
    let env = Env::new();
    for (name, seed) in [("a", 1), ("b", 1), ("c", 2)] {
        env.write(&format!("{name}.toml"), &spec("halton", 16, seed));
        env.succeeds(&["run", &format!("{name}.toml"), "-q"]);
    }
    let points = |out: &str| column(&env.results(out), "k");
    assert_eq!(points("runs/a"), points("runs/b"));
    assert_ne!(points("runs/a"), points("runs/c"));
    let strip = |out: &str| without_columns(&env.read(&format!("{out}/results.csv")), &["seconds"]);
    assert_eq!(strip("runs/a"), strip("runs/b"));
}

#[test]
fn raising_n_of_a_sobol_design_on_resume_keeps_every_earlier_point() {
    let env = Env::with("s.toml", &spec("sobol", 16, 3));
    env.succeeds(&["run", "s.toml", "-q"]);
    let before = env.results("runs/s");
    let done_before = env.journaled_done("runs/s");
    env.write("s.toml", &spec("sobol", 32, 3));
    let err = env.succeeds_stderr(&["run", "s.toml", "--resume"]);
    assert!(err.contains("32 tasks now (16 before)"), "{err}");
    let after = env.results("runs/s");
    assert_eq!(after.len(), 32);
    // The first 16 points are the same tasks with the same results, in the same places.
    let key = |r: &BTreeMap<String, String>| {
        let mut r = r.clone();
        r.remove("seconds");
        r
    };
    assert_eq!(before.iter().map(key).collect::<Vec<_>>(), after[..16].iter().map(key).collect::<Vec<_>>());
    // Only the 16 new tasks ran.
    let done_after = env.journaled_done("runs/s");
    assert!(done_before.is_subset(&done_after));
    assert_eq!(done_after.len(), 32);
    let journal = journal_lines(&env.read("runs/s/journal.jsonl"));
    assert_eq!(journal.iter().filter(|l| l.get("t").is_some()).count(), 32, "no task ran twice");
    assert!(stratified(&after), "32 points are balanced again");
}

#[test]
fn changing_n_of_a_latin_hypercube_on_resume_is_refused() {
    let env = Env::with("s.toml", &spec("lhs", 10, 3));
    env.succeeds(&["run", "s.toml", "-q"]);
    let manifest = env.read("runs/s/manifest.json");
    let results = env.read("runs/s/results.csv");
    env.write("s.toml", &spec("lhs", 20, 3));
    let err = env.fails(&["run", "s.toml", "--resume"], 2);
    assert!(err.contains("the spec changes tasks the sweep in runs/s already has"), "{err}");
    assert!(err.contains("[sample] `n` changed from 10 to 20: a Latin hypercube"), "{err}");
    assert!(err.contains("--out NEW_DIR"), "{err}");
    assert_eq!(env.read("runs/s/manifest.json"), manifest, "nothing was changed");
    assert_eq!(env.read("runs/s/results.csv"), results);
    // Another method moves every point too.
    env.write("s.toml", &spec("sobol", 16, 3));
    let err = env.fails(&["run", "s.toml", "--resume"], 2);
    assert!(err.contains("[sample] `method` changed from \"lhs\" to \"sobol\""), "{err}");
}

#[test]
fn a_design_is_crossed_with_params_and_replicates() {
    let text = "seed = 4\nreplicates = 2\n[model]\nname = \"reaction\"\nsave = []\n\
                [params]\nsolver = [\"rk45\", \"rk4\"]\n\
                [sample]\nmethod = \"sobol\"\nn = 4\nk = [0.1, 1.0]\n";
    let env = Env::with("s.toml", text);
    env.succeeds(&["run", "s.toml", "-q"]);
    let rows = env.results("runs/s");
    assert_eq!(rows.len(), 2 * 4 * 2);
    let ks = |solver: &str| -> Vec<String> {
        rows.iter().filter(|r| r["solver"] == solver).map(|r| r["k"].clone()).collect()
    };
    // Every combination of [params] runs the same points, each with every replicate.
    assert_eq!(ks("rk45"), ks("rk4"));
    let distinct: BTreeSet<String> = ks("rk45").into_iter().collect();
    assert_eq!(distinct.len(), 4);
    assert!(ks("rk45").chunks(2).all(|c| c[0] == c[1]), "replicates are fastest");
    let ids: BTreeSet<&String> = rows.iter().map(|r| &r["task"]).collect();
    assert_eq!(ids.len(), rows.len());
}

#[test]
fn a_points_task_id_is_that_of_its_values_not_its_index() {
    // The design's points written out as a list in [params] are the same tasks.
    let env = Env::with("s.toml", &spec("random", 3, 8));
    env.succeeds(&["run", "s.toml", "-q"]);
    let rows = env.results("runs/s");
    let listed = |name: &str| rows.iter().map(|r| r[name].clone()).collect::<Vec<_>>().join(", ");
    let text = format!(
        "seed = 8\nzip = [[\"k\", \"c0\", \"t_final\"]]\n[model]\nname = \"reaction\"\nsave = []\n\
         [params]\nk = [{}]\nc0 = [{}]\nt_final = [{}]\n",
        listed("k"),
        listed("c0"),
        listed("t_final")
    );
    env.write("p.toml", &text);
    env.succeeds(&["run", "p.toml", "-q"]);
    let ids = |out: &str| env.results(out).into_iter().map(|r| r["task"].clone()).collect::<Vec<_>>();
    assert_eq!(ids("runs/s"), ids("runs/p"));
}

#[test]
fn a_sobol_design_off_a_power_of_two_runs_with_a_warning() {
    let env = Env::with("s.toml", &spec("sobol", 12, 1));
    let err = env.succeeds_stderr(&["run", "s.toml", "-q"]);
    assert!(err.contains("warning: [sample] n = 12 is not a power of two"), "{err}");
    assert!(err.contains("use n = 8 or 16"), "{err}");
    assert_eq!(env.results("runs/s").len(), 12);
}

#[test]
fn dry_run_shows_the_design() {
    let env = Env::with("s.toml", &spec("lhs", 8, 1));
    let out = env.succeeds(&["run", "s.toml", "--dry-run"]);
    assert!(out.contains("sample: lhs design of 8 points on 3 ranges (n is fixed once run)"), "{out}");
    assert!(out.contains("(log in [0.001, 1], along `sample`)"), "{out}");
    assert!(out.contains("(uniform in [0.5, 2], along `sample`)"), "{out}");
    assert!(!env.path("runs/s").exists());
}

#[test]
fn bad_sample_tables_are_spec_errors_at_their_line() {
    let head = "[model]\nname = \"reaction\"\n[sample]\nmethod = \"sobol\"\n";
    let cases: &[(&str, &str, &str)] = &[
        ("n = 8\nk = [1.0, 0.5]\n", "s.toml:6:5", "range `k`: lo (1) must be less than hi (0.5)"),
        ("n = 8\nk = { log = [0.0, 1.0] }\n", "s.toml:6:5", "a log range cannot include 0"),
        ("n = 8\nk = { log = [-1.0, 1.0] }\n", "s.toml:6:5", "a log range cannot include 0"),
        ("n = 0\nk = [0.0, 1.0]\n", "s.toml:5:5", "`n` = 0: a design needs at least 1 point"),
        ("n = 8\nk = [0.1, 1.0]\nt_final = { int = [1.5, 8] }\n", "s.toml:7:11", "int bounds must be integers"),
        ("n = 8\nk = { lg = [0.1, 1.0] }\n", "s.toml:6:5", "unknown range `lg`"),
        ("n = 8\nk = [0.1]\n", "s.toml:6:5", "takes two bounds"),
        ("n = 100000\nk = [0.1, 1.0]\n", "s.toml:5:5", "more than the 65536 points a `sobol` design"),
        ("n = 8\n", "s.toml:3:1", "[sample] has no ranges"),
        ("n = 8\nkk = [0.1, 1.0]\n", "s.toml:6:1", "model `reaction` has no parameter `kk` (in [sample])"),
        ("n = 64\nk = [0.1, 1.0]\nsolver = { int = [1, 2] }\n", "s.toml:7:10", "parameter `solver` is a string"),
    ];
    let env = Env::new();
    for (tail, at, what) in cases {
        env.write("s.toml", &format!("{head}{tail}"));
        let err = env.fails(&["run", "s.toml"], 2);
        assert!(err.contains(at) && err.contains(what), "{tail}: {err}");
    }
    let ten = (0..10).map(|i| format!("p{i} = [0.0, 1.0]\n")).collect::<String>();
    let many = format!("[command]\nargv = [\"true\"]\n[sample]\nmethod = \"halton\"\nn = 500000\n{ten}");
    let other = [
        (
            "[model]\nname = \"reaction\"\n[sample]\nmethod = \"lhs\"\nn = 2000000\nk = [0.1, 1.0]\n",
            "s.toml:5:5",
            "more than the 1000000 points a `lhs` design",
        ),
        (many.as_str(), "s.toml:5:5", "500000 points of 10 ranges are more than the 4000000 values"),
        (
            "[model]\nname = \"reaction\"\n[sample]\nmethod = \"sobl\"\nn = 8\nk = [0.1, 1.0]\n",
            "s.toml:4:10",
            "did you mean `sobol`",
        ),
        (
            "[model]\nname = \"reaction\"\n[params]\nk = [0.1]\n[sample]\nmethod = \"lhs\"\nn = 8\nk = [0.1, 1.0]\n",
            "s.toml:8:1",
            "parameter `k` is both sampled in [sample] and swept in [params]",
        ),
        (
            "zip = [[\"c0\", \"k\"]]\n[model]\nname = \"reaction\"\n[params]\nc0 = [1.0, 2.0]\n\
             [sample]\nmethod = \"lhs\"\nn = 8\nk = [0.1, 1.0]\n",
            "s.toml:1:15",
            "zip names `k`, which is sampled in [sample]",
        ),
        (
            "[model]\nname = \"spin\"\n[sample]\nmethod = \"lhs\"\nn = 8\nmicros = { int = [0, 2] }\n",
            "s.toml:6:10",
            "[sample] points",
        ),
    ];
    for (text, at, what) in other {
        env.write("s.toml", text);
        let err = env.fails(&["run", "s.toml"], 2);
        assert!(err.contains(at) && err.contains(what), "{text}: {err}");
    }
}

#[test]
fn sweep_open_gives_a_sample_dimension_in_both_array_layouts() {
    let Some(()) = require_tool("zarr", zarr()) else { return };
    let spec = "seed = 2\n[model]\nname = \"reaction\"\n[params]\nsolver = [\"rk45\", \"rk4\"]\n\
                [sample]\nmethod = \"halton\"\nn = 5\nk = { log = [0.01, 1.0] }\nc0 = [0.5, 2.0]\n";
    let env = Env::with("npy.toml", spec);
    env.write("zarr.toml", &format!("{spec}[output]\narrays = \"zarr\"\n"));
    env.succeeds(&["run", "npy.toml", "-q"]);
    env.succeeds(&["run", "zarr.toml", "-q"]);
    let check = "import sys\nsys.path.insert(0, sys.argv[1])\nimport sweep\n\
                 for out in sys.argv[2:]:\n    ds = sweep.open(out).load()\n\
                 \x20   assert dict(ds.sizes)['sample'] == 5 and ds['conversion'].dims == ('solver', 'sample', 'replicate'), ds\n\
                 \x20   assert ds['k'].dims == ('sample',) and ds['c0'].dims == ('sample',), ds\n\
                 \x20   assert ds['sample'].values.tolist() == [0, 1, 2, 3, 4], ds\n\
                 \x20   assert ds['c'].dims[:3] == ('solver', 'sample', 'replicate'), ds\n\
                 a, b = (sweep.open(o).load() for o in sys.argv[2:])\n\
                 assert (a['k'].values == b['k'].values).all() and (a['conversion'].values == b['conversion'].values).all()\n\
                 print('ok')\n";
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/python");
    let out = std::process::Command::new("python3")
        .args(["-c", check, python, &env.abs("runs/npy"), &env.abs("runs/zarr")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), stderr(&out));
}

#[test]
fn plot_and_report_draw_a_sampled_parameter_as_a_scatter_on_its_scale() {
    // 512 points: past the 200 positions a swept parameter's plot bins its values.
    let env = Env::with("s.toml", &spec("sobol", 512, 1));
    env.succeeds(&["run", "s.toml", "-q"]);
    env.succeeds(&["plot", "runs/s", "--x", "k", "--y", "conversion", "-o", "k.svg"]);
    let svg = env.read("k.svg");
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let meta = doc.descendants().find(|n| n.has_tag_name("metadata")).and_then(|n| n.text()).unwrap();
    let data: serde_json::Value = serde_json::from_str(meta).unwrap();
    assert_eq!((data["scatter"].as_bool(), data["log_x"].as_bool()), (Some(true), Some(true)), "{data}");
    let points = data["series"][0]["points"].as_array().unwrap();
    assert_eq!(points.len(), 512, "every point of the design, none binned");
    assert!(points.iter().all(|p| p["grid_points"] == 1 && p.get("lo").is_none()), "one task each, no band");
    let circles = doc.descendants().filter(|n| n.has_tag_name("circle")).count();
    assert_eq!(circles, 512);
    let longest = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| n.attribute("points").unwrap_or("").split_whitespace().count())
        .max();
    assert!(longest < Some(50), "no line joins the points (the longest polyline has {longest:?} points)");
    // The report draws the same.
    env.succeeds(&["report", "runs/s", "-o", "r.html"]);
    let html = env.read("r.html");
    assert!(html.contains("\"x\":\"k\"") && html.contains("\"scatter\":true"), "the report's k plot is a scatter");
}

#[test]
fn the_tours_sampled_fin_plans_its_design() {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/sweeps/fin_sample.toml");
    let out = Env::new().succeeds(&["run", spec, "--dry-run"]);
    assert!(out.contains("fin_sample: model fin, 512 tasks (512 points x 1 replicate), seed 1"), "{out}");
    assert!(out.contains("sample: sobol design of 256 points on 3 ranges"), "{out}");
}

#[test]
fn raising_n_of_a_halton_or_random_design_on_resume_keeps_every_earlier_point() {
    for method in ["halton", "random"] {
        let env = Env::with("s.toml", &spec(method, 10, 6));
        env.succeeds(&["run", "s.toml", "-q"]);
        let before = env.journaled_done("runs/s");
        let ks = column(&env.results("runs/s"), "k");
        env.write("s.toml", &spec(method, 25, 6));
        env.succeeds(&["run", "s.toml", "--resume", "-q"]);
        let after = env.results("runs/s");
        assert_eq!(column(&after, "k")[..10], ks[..], "{method}");
        assert!(before.is_subset(&env.journaled_done("runs/s")), "{method}");
        let records = journal_lines(&env.read("runs/s/journal.jsonl"));
        assert_eq!(records.iter().filter(|l| l.get("t").is_some()).count(), 25, "{method}: no task ran twice");
    }
}

#[test]
fn set_changes_a_designs_size_and_method_from_the_command_line() {
    let env = Env::with("s.toml", &spec("lhs", 8, 1));
    let out = env.succeeds(&["run", "s.toml", "--dry-run", "--set", "sample.n=16", "--set", "sample.method=sobol"]);
    assert!(out.contains("sample: sobol design of 16 points on 3 ranges"), "{out}");
    let err = env.fails(&["run", "s.toml", "--dry-run", "--set", "sample.nn=16"], 2);
    assert!(err.contains("sample.n"), "the suggestion names the key: {err}");
}
