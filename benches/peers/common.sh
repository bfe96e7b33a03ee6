# Shared by the peer benchmarks; sourced, not run.
#
# Environment:
#   SWEEP       the sweep binary (default target/release/sweep)
#   OUT         results dir (default ./bench-out)
#   PEERS_ONLY  1: measure only the peer tools, skip everything that needs $SWEEP

set -euo pipefail

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PEERS_DIR/../.." && pwd)"
SWEEP="${SWEEP:-target/release/sweep}"
OUT="${OUT:-bench-out}"
PEERS_ONLY="${PEERS_ONLY:-0}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die "\`$c\` is not installed; run: bash benches/peers/setup.sh"
    done
}

need_gnu_time() {
    [ -x /usr/bin/time ] && /usr/bin/time -f "%e" true >/dev/null 2>&1 \
        || die "GNU time (/usr/bin/time) is not installed; run: bash benches/peers/setup.sh"
}

# Resolves $SWEEP to an absolute path, or stops with a clear message.
need_sweep() {
    if [ "$PEERS_ONLY" = 1 ]; then
        return 0
    fi
    local s="$SWEEP"
    if [[ "$s" != */* ]]; then
        s="$(command -v "$s" || true)"
    elif [[ "$s" != /* ]]; then
        s="$PWD/$s"
    fi
    if [ -z "$s" ] || [ ! -x "$s" ]; then
        die "no sweep binary at '$SWEEP'. Build it (cargo build --release) or set SWEEP=/path/to/sweep; PEERS_ONLY=1 measures only the peer tools."
    fi
    # `cargo build --release --bench floor` also builds the binary target, which may be a
    # stub while the engine is unfinished: insist on a binary that answers --version.
    local v
    v="$("$s" --version 2>/dev/null || true)"
    case "$v" in
        sweep*) ;;
        *) die "'$s' does not answer \`--version\` with \`sweep ...\` (got '${v}'): not a working sweep binary yet? PEERS_ONLY=1 measures only the peer tools." ;;
    esac
    SWEEP="$s"
}

# need_rows CSV N WHAT : stops unless CSV has a header and N rows.
need_rows() {
    [ -f "$1" ] || die "$3 left no $1"
    local n=$(($(wc -l <"$1") - 1))
    [ "$n" -eq "$2" ] || die "$3 left $n rows in $1, expected $2"
}

# spin_spec FILE NAME REPLICATES MICROS : writes a spin sweep without arrays (seed 1), the
# spec the dispatch, resume and scaling benchmarks time.
spin_spec() {
    cat >"$1" <<TOML
name = "$2"
seed = 1
replicates = $3
[model]
name = "spin"
save = []
[params]
micros = $4
TOML
}

# A scratch dir, removed on exit unless KEEP_WORK=1.
make_work() {
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/sweep-bench.XXXXXX")"
    if [ "${KEEP_WORK:-0}" != 1 ]; then
        trap 'rm -rf "$WORK"' EXIT
    else
        echo "scratch dir kept: $WORK" >&2
    fi
}

# median SECONDS... : the median of numbers.
median() {
    python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.6f}")' "$@"
}

# calc EXPR : evaluates a Python arithmetic expression.
calc() {
    python3 -c "print($1)"
}

# hf_median FILE NAME : median seconds of hyperfine command NAME.
hf_median() {
    python3 "$PEERS_DIR/summarize.py" median "$1" "$2"
}

summarize() {
    python3 "$PEERS_DIR/summarize.py" write "$OUT" "$@"
}

# time_rounds PREFIX  NAME1 OUT1 CMD1  NAME2 OUT2 CMD2 ... : RUNS rounds of hyperfine, each
# running every command once, each round starting one command further on: on a shared
# machine whose speed drifts over minutes, every contender then meets the same drift (timed
# as RUNS runs of one command after another, the first contender's quiet minute could make
# it look 15 % faster than the last). Each command's own output $WORK/OUTi is cleared before
# it runs (the others' last outputs stay, for the checks): removed, or with ASIDE=1 moved
# aside into $WORK/aside, since on ext4 files created just after thousands were deleted pay
# for the deleted inodes (ext4's recently-deleted check), which would time the
# filesystem's clean-up rather than the tools. The rounds' times are merged into
# PREFIX.hyperfine.json, as one hyperfine run of RUNS runs would write, with each run's
# user and system CPU seconds.
time_rounds() {
    local prefix="$1"
    shift
    local names=() outs=() cmds=() rounds=()
    while [ $# -gt 0 ]; do
        names+=("$1") outs+=("$2") cmds+=("$3")
        shift 3
    done
    local n=${#names[@]} r i j clear
    mkdir -p "$WORK/aside"
    for ((r = 0; r < RUNS; r++)); do
        local args=()
        for ((i = 0; i < n; i++)); do
            j=$(((i + r) % n))
            if [ "${ASIDE:-0}" = 1 ]; then
                clear="if [ -e $WORK/${outs[j]} ]; then mv $WORK/${outs[j]} $WORK/aside/\$(date +%s%N); fi"
            else
                clear="rm -rf $WORK/${outs[j]}"
            fi
            args+=(--prepare "$clear" -n "${names[j]}" "${cmds[j]}")
        done
        rounds+=("$prefix.round$r.json")
        echo "$(basename "$prefix"): round $((r + 1)) of $RUNS"
        hyperfine --runs 1 --style basic --export-json "${rounds[r]}" "${args[@]}" | grep -E '^(Benchmark|  Time)'
    done
    python3 - "$prefix.hyperfine.json" "${rounds[@]}" <<'PY'
import json, statistics, sys
merged = {}
for path in sys.argv[2:]:
    with open(path) as f:
        for r in json.load(f)["results"]:
            m = merged.setdefault(r["command"], {"command": r["command"], "times": [], "user": [], "system": []})
            m["times"].extend(r["times"])
            m["user"].append(r["user"])  # seconds of CPU, one a round
            m["system"].append(r["system"])
for m in merged.values():
    m["mean"], m["median"] = statistics.mean(m["times"]), statistics.median(m["times"])
    m["cpu_median"] = statistics.median(u + s for u, s in zip(m["user"], m["system"]))
with open(sys.argv[1], "w") as f:
    json.dump({"results": list(merged.values())}, f, indent=1)
PY
}

# hf_cpu_median FILE NAME : median user+system CPU seconds of command NAME in a
# time_rounds file.
hf_cpu_median() {
    python3 -c 'import json,sys; print(next(r["cpu_median"] for r in json.load(open(sys.argv[1]))["results"] if r["command"] == sys.argv[2]))' "$1" "$2"
}
