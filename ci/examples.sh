#!/usr/bin/env bash
# Runs the library examples and checks what they print. Each example also checks its own
# numbers and exits non-zero when they are off; this script fails on that exit status, and
# on a missing expected line.
#
#   bash ci/examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0

# check NAME PATTERN...: runs `cargo run --quiet --example NAME`, then greps its output for
# every (extended regex) PATTERN.
check() {
    local name=$1
    shift
    echo "== cargo run --example $name"
    local out
    if ! out=$(cargo run --quiet --example "$name" 2>&1); then
        printf '%s\n' "$out"
        echo "FAIL: example $name exited with an error" >&2
        failed=1
        return
    fi
    printf '%s\n' "$out"
    local pattern
    for pattern in "$@"; do
        if ! grep -Eq -- "$pattern" <<<"$out"; then
            echo "FAIL: example $name: no line matches /$pattern/" >&2
            failed=1
        fi
    done
}

check custom_model \
    '^sir: 24 tasks done, 0 failed; results in ' \
    '^ *beta +gamma +R0 +final size +attack +peak infected +peak day$' \
    '^ *0\.8 +0\.1 +8\.41 ' \
    '^attack rates agree with the final-size equation'

check embed \
    '^embed: 5 tasks done, 0 failed$' \
    '^ *2\.0000 +0\.99999999' \
    '^embed: conversion matches 1 - exp\(-k\*t_final\) within 1e-6'

if [ "$failed" -ne 0 ]; then
    echo "examples: FAILED" >&2
    exit 1
fi
echo "examples: OK"
