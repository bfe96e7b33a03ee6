#!/usr/bin/env bash
# Runs the README's first commands top to bottom, as a new user would on a fresh clone:
# the set-up's main job, the quick start, and "Your Python function" (its model.py and
# grid.toml are written from the README's own code blocks). A command that fails, or a
# pair that collides (a second run refused because the first left its directory), fails
# this script.
#
#   bash ci/readme.sh            # uses target/debug/sweep (built by cargo test)
#   SWEEP=target/release/sweep bash ci/readme.sh
#
# `cargo run --release --` in the README is replaced by $SWEEP, so that CI does not pay a
# second (release) build; `cargo test` and `cargo install` lines are left out (CI runs the
# tests itself). Everything runs in a fresh clone of HEAD in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
SWEEP=$(realpath "${SWEEP:-target/debug/sweep}")
[ -x "$SWEEP" ] || { echo "readme: no $SWEEP; cargo build first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/sweep"
cd "$work/sweep"
mkdir -p "$work/bin"
ln -s "$SWEEP" "$work/bin/sweep"
export PATH="$work/bin:$PATH"

# The README from "## Set-up" up to "## The spec": fenced blocks, in order, as
# "LANG<TAB>first line" headers followed by their lines.
python3 - README.md >"$work/blocks.txt" <<'PY'
import sys
text = open(sys.argv[1]).read()
text = text[text.index("## Set-up"):text.index("## The spec")]
lang, lines = None, []
for line in text.splitlines():
    if line.startswith("```"):
        if lang is None:
            lang, lines = line[3:].strip() or "text", []
        else:
            print(f"@@ {lang}")
            print("\n".join(lines))
            lang = None
    elif lang is not None:
        lines.append(line)
PY

# Write the Python example's files (a block whose first line names its file), then run
# every sh block's commands in order.
python3 - "$work/blocks.txt" "$work/script.sh" <<'PY'
import re, sys
blocks = open(sys.argv[1]).read().split("@@ ")[1:]
script = ["set -euo pipefail", "set -x"]
for b in blocks:
    lang, _, body = b.partition("\n")
    first = body.splitlines()[0] if body.strip() else ""
    m = re.match(r"#\s*(\S+\.(py|toml))\b", first)
    if lang in ("python", "toml") and m:
        with open(m.group(1), "w") as f:
            f.write(body)
        continue
    if lang != "sh":
        continue
    for line in body.splitlines():
        cmd = line.split("  #")[0].strip()
        if not cmd or cmd.startswith("#") or cmd.startswith("cargo test") or cmd.startswith("cargo install"):
            continue
        script.append(cmd.replace("cargo run --release --", "sweep"))
open(sys.argv[2], "w").write("\n".join(script) + "\n")
PY
echo "readme: running, in a fresh clone:"
grep -v '^set ' "$work/script.sh" | sed 's/^/  /'
bash "$work/script.sh"
test -s runs/reaction/results.csv && test -s runs/reaction/report.html && test -s runs/grid/results.csv
echo "readme: OK"
