#!/usr/bin/env bash
# Run tests/slurm.rs against a real single-node SLURM cluster (Debian, as root).
#
#   ci/slurm-test.sh
#
# Starts the cluster with ci/slurm-up.sh, runs the test with SWEEP_REQUIRE_SLURM=1 (so a
# missing SLURM fails rather than skips), and stops the cluster with ci/slurm-down.sh on
# exit, whatever the outcome. A cluster that was already up before this script ran is left
# up (ci/slurm-down.sh would stop it, and whoever started it may still be using it).
set -euo pipefail

cd "$(dirname "$0")/.."
STATE_DIR=${SWEEP_SLURM_DIR:-/tmp/sweep-slurm}

was_up=0
if [[ -s $STATE_DIR/pids ]] && sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    was_up=1
fi

stop() {
    if [[ $was_up -eq 1 ]]; then
        echo "slurm-test: the cluster was up before; leaving it up" >&2
    else
        ci/slurm-down.sh || true
    fi
}
trap stop EXIT

ci/slurm-up.sh
SWEEP_REQUIRE_SLURM=1 cargo test --release --test slurm -- --nocapture
