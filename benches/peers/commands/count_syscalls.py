"""Syscalls per task of a runner's own process, from an `strace -f -o FILE` trace.

A pid counts as the runner's own (its main thread, its threads) unless it calls execve after
doing anything else: the children it starts exec, the runner itself was exec'd by strace as
its first call. Usage: count_syscalls.py TRACE TASKS NAME"""

import collections
import re
import sys

trace, tasks, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
first = {}
children = set()
lines = open(trace).read().splitlines()
for line in lines:
    m = re.match(r"(\d+) (.*)", line)
    if not m:
        continue
    pid, rest = int(m.group(1)), m.group(2).strip()
    first.setdefault(pid, rest)
    if rest.startswith("execve(") and not first[pid].startswith("execve("):
        children.add(pid)
counts = collections.Counter()
for line in lines:
    m = re.match(r"(\d+) (.*)", line)
    if not m or int(m.group(1)) in children:
        continue
    rest = m.group(2).strip()
    if rest.startswith(("<...", "+++", "---")):
        continue
    counts[rest.split("(")[0]] += 1
total = sum(counts.values())
top = ", ".join(f"{k} {v / tasks:.2f}" for k, v in counts.most_common(12))
print(f"{name}: {total / tasks:.1f} syscalls per task ({total} for {tasks} tasks); {top}")
