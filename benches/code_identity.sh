#!/usr/bin/env bash
# The cost of code identity (#27) on a [python] sweep whose project has 50 modules, all
# imported by the model: what sweep hashes once per run (read from the run's line in
# code/runs/journal.jsonl, which sweep writes with the time it took), and what the worker's
# report of its imports costs in Python (timed in-process, the median of 5).
#
#   bash benches/code_identity.sh            # SWEEP=target/release/sweep N=2000 tasks
#
# Prints one line per figure.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SWEEP="$(cd "$(dirname "${SWEEP:-$REPO/target/release/sweep}")" && pwd)/$(basename "${SWEEP:-sweep}")"
N="${N:-2000}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir pkg
: > pkg/__init__.py
for i in $(seq 0 49); do
    # A few hundred lines each, as a small project's modules are.
    python3 -c "import sys; print('\n'.join(f'def f{j}(x):\n    return x + {j}\n' for j in range(100)))" > "pkg/m$i.py"
    echo "import pkg.m$i" >> model.py
done
printf '\ndef f(x):\n    return {"y": pkg.m49.f1(x)}\n' >> model.py
printf 'name = "b"\n[python]\nfunction = "model.py:f"\n[params]\nx = { range = [0, %d] }\n' "$N" > s.toml

start=$(date +%s.%N)
"$SWEEP" run s.toml -q --jobs 2
end=$(date +%s.%N)
python3 - "$start" "$end" "$N" <<'PY'
import json, sys
start, end, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
runs = [json.loads(l) for l in open("runs/b/code/runs/journal.jsonl")]
assert len(runs) == 1, runs
h = runs[0]["hashed"]
print(f"tasks in the run:          {n}")
print(f"code records of the run:   {len(runs)} (hashing once per run)")
print(f"files hashed:              {h['files']} ({h['bytes'] / 1024:.0f} KiB)")
print(f"hashing (sweep, once):     {h['seconds'] * 1e3:.2f} ms")
print(f"whole run:                 {end - start:.2f} s")
PY
PYTHONPATH="$REPO/python" python3 - <<'PY'
import statistics, sys, time
sys.path.insert(0, ".")
from sweep import _worker
_worker.load_function("model.py:f", ".")
times = []
for _ in range(5):
    t = time.perf_counter()
    report = _worker.code_report("model.py:f", ".")
    times.append(time.perf_counter() - t)
print(f"worker's import report:    {times[0] * 1e3:.2f} ms the first time in a process, median "
      f"{statistics.median(times) * 1e3:.2f} ms of 5 ({len(report['files'])} files; the first worker only)")
PY
