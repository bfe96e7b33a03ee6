#!/usr/bin/env bash
# The kill -9 campaign: a [python] sweep with its arrays in one Zarr store, run in two steps
# (a grid, then the same grid extended, as a user does), each step killed with kill -9 at
# random moments and resumed until it finishes; one kill in each extended run lands inside
# the store's swap (SWEEP_FAULT_KILL_AT=store-swap). After each round the store and
# results.csv are compared, task by task, with one uninterrupted run of the extended spec
# (kill9/compare.py). It stops after KILLS kills and prints how many tasks were lost.
#
#   bash benches/kill9_campaign.sh            (repository root, after cargo build --release)
#
# Environment: SWEEP (default target/release/sweep), KILLS (default 100), SEED (random).
source "$(dirname "${BASH_SOURCE[0]}")/peers/common.sh"
KILLS="${KILLS:-100}"
RANDOM="${SEED:-$$}"
need_cmd python3
need_sweep
make_work
cd "$WORK"
cp "$REPO_ROOT/benches/kill9/model.py" .
head='seed = 11\nreplicates = 2\n[python]\nfunction = "model.py:f"\n[output]\narrays = "zarr"\n[params]\nk = { linspace = [0.1, 2.0, 60] }\n'
printf "${head}c0 = [0.5, 1.0, 2.0]\n" >a.toml
printf "${head}c0 = [0.5, 1.0, 2.0, 4.0]\n" >b.toml
"$SWEEP" run b.toml --out ref -q --jobs 2

kills=0 swaps=0 rounds=0 lost=0
# run_killed SPEC OUT [FAULT]: runs SPEC into OUT until it exits 0, killing it at random
# moments; with FAULT, the first attempt that reaches the store's swap dies there.
run_killed() {
    local spec="$1" out="$2" fault="${3:-}" pid rc
    while :; do
        if [ -n "$fault" ]; then
            SWEEP_FAULT_KILL_AT=store-swap "$SWEEP" run "$spec" --out "$out" --resume -q --jobs 2 2>/dev/null &
        else
            "$SWEEP" run "$spec" --out "$out" --resume -q --jobs 2 2>/dev/null &
        fi
        pid=$!
        if [ -z "$fault" ]; then
            sleep "$(python3 -c "import random; random.seed($RANDOM); print(round(random.uniform(0.02, 1.0), 3))")"
            if kill -9 "$pid" 2>/dev/null; then
                kills=$((kills + 1))
            fi
        fi
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        if [ -n "$fault" ]; then
            [ "$rc" -eq 137 ] && { kills=$((kills + 1)); swaps=$((swaps + 1)); }
            fault=""
            continue
        fi
        [ "$rc" -eq 0 ] && return 0
        [ "$rc" -eq 137 ] || die "sweep exited $rc (not a kill) in $out"
    done
}

while [ "$kills" -lt "$KILLS" ]; do
    rounds=$((rounds + 1))
    out="camp-$rounds"
    run_killed a.toml "$out"
    run_killed b.toml "$out" swap
    run_killed b.toml "$out"
    if ! n="$(PYTHONPATH="$REPO_ROOT/python" python3 "$REPO_ROOT/benches/kill9/compare.py" "$out" ref)"; then
        lost=$((lost + ${n%% *}))
    fi
    echo "kill9: round $rounds: $kills kills so far ($swaps in the store's swap); $n"
done
echo "kill9: $kills kills in $rounds rounds ($swaps in the store's swap of an extended run): $lost tasks lost"
[ "$lost" -eq 0 ]
