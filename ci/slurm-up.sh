#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine for tests (Debian, run as root).
#
#   ci/slurm-up.sh      # install slurm-wlm + munge if needed, start munged, slurmctld, slurmd
#   ci/slurm-down.sh    # stop exactly the daemons this script started
#
# No systemd: the daemons are started directly and their PIDs recorded in
# $SWEEP_SLURM_DIR/pids (default /tmp/sweep-slurm/pids). Logs: $SWEEP_SLURM_DIR/log/slurm*.log
# and /var/log/munge/munged.log.
# Running it again while the cluster is up is a no-op. Each start clears the controller's
# saved job state (slurmctld -c), so a new cluster starts with an empty queue.
set -euo pipefail

STATE_DIR=${SWEEP_SLURM_DIR:-/tmp/sweep-slurm}
PIDS=$STATE_DIR/pids
LOG_DIR=$STATE_DIR/log
CONF=/etc/slurm/slurm.conf
MARKER="# Written by sweep ci/slurm-up.sh"
TIMEOUT=${SWEEP_SLURM_TIMEOUT:-60}

log() { printf 'slurm-up: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

if [[ $(id -u) -ne 0 ]]; then
    die "must run as root (it installs packages and starts system daemons)"
fi

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# Already up: every recorded daemon is alive and the node answers.
if [[ -s $PIDS ]]; then
    n_alive=0 n_dead=0
    while read -r _name pid; do
        if alive "$pid"; then n_alive=$((n_alive + 1)); else n_dead=$((n_dead + 1)); fi
    done <"$PIDS"
    if [[ $n_alive -eq 0 ]]; then
        log "removing a stale $PIDS (none of its daemons is running)"
        rm -f "$PIDS"
    elif [[ $n_dead -eq 0 ]] && sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
        log "cluster already up (daemons: $(tr '\n' ' ' <"$PIDS"))"
        exit 0
    else
        die "$PIDS lists daemons but the cluster is not healthy; run ci/slurm-down.sh first"
    fi
fi

# --- packages ---------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends slurm-wlm munge; then
        log "install failed; refreshing the package lists"
        apt-get update
        apt-get install -y --no-install-recommends slurm-wlm munge
    fi
fi

mkdir -p "$STATE_DIR" "$LOG_DIR"
# Fresh logs for a fresh cluster, so that a failure shows only this start's messages.
rm -f "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log
: >"$PIDS.partial"
record() { printf '%s %s\n' "$1" "$2" >>"$PIDS.partial"; }

# Wait for a daemon's pid file and return the pid it holds.
pid_from_file() {
    local file=$1 i
    for ((i = 0; i < 100; i++)); do
        if [[ -s $file ]] && alive "$(cat "$file")"; then
            cat "$file"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

fail_with_logs() {
    log "error: $*"
    for f in /var/log/munge/munged.log "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log; do
        [[ -e $f ]] || continue
        log "---- $f (last 30 lines) ----"
        tail -n 30 "$f" >&2 || true
    done
    # Leave what was started recorded so that slurm-down.sh can stop it.
    if [[ -s $PIDS.partial ]]; then mv "$PIDS.partial" "$PIDS"; else rm -f "$PIDS.partial"; fi
    log "daemons started so far are listed in $PIDS; stop them with ci/slurm-down.sh"
    exit 1
}

# --- munge ------------------------------------------------------------------------------
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    if command -v mungekey >/dev/null; then
        mungekey --create --keyfile=/etc/munge/munge.key --force
    else
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key

if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged is already running (not started here, so slurm-down.sh will leave it)"
else
    rm -f /run/munge/munged.pid
    runuser -u munge -- munged \
        || fail_with_logs "munged did not start"
    pid=$(pid_from_file /run/munge/munged.pid) || fail_with_logs "munged did not start"
    record munged "$pid"
    munge -n | unmunge >/dev/null || fail_with_logs "munge credentials do not round-trip"
fi

# --- slurm.conf -------------------------------------------------------------------------
host=$(hostname -s)
# "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=..."
hw=$(slurmd -C | head -n 1)
[[ $hw == NodeName=* ]] || die "unexpected 'slurmd -C' output: $hw"
hw=${hw#NodeName=* }

mkdir -p /etc/slurm
if [[ -e $CONF ]] && ! grep -qF "$MARKER" "$CONF"; then
    log "keeping a copy of the existing $CONF as $CONF.bak"
    cp -p "$CONF" "$CONF.bak"
fi
install -d -m 0755 /var/spool/slurmctld /var/spool/slurmd
cat >"$CONF" <<EOF
$MARKER: a single-node test cluster.
ClusterName=sweep
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# --- daemons ----------------------------------------------------------------------------
rm -f "$STATE_DIR/slurmctld.pid" "$STATE_DIR/slurmd.pid"
slurmctld -c || fail_with_logs "slurmctld did not start"
pid=$(pid_from_file "$STATE_DIR/slurmctld.pid") || fail_with_logs "slurmctld did not start"
record slurmctld "$pid"

slurmd -N "$host" || fail_with_logs "slurmd did not start"
pid=$(pid_from_file "$STATE_DIR/slurmd.pid") || fail_with_logs "slurmd did not start"
record slurmd "$pid"

mv "$PIDS.partial" "$PIDS"

deadline=$((SECONDS + TIMEOUT))
state=
while :; do
    state=$(sinfo -h -n "$host" -o '%t' 2>/dev/null | head -n 1 || true)
    case $state in
        idle | mix | alloc) break ;;
    esac
    if ((SECONDS >= deadline)); then
        sinfo -N -l >&2 || true
        scontrol show node "$host" >&2 || true
        fail_with_logs "node $host is not idle after ${TIMEOUT}s (state: '${state:-none}')"
    fi
    sleep 0.5
done
log "cluster up: node $host is $state (daemons: $(tr '\n' ' ' <"$PIDS"))"
