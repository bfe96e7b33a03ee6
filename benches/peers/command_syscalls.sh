#!/usr/bin/env bash
# System calls per command task made by the runner's own process (not by the commands it
# starts): sweep against `xargs -P2`, N tasks of `true` at 2 at a time, each under
# `strace -f` (commands/count_syscalls.py reads the traces). Counts, not times: they do not
# depend on how busy the machine is.
#
#   bash benches/peers/command_syscalls.sh
#
# Environment: SWEEP, OUT (default ./bench-out), N (default 2000).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N="${N:-2000}"
need_cmd strace xargs seq python3
need_sweep
make_work
cat >"$WORK/t.toml" <<TOML
[command]
argv = ["true"]
[params]
i = { range = [0, $N] }
TOML
strace -f -o "$WORK/sweep.trace" "$SWEEP" run "$WORK/t.toml" --jobs 2 --out "$WORK/out" --quiet
seq "$N" >"$WORK/input"
strace -f -o "$WORK/xargs.trace" xargs -P2 -n1 -a "$WORK/input" true
python3 "$PEERS_DIR/commands/count_syscalls.py" "$WORK/sweep.trace" "$N" sweep | tee "$OUT/command_syscalls.txt"
python3 "$PEERS_DIR/commands/count_syscalls.py" "$WORK/xargs.trace" "$N" xargs | tee -a "$OUT/command_syscalls.txt"
