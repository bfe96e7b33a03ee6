"""Split the journal of a whole-grid sweep into the journals its shards would have written.

    python3 split_journal.py OUT SHARDS

OUT holds a finished whole-grid sweep. Each record goes to `OUT/journal/shard-I-of-SHARDS.jsonl`
for the shard I its task belongs to (sweep's rule: I = (id * SHARDS) >> 64, the id read as a
64-bit number), in the order the whole-grid run wrote them, after a header line like the one a
shard run writes. `OUT/journal.jsonl`, its checkpoint and results.csv are removed, so that
`sweep collect OUT` reads only the shards. Used by benches/peers/scale.sh to time a collect
of many shards without running every array element one after another on one machine.
"""

import json
import os
import sys


def main() -> None:
    out, shards = sys.argv[1], int(sys.argv[2])
    src = os.path.join(out, "journal.jsonl")
    os.makedirs(os.path.join(out, "journal"), exist_ok=True)
    files = []
    spec = None
    with open(src, "rb") as f:
        first = json.loads(f.readline())
        spec = first.get("spec")
        for i in range(shards):
            header = {"sweep_journal": first.get("sweep_journal", 2), "shard": f"{i}/{shards}", "pid": 0, "started": first.get("started")}
            if spec:
                header["spec"] = spec
            g = open(os.path.join(out, "journal", f"shard-{i}-of-{shards}.jsonl"), "wb", buffering=1 << 16)
            g.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
            files.append(g)
        for line in f:
            if line.startswith(b'{"t":"'):
                task = int(line[6:22], 16)
                files[(task * shards) >> 64].write(line)
    for g in files:
        g.close()
    for name in ("journal.jsonl", "journal.ckpt", "results.csv"):
        path = os.path.join(out, name)
        if os.path.exists(path):
            os.remove(path)


if __name__ == "__main__":
    main()
