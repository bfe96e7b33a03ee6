"""Throughput of the worker driver on trivial tasks (``return {"y": x * x}``).

    python3 benches/peers/python/bench_driver.py [--tasks 200000] [--workers 1] [--repeat 3] [--joblib]

Starts --workers driver processes (as sweep does: ``python3 -c <loader> ...`` with the
driver's source in SWEEP_WORKER_DRIVER), feeds
each its share of --tasks requests shaped like sweep's (pipelined, from a writer
thread), reads every reply, and prints tasks/s counted from the first request written to
the last reply read; start-up (the handshake) is not counted. It also prints the tasks per
CPU-second the drivers used (from wait4), which a busy machine disturbs less. With
--repeat it prints each run and the median. --joblib also times joblib.Parallel(n_jobs=--workers) on the
same function and tasks, for comparison (joblib is a benchmark dependency: benches/peers/setup.sh).
"""

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "..", "..", "..", "python", "sweep", "_worker.py")
MODEL = 'def square(x):\n    return {"y": x * x}\n'


def requests(start, count, out_root):
    """`count` request lines like sweep's, as one bytes object."""
    lines = []
    for i in range(start, start + count):
        task = f"{i * 2654435761 % (1 << 64):016x}"
        seed = i * 11400714819323198485 % (1 << 64)
        req = {
            "id": i,
            "task": task,
            "params": {"x": i * 0.001},
            "seed": seed,
            "seed_str": str(seed),
            "seed32": seed & 0xFFFFFFFF,
            "replicate": 0,
            "attempt": 1,
            "out": f"{out_root}/tasks/{task}",
        }
        lines.append(json.dumps(req))
    lines.append("")
    return "\n".join(lines).encode()


LOADER = "import os, sys; exec(compile(os.environ.pop('SWEEP_WORKER_DRIVER'), 'sweep-worker', 'exec'))"


def start_driver(source, base):
    proc = subprocess.Popen(
        [sys.executable, "-c", LOADER, "--function", "bench_model.py:square", "--base", base, "--params", '["x"]'],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=dict(os.environ, SWEEP_WORKER_DRIVER=source),
        bufsize=0,
    )
    hello = json.loads(proc.stdout.readline())
    assert "pid" in hello, hello
    return proc


def feed(proc, data):
    view = memoryview(data)
    step = 1 << 16
    for i in range(0, len(view), step):
        proc.stdin.write(view[i : i + step])
    proc.stdin.close()


def drain(proc, count, result, index):
    """Reads `count` replies, checking each is a success; stores the time of the last."""
    fd = proc.stdout.fileno()
    seen = 0
    tail = b""
    while seen < count:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            raise RuntimeError(f"driver exited after {seen} of {count} replies")
        seen += chunk.count(b"\n")
        tail = chunk
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    assert b'"metrics"' in last, last
    result[index] = time.perf_counter()


def windowed(procs, datas, window, ends):
    """Feeds requests as sweep does: at most `window` in flight per driver, and more (one
    write) once half of them have come back. One thread for all drivers, with select, so
    that the feeding costs little and never waits for a lock. Stores each driver's time
    of its last reply in `ends`."""
    lines = [d.splitlines(keepends=True) for d in datas]
    sent = [0] * len(procs)
    received = [0] * len(procs)
    fds = {p.stdout.fileno(): i for i, p in enumerate(procs)}

    def refill(i):
        if sent[i] - received[i] <= window // 2 and sent[i] < len(lines[i]):
            more = min(window - (sent[i] - received[i]), len(lines[i]) - sent[i])
            # At most `window` requests in flight: far less than a pipe holds, so this never blocks.
            procs[i].stdin.write(b"".join(lines[i][sent[i] : sent[i] + more]))
            sent[i] += more

    for i in range(len(procs)):
        refill(i)
    while fds:
        for fd in select.select(list(fds), [], [])[0]:
            i = fds[fd]
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise RuntimeError(f"driver exited after {received[i]} of {len(lines[i])} replies")
            received[i] += chunk.count(b"\n")
            if received[i] == len(lines[i]):
                ends[i] = time.perf_counter()
                procs[i].stdin.close()
                del fds[fd]
            else:
                refill(i)


def run_once(tasks, workers, base, source, window=None):
    procs = [start_driver(source, base) for _ in range(workers)]
    share = [tasks // workers + (1 if w < tasks % workers else 0) for w in range(workers)]
    data, start = [], 0
    for n in share:
        data.append(requests(start, n, base))
        start += n
    ends = [None] * workers
    if window:
        readers = [threading.Thread(target=windowed, args=(procs, data, window, ends))]
        writers = []
    else:
        readers = [threading.Thread(target=drain, args=(p, n, ends, i)) for i, (p, n) in enumerate(zip(procs, share))]
        writers = [threading.Thread(target=feed, args=(p, d)) for p, d in zip(procs, data)]
    t0 = time.perf_counter()
    for t in readers + writers:
        t.start()
    for t in readers + writers:
        t.join()
    cpu = 0.0
    for p in procs:
        # wait4 for the driver's own CPU time: a steadier figure than wall time on a
        # shared machine. It includes start-up (a few tens of ms).
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise RuntimeError(f"driver exited with {p.returncode}")
        cpu += usage.ru_utime + usage.ru_stime
    if None in ends:
        raise RuntimeError("a reader failed")
    return tasks / (max(ends) - t0), tasks / cpu


def run_joblib(tasks, workers):
    import joblib

    ns = {}
    exec(MODEL, ns)
    square = ns["square"]
    # Warm the pool first, so that only the tasks are timed, as for the drivers.
    with joblib.Parallel(n_jobs=workers) as par:
        par(joblib.delayed(square)(i) for i in range(1000))
        t0 = time.perf_counter()
        par(joblib.delayed(square)(i * 0.001) for i in range(tasks))
        return tasks / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--window",
        type=int,
        help="at most this many requests in flight per driver, refilled once half have come back, as sweep "
        "does (its window grows to 64); default: all of them written at once",
    )
    ap.add_argument("--joblib", action="store_true", help="also time joblib.Parallel on the same tasks")
    a = ap.parse_args()
    if a.window is not None and not 2 <= a.window <= 256:
        # The single feeding thread writes up to a window of requests at once, which must
        # fit in a pipe (64 KiB) or it would block with the other drivers waiting.
        ap.error("--window must be between 2 and 256")
    with open(DRIVER) as f:
        source = f.read()
    with tempfile.TemporaryDirectory() as base:
        with open(os.path.join(base, "bench_model.py"), "w") as f:
            f.write(MODEL)
        rates, per_cpu = [], []
        for i in range(a.repeat):
            rate, cpu_rate = run_once(a.tasks, a.workers, base, source, a.window)
            rates.append(rate)
            per_cpu.append(cpu_rate)
            print(
                f"driver  run {i + 1}: {rate:,.0f} tasks/s ({a.tasks:,} tasks, {a.workers} worker(s), "
                f"window {a.window or 'unbounded'}; "
                f"{cpu_rate:,.0f} tasks per CPU-second of the drivers)",
                flush=True,
            )
        print(
            f"driver  median: {statistics.median(rates):,.0f} tasks/s "
            f"({statistics.median(per_cpu):,.0f} tasks per driver CPU-second)"
        )
        if a.joblib:
            jl = []
            for i in range(a.repeat):
                jl.append(run_joblib(a.tasks, a.workers))
                print(f"joblib  run {i + 1}: {jl[-1]:,.0f} tasks/s", flush=True)
            print(f"joblib  median: {statistics.median(jl):,.0f} tasks/s (n_jobs={a.workers})")


if __name__ == "__main__":
    main()
