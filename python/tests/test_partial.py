"""Tests of `sweep.load` and `sweep.open` while a run is going, and after one stopped before
its end, against the built binary: $SWEEP_BIN, else target/debug/sweep (`cargo build`
first). Without it these tests skip, saying so; under CI=true they fail instead.

    SWEEP_BIN=target/debug/sweep python3 -m unittest discover -s python/tests -p 'test_partial*'
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import warnings

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PYTHON_DIR)
import sweep  # noqa: E402

from _needs import BIN, needs  # noqa: E402

MISSING = needs("test_partial", ["pandas", "xarray", "numpy", "zarr"])

# Slow command tasks (x = 3 fails): a run of them lasts long enough to be read mid-way.
SLOW = """
[command]
shell = '''sleep {pause}; [ {x} = 3 ] && { echo broken >&2; exit 4; }; echo '{"y": {x}.5}' > {out}/metrics.json'''
[params]
x = [XS]
"""

# Slow [python] tasks that save an array, into one store.zarr.
ZARR = """
[python]
function = "model.py:f"
[output]
arrays = "zarr"
[params]
x = [1, 2, 3, 4, 5, 6, 7, 8]
"""
MODEL = """
import time
import numpy as np

def f(x):
    time.sleep(1)
    return {"y": x + 0.5, "a": np.arange(3.0) * x}
"""


def spec(xs):
    return SLOW.replace("XS", ", ".join(str(x) for x in xs))


@unittest.skipIf(MISSING, f"the snapshot tests need: {MISSING}")
class Partial(unittest.TestCase):
    def setUp(self):
        self.old_cwd = os.getcwd()
        self.dir = tempfile.mkdtemp()
        os.chdir(self.dir)
        self.old_env = dict(os.environ)
        # The built binary, as sweep.run finds an installed one.
        os.environ["PATH"] = os.path.dirname(os.path.abspath(BIN)) + os.pathsep + os.environ.get("PATH", "")
        os.environ["SWEEP_BIN"] = os.path.abspath(BIN)
        self.runs = []

    def tearDown(self):
        for p in self.runs:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stderr.close()
        os.chdir(self.old_cwd)
        os.environ.clear()
        os.environ.update(self.old_env)

    def start(self, text, *flags, pause="1"):
        with open("s.toml", "w") as f:
            f.write(text.replace("{pause}", pause))
        p = subprocess.Popen([BIN, "run", "s.toml", "--out", "out", "-q", "--jobs", "2", *flags], stderr=subprocess.PIPE)
        self.runs.append(p)
        return p

    def journaled(self):
        """The tasks the journal records done, and failed."""
        done, failed = set(), set()
        try:
            with open("out/journal.jsonl") as f:
                lines = [line for line in f.read().split("\n")[:-1]]
        except FileNotFoundError:
            return done, failed
        for line in lines:
            r = json.loads(line)
            if "t" in r:
                (done if "m" in r else failed).add(r["t"])
        return done, failed

    def wait_for(self, run, n):
        """Until the journal has `n` tasks done more than at the start, the run still going."""
        start = len(self.journaled()[0])
        deadline = time.monotonic() + 60
        while len(self.journaled()[0]) < start + n:
            if run.poll() is not None:
                self.fail(f"the run ended first (exit {run.returncode}): {run.stderr.read()}")
            self.assertLess(time.monotonic(), deadline, "timed out waiting for the run")
            time.sleep(0.02)

    def load(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = sweep.load("out")
        return df, [str(w.message) for w in caught]

    def test_load_while_a_run_goes_returns_the_done_rows_so_far_with_a_warning_and_pending_rows(self):
        run = self.start(spec(range(1, 13)))
        self.wait_for(run, 2)
        before = self.journaled()[0]
        df, said = self.load()
        after, failed = self.journaled()
        self.assertIsNone(run.poll(), "the run ended during load: make the tasks slower")
        self.assertFalse(os.path.exists("out/results.csv"))

        self.assertEqual(len(df), 12, "a row per task")
        done = set(df.loc[df.status == "done", "task"])
        self.assertTrue(before <= done <= after, "the done rows are the journal's")
        self.assertEqual(set(df.loc[df.status == "failed", "task"]), failed & set(df.task))
        rows = df[df.status == "done"]
        self.assertEqual((rows.x + 0.5).tolist(), rows.y.tolist())
        pending = df[df.status == "pending"]
        self.assertGreater(len(pending), 0)
        self.assertTrue(pending.y.isna().all() and (pending.attempts == 0).all())
        self.assertEqual((df.attrs["partial"], df.attrs["running"]), (True, True))
        self.assertEqual(len(said), 1, said)
        m = re.match(r"a run is going in out: (\d+) of 12 tasks done so far, (\d+) failed; the (\d+) pending rows", said[0])
        self.assertTrue(m, said[0])
        self.assertEqual(
            [int(g) for g in m.groups()], [len(done), int((df.status == "failed").sum()), len(pending)], said[0]
        )

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = sweep.open("out")
        self.assertEqual(ds.attrs["partial"], "running")
        y = ds["y"].values[:, 0]
        self.assertEqual(int((~(y != y)).sum()), int((ds["status"].values == "done").sum()), "NaN unless done")

        run.wait()
        df, said = self.load()
        self.assertEqual(said, [], "results.csv, once the run has ended")
        self.assertEqual((df.attrs["partial"], df.attrs["running"]), (False, False))
        self.assertEqual(int((df.status == "pending").sum()), 0)
        self.assertNotIn("partial", sweep.open("out").attrs)

    def test_load_during_and_after_a_killed_resume_does_not_return_the_stale_results_csv(self):
        first = self.start(spec(range(1, 5)))
        self.assertEqual(first.wait(), 1, "x = 3 fails")
        with open("out/results.csv") as f:
            old = f.read()
        # More values of x: the resume runs the new tasks; results.csv is the old one meanwhile.
        run = self.start(spec(range(1, 13)), "--resume")
        self.wait_for(run, 1)
        df, said = self.load()
        self.assertEqual(len(df), 12, "not the 4 rows of the stale results.csv")
        self.assertEqual((df.attrs["partial"], df.attrs["running"]), (True, True))
        self.assertRegex(said[0], r"^a run is going in out: \d+ of 12 tasks done so far")

        run.send_signal(signal.SIGKILL)
        run.wait()
        with open("out/results.csv") as f:
            self.assertEqual(f.read(), old, "the killed resume left the old results.csv")
        df, said = self.load()
        done = self.journaled()[0]
        self.assertEqual(set(df.loc[df.status == "done", "task"]), done)
        self.assertGreater(len(done), 3, "the resume's done tasks are in")
        self.assertEqual((df.attrs["partial"], df.attrs["running"]), (True, False))
        self.assertEqual(len(said), 1, said)
        self.assertRegex(said[0], r"the last run stopped before its end \(out/results.csv is older than out/journal.jsonl\)")
        self.assertIn("--resume", said[0])

        # The resume finishes it: results.csv is current again.
        self.assertEqual(self.start(spec(range(1, 13)), "--resume").wait(), 1)
        df, said = self.load()
        self.assertEqual((said, df.attrs["partial"], len(df)), ([], False, 12))

    def test_load_of_a_killed_first_run_reads_what_it_did_and_says_resume_finishes_it(self):
        run = self.start(spec(range(1, 13)))
        self.wait_for(run, 1)
        run.send_signal(signal.SIGKILL)
        run.wait()
        df, said = self.load()
        self.assertEqual(set(df.loc[df.status == "done", "task"]), self.journaled()[0])
        self.assertEqual((df.attrs["partial"], df.attrs["running"], len(df)), (True, False, 12))
        self.assertEqual(len(said), 1, said)
        self.assertRegex(said[0], r"^out: the last run stopped before its end \(out/results.csv is missing\): \d+ of 12")
        self.assertIn("`sweep run SPEC --resume`", said[0])

    def test_open_of_a_zarr_sweep_while_its_run_goes_says_the_store_comes_at_the_end_and_load_reads_now(self):
        with open("model.py", "w") as f:
            f.write(MODEL)
        run = self.start(ZARR)
        self.wait_for(run, 1)
        with self.assertRaisesRegex(
            sweep.SweepDataError, r"a run is going in out, and it builds out/store.zarr when it ends.*sweep.load\('out'\)"
        ):
            sweep.open("out")
        df, said = self.load()
        self.assertEqual((df.attrs["partial"], len(df)), (True, 8))
        self.assertGreater(int((df.status == "done").sum()), 0)
        self.assertEqual(run.wait(), 0)
        self.assertEqual(sweep.open("out")["a"].sel(x=2).values.ravel().tolist(), [0.0, 2.0, 4.0])


if __name__ == "__main__":
    unittest.main()
