#!/usr/bin/env bash
# Stop the daemons that ci/slurm-up.sh started (and only those), using its PID file.
set -euo pipefail

STATE_DIR=${SWEEP_SLURM_DIR:-/tmp/sweep-slurm}
PIDS=$STATE_DIR/pids

log() { printf 'slurm-down: %s\n' "$*" >&2; }

if [[ ! -s $PIDS ]]; then
    log "nothing to stop ($PIDS is missing or empty)"
    exit 0
fi

# Stop in reverse start order: slurmd, slurmctld, then munged.
mapfile -t entries < <(tac "$PIDS")
for entry in "${entries[@]}"; do
    read -r name pid <<<"$entry"
    # Only signal the process if it is still the daemon that was recorded.
    if [[ -r /proc/$pid/comm ]] && [[ $(cat "/proc/$pid/comm") == "$name" ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name ($pid) ignored SIGTERM for 10s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        log "stopped $name ($pid)"
    else
        log "$name ($pid) is not running"
    fi
done
rm -f "$PIDS"
