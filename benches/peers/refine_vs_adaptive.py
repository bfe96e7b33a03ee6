#!/usr/bin/env python3
"""sweep's `[refine]` against python-adaptive's `Learner1D` (#31): the same functions, the
same budget of points, and the error of each curve's piecewise-linear interpolation, all
measured in one run:

    pip install adaptive            # python-adaptive (tested with 1.5.2); numpy too
    cargo build --release
    python3 benches/peers/refine_vs_adaptive.py

Environment: SWEEP (default target/release/sweep, else target/debug/sweep), BUDGET
(default 60), BATCH (sweep's `batch`, default 8), OUT (default ./bench-out). Writes
$OUT/refine_vs_adaptive.{json,md}.

Contenders, each with BUDGET points on [0, 1]:
- sweep: `[refine]` from `x = { linspace = [0.0, 1.0, 11] }` (the spec's example), batch
  BATCH, the function run as a `[python]` task;
- sweep, from the bounds: the same from `x = [0.0, 1.0]`, as Learner1D starts;
- adaptive: `Learner1D(f, (0, 1))` with its default loss, one point at a time
  (`adaptive.runner.simple`), which starts from the two bounds;
- adaptive, batch 8: the same learner asked for 8 points a round (`ask(8)`, then `tell`),
  as a pool of 8 workers would run it;
- uniform: BUDGET evenly spaced points.

Error: the mean and the largest |f − interpolation| over 200,001 evenly spaced x."""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import adaptive
except ImportError:
    sys.exit("python-adaptive is needed: pip install adaptive")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUDGET = int(os.environ.get("BUDGET", "60"))
BATCH = int(os.environ.get("BATCH", "8"))
OUT = os.environ.get("OUT", "bench-out")

# The functions, as numpy expressions of x (the same text runs in sweep's tasks).
FUNCTIONS = {
    # A tanh step of width 0.01, off the start grid.
    "tanh_step": "np.tanh((x - 0.43) / 0.01)",
    # python-adaptive's tutorial peak: a Lorentzian of half-width 0.01 on a slope.
    "peak": "x + 0.01 ** 2 / (0.01 ** 2 + (x - 0.37) ** 2)",
    # A smooth curve: a damped oscillation.
    "smooth": "np.sin(12 * x) * np.exp(-2 * x)",
}


def sweep_binary():
    for b in (os.environ.get("SWEEP"), "target/release/sweep", "target/debug/sweep"):
        if b and os.path.isfile(os.path.join(ROOT, b) if not os.path.isabs(b) else b):
            return os.path.join(ROOT, b) if not os.path.isabs(b) else b
    sys.exit("no sweep binary: cargo build --release, or set SWEEP")


def by_sweep(name, expr, work, start):
    d = os.path.join(work, f"{name}-{start}")
    os.makedirs(d)
    with open(os.path.join(d, "f.py"), "w") as f:
        f.write(f"import numpy as np\n\ndef f(x):\n    return {{'y': float({expr})}}\n")
    with open(os.path.join(d, "s.toml"), "w") as f:
        f.write(
            '[python]\nfunction = "f.py:f"\n[params]\n'
            f"x = {{ linspace = [0.0, 1.0, {start}] }}\n"
            f'[refine]\naxis = "x"\nmetric = "y"\nbudget = {BUDGET}\nbatch = {BATCH}\n'
        )
    subprocess.run([sweep_binary(), "run", "s.toml", "-q", "--jobs", "2"], cwd=d, check=True)
    import csv

    with open(os.path.join(d, "runs", "s", "results.csv")) as f:
        rows = list(csv.DictReader(f))
    return np.array([float(r["x"]) for r in rows]), np.array([float(r["y"]) for r in rows])


def by_adaptive(f, batch):
    learner = adaptive.Learner1D(f, bounds=(0.0, 1.0))
    if batch == 1:
        adaptive.runner.simple(learner, npoints_goal=BUDGET)
    else:
        while learner.npoints < BUDGET:
            xs, _ = learner.ask(min(batch, BUDGET - learner.npoints))
            for x in xs:
                learner.tell(x, f(x))
    xs = np.array(sorted(learner.data))
    return xs, np.array([learner.data[x] for x in xs])


def error(f, xs, ys):
    order = np.argsort(xs)
    grid = np.linspace(0.0, 1.0, 200_001)
    e = np.abs(np.interp(grid, xs[order], ys[order]) - f(grid))
    return float(e.mean()), float(e.max())


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name, expr in FUNCTIONS.items():
            f = eval(f"lambda x: {expr}", {"np": np})  # noqa: S307 - our own expressions
            contenders = {
                "sweep [refine]": by_sweep(name, expr, work, 11),
                "sweep [refine], from the bounds": by_sweep(name, expr, work, 2),
                "adaptive Learner1D": by_adaptive(f, 1),
                "adaptive Learner1D, ask(8)": by_adaptive(f, 8),
                "uniform": (np.linspace(0.0, 1.0, BUDGET), f(np.linspace(0.0, 1.0, BUDGET))),
            }
            for who, (xs, ys) in contenders.items():
                assert len(xs) == BUDGET, (who, len(xs))
                mean, largest = error(f, xs, ys)
                rows.append({"function": name, "contender": who, "points": len(xs), "mean_error": mean, "max_error": largest})
    lines = [
        f"| function | contender | points | mean error | largest error |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['function']} | {r['contender']} | {r['points']} | {r['mean_error']:.3e} | {r['max_error']:.3e} |"
        for r in rows
    ]
    md = "\n".join(lines) + "\n"
    print(md, end="")
    with open(os.path.join(OUT, "refine_vs_adaptive.md"), "w") as f:
        f.write(md)
    with open(os.path.join(OUT, "refine_vs_adaptive.json"), "w") as f:
        json.dump({"budget": BUDGET, "batch": BATCH, "adaptive": adaptive.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
