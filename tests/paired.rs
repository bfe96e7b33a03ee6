//! The report's paired comparison of a `common_seed` sweep: each level's mean, the paired
//! differences from the reference level and their 95 % intervals, checked against numpy
//! and scipy reading results.csv; `--baseline` picks the reference.

mod common;
use common::*;

const EST_PY: &str = r#"
import numpy as np

def estimate(method, n, *, rng):
    x = rng.normal(size=n) + 1.0
    est = {"mean": x.mean(), "median": np.median(x), "trimmed": np.sort(x)[n // 10: n - n // 10].mean()}[method]
    return {"est": est, "err": abs(est - 1.0)}
"#;

const EST_TOML: &str = r#"
seed = 4
replicates = 8
common_seed = ["method"]
[python]
function = "est.py:estimate"
[params]
n = [10, 40]
method = ["mean", "median", "trimmed"]
"#;

/// Reads the paired tables of report.html and checks every row against pandas, numpy and
/// scipy; argv: report.html, results.csv, the reference level.
const CHECK: &str = r#"
import sys
from html.parser import HTMLParser
import numpy as np, pandas as pd
from scipy import stats

class Rows(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.metric = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "data-metric" in a: self.metric = a["data-metric"]
        if tag == "tr" and "data-level" in a: self.rows.append(dict(a, metric=self.metric))

p = Rows(); p.feed(open(sys.argv[1]).read())
df = pd.read_csv(sys.argv[2]); ref = sys.argv[3]
assert {r["metric"] for r in p.rows} == {"est", "err"}, p.rows
assert len(p.rows) == 2 * 2 * 3, len(p.rows)
close = lambda a, b: abs(a - b) <= 1e-9 * max(abs(b), 1e-12)
narrower = []
for r in p.rows:
    n = int(r["data-setting"].removeprefix("n="))
    wide = df[df["n"] == n].pivot(index="replicate", columns="method", values=r["metric"])
    level = r["data-level"]
    assert close(float(r["data-mean"]), wide[level].mean()), r
    if level == ref:
        assert "data-diff" not in r, r
        continue
    d = (wide[level] - wide[ref]).to_numpy()
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    unpaired = stats.t.ppf(0.975, len(d) - 1) * np.sqrt((wide[level].var(ddof=1) + wide[ref].var(ddof=1)) / len(d))
    assert int(r["data-pairs"]) == len(d) == 8, r
    assert close(float(r["data-diff"]), d.mean()), (r, d.mean())
    assert abs(float(r["data-half"]) - half) <= 1e-4 * half, (r, half)
    assert abs(float(r["data-unpaired-half"]) - unpaired) <= 1e-4 * unpaired, (r, unpaired)
    if r["metric"] == "est": narrower.append(unpaired / half)
# Estimators of one location on the same data move together: pairing narrows.
assert np.median(narrower) > 1.5, narrower
print("ok")
"#;

fn check(env: &Env, reference: &str) {
    let path = env.write("check.py", CHECK);
    let o = std::process::Command::new("python3")
        .arg(&path)
        .arg(env.path("runs/est/report.html"))
        .arg(env.path("runs/est/results.csv"))
        .arg(reference)
        .output()
        .unwrap();
    assert!(o.status.success() && text(&o.stdout).contains("ok"), "{}\n{}", text(&o.stdout), stderr(&o));
}

#[test]
fn paired_differences_and_intervals_are_what_numpy_computes() {
    let Some(()) = require_tool("scipy", python_modules("numpy, scipy, pandas")) else { return };
    let env = Env::with("est.py", EST_PY);
    env.write("est.toml", EST_TOML);
    env.succeeds(&["run", "est.toml", "-q"]);
    env.succeeds(&["report", "runs/est"]);
    let html = env.read("runs/est/report.html");
    assert!(html.contains("<h2 id=\"paired\">Paired comparison: method</h2>"));
    assert!(html.contains("Differences are from <b>mean</b>, the reference (the first level"), "first level");
    assert!(html.contains("times narrower than unpaired intervals over the same replicates"), "the sentence");
    check(&env, "mean");

    env.succeeds(&["report", "runs/est", "--baseline", "median"]);
    assert!(env.read("runs/est/report.html").contains("Differences are from <b>median</b>"));
    check(&env, "median");

    let err = env.fails(&["report", "runs/est", "--baseline", "medain"], 2);
    assert!(
        err.contains("--baseline `medain` is no level of method") && err.contains("did you mean `median`?"),
        "{err}"
    );
}

#[test]
fn no_paired_section_without_common_seed_and_baseline_says_why() {
    let env = Env::with("s.toml", "replicates = 2\n[command]\nargv = [\"true\"]\n[params]\nmethod = [\"a\", \"b\"]\n");
    env.succeeds(&["run", "s.toml", "-q"]);
    env.succeeds(&["report", "runs/s"]);
    assert!(!env.read("runs/s/report.html").contains("id=\"paired\""));
    let err = env.fails(&["report", "runs/s", "--baseline", "a"], 2);
    assert!(err.contains("no common_seed parameter"), "{err}");
}
