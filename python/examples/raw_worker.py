"""A complete sweep worker (protocol v1) by hand: no helper, only the standard library.

sweep writes one JSON request a line to fd 0 and reads one reply a line from fd 1, in
order. This worker answers each request with metrics computed from its parameters.
"""

import json
import os
import sys


def model(x):
    return {"y": x * x}


hello = {"sweep_worker": 1, "pid": os.getpid(), "python": sys.version, "executable": sys.executable}
print(json.dumps(hello), flush=True)
for line in sys.stdin:
    req = {}
    try:
        req = json.loads(line)
        reply = {"id": req["id"], "metrics": model(**req["params"])}
    except Exception as e:
        error = f"{type(e).__name__}: {e}"
        reply = {"id": req.get("id"), "error": error, "detail": error}
    print(json.dumps(reply), flush=True)
