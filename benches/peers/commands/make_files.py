"""The files sweep creates for each of N command tasks, and nothing else: a directory with an
empty stdout.txt and stderr.txt. Run beside `xargs -P2 -n1 true`, it is the floor of any
runner that captures each task's output in files of its own on this filesystem
(benches/peers/commands_vs_parallel.sh)."""

import os
import sys

root, n = sys.argv[1], int(sys.argv[2])
os.mkdir(root)
for i in range(n):
    d = os.path.join(root, f"t{i}")
    os.mkdir(d)
    for name in ("stdout.txt", "stderr.txt"):
        os.close(os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL))
