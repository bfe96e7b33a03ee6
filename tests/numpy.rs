//! numpy and Python's csv, the real clients, read what sweep writes.

mod common;
use common::*;

#[test]
fn numpy_loads_every_array_and_the_results() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with(
        "r.toml",
        "replicates = 2\n[model]\nname = \"reaction\"\nt_final = 5.0\n[params]\nk = [0.5, 1.5]\nc0 = [1.0, 2.0]\n",
    );
    env.succeeds(&["run", "r.toml", "-q"]);
    let script = r#"
import csv, math, os, sys
import numpy as np
out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
assert len(rows) == 8, len(rows)
for r in rows:
    assert r["status"] == "done", r
    k, c0 = float(r["k"]), float(r["c0"])
    t = np.load(os.path.join(out, "tasks", r["task"], "t.npy"))
    c = np.load(os.path.join(out, "tasks", r["task"], "c.npy"))
    assert t.dtype == np.float64 and t.shape == c.shape and t[0] == 0.0 and abs(t[-1] - 5.0) < 1e-12
    assert np.max(np.abs(c - c0 * np.exp(-k * t))) < 1e-6
    assert float(r["c_final"]) == c[-1], (r["c_final"], c[-1])
    assert abs(float(r["conversion"]) - (1 - math.exp(-k * 5.0))) < 1e-6
    assert int(r["steps"]) == len(t) - 1
print("ok", len(rows))
"#;
    let path = env.write("check.py", script);
    let o = std::process::Command::new("python3").arg(&path).arg(env.path("runs/r")).output().unwrap();
    assert!(o.status.success(), "{}\n{}", text(&o.stdout), stderr(&o));
    assert!(text(&o.stdout).contains("ok 8"));
}
