"""Tests of `sweep.run`, `sweep.failures` and `python -m sweep` against the built binary:
$SWEEP_BIN, else target/debug/sweep (`cargo build` first). Without it these tests skip,
saying so; under CI=true they fail instead.

    cargo build && python3 -m unittest discover -s python/tests -v
"""

import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import numpy as np

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PYTHON_DIR)
import sweep  # noqa: E402

from _needs import BIN, needs  # noqa: E402

MISSING = needs("test_run", ["cloudpickle", "xarray"])

MODEL = """
import os, time

def simulate(k, c0, seed):
    log = os.environ.get("CALLS_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{k} {c0}\\n")
    if k == 13:
        raise ValueError("k must not be 13")
    return {"y": k * c0, "s": seed % 7}
"""


def env():
    """The environment that finds the built binary first on PATH, as an installed one is."""
    e = dict(os.environ)
    e["PATH"] = os.path.dirname(os.path.abspath(BIN)) + os.pathsep + e.get("PATH", "")
    e["PYTHONPATH"] = PYTHON_DIR + os.pathsep + e.get("PYTHONPATH", "")
    return e


@unittest.skipIf(MISSING, f"sweep.run's tests need: {MISSING}")
class Run(unittest.TestCase):
    def setUp(self):
        self.old_cwd, self.old_path = os.getcwd(), os.environ.get("PATH", "")
        self.dir = tempfile.mkdtemp()
        os.chdir(self.dir)
        os.environ["PATH"] = env()["PATH"]
        with open("model.py", "w") as f:
            f.write(MODEL)
        self.log = os.path.join(self.dir, "calls.log")

    def tearDown(self):
        os.chdir(self.old_cwd)
        os.environ["PATH"] = self.old_path

    def calls(self):
        if not os.path.exists(self.log):
            return 0
        with open(self.log) as f:
            return len(f.read().splitlines())

    def run_model(self, **kw):
        args = dict(params={"k": np.array([1.0, 2.0]), "c0": range(1, 3)}, replicates=2, seed=3, out="runs/m", env={"CALLS_LOG": self.log}, quiet=True)
        args.update(kw)
        return sweep.run("model.py:simulate", **args)

    def test_module_path_returns_the_dataset_that_sweep_open_gives(self):
        ds = self.run_model()
        self.assertEqual(dict(ds.sizes), {"k": 2, "c0": 2, "replicate": 2})
        self.assertEqual(ds["y"].sel(k=2.0, c0=2).values.tolist(), [4.0, 4.0])
        self.assertTrue(ds.identical(sweep.open("runs/m")))
        with open("runs/m.toml") as f:
            spec = f.read()
        self.assertIn('function = "../model.py:simulate"', spec)
        # The written spec runs with the CLI: as a resume of the same sweep, nothing to do.
        r = subprocess.run([BIN, "run", "runs/m.toml", "--resume"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("this run: 0 done", r.stderr)

    def test_a_function_object_of_a_module(self):
        sys.path.insert(0, self.dir)
        try:
            import model
        finally:
            sys.path.remove(self.dir)
        ds = sweep.run(model.simulate, params={"k": [5], "c0": [2, 3]}, out="runs/obj", quiet=True)
        self.assertEqual(ds["y"].values.ravel().tolist(), [10, 15])
        with open("runs/obj.toml") as f:
            self.assertIn('function = "../model.py:simulate"', f.read())

    def test_a_lambda_and_a_closure_ship_by_value(self):
        ds = sweep.run(lambda k: {"z": k * 10}, params={"k": [1, 2]}, out="runs/lam", quiet=True)
        self.assertEqual(ds["z"].values.ravel().tolist(), [10, 20])
        offset = 7

        def shifted(k):
            return {"z": k + offset}

        ds = sweep.run(shifted, params={"k": [1, 2]}, quiet=True)
        self.assertEqual(ds["z"].values.ravel().tolist(), [8, 9])
        self.assertTrue(os.path.isfile("runs/shifted.function.pkl"))

    def test_a_changed_function_shipped_by_value_is_refused_then_rerun_or_kept(self):
        ds = sweep.run(lambda k: {"z": k * 10}, params={"k": [1, 2]}, out="runs/ch", quiet=True)
        with open("runs/ch.function.pkl", "rb") as f:
            before = f.read()
        with self.assertRaises(sweep.SweepError) as cm:
            sweep.run(lambda k: {"z": k * 100}, params={"k": [1, 2, 3]}, out="runs/ch", quiet=True)
        self.assertEqual(cm.exception.returncode, 2)
        self.assertIn("changed  ch.function.code", cm.exception.message)
        with open("runs/ch.function.pkl", "rb") as f:
            self.assertEqual(f.read(), before, "the refused call put the old function back")
        # The same function again, in another process: its pickle's bytes may differ (a
        # set's order), its code does not, and the call runs nothing.
        script = "import sweep\nTAGS = {'a', 'b', 'c'}\ndef f(k):\n    return {'n': k + len(TAGS)}\n" \
                 "print(sweep.run(f, params={'k': [1, 2]}, out='runs/st', quiet=True)['n'].values.ravel().tolist())\n"
        with open("st.py", "w") as f:
            f.write(script)
        for _ in range(3):
            r = subprocess.run([sys.executable, "st.py"], capture_output=True, text=True, env=env())
            self.assertEqual((r.returncode, r.stdout.strip()), (0, "[4.0, 5.0]"), r.stderr)
        ds = sweep.run(lambda k: {"z": k * 100}, params={"k": [1, 2, 3]}, out="runs/ch", quiet=True, code_changed="keep")
        self.assertEqual(ds["z"].values.ravel().tolist(), [10, 20, 300])
        self.assertEqual(len(set(ds["code"].values.ravel().tolist())), 2)
        ds = sweep.run(lambda k: {"z": k * 100}, params={"k": [1, 2, 3]}, out="runs/ch", quiet=True, code_changed="rerun")
        self.assertEqual(ds["z"].values.ravel().tolist(), [100, 200, 300])
        self.assertNotIn("code", ds)

    def test_a_0d_array_becomes_a_metric_through_the_binary(self):
        ds = sweep.run(lambda k: {"m": np.asarray(k * 0.5)}, params={"k": [1, 2]}, out="runs/zd", quiet=True)
        self.assertEqual(ds["m"].values.ravel().tolist(), [0.5, 1.0])
        with open("runs/zd/results.csv") as f:
            self.assertIn(",m", f.readline())
        self.assertEqual(os.listdir("runs/zd/tasks") if os.path.isdir("runs/zd/tasks") else [], [])

    def test_a_function_defined_in_main_from_a_script(self):
        with open("script.py", "w") as f:
            f.write(
                textwrap.dedent(
                    """
                    import sweep

                    def square(k, seed):
                        return {"sq": k * k}

                    if __name__ == "__main__":
                        ds = sweep.run(square, params={"k": range(4)}, seed=1, quiet=True)
                        print(ds["sq"].values.ravel().tolist())
                    """
                )
            )
        r = subprocess.run([sys.executable, "script.py"], capture_output=True, text=True, env=env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "[0.0, 1.0, 4.0, 9.0]")

    def test_resume_the_second_call_runs_nothing(self):
        first = self.run_model()
        self.assertEqual(self.calls(), 8)
        second = self.run_model()
        self.assertEqual(self.calls(), 8)
        self.assertTrue(first.identical(second))

    def test_an_extended_grid_runs_the_new_tasks_only(self):
        self.run_model()
        ds = self.run_model(params={"k": [1.0, 2.0, 3.0], "c0": [1, 2]})
        self.assertEqual(self.calls(), 12)
        self.assertEqual(dict(ds.sizes), {"k": 3, "c0": 2, "replicate": 2})

    def test_a_changed_grid_raises_the_clis_message_and_keeps_the_old_spec(self):
        self.run_model()
        with open("runs/m.toml") as f:
            before = f.read()
        with self.assertRaises(sweep.SweepError) as cm:
            self.run_model(seed=4)
        self.assertEqual(cm.exception.returncode, 2)
        self.assertIn("seed changed from 3 to 4", cm.exception.message)
        with open("runs/m.toml") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(self.calls(), 8)

    def test_a_bad_argument_raises_the_specs_message_and_writes_nothing(self):
        with self.assertRaises(sweep.SweepError) as cm:
            sweep.run("model.py:simulate", params={"k": [1], "seed": [2]}, out="runs/bad", quiet=True)
        self.assertIn("a parameter may not be called `seed`", str(cm.exception))
        self.assertTrue(cm.exception.message.startswith("error:"), cm.exception.message)
        self.assertIn("runs/bad.toml:", cm.exception.message)  # the spec's file:line:col
        self.assertEqual(os.listdir("."), ["model.py"])
        for bad in ({"replicates": 0}, {"params": {"k": []}}, {"out": ""}, {"jobs": "2"}):
            args = dict(params={"k": [1]}, out="runs/bad", quiet=True)
            args.update(bad)
            with self.assertRaises(sweep.SweepError, msg=str(bad)):
                sweep.run("model.py:simulate", **args)
            self.assertEqual(os.listdir("."), ["model.py"], bad)

    def test_zip_and_adaptive_replicates_mirror_the_spec(self):
        with open("noisy.py", "w") as f:
            f.write("def noisy(n, h, rng):\n    return {'y': n * h + rng.normal()}\n")
        until = {"metric": "y", "ci95_abs": 1e-9}
        ds = sweep.run(
            "noisy.py:noisy",
            params={"n": [1, 2], "h": [0.5, 0.25]},
            zip=[["n", "h"]],
            replicates={"min": 2, "max": 4, "until": until},
            out="runs/z",
            quiet=True,
        )
        with open("runs/z.toml") as f:
            spec = f.read()
        self.assertIn('zip = [["n", "h"]]', spec)
        self.assertIn('replicates = { min = 2, max = 4, until = { metric = "y", ci95_abs = 1e-09 } }', spec)
        self.assertEqual(dict(ds.sizes), {"n": 2, "replicate": 4})  # one axis, named after n
        self.assertEqual(ds["h"].values.tolist(), [0.5, 0.25])
        self.assertEqual(int((ds["status"] == "done").sum()), 8)

    def test_a_function_that_cannot_be_shipped_says_what_to_do_and_writes_nothing(self):
        import threading

        lock = threading.Lock()

        def locked(k):
            with lock:
                return {"k": k}

        with self.assertRaises(sweep.SweepError) as cm:
            sweep.run(locked, params={"k": [1]}, quiet=True)
        self.assertIn("cannot be shipped", str(cm.exception))
        self.assertIn("in a file", str(cm.exception))
        saved = sys.modules.get("cloudpickle")
        sys.modules["cloudpickle"] = None
        try:
            with self.assertRaises(sweep.SweepError) as cm:
                sweep.run(lambda k: {"k": k}, params={"k": [1]}, quiet=True)
        finally:
            sys.modules["cloudpickle"] = saved
        self.assertIn("pip install cloudpickle", str(cm.exception))
        self.assertEqual(os.listdir("."), ["model.py"])

    def test_a_missing_module_names_the_interpreter_and_why_it_ran(self):
        with open("needs.py", "w") as f:
            f.write("import not_installed_anywhere\n\ndef f(k):\n    return {}\n")
        with self.assertRaises(sweep.SweepError) as cm:
            sweep.run("needs.py:f", params={"k": [1]}, out="runs/needs", quiet=True)
        msg = cm.exception.message
        self.assertIn("No module named 'not_installed_anywhere'", msg)
        self.assertIn(f"(in the interpreter {sys.executable} (the spec's [python] python)", msg)
        self.assertFalse(os.path.exists("runs"), "nothing written")

    def test_failures_carry_the_workers_traceback(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            ds = sweep.run("model.py:simulate", params={"k": [1, 13], "c0": [1]}, out="runs/f")
        self.assertEqual(ds["status"].values.ravel().tolist(), ["done", "failed"])
        # The summary, then the failures as a short table.
        self.assertIn("1 done, 1 failed", err.getvalue())
        self.assertIn("failed tasks (1; sweep.failures('runs/f') has their tracebacks)", err.getvalue())
        self.assertRegex(err.getvalue(), r"[0-9a-f]{16} +13 +1 +error +ValueError: k must not be 13")
        f = sweep.failures("runs/f")
        self.assertEqual(len(f), 1)
        self.assertEqual(f["k"][0], 13)
        self.assertEqual(f["error"][0], "ValueError: k must not be 13")
        self.assertIn("Traceback", f["traceback"][0])
        self.assertIn("simulate", f["traceback"][0])

    def test_sigint_stops_the_run_and_a_second_call_completes(self):
        with open("slow.py", "w") as f:
            f.write(
                textwrap.dedent(
                    """
                    import sys, time
                    import sweep

                    def slow(k):
                        time.sleep(0.2)
                        return {"y": k}

                    if __name__ == "__main__":
                        ds = sweep.run(slow, params={"k": range(40)}, jobs=2, out="runs/slow", quiet=True)
                        print("complete", int((ds["status"] == "done").sum()))
                    """
                )
            )
        p = subprocess.Popen([sys.executable, "slow.py"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
        deadline = time.time() + 60
        while not os.path.exists("runs/slow") and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        self.assertNotEqual(p.returncode, 0, out)
        self.assertIn("KeyboardInterrupt", err)
        self.assertNotIn("complete", out)
        partial = sweep.load("runs/slow")
        done = int((partial["status"] == "done").sum())
        self.assertGreater(done, 0)
        self.assertLess(done, 40)
        r = subprocess.run([sys.executable, "slow.py"], capture_output=True, text=True, env=env(), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "complete 40")

    def test_python_m_sweep_runs_the_binary(self):
        r = subprocess.run([sys.executable, "-m", "sweep", "--version"], capture_output=True, text=True, env=env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^sweep \d+\.\d+\.\d+")

    def test_no_binary_names_all_three_places(self):
        wheel = os.path.join(__import__("sysconfig").get_path("scripts"), "sweep")
        if os.path.exists(wheel):
            self.skipTest(f"a wheel's sweep is installed at {wheel}")
        e = env()
        e["PATH"] = self.dir
        e.pop("SWEEP_BIN", None)
        r = subprocess.run([sys.executable, "-m", "sweep", "--version"], capture_output=True, text=True, env=e)
        self.assertEqual(r.returncode, 2)
        for place in ("wheel", "PATH", "SWEEP_BIN"):
            self.assertIn(place, r.stderr)


if __name__ == "__main__":
    unittest.main()
