"""Tests of the worker driver, python/sweep/_worker.py, through its protocol.

Each test starts the driver as sweep does (``python3 -c <loader> --function ...``, the
driver's source in the environment variable that the loader takes it from), writes
JSON-lines requests to its stdin and reads the replies from its stdout. The functions
swept are in fixtures/model.py.

    python3 -m unittest discover -s python/tests -v
"""

import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
DRIVER = os.path.join(PYTHON_DIR, "sweep", "_worker.py")
RAW_WORKER = os.path.join(PYTHON_DIR, "examples", "raw_worker.py")
FIXTURES = os.path.join(HERE, "fixtures")
with open(DRIVER, encoding="utf-8") as f:
    SOURCE = f.read()

# How sweep starts a worker (src/worker/python.rs): a short loader on the command line, and
# the driver's source in an environment variable, which the loader removes.
DRIVER_VAR = "SWEEP_WORKER_DRIVER"
LOADER = f"import os, sys; exec(compile(os.environ.pop('{DRIVER_VAR}'), 'sweep-worker', 'exec'))"


def driver_argv(*args):
    """The command line of a driver started as sweep starts it, with `args` after -c."""
    return [sys.executable, "-c", LOADER, *args]


SEED = 7715563472341002891  # above 2**62: JSON ints that must come through exactly
SEED32 = 123456789
TASK = "a913da2afb6c7eb4"
TIMEOUT = 30  # seconds any one read may take before a test fails instead of hanging


class Driver:
    """One driver process and a line reader over its stdout."""

    def __init__(self, function, params, base=FIXTURES, cwd=None, argv=None, preexec_fn=None, pythonpath=None):
        self.stderr = tempfile.TemporaryFile()
        if argv is None:
            argv = driver_argv("--function", function, "--base", base, "--params", json.dumps(params))
        # Python's own buffering, as when sweep's user has not asked for unbuffered output.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        if pythonpath is not None:
            env["PYTHONPATH"] = pythonpath
        if LOADER in argv:
            env[DRIVER_VAR] = SOURCE
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=cwd,
            env=env,
            bufsize=0,
            preexec_fn=preexec_fn,
        )
        self.buf = b""

    def line(self, timeout=TIMEOUT):
        """The next line of stdout as JSON; None at EOF. A reply's "seconds" (how long the
        call took) is checked and taken out, so that tests compare the rest exactly."""
        msg = self.raw_line(timeout)
        if isinstance(msg, dict) and "id" in msg and ("metrics" in msg or "error" in msg) and "seconds" in msg:
            seconds = msg.pop("seconds")
            assert type(seconds) is float and 0 <= seconds < 60, msg
        return msg

    def raw_line(self, timeout=TIMEOUT):
        """The next line of stdout as JSON, as it is; None at EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                raise AssertionError(f"no reply within {timeout} s; stderr: {self.err()!r}")
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                if self.buf:
                    raise AssertionError(f"stdout ended inside a line: {self.buf!r}")
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def send(self, *requests):
        """Writes requests (dicts, or str/bytes lines as they are) in one write."""
        data = b""
        for r in requests:
            if isinstance(r, dict):
                r = json.dumps(r)
            if isinstance(r, str):
                r = r.encode()
            data += r + b"\n"
        if len(data) < 32 * 1024:
            self.proc.stdin.write(data)
            return
        # More than a pipe holds: written from a thread, so that the replies it provokes can
        # be read meanwhile (the driver blocks once its reply pipe is full).
        threading.Thread(target=self.proc.stdin.write, args=(data,), daemon=True).start()

    def close(self):
        """Closes stdin and returns the exit status."""
        self.proc.stdin.close()
        return self.proc.wait(timeout=TIMEOUT)

    def err(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.stderr.close()


class WorkerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sweep-worker-test-")
        self.drivers = []

    def tearDown(self):
        for d in self.drivers:
            d.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, function, params=("x",), **kw):
        """A started driver whose handshake has been read and checked to be a success."""
        d = self.spawn(function, params, **kw)
        hello = d.line()
        self.assertNotIn("error", hello, hello)
        return d

    def spawn(self, function, params=("x",), **kw):
        d = Driver(function, list(params), **kw)
        self.drivers.append(d)
        return d

    def out(self, rid):
        return os.path.join(self.tmp, "tasks", f"t{rid}", "attempt-1")

    def req(self, rid, **params):
        """A request as sweep writes it, with this test's out directory for `rid`."""
        return {
            "id": rid,
            "task": TASK,
            "params": params,
            "seed": SEED,
            "seed_str": str(SEED),
            "seed32": SEED32,
            "replicate": 0,
            "attempt": 1,
            "out": self.out(rid),
        }

    def call(self, function, params=None, **kw):
        """Starts a driver for `function`, sends one request with `params` (default
        x=2), and returns the reply; the driver must then exit 0 at EOF."""
        params = {"x": 2} if params is None else params
        d = self.start(function, params=list(params), **kw)
        d.send(self.req(1, **params))
        reply = d.line()
        self.assertEqual(reply["id"], 1)
        self.assertEqual(d.close(), 0, d.err())
        return reply

    def metrics(self, function, params=None, **kw):
        reply = self.call(function, params, **kw)
        self.assertNotIn("error", reply, reply.get("detail"))
        return reply["metrics"]

    def failure(self, function, params=None, **kw):
        reply = self.call(function, params, **kw)
        self.assertIn("error", reply, reply)
        self.assertNotIn("metrics", reply)
        return reply

    def startup_error(self, function, params=("x",), **kw):
        """The error handshake of a driver that must fail to start, with exit status 2."""
        d = self.spawn(function, params, **kw)
        hello = d.line()
        self.assertEqual(hello["sweep_worker"], 1)
        self.assertIn("error", hello)
        self.assertIn("detail", hello)
        self.assertNotIn("pid", hello)
        self.assertIsNone(d.line(), "nothing after the error handshake")
        self.assertEqual(d.proc.wait(timeout=TIMEOUT), 2)
        return hello

    def files(self, rid):
        out = self.out(rid)
        return sorted(os.listdir(out)) if os.path.isdir(out) else None

    def read(self, rid, name):
        with open(os.path.join(self.out(rid), name), encoding="utf-8") as f:
            return f.read()


class Handshake(WorkerTest):
    def test_fields(self):
        d = self.spawn("model.py:square")
        hello = d.line()
        self.assertIn("code", hello)
        del hello["code"]  # test_the_handshake_reports_the_code
        self.assertEqual(
            hello,
            {
                "sweep_worker": 1,
                "pid": d.proc.pid,
                "python": sys.version,
                "executable": sys.executable,
                "function": "square",
                "extras": [],
            },
        )
        self.assertEqual(d.close(), 0)

    def test_the_handshake_reports_the_code(self):
        # The project's files the import loaded, by real path; numpy (installed) by version.
        d = self.spawn("model.py:square")
        code = d.line()["code"]
        real = os.path.realpath(FIXTURES)
        self.assertEqual(code["files"], [os.path.join(real, "model.py"), os.path.join(real, "sibling_helper.py")])
        self.assertEqual(code["packages"].get("numpy"), np.__version__)
        self.assertNotIn("sweep", code["packages"])
        self.assertEqual(d.close(), 0)

    def test_the_handshake_names_the_extras_the_function_takes(self):
        d = self.spawn("model.py:with_out")
        self.assertEqual(d.line()["extras"], ["out"])
        self.assertEqual(d.close(), 0)

    def test_eof_right_away_exits_0(self):
        d = self.start("model.py:square")
        self.assertEqual(d.close(), 0)
        self.assertIsNone(d.line())

    def test_import_time_output_goes_to_stderr_not_the_protocol(self):
        d = self.spawn("noisy_import.py:simulate")
        hello = d.line()  # the first line must be the handshake, intact
        self.assertEqual(hello["pid"], d.proc.pid)
        d.send(self.req(1, x=3))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 3}}, "no files, no `files`")
        self.assertEqual(d.close(), 0)
        err = d.err()
        for text in ("print at import", "print to stderr at import", "fd 1 at import", "printf at import"):
            self.assertIn(text, err)
        self.assertIsNone(self.files(1), "a task that prints nothing writes no files")

    def test_runs_with_its_source_on_the_command_line(self):
        argv = [sys.executable, "-c", SOURCE, "--function", "model.py:square", "--base", FIXTURES, "--params", '["x"]']
        d = self.spawn(None, argv=argv)
        self.assertEqual(d.line()["pid"], d.proc.pid)
        d.send(self.req(1, x=4))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 16}})
        self.assertEqual(d.close(), 0)

    def test_runs_as_a_script_file_too(self):
        argv = [sys.executable, DRIVER, "--function", "model.py:square", "--base", FIXTURES, "--params", '["x"]']
        d = self.spawn(None, argv=argv)
        self.assertEqual(d.line()["pid"], d.proc.pid)
        d.send(self.req(1, x=4))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 16}})
        self.assertEqual(d.close(), 0)

    def test_source_fits_in_one_command_line_argument(self):
        # Linux caps one argv or environment string at 128 KiB (MAX_ARG_STRLEN); sweep passes
        # the source as one.
        self.assertLess(len(SOURCE.encode()), 100 * 1024)
        self.assertNotIn("\0", SOURCE)

    def test_importable_as_sweep_worker(self):
        code = "import sweep._worker as w; print(callable(w.main), w.PROTOCOL, w.EXTRAS)"
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=PYTHON_DIR, capture_output=True, text=True, timeout=TIMEOUT
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "True 1 ('seed', 'seed32', 'rng', 'out', 'replicate', 'task')")


class StartupErrors(WorkerTest):
    def test_missing_module(self):
        hello = self.startup_error("imports_missing.py:simulate")
        self.assertEqual(hello["error"], "ModuleNotFoundError: No module named 'scipyy'")
        self.assertTrue(hello["detail"].startswith("Traceback (most recent call last):\n"), hello["detail"])
        self.assertIn("imports_missing.py", hello["detail"])
        self.assertIn("import scipyy", hello["detail"])
        self.assertNotIn("sweep-worker", hello["detail"], "the driver's frames are dropped")
        self.assertNotIn("importlib", hello["detail"])

    def test_rng_without_numpy_says_why_numpy_is_needed(self):
        hello = self.startup_error("pure_rng.py:simulate", pythonpath=os.path.join(FIXTURES, "no_numpy"))
        self.assertEqual(
            hello["error"],
            "simulate() takes `rng`, a numpy Generator, but ModuleNotFoundError: No module named 'numpy' "
            f"for {sys.executable}; install numpy there, or take `seed` instead of `rng`",
        )

    def test_syntax_error(self):
        hello = self.startup_error("broken_syntax.py:simulate")
        self.assertEqual(hello["error"], "SyntaxError: invalid syntax (broken_syntax.py, line 4)")
        self.assertIn("broken_syntax.py", hello["detail"])
        self.assertIn('return {"y": k +}', hello["detail"])
        self.assertIn("^", hello["detail"])
        self.assertTrue(hello["detail"].endswith("SyntaxError: invalid syntax\n"), hello["detail"])

    def test_exception_at_import(self):
        hello = self.startup_error("raises_at_import.py:simulate")
        self.assertEqual(hello["error"], "RuntimeError: no licence server")
        self.assertTrue(hello["detail"].startswith("Traceback (most recent call last):\n"))
        self.assertIn("in helper", hello["detail"])
        self.assertTrue(hello["detail"].endswith("RuntimeError: no licence server\n"))

    def test_missing_function(self):
        hello = self.startup_error("model.py:simulat")
        self.assertEqual(hello["error"], "model.py has no function `simulat`; did you mean `simulate`?")
        self.assertIn("square", hello["detail"])

    def test_not_callable(self):
        hello = self.startup_error("model.py:not_a_function")
        self.assertEqual(hello["error"], "model.py: `not_a_function` is a float, not a function")

    def test_required_parameter_that_sweep_does_not_pass(self):
        hello = self.startup_error("model.py:needs_dt", ["x"])
        self.assertEqual(
            hello["error"],
            "needs_dt() requires `dt`, which is not a parameter of this sweep; "
            "add it to the spec's parameters, or give it a default",
        )
        self.assertIn("(parameters: `x`)", hello["detail"])

    def test_parameter_that_the_function_does_not_take(self):
        hello = self.startup_error("model.py:only_x", ["x", "c0"])
        self.assertEqual(hello["error"], "only_x() has no parameter `c0`; add it, or **kwargs")
        hello = self.startup_error("model.py:only_x", ["k", "x", "c0"])
        self.assertEqual(hello["error"], "only_x() has no parameters `k`, `c0`; add them, or **kwargs")

    def test_parameter_named_like_an_extra(self):
        hello = self.startup_error("model.py:with_kwargs", ["x", "seed"])
        self.assertEqual(
            hello["error"],
            "parameter `seed` has the name of a value sweep passes itself "
            "(seed, seed32, rng, out, replicate, task); rename the parameter",
        )

    def test_positional_only_parameter(self):
        hello = self.startup_error("model.py:positional_only", ["x"])
        self.assertEqual(
            hello["error"],
            "positional_only() takes `x` positional-only (before `/`), but sweep passes everything by name; "
            "remove the `/`",
        )

    def test_async_function(self):
        hello = self.startup_error("model.py:coroutine")
        self.assertTrue(hello["error"].startswith("coroutine() is async;"), hello["error"])

    def test_missing_file(self):
        hello = self.startup_error("nothere.py:f")
        self.assertEqual(hello["error"], f"FileNotFoundError: {os.path.join(FIXTURES, 'nothere.py')} does not exist")

    def test_missing_package_module(self):
        hello = self.startup_error("sweeppkg.nothere:f")
        self.assertEqual(hello["error"], "ModuleNotFoundError: No module named 'sweeppkg.nothere'")

    def test_bad_command_lines(self):
        hello = self.startup_error("model.py", ["x"])
        self.assertIn("must be path/to/model.py:function or package.module:function", hello["error"])
        d = self.spawn(None, argv=driver_argv("--function", "model.py:square"))
        self.assertIn("--base is missing", d.line()["error"])
        self.assertEqual(d.proc.wait(timeout=TIMEOUT), 2)
        d = self.spawn(None, argv=driver_argv("--function=model.py:square", "--base", FIXTURES, "--params", "x"))
        self.assertIn("--params is not JSON", d.line()["error"])
        self.assertEqual(d.proc.wait(timeout=TIMEOUT), 2)


class Specs(WorkerTest):
    def test_file_form_with_a_sibling_import(self):
        self.assertEqual(self.metrics("model.py:uses_sibling", {"x": 21}), {"y": 42})

    def test_relative_file_resolves_against_base_not_cwd(self):
        base = os.path.join(self.tmp, "spec")
        shutil.copytree(FIXTURES, os.path.join(base, "models"), ignore=shutil.ignore_patterns("__pycache__"))
        m = self.metrics("models/model.py:square", {"x": 3}, base=base, cwd=self.tmp)
        self.assertEqual(m, {"y": 9})

    def test_absolute_file_path(self):
        spec = os.path.join(FIXTURES, "model.py") + ":square"
        self.assertEqual(self.metrics(spec, {"x": 5}, base=self.tmp, cwd=self.tmp), {"y": 25})

    def test_modules_in_the_current_directory_do_not_shadow_the_drivers(self):
        for name in ("json", "random", "inspect", "tempfile"):
            with open(os.path.join(self.tmp, name + ".py"), "w") as f:
                f.write("raise RuntimeError('shadowed')\n")
        self.assertEqual(self.metrics("model.py:square", {"x": 3}, cwd=self.tmp), {"y": 9})

    def test_package_form(self):
        self.assertEqual(self.metrics("sweeppkg.models:shifted", {"x": 1}, cwd=self.tmp), {"y": 101})

    def test_dotted_function_name(self):
        self.assertEqual(self.metrics("model.py:Model.run", {"x": 1}), {"y": -1})

    def test_several_parameters(self):
        self.assertEqual(self.metrics("model.py:simulate", {"k": 1.0, "c0": 2.0}), {"c_final": 2.0 * math.exp(-1.0)})


class Extras(WorkerTest):
    def test_seed_is_the_exact_u64(self):
        self.assertEqual(self.metrics("model.py:with_seed"), {"seed": SEED, "type": "int"})

    def test_seed32(self):
        self.assertEqual(self.metrics("model.py:with_seed32"), {"seed32": SEED32})

    def test_rng_is_pcg64_from_the_seed(self):
        reply = self.call("model.py:with_rng")
        rng = np.random.Generator(np.random.PCG64(SEED))
        self.assertEqual(reply["metrics"], {"u": float(rng.random()), "n": int(rng.integers(1 << 62))})
        self.assertEqual(reply["arrays"], ["draws"])
        np.testing.assert_array_equal(np.load(os.path.join(self.out(1), "draws.npy")), rng.normal(size=5))

    def test_out_is_a_path_created_only_when_asked_for(self):
        reply = self.call("model.py:with_out", None)
        self.assertEqual(reply["metrics"], {"is_path": True, "is_dir": True, "out": self.out(1)})
        self.assertIs(reply["files"], True, "sweep moves a task's out into place only when told")
        self.assertEqual(self.files(1), ["note.txt"])

    def test_no_out_directory_for_a_function_without_out(self):
        self.assertEqual(self.call("model.py:with_seed"), {"id": 1, "metrics": {"seed": SEED, "type": "int"}})
        self.assertFalse(os.path.exists(self.out(1)))
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "tasks")))

    def test_replicate_and_task(self):
        d = self.start("model.py:with_replicate")
        d.send(dict(self.req(1, x=0), replicate=4))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"replicate": 4}})
        d.close()
        self.assertEqual(self.metrics("model.py:with_task"), {"task": TASK})

    def test_kwargs_gets_every_extra(self):
        m = self.metrics("model.py:with_kwargs")
        self.assertEqual(
            m,
            {
                "names": "out,replicate,rng,seed,seed32,task,x",
                "x": 2,
                "seed": SEED,
                "seed32": SEED32,
                "rng": "Generator",
                "out": self.out(1),
                "replicate": 0,
                "task": TASK,
            },
        )

    def test_extra_with_a_default_is_passed_and_other_defaults_kept(self):
        self.assertEqual(self.metrics("model.py:with_default_extra"), {"seed": SEED, "tag": "t"})

    def test_unknown_request_fields_are_ignored(self):
        d = self.start("model.py:square")
        d.send(dict(self.req(1, x=3), future_field={"a": [1]}))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 9}})
        d.close()


class Returns(WorkerTest):
    def test_scalars(self):
        m = self.metrics("model.py:scalars")
        self.assertTrue(math.isnan(m.pop("nan")))
        self.assertEqual(
            m,
            {
                "inf": math.inf,
                "ninf": -math.inf,
                "t": True,
                "f": False,
                "none": None,
                "s": "text é",
                "i": 3,
                "big": 2**64 - 1,
                "neg": -0.0,
                "tiny": 5e-324,
            },
        )
        self.assertIs(m["t"], True)
        self.assertEqual(math.copysign(1.0, m["neg"]), -1.0)

    def test_what_sweep_cannot_read_is_sent_as_text_it_can(self):
        # Regression (#24): a lone surrogate or an int of 10**309 made a reply sweep could
        # not read, and 2**70 + 1 became a float.
        d = self.start("model.py:beyond_what_sweep_reads")
        d.send(self.req(1, x=0))
        raw = d.proc.stdout.readline()
        raw.decode("utf-8", "strict")
        m = json.loads(raw)["metrics"]
        self.assertEqual(m["name"], "a\\udc80b")
        self.assertEqual(m["b\\udc81"], 1)
        self.assertEqual(m["huge"], str(10**309))
        self.assertEqual(m["big"], "1180591620717411303425")
        self.assertEqual(m["under"], str(-(2**63) - 1))
        self.assertEqual((m["u64"], m["i64"], m["np_big"]), (2**64 - 1, -(2**63), 2**64 - 1))
        for s in (m["name"], *m):
            s.encode("utf-8", "strict")

    def test_scalars_on_the_wire_use_nan_and_infinity_tokens(self):
        d = self.start("model.py:scalars")
        d.send(self.req(1, x=0))
        raw = d.proc.stdout.readline()
        self.assertIn(b'"nan":NaN', raw)
        self.assertIn(b'"inf":Infinity', raw)
        self.assertIn(b'"ninf":-Infinity', raw)
        d.close()

    def test_numpy_scalars(self):
        m = self.metrics("model.py:numpy_scalars")
        self.assertTrue(math.isnan(m.pop("nan")))
        self.assertEqual(m, {"f64": 0.1, "f32": 0.5, "i64": -3, "u64": 2**64 - 1, "b": True, "s": "numpy text"})
        self.assertIs(m["b"], True)

    def test_a_0d_array_is_a_metric_not_an_npy_file(self):
        reply = self.call("model.py:zero_d")
        self.assertEqual(reply["metrics"], {"mean": 2.5, "n": 3, "s": "text"})
        self.assertEqual(reply["arrays"], ["a"])

    def test_np_random_seed_of_a_64_bit_seed_hints_at_seed32(self):
        reply = self.failure("model.py:legacy_seed")
        self.assertIn("Seed must be between 0 and 2**32 - 1", reply["error"])
        self.assertIn("ask for `seed32` instead", reply["error"])

    def test_nested_dicts_are_flattened_with_dots(self):
        m = self.metrics("model.py:nested")
        self.assertEqual(m, {"a": 1, "fit.k": 0.5, "fit.stats.r2": 0.9, "fit.stats.n": 10, "b": None})
        self.assertEqual(list(m), ["a", "fit.k", "fit.stats.r2", "fit.stats.n", "b"], "in the order returned")

    def test_arrays_are_written_as_npy(self):
        reply = self.call("model.py:arrays")
        self.assertEqual(reply["metrics"], {"n": 3})
        self.assertEqual(reply["arrays"], ["c", "m", "fit.resid", "flags", "f32"])
        self.assertIs(reply["files"], True)
        self.assertEqual(self.files(1), ["c.npy", "f32.npy", "fit.resid.npy", "flags.npy", "m.npy"])
        expect = {
            "c": np.linspace(0.0, 1.0, 7) ** 3,
            "m": np.arange(6, dtype=np.int32).reshape(2, 3),
            "fit.resid": np.array([1e-300, -2.5, np.nan, np.inf]),
            "flags": np.array([True, False]),
            "f32": np.arange(4, dtype=np.float32)[::-1],
        }
        for name, want in expect.items():
            got = np.load(os.path.join(self.out(1), name + ".npy"))
            self.assertEqual(got.dtype, want.dtype, name)
            self.assertEqual(got.shape, want.shape, name)
            self.assertEqual(got.tobytes(), want.tobytes(), name)  # bit for bit, NaN too
        self.assertEqual(np.load(os.path.join(self.out(1), "m.npy")).shape, (2, 3))

    def test_none_is_no_metrics(self):
        reply = self.call("model.py:returns_none")
        self.assertEqual(reply, {"id": 1, "metrics": {}})
        self.assertIsNone(self.files(1))

    def bad(self, function, error):
        reply = self.failure(function)
        self.assertEqual(reply["error"], error)
        self.assertIn(error, reply["detail"])
        self.assertIn(error, self.read(1, "stderr.txt"))
        return reply

    def test_bad_top_level_returns(self):
        self.bad(
            "model.py:returns_float", "returns_float() returned a float; return a dict of metrics and arrays, or None"
        )
        self.bad(
            "model.py:returns_list", "returns_list() returned a list; return a dict of metrics and arrays, or None"
        )

    def test_bad_values(self):
        self.bad(
            "model.py:returns_list_value",
            "returns_list_value() returned a list for `c`; return a numpy array (numpy.asarray(c))",
        )
        self.bad(
            "model.py:returns_tuple_value",
            "returns_tuple_value() returned a tuple for `c`; return a numpy array (numpy.asarray(c))",
        )
        self.bad(
            "model.py:returns_set_value",
            "returns_set_value() returned a set for `c`; return a numpy array (numpy.array(sorted(c)))",
        )
        self.bad(
            "model.py:returns_object_value",
            "returns_object_value() returned an object for `when`; "
            "return a number, str, bool, None, numpy array or dict",
        )
        self.bad(
            "model.py:returns_complex_value",
            "returns_complex_value() returned a complex for `z`; return its parts as two metrics (z.real, z.imag)",
        )
        self.bad(
            "model.py:returns_nested_list",
            "returns_nested_list() returned a list for `fit.k`; return a numpy array (numpy.asarray(k))",
        )

    def test_bad_arrays_and_names(self):
        self.bad(
            "model.py:returns_object_array",
            "returns_object_array() returned an array of dtype object for `a`; .npy files of Python objects "
            "need pickle, which sweep does not read: return a numeric, bool or string array",
        )
        self.bad(
            "model.py:returns_int_key",
            "returns_int_key() returned a dict with the key 1 (int); names of metrics and arrays must be strings",
        )
        self.bad(
            "model.py:returns_slash_array",
            "returns_slash_array() returned an array named `a/b`, which cannot be a file name (a/b.npy); "
            "name it without '/'",
        )
        self.bad(
            "model.py:returns_duplicate",
            "returns_duplicate() returned `fit.k` twice (a nested dict's keys joined with dots give a name "
            "that is already used); rename one",
        )
        self.assertEqual(self.files(1), ["stderr.txt"], "a bad return writes no arrays")


class Failures(WorkerTest):
    def test_exception_fails_only_its_task(self):
        d = self.start("model.py:simulate", ["k", "c0"])
        d.send(self.req(1, k=-1.0, c0=1.0), self.req(2, k=1.0, c0=1.0))
        fail, ok = d.line(), d.line()
        self.assertEqual(sorted(fail), ["detail", "error", "id"])
        self.assertEqual(fail["id"], 1)
        self.assertEqual(fail["error"], "ValueError: k must be > 0")
        detail = fail["detail"]
        self.assertTrue(detail.startswith("Traceback (most recent call last):\n  File "), detail)
        self.assertIn("model.py", detail.splitlines()[1], "the first frame is the user's")
        self.assertNotIn("sweep-worker", detail)
        self.assertNotIn("_worker", detail)
        self.assertTrue(detail.endswith("ValueError: k must be > 0\n"))
        self.assertEqual(self.read(1, "stderr.txt"), detail)
        self.assertEqual(ok, {"id": 2, "metrics": {"c_final": math.exp(-1.0)}})
        self.assertIsNone(self.files(2))
        self.assertEqual(d.close(), 0)

    def test_captured_stderr_comes_before_the_traceback(self):
        reply = self.failure("model.py:prints_then_fails")
        self.assertEqual(reply["error"], "RuntimeError: boom")
        self.assertEqual(self.read(1, "stderr.txt"), "about to fail\n" + reply["detail"])
        self.assertEqual(self.files(1), ["stderr.txt"])

    def test_sys_exit_fails_the_task_not_the_worker(self):
        d = self.start("model.py:calls_exit")
        d.send(self.req(1, x=0), self.req(2, x=0))
        self.assertEqual(d.line()["error"], "SystemExit: 3")
        self.assertEqual(d.line()["error"], "SystemExit: 3")
        self.assertEqual(d.close(), 0)

    def test_wrong_parameter_at_run_time(self):
        d = self.start("model.py:square")
        d.send({"id": 1, "task": TASK, "params": {"y": 1}, "seed": 1, "seed32": 1, "replicate": 0, "out": self.out(1)})
        reply = d.line()
        self.assertEqual(reply["error"], "TypeError: square() got an unexpected keyword argument 'y'")
        self.assertEqual(d.close(), 0)


class Output(WorkerTest):
    def test_every_kind_of_write_lands_in_out(self):
        d = self.start("model.py:prints")
        d.send(self.req(1, x=7))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 7}, "files": True})
        self.assertEqual(self.read(1, "stdout.txt"), "print to stdout 7\nos.write to fd 1\n")
        self.assertEqual(self.read(1, "stderr.txt"), "print to stderr 7\nos.write to fd 2\n")
        d.send(self.req(2, x=8))
        self.assertEqual(d.line(), {"id": 2, "metrics": {"y": 8}, "files": True})
        self.assertEqual(self.read(2, "stdout.txt"), "print to stdout 8\nos.write to fd 1\n", "nothing of task 1")
        self.assertEqual(d.close(), 0)
        self.assertIsNone(d.line(), "nothing but replies on the protocol")
        self.assertEqual(d.err(), "", "nothing reaches the real stderr after the handshake")

    def test_c_level_printf(self):
        d = self.start("model.py:c_printf")
        d.send(self.req(1, x=42), self.req(2, x=43))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 42}, "files": True})
        self.assertEqual(d.line(), {"id": 2, "metrics": {"y": 43}, "files": True})
        self.assertEqual(self.read(1, "stdout.txt"), "printf from C 42\n")
        self.assertEqual(self.read(2, "stdout.txt"), "printf from C 43\n")
        self.assertEqual(self.files(1), ["stdout.txt"])
        self.assertEqual(d.close(), 0)
        self.assertIsNone(d.line(), "nothing but replies on the protocol")

    def test_a_stream_kept_from_import_time_writes_into_the_task_that_wrote(self):
        d = self.start("model.py:prints_to_the_stream_of_import_time")
        d.send(self.req(1, x=1), self.req(2, x=2))
        self.assertEqual([d.line()["id"], d.line()["id"]], [1, 2])
        self.assertEqual(self.read(1, "stdout.txt"), "to the old stdout 1\n")
        self.assertEqual(self.read(2, "stdout.txt"), "to the old stdout 2\n")
        self.assertEqual(d.close(), 0)

    def test_print_without_newline_is_flushed_after_the_task(self):
        self.assertEqual(self.call("model.py:prints_no_newline"), {"id": 1, "metrics": {"y": 2}, "files": True})
        self.assertEqual(self.read(1, "stdout.txt"), "no newline")

    def test_quiet_tasks_write_no_files(self):
        d = self.start("model.py:fails_when_negative")
        d.send(self.req(1, x=-1), self.req(2, x=1))
        self.assertIn("error", d.line())
        self.assertEqual(d.line(), {"id": 2, "metrics": {"y": 1}})
        self.assertEqual(self.files(1), ["stderr.txt"])
        self.assertIsNone(self.files(2))
        self.assertEqual(d.close(), 0)

    def test_a_task_that_closes_fd_1_does_not_lose_the_next_tasks_output(self):
        d = self.start("model.py:closes_stdout")
        d.send(self.req(1, x=1), self.req(2, x=2))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 1}})
        self.assertEqual(d.line(), {"id": 2, "metrics": {"y": 2}, "files": True})
        self.assertEqual(self.read(2, "stdout.txt"), "printed by task 2\n")
        self.assertEqual(d.close(), 0)

    def test_output_printed_after_closing_fd_1_stays_with_its_task(self):
        d = self.start("model.py:closes_stdout_then_prints")
        d.send(self.req(1, x=1), self.req(2, x=2))
        first = d.line()
        self.assertEqual(first["error"], "OSError: [Errno 9] Bad file descriptor", first)
        self.assertEqual(d.line(), {"id": 2, "metrics": {"y": 2}, "files": True})
        self.assertEqual(self.read(2, "stdout.txt"), "printed by task 2\n")
        self.assertEqual(self.read(1, "stdout.txt"), "printed by task 1 after closing fd 1\n")
        self.assertEqual(d.close(), 0)

    def test_stdin_of_a_task_is_empty(self):
        d = self.start("model.py:reads_stdin")
        d.send(self.req(1, x=0), self.req(2, x=0))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"text": "", "raw": ""}})
        self.assertEqual(d.line(), {"id": 2, "metrics": {"text": "", "raw": ""}}, "no request was eaten")
        self.assertEqual(d.close(), 0)


class Protocol(WorkerTest):
    def test_pipelined_requests_are_answered_in_order(self):
        d = self.start("model.py:fails_when_negative")
        n = 1000
        d.send(*(self.req(i, x=(i if i % 7 else -i)) for i in range(1, n + 1)))
        for i in range(1, n + 1):
            reply = d.line()
            self.assertEqual(reply["id"], i)
            if i % 7:
                self.assertEqual(reply["metrics"], {"y": i})
            else:
                self.assertEqual(reply["error"], f"ValueError: x must be >= 0, got {-i}")
        self.assertEqual(d.close(), 0)

    def test_requests_split_across_writes(self):
        d = self.start("model.py:square")
        line = json.dumps(self.req(1, x=3)).encode() + b"\n"
        for i in range(0, len(line), 10):
            d.proc.stdin.write(line[i : i + 10])
            time.sleep(0.01)
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 9}})
        d.close()

    def test_invalid_json_gets_a_protocol_error_and_the_worker_goes_on(self):
        d = self.start("model.py:square")
        d.send(
            "{not json",
            self.req(2, x=2),
            "",
            "   ",
            '{"id": 3}',
            "[1, 2]",
            '{"id": 5, "params": [1]}',
            self.req(4, x=4),
        )
        bad = d.line()
        self.assertIsNone(bad["id"])
        self.assertTrue(bad["error"].startswith("protocol: request is not JSON"), bad)
        self.assertEqual(d.line(), {"id": 2, "metrics": {"y": 4}})
        self.assertEqual(d.line(), {"id": 3, "error": "protocol: the request has no `params`"})
        self.assertEqual(d.line(), {"id": None, "error": "protocol: a request is a JSON object, not a list"})
        self.assertEqual(d.line(), {"id": 5, "error": "protocol: the request's `params` is not an object"})
        self.assertEqual(d.line(), {"id": 4, "metrics": {"y": 16}})
        self.assertEqual(d.close(), 0)

    def test_eof_answers_what_is_outstanding_then_exits_0(self):
        d = self.start("model.py:sleeps")
        d.send(self.req(1, x=0.2), self.req(2, x=0), self.req(3, x=0))
        d.proc.stdin.close()  # while task 1 still runs
        self.assertEqual([d.line()["id"] for _ in range(3)], [1, 2, 3])
        self.assertIsNone(d.line())
        self.assertEqual(d.proc.wait(timeout=TIMEOUT), 0)

    def test_last_line_without_newline(self):
        d = self.start("model.py:square")
        d.proc.stdin.write(json.dumps(self.req(1, x=5)).encode())
        d.proc.stdin.close()
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 25}})
        self.assertEqual(d.proc.wait(timeout=TIMEOUT), 0)

    def test_slow_tasks_are_reported_as_they_finish(self):
        d = self.start("model.py:sleeps")
        t0 = time.monotonic()
        d.send(self.req(1, x=0.2), self.req(2, x=3.0))  # one write: both in the same read
        self.assertEqual(d.line(timeout=2.5)["id"], 1)
        self.assertLess(time.monotonic() - t0, 2.5, "the first reply did not wait for the second task")
        self.assertEqual(d.line()["id"], 2)
        d.close()

    def test_a_forked_child_does_not_hold_the_protocol_open(self):
        d = self.start("model.py:forks_a_sleeper")
        d.send(self.req(1, x=10))
        child = d.line()["metrics"]["child"]
        try:
            d.proc.stdin.close()
            self.assertEqual(d.proc.wait(timeout=TIMEOUT), 0)
            self.assertIsNone(d.line(timeout=3), "EOF on the replies while the child still sleeps")
        finally:
            os.kill(child, signal.SIGKILL)

    def test_a_fast_tasks_reply_does_not_wait_for_the_slow_task_after_it(self):
        # Both in one read; the first takes microseconds, so its reply is batched, and the
        # batch must go out while the second still runs (or sweep, seeing no reply, would
        # run the first again if the second then crashed or timed out).
        d = self.start("model.py:sleeps")
        t0 = time.monotonic()
        d.send(self.req(1, x=0), self.req(2, x=3.0))
        self.assertEqual(d.line(timeout=2.5)["id"], 1)
        self.assertLess(time.monotonic() - t0, 2.5, "the first reply waited for the second task")
        self.assertEqual(d.line()["id"], 2)
        d.close()

    def test_replies_go_out_every_16_tasks_without_waiting_for_the_rest(self):
        # sweep sends more requests once half its window has come back; 16 fast tasks
        # must not wait for the slow 17th of the same read.
        d = self.start("model.py:sleeps")
        t0 = time.monotonic()
        d.send(*(self.req(i, x=0) for i in range(1, 17)), self.req(17, x=3.0))
        self.assertEqual([d.line(timeout=2.5)["id"] for _ in range(16)], list(range(1, 17)))
        self.assertLess(time.monotonic() - t0, 2.5)
        self.assertEqual(d.line()["id"], 17)
        d.close()

    def test_sigint_is_ignored_and_sigterm_ends_the_worker(self):
        d = self.start("model.py:square")
        d.proc.send_signal(signal.SIGINT)
        time.sleep(0.1)
        d.send(self.req(1, x=3))
        self.assertEqual(d.line(), {"id": 1, "metrics": {"y": 9}})
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=TIMEOUT), -signal.SIGTERM)

    def test_sigterm_ends_the_worker_even_if_ignored_by_its_parent(self):
        def ignore_sigterm():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)

        argv = driver_argv("--function", "model.py:square", "--base", FIXTURES, "--params", '["x"]')
        d = Driver(None, None, argv=argv, preexec_fn=ignore_sigterm)
        self.drivers.append(d)
        self.assertIn("pid", d.line())
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=TIMEOUT), -signal.SIGTERM)


class RawExample(WorkerTest):
    def test_raw_worker_speaks_the_protocol(self):
        d = self.spawn(None, argv=[sys.executable, RAW_WORKER])
        hello = d.line()
        self.assertEqual(
            hello, {"sweep_worker": 1, "pid": d.proc.pid, "python": sys.version, "executable": sys.executable}
        )
        d.send(*(self.req(i, x=i / 2) for i in range(100)), self.req(100, y=1))
        for i in range(100):
            self.assertEqual(d.line(), {"id": i, "metrics": {"y": (i / 2) ** 2}})
        self.assertEqual(d.line()["error"], "TypeError: model() got an unexpected keyword argument 'y'")
        self.assertEqual(d.close(), 0)

    def test_raw_worker_is_short(self):
        with open(RAW_WORKER, encoding="utf-8") as f:
            self.assertLess(len(f.read().splitlines()), 30)


if __name__ == "__main__":
    unittest.main()
