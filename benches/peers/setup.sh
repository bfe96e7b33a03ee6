#!/usr/bin/env bash
# Installs what the peer benchmarks need, and nothing else; safe to run again.
#
#   bash benches/peers/setup.sh
#
# apt (Debian/Ubuntu): parallel (GNU Parallel), hyperfine, time (GNU time, for peak RSS).
# pip (for the python3 on PATH, the one the scripts run): numpy, scipy, joblib.
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup.sh: not root and no sudo; install parallel hyperfine time yourself" >&2; exit 1; }
    sudo="sudo"
fi

missing=()
command -v parallel >/dev/null || missing+=(parallel)
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || { echo "setup.sh: no apt-get; install ${missing[*]} yourself" >&2; exit 1; }
    $sudo apt-get update
    $sudo apt-get install -y parallel hyperfine time
else
    echo "setup.sh: parallel, hyperfine and GNU time are installed"
fi

if python3 -c 'import numpy, scipy, joblib' 2>/dev/null; then
    echo "setup.sh: numpy, scipy and joblib are installed"
else
    if ! python3 -m pip install numpy scipy joblib; then
        echo "setup.sh: pip install failed; if python3 is an externally managed system Python, create" >&2
        echo "  a virtual environment (python3 -m venv .venv && . .venv/bin/activate) and run this again" >&2
        exit 1
    fi
fi

parallel --version | head -n 1
hyperfine --version
/usr/bin/time --version 2>&1 | head -n 1
python3 -c 'import numpy, scipy, joblib; print("numpy", numpy.__version__, "scipy", scipy.__version__, "joblib", joblib.__version__)'
