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
