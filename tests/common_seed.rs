//! `common_seed = [...]`: tasks that differ only in the listed parameters share their seed
//! (common random numbers), while ids stay those of a spec without the key.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};

const COMMAND: &str = r#"
seed = 5
replicates = 3
common_seed = ["method"]
[command]
argv = ["true"]
[params]
method = ["a", "b", "c"]
n = [10, 20]
"#;

/// `text` without its `common_seed` line.
fn without_key(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with("common_seed")).map(|l| format!("{l}\n")).collect()
}

/// Rows keyed by task id.
fn by_task(rows: Vec<BTreeMap<String, String>>) -> BTreeMap<String, BTreeMap<String, String>> {
    rows.into_iter().map(|r| (r["task"].clone(), r)).collect()
}

/// Checks that rows share a seed exactly when they agree on every column of `rest` (the
/// other parameters and the replicate).
#[track_caller]
fn seeds_shared_exactly_within(rows: &[BTreeMap<String, String>], rest: &[&str]) {
    let mut seed_of: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for r in rows {
        seed_of.entry(rest.iter().map(|c| r[*c].clone()).collect()).or_default().insert(r["seed"].clone());
    }
    assert!(seed_of.values().all(|s| s.len() == 1), "one seed per setting and replicate: {seed_of:?}");
    let distinct: BTreeSet<&String> = seed_of.values().flatten().collect();
    assert_eq!(distinct.len(), seed_of.len(), "settings and replicates keep seeds of their own: {seed_of:?}");
}

#[test]
fn seeds_are_shared_across_methods_and_ids_are_unchanged() {
    let env = Env::with("s.toml", COMMAND);
    env.write("plain.toml", &without_key(COMMAND));
    let dry = env.succeeds(&["run", "s.toml", "--dry-run"]);
    assert!(dry.contains("common seeds: tasks that differ only in `method` share their seed"), "{dry}");
    env.succeeds(&["run", "s.toml", "-q"]);
    env.succeeds(&["run", "plain.toml", "-q"]);
    let (shared, plain) = (env.results("runs/s"), env.results("runs/plain"));
    assert_eq!(shared.len(), 18);
    seeds_shared_exactly_within(&shared, &["n", "replicate"]);
    // Without the key, every task has a seed of its own.
    seeds_shared_exactly_within(&plain, &["method", "n", "replicate"]);
    let (shared, plain) = (by_task(shared), by_task(plain));
    assert_eq!(shared.keys().collect::<Vec<_>>(), plain.keys().collect::<Vec<_>>(), "the same task ids");
    // The recipe of docs/seeds.md, run as printed there, gives every id and seed.
    let Some(()) = require_tool("python3", numpy()) else { return };
    let chapter = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/seeds.md")).unwrap();
    let section = &chapter[chapter.find("# Task ids and seeds").unwrap()..];
    let start = section.find("```python\n").unwrap() + "```python\n".len();
    let recipe = &section[start..start + section[start..].find("```").unwrap()];
    let check = format!(
        r#"{recipe}
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    params = dict(method=r["method"], n=int(r["n"]))
    for common, want in ((("method",), (r["task"], int(r["seed"]))), ((), (r["task"], int(r["plain_seed"])))):
        assert task("command", params, int(r["replicate"]), 5, common) == want, (r, common)
print("ok")
"#
    );
    let mut csv = String::from("task,method,n,replicate,seed,plain_seed\n");
    for (t, r) in &shared {
        csv += &format!("{t},{},{},{},{},{}\n", r["method"], r["n"], r["replicate"], r["seed"], plain[t]["seed"]);
    }
    env.write("both.csv", &csv);
    let script = env.write("check.py", &check);
    let o = std::process::Command::new("python3").arg(script).arg(env.path("both.csv")).output().unwrap();
    assert!(o.status.success() && text(&o.stdout).contains("ok"), "{}\n{}", text(&o.stdout), stderr(&o));
}

#[test]
fn a_model_parameter_and_a_zipped_pair_share_seeds_as_listed() {
    // A built-in model: the seed leaves out `micros`; a zip of two parameters shares seeds
    // only when both are listed.
    let spec = "replicates = 2\ncommon_seed = [\"micros\"]\nzip = [[\"array_len\", \"fail_rate\"]]\n\
                [model]\nname = \"spin\"\n[params]\nmicros = [0, 1, 2]\narray_len = [0, 1]\nfail_rate = [0.0, 0.01]\n";
    let env = Env::with("m.toml", spec);
    env.write("z.toml", &spec.replace("[\"micros\"]", "[\"micros\", \"array_len\", \"fail_rate\"]"));
    env.exits(&["run", "m.toml", "-q"], 0);
    seeds_shared_exactly_within(&env.results("runs/m"), &["array_len", "replicate"]);
    env.exits(&["run", "z.toml", "-q"], 0);
    seeds_shared_exactly_within(&env.results("runs/z"), &["replicate"]);
}

#[test]
fn a_sampled_parameter_may_be_listed_as_any_parameter() {
    let spec = "replicates = 2\ncommon_seed = [\"method\"]\n[command]\nargv = [\"true\"]\n\
                [params]\nmethod = [\"a\", \"b\"]\n[sample]\nmethod = \"halton\"\nn = 4\nx = [0.0, 1.0]\n";
    let env = Env::with("d.toml", spec);
    env.write("dx.toml", &spec.replace("[\"method\"]\n[command]", "[\"method\", \"x\"]\n[command]"));
    env.succeeds(&["run", "d.toml", "-q"]);
    seeds_shared_exactly_within(&env.results("runs/d"), &["x", "replicate"]);
    env.succeeds(&["run", "dx.toml", "-q"]);
    seeds_shared_exactly_within(&env.results("runs/dx"), &["replicate"]);
}

const DRAWS_PY: &str = r#"
import numpy as np

def estimate(method, n, *, rng):
    x = rng.normal(loc=1.0, size=n)
    est = {"mean": x.mean(), "median": np.median(x), "trimmed": np.sort(x)[1:-1].mean()}[method]
    return {"err": abs(est - 1.0), "first": float(x[0]), "total": float(x.sum())}
"#;

#[test]
fn a_python_function_draws_the_same_data_for_every_method_of_a_replicate() {
    let Some(()) = require_tool("numpy", numpy()) else { return };
    let env = Env::with("est.py", DRAWS_PY);
    let spec = "seed = 11\nreplicates = 4\ncommon_seed = [\"method\"]\n[python]\nfunction = \"est.py:estimate\"\n\
                [params]\nmethod = [\"mean\", \"median\", \"trimmed\"]\nn = [5, 50]\n";
    env.write("est.toml", spec);
    env.succeeds(&["run", "est.toml", "-q"]);
    let rows = env.results("runs/est");
    assert_eq!(rows.len(), 24);
    let mut data: BTreeMap<(String, String), BTreeSet<(String, String)>> = BTreeMap::new();
    for r in &rows {
        data.entry((r["n"].clone(), r["replicate"].clone()))
            .or_default()
            .insert((r["first"].clone(), r["total"].clone()));
    }
    assert!(data.values().all(|d| d.len() == 1), "one data set per n and replicate: {data:?}");
    let distinct: BTreeSet<_> = data.values().flatten().collect();
    assert_eq!(distinct.len(), 8, "replicates and sizes draw data of their own");
    // The errors still differ by method: the tasks ran apart, on the same data.
    let errs: BTreeSet<&String> =
        rows.iter().filter(|r| r["n"] == "50" && r["replicate"] == "0").map(|r| &r["err"]).collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
}

#[test]
fn adaptive_replicates_share_seeds_across_methods() {
    let Some(()) = require_tool("numpy", numpy()) else { return };
    let env = Env::with("est.py", DRAWS_PY);
    let spec = "seed = 2\ncommon_seed = [\"method\"]\n\
                replicates = { min = 3, max = 30, round = 3, until = { metric = \"err\", ci95_rel = 0.2 } }\n\
                [python]\nfunction = \"est.py:estimate\"\n[params]\nmethod = [\"mean\", \"median\"]\nn = [20]\n";
    env.write("ad.toml", spec);
    env.succeeds(&["run", "ad.toml", "-q"]);
    let rows = env.results("runs/ad");
    let mut seeds: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for r in &rows {
        seeds.entry(r["replicate"].clone()).or_default().insert((r["seed"].clone(), r["first"].clone()));
    }
    assert!(seeds.len() >= 3);
    // Whichever methods ran a replicate, they share its seed and data.
    assert!(seeds.values().all(|s| s.len() == 1), "{seeds:?}");
    let distinct: BTreeSet<_> = seeds.values().flatten().collect();
    assert_eq!(distinct.len(), seeds.len());
    // The report pairs the replicates both methods ran, and no others.
    env.succeeds(&["report", "runs/ad"]);
    let html = env.read("runs/ad/report.html");
    let ran = |m: &str| rows.iter().filter(|r| r["method"] == m && r["status"] == "done").count();
    let pairs = format!("data-pairs=\"{}\"", ran("mean").min(ran("median")));
    assert!(html.contains("Paired comparison: method") && html.contains(&pairs), "{pairs}");
}

#[test]
fn adding_removing_or_changing_common_seed_on_resume_is_refused() {
    let env = Env::with("s.toml", COMMAND);
    env.succeeds(&["run", "s.toml", "-q"]);
    let journal = env.read("runs/s/journal.jsonl");
    let cases = [
        (without_key(COMMAND), "`common_seed` changed from [\"method\"] to absent"),
        (COMMAND.replace("[\"method\"]", "[\"method\", \"n\"]"), "to [\"method\", \"n\"]"),
    ];
    for (text, says) in &cases {
        env.write("s.toml", text);
        let err = env.fails(&["run", "s.toml", "--resume"], 2);
        assert!(err.contains(says) && err.contains("seeds would change") && err.contains("--out"), "{err}");
        assert_eq!(journal, env.read("runs/s/journal.jsonl"), "nothing changed");
    }
    // The same names in another order change no seed.
    env.write("s.toml", &COMMAND.replace("[\"method\"]", "[ \"method\" ]"));
    env.succeeds(&["run", "s.toml", "--resume", "-q"]);

    // And a sweep started without the key refuses it later, from the file or from --set.
    env.write("p.toml", &without_key(COMMAND));
    env.succeeds(&["run", "p.toml", "-q"]);
    let err = env.fails(&["run", "p.toml", "--resume", "--set", "common_seed=[\"method\"]"], 2);
    assert!(err.contains("`common_seed` changed from absent to [\"method\"]"), "{err}");
    env.write("p.toml", COMMAND);
    let err = env.fails(&["run", "p.toml", "--resume"], 2);
    assert!(err.contains("`common_seed` changed from absent to [\"method\"]"), "{err}");
}

#[test]
fn the_zarr_store_keeps_method_as_a_dimension_and_names_common_seed() {
    let Some(()) = require_tool("zarr", zarr()) else { return };
    let env = Env::with(
        "x.py",
        "def draw(method, *, rng):\n    x = rng.normal(size=3)\n    return {\"first\": float(x[0]), \"x\": x}\n",
    );
    env.write(
        "z.toml",
        "replicates = 2\ncommon_seed = [\"method\"]\n[python]\nfunction = \"x.py:draw\"\n[params]\n\
         method = [\"a\", \"b\"]\n[output]\narrays = \"zarr\"\n",
    );
    env.succeeds(&["run", "z.toml", "-q"]);
    let check = "import sys\nsys.path.insert(0, sys.argv[1])\nimport sweep\nds = sweep.open(sys.argv[2]).load()\n\
                 assert ds.attrs['common_seed'] == ['method'], ds.attrs\n\
                 assert ds['x'].dims[:2] == ('method', 'replicate'), ds['x'].dims\n\
                 assert (ds['x'] == ds['x'].isel({'method': 0})).all()\nprint('ok')\n";
    let path = env.write("open.py", check);
    let o = std::process::Command::new("python3")
        .arg(path)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
        .arg(env.path("runs/z"))
        .output()
        .unwrap();
    assert!(o.status.success() && text(&o.stdout).contains("ok"), "{}\n{}", text(&o.stdout), stderr(&o));
}
