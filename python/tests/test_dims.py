"""`[output] dims` through the built binary ($SWEEP_BIN, else target/debug/sweep): named array
dimensions and a returned coordinate in `sweep.open`, the same from the .npy layout and the
zarr store. Without the binary, xarray, zarr or scipy these tests skip, saying so; under
CI=true they fail instead.

    cargo build && python3 -m unittest discover -s python/tests -v
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
import warnings

import numpy as np

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PYTHON_DIR)
import sweep  # noqa: E402

from _needs import BIN, ROOT, needs  # noqa: E402

MISSING = needs("test_dims", ["xarray", "zarr", "scipy"])

# The example of docs/output.md: every task returns the same `t` (solve_ivp's t_eval).
CURVES = os.path.join(ROOT, "sweeps", "python", "reaction_curves.py")
# The reaction example: adaptive steps, a different `t` in every task.
ADAPTIVE = os.path.join(ROOT, "sweeps", "python", "reaction.py")

MODULE = """
import numpy as np

def f(k):
    t = np.linspace(0.0, 1.0, 5)
    return {"y": k, "t": t, "c": np.exp(-k * t), "m": np.full((2, 3), k)}

def longer(k):
    t = np.linspace(0.0, 1.0, 5)
    return {"t": t, "c": np.exp(-k * t), "d": np.arange(7.0 + k)}
"""


def run(d, function, dims, arrays="npy", out="o", params='k = [0.5, 1.0]\nc0 = [1.0]', extra=()):
    """`sweep run` of a [python] sweep in directory `d`; returns the out directory."""
    spec = f'[python]\nfunction = "{function}"\n[params]\n{params}\n[output]\narrays = "{arrays}"\ndims = {dims}\n'
    with open(os.path.join(d, f"{out}.toml"), "w") as f:
        f.write(spec)
    r = subprocess.run([BIN, "run", f"{out}.toml", "--out", out, "-q", *extra], cwd=d, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"sweep run failed ({r.returncode}): {r.stderr}")
    return os.path.join(d, out)


def opened(out):
    """sweep.open(out), loaded, without attributes (the store's differ), and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = sweep.open(out).load()
    ds.attrs = {}
    return ds, [str(w.message) for w in caught]


@unittest.skipIf(MISSING, f"needs what is missing: {MISSING}")
class Dims(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        for name in ("m.py", "longer.py"):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(textwrap.dedent(MODULE))

    def both(self, function, dims, **kw):
        """Both layouts of one sweep, opened: (npy Dataset, zarr Dataset, warnings of each)."""
        n, wn = opened(run(self.dir, function, dims, "npy", "n", **kw))
        z, wz = opened(run(self.dir, function, dims, "zarr", "z", **kw))
        import xarray as xr

        xr.testing.assert_identical(n, z)
        return n, wn, wz

    def test_a_t_every_task_returns_is_the_coordinate_to_select_on(self):
        ds, wn, wz = self.both(f"{CURVES}:simulate", '{ c = ["t"] }')
        self.assertEqual((wn, wz), ([], []))
        self.assertEqual(ds["c"].dims, ("k", "c0", "replicate", "t"))
        self.assertIn("t", ds.indexes)
        self.assertEqual(ds.sizes["t"], 51)
        at5 = ds.c.sel(t=5.0, method="nearest").sel(c0=1.0, replicate=0)
        np.testing.assert_allclose(at5.values, np.exp(-np.array([0.5, 1.0]) * 5.0), rtol=1e-6)

    def test_an_adaptive_t_is_a_variable_along_t_step_with_the_same_warning_from_both_layouts(self):
        ds, wn, wz = self.both(f"{ADAPTIVE}:simulate", '{ c = ["t"] }')
        self.assertEqual(len(wn), 1, wn)
        self.assertEqual(wn[0].split(": ", 1)[1], wz[0].split(": ", 1)[1])
        for hint in ("`t` is not the same in every done task", "t_step", "t_eval", 'c = ["step"], t = ["step"]'):
            self.assertIn(hint, wn[0])
        self.assertEqual(ds["c"].dims, ("k", "c0", "replicate", "t_step"))
        self.assertEqual(ds["t"].dims, ("k", "c0", "replicate", "t_step"))
        self.assertNotIn("t", ds.indexes)
        # Ragged arrays keep their lengths, and nothing is lost: each task's last time is t_final.
        self.assertIn("t_len", ds)
        last = ds["t_len"].values - 1
        ends = np.take_along_axis(ds["t"].values, last[..., None], axis=-1)
        np.testing.assert_allclose(ends, 10.0)

    def test_naming_the_dimension_apart_keeps_an_adaptive_t_along_it_without_a_warning(self):
        ds, wn, wz = self.both(f"{ADAPTIVE}:simulate", '{ c = ["step"], t = ["step"] }')
        self.assertEqual((wn, wz), ([], []))
        self.assertEqual(ds["t"].dims, ("k", "c0", "replicate", "step"))
        self.assertEqual(ds["c"].dims, ("k", "c0", "replicate", "step"))

    def test_arrays_not_listed_keep_their_dim_k_names(self):
        ds, wn, _ = self.both("m.py:f", '{ c = ["time"], t = ["time"] }', params="k = [0.5, 1.0]")
        self.assertEqual(wn, [])
        self.assertEqual(ds["m"].dims, ("k", "replicate", "m_dim0", "m_dim1"))
        self.assertEqual(ds["c"].dims, ("k", "replicate", "time"))

    def test_arrays_along_one_dimension_are_padded_to_the_longest_and_a_shorter_t_is_no_coordinate(self):
        ds, wn, wz = self.both("longer.py:longer", '{ c = ["t"], d = ["t"] }', params="k = [0.0, 1.0]")
        self.assertEqual(len(wn), 1, wn)
        self.assertEqual(wn[0].split(": ", 1)[1], wz[0].split(": ", 1)[1])
        self.assertIn("`t` is shorter than `d`", wn[0])
        self.assertEqual(ds.sizes["t_step"], 8)
        for name in ("t", "c", "d"):
            self.assertEqual(ds[name].dims, ("k", "replicate", "t_step"))
        self.assertTrue(np.isnan(ds["c"].values[:, :, 5:]).all())
        np.testing.assert_array_equal(ds["d"].values[1, 0], np.arange(8.0))
        np.testing.assert_array_equal(ds["d_len"].values[:, 0], [7, 8])

    def test_an_array_whose_dimensions_do_not_match_dims_is_a_clear_error_at_open(self):
        out = run(self.dir, "m.py:f", '{ m = ["row"] }', params="k = [0.5]")
        with self.assertRaises(sweep.SweepDataError) as e:
            sweep.open(out)
        message = str(e.exception)
        for part in ("array `m`", "2 dimensions", "(2, 3)", "['row']", "[output] dims", "--resume"):
            self.assertIn(part, message)

    def test_changing_dims_on_resume_reruns_nothing_and_renames_the_dimensions(self):
        out = run(self.dir, "m.py:f", '{ c = ["t"] }', params="k = [0.5, 1.0]")
        with open(os.path.join(out, "journal.jsonl")) as f:
            before = f.read()
        run(self.dir, "m.py:f", '{ c = ["time"], m = ["row", "col"] }', params="k = [0.5, 1.0]", extra=["--resume"])
        with open(os.path.join(out, "journal.jsonl")) as f:
            records = [json.loads(line) for line in f.read()[len(before) :].splitlines()]
        self.assertEqual([r for r in records if "t" in r], [], "a task ran again")
        ds, _ = opened(out)
        self.assertEqual(ds["m"].dims, ("k", "replicate", "row", "col"))
        self.assertEqual(ds["c"].dims, ("k", "replicate", "time"))
        self.assertEqual(ds["t"].dims, ("k", "replicate", "t_dim0"))


    def test_sweep_run_takes_dims_as_the_spec_does(self):
        env = dict(os.environ, SWEEP_BIN=BIN, PYTHONPATH=PYTHON_DIR)
        script = (
            "import sys, sweep\n"
            f"sys.path.insert(0, {self.dir!r})\n"
            "from m import f\n"
            "ds = sweep.run(f, params={'k': [0.5, 1.0]}, dims={'c': ['t'], 'm': ['row', 'col']}, out='runs/f', quiet=True)\n"
            "print(ds['c'].dims, ds['m'].dims, ds['t'].dims, ds['t'].values.tolist())\n"
        )
        r = subprocess.run([sys.executable, "-c", script], cwd=self.dir, capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(
            r.stdout.strip(),
            "('k', 'replicate', 't') ('k', 'replicate', 'row', 'col') ('t',) [0.0, 0.25, 0.5, 0.75, 1.0]",
        )
        with open(os.path.join(self.dir, "runs", "f.toml")) as f:
            self.assertIn('dims = { c = ["t"], m = ["row", "col"] }', f.read())
        with self.assertRaisesRegex(sweep.SweepError, r"dims=\['t'\]: give array name -> its dimensions' names"):
            sweep.run(lambda k: {"y": k}, params={"k": [1]}, dims=["t"], out=os.path.join(self.dir, "runs", "bad"))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "runs", "bad.toml")), "nothing written")


if __name__ == "__main__":
    unittest.main()
