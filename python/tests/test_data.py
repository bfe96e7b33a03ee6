"""Tests of python/sweep/data.py (`sweep.load` and `sweep.open`) on out directories written
here by hand, in the layout docs/output.md documents. ci/wheel.sh checks the same functions on
real sweeps, from an installed wheel.

    python3 -m unittest discover -s python/tests -v
"""

import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import sweep  # noqa: E402

try:
    import pandas  # noqa: F401
    import xarray  # noqa: F401

    MISSING = None
except ImportError as e:
    # Under CI nothing may skip: the missing install is the failure.
    if os.environ.get("CI") == "true":
        raise
    MISSING = str(e)

HEADER = "task,replicate,seed,k,status,attempts,seconds,y,class,error\n"


def out_dir(rows, *, reps=2, save=("a",), arrays=None, adaptive=None):
    """A sweep's out directory over k = [0.5, 2.0] with `reps` replicates (at most, with
    `adaptive` replicates)."""
    d = tempfile.mkdtemp()
    manifest = {
        "format": 1,
        "name": "t",
        "kind": "model",
        "model": "m",
        "seed": 3,
        "spec_hash": "ab",
        "replicates": reps,
        "columns": ["k"],
        "axes": [{"names": ["k"], "len": 2}],
        "fixed": {"n": 7},
        "save": list(save),
    }
    if adaptive:
        manifest["adaptive"] = adaptive
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    with open(os.path.join(d, "results.csv"), "w") as f:
        f.write(HEADER + "".join(rows))
    for task, arrs in (arrays or {}).items():
        os.makedirs(os.path.join(d, "tasks", task))
        for name, a in arrs.items():
            np.save(os.path.join(d, "tasks", task, name + ".npy"), a)
    return d


ROWS = [
    "0123456789abcdef,0,18446744073709551615,0.5,done,1,0.1,1.5,,\n",
    "0000000000000001,1,5,0.5,done,1,0.1,2.5,,\n",
    "00000000000000a2,0,6,2.0,failed,2,0.1,,error,ValueError: no\n",
    "00000000000000a3,1,7,2.0,pending,0,,,,\n",
]


@unittest.skipIf(MISSING, f"pandas and xarray are needed: {MISSING}")
class Load(unittest.TestCase):
    def test_ids_stay_strings_seeds_are_uint64_and_status_is_categorical(self):
        df = sweep.load(out_dir(ROWS))
        self.assertEqual(df["task"].tolist()[1], "0000000000000001")
        self.assertEqual(df["seed"].dtype, np.uint64)
        self.assertEqual(int(df["seed"][0]), 2**64 - 1)
        self.assertEqual(list(df["status"].cat.categories), ["done", "failed", "pending"])
        self.assertEqual(df["error"].tolist(), ["", "", "ValueError: no", ""])
        self.assertEqual(df.attrs["n"], 7)
        self.assertEqual(sweep.metric_columns(df), ["y"])

    def test_a_directory_that_is_not_a_sweep_is_named(self):
        with self.assertRaisesRegex(sweep.SweepDataError, "manifest.json: no such file"):
            sweep.load(tempfile.mkdtemp())
        d = out_dir(ROWS)
        os.remove(os.path.join(d, "results.csv"))
        with self.assertRaisesRegex(sweep.SweepDataError, "results.csv: no such file"):
            sweep.load(d)

    def test_a_manifest_of_a_newer_format_is_refused_as_sweep_refuses_it(self):
        d = out_dir(ROWS)
        with open(os.path.join(d, "manifest.json")) as f:
            manifest = json.load(f)
        manifest["format"] += 1
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        newer = rf"written by a newer sweep \(format {manifest['format']}\); upgrade sweep"
        with self.assertRaisesRegex(sweep.SweepDataError, newer):
            sweep.load(d)
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump({"name": "t"}, f)
        with self.assertRaisesRegex(sweep.SweepDataError, "is not a sweep manifest"):
            sweep.load(d)

    def test_a_stopped_sweep_without_the_binary_says_what_to_install_and_that_results_csv_comes_at_the_end(self):
        # The tasks done so far are read through the binary (python/tests/test_partial.py):
        # with none found, the message says where it looked and what to set.
        from unittest import mock

        d = out_dir(ROWS)
        os.remove(os.path.join(d, "results.csv"))
        with open(os.path.join(d, "journal.jsonl"), "w") as f:
            f.write('{"sweep_journal":2}\n')
        nowhere = tempfile.mkdtemp()
        env = {"PATH": nowhere, "SWEEP_BIN": ""}
        with mock.patch.dict(os.environ, env), mock.patch("sysconfig.get_path", return_value=nowhere):
            with self.assertRaisesRegex(
                sweep.SweepDataError,
                r"results.csv is not the sweep's table \(.*results.csv is missing\): a run writes it when it "
                r"ends. Reading the tasks done so far takes the sweep binary: no sweep binary found.*SWEEP_BIN",
            ):
                sweep.load(d)

    def test_a_copied_sweep_whose_journal_looks_newer_still_loads_without_the_binary(self):
        # `cp -r` gives every file the copy's time: a journal copied after results.csv looks
        # like a resume that stopped, but the table is there and must still be read.
        from unittest import mock

        d = out_dir(ROWS)
        with open(os.path.join(d, "journal.jsonl"), "w") as f:
            f.write('{"sweep_journal":2}\n')
        later = os.stat(os.path.join(d, "results.csv")).st_mtime + 5
        os.utime(os.path.join(d, "journal.jsonl"), (later, later))
        nowhere = tempfile.mkdtemp()
        env = {"PATH": nowhere, "SWEEP_BIN": ""}
        with mock.patch.dict(os.environ, env), mock.patch("sysconfig.get_path", return_value=nowhere):
            with self.assertWarnsRegex(UserWarning, r"older than the journal.*copied without its files' times"):
                df = sweep.load(d)
        self.assertEqual(len(df), len(ROWS))
        self.assertFalse(df.attrs["partial"])


@unittest.skipIf(MISSING, f"pandas and xarray are needed: {MISSING}")
class Open(unittest.TestCase):
    def test_grid_dimensions_metrics_and_ragged_arrays(self):
        arrays = {"0123456789abcdef": {"a": np.arange(3.0)}, "0000000000000001": {"a": np.arange(5.0)}}
        ds = sweep.open(out_dir(ROWS, arrays=arrays))
        self.assertEqual(dict(ds.sizes), {"k": 2, "replicate": 2, "a_dim0": 5})
        self.assertEqual(ds["k"].values.tolist(), [0.5, 2.0])
        self.assertEqual(ds["y"].sel(k=0.5).values.tolist(), [1.5, 2.5])
        self.assertTrue(np.isnan(ds["y"].sel(k=2.0)).all(), "failed and pending tasks are missing")
        self.assertEqual(ds["a_len"].sel(k=0.5).values.tolist(), [3, 5])
        first = ds["a"].sel(k=0.5, replicate=0).values
        self.assertEqual(first[:3].tolist(), [0.0, 1.0, 2.0])
        self.assertTrue(np.isnan(first[3:]).all(), "padded to the longest")
        self.assertTrue(np.isnan(ds["a"].sel(k=2.0)).all())
        self.assertEqual(ds.attrs["seed"], 3)

    def test_adaptive_replicates_fill_the_grid_with_replicates_not_needed(self):
        rule = {"min": 2, "max": 4, "round": 2, "metric": "y", "ci95_rel": 0.01}
        rows = ROWS[:2] + [
            "00000000000000a2,0,6,2.0,done,1,0.1,3.0,,\n",
            "00000000000000a3,1,7,2.0,done,1,0.1,4.0,,\n",
            "00000000000000a4,2,8,2.0,done,1,0.1,5.0,,\n",
            "00000000000000a5,3,9,2.0,pending,0,,,,\n",
        ]
        ds = sweep.open(out_dir(rows, reps=4, adaptive=rule))
        self.assertEqual(dict(ds.sizes), {"k": 2, "replicate": 4})
        self.assertEqual(ds["k"].values.tolist(), [0.5, 2.0])
        self.assertEqual(ds["status"].sel(k=0.5).values.tolist(), ["done", "done", "not needed", "not needed"])
        self.assertEqual(ds["status"].sel(k=2.0).values.tolist(), ["done", "done", "done", "pending"])
        self.assertEqual(ds["y"].sel(k=2.0).values.tolist()[:3], [3.0, 4.0, 5.0])
        self.assertTrue(np.isnan(ds["y"].sel(k=0.5).values[2:]).all())
        self.assertEqual(int(ds["seed"].sel(k=0.5, replicate=0)), 2**64 - 1)
        self.assertEqual(ds["task"].sel(k=0.5, replicate=3).item(), "")
        with self.assertRaisesRegex(sweep.SweepDataError, "not the replicates of the manifest's 2 points"):
            sweep.open(out_dir(rows[:2], reps=4, adaptive=rule))

    def test_a_design_is_a_sample_dimension_with_its_parameters_as_coordinates(self):
        # [params] c = [1, 2] crossed with a [sample] design of 3 points over x and D.
        d = tempfile.mkdtemp()
        manifest = {
            "format": 1,
            "name": "t",
            "kind": "model",
            "seed": 3,
            "replicates": 1,
            "columns": ["c", "x", "D"],
            "axes": [{"names": ["c"], "len": 2}, {"names": ["x", "D"], "len": 3, "dim": "sample"}],
            "sample": {"method": "sobol", "n": 3, "ranges": {"x": ["uniform", 0, 1], "D": ["log", 0.001, 1]}},
        }
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        points = [(0.1, 0.01), (0.7, 0.2), (0.4, 0.003)]
        rows = [
            f"{c}{i:015x},0,{i},{c},{x},{D},done,1,0.1,{c * x},,\n" for c in (1, 2) for i, (x, D) in enumerate(points)
        ]
        with open(os.path.join(d, "results.csv"), "w") as f:
            f.write("task,replicate,seed,c,x,D,status,attempts,seconds,y,class,error\n" + "".join(rows))
        ds = sweep.open(d)
        self.assertEqual(dict(ds.sizes), {"c": 2, "sample": 3, "replicate": 1})
        self.assertEqual(ds["sample"].values.tolist(), [0, 1, 2])
        self.assertEqual(ds["x"].dims, ("sample",))
        self.assertEqual(ds["x"].values.tolist(), [0.1, 0.7, 0.4])
        self.assertEqual(ds["D"].values.tolist(), [0.01, 0.2, 0.003])
        self.assertEqual(ds["y"].dims, ("c", "sample", "replicate"))
        self.assertEqual(ds["y"].sel(c=2, replicate=0).values.tolist(), [0.2, 1.4, 0.8])

    def test_a_common_seed_parameter_stays_a_dimension_whose_levels_share_seeds(self):
        # method = ["a", "b"] x n = [5, 10], 2 replicates, common_seed = ["method"].
        d = tempfile.mkdtemp()
        manifest = {
            "format": 1,
            "name": "t",
            "kind": "python",
            "seed": 3,
            "replicates": 2,
            "columns": ["method", "n"],
            "axes": [{"names": ["method"], "len": 2}, {"names": ["n"], "len": 2}],
            "common_seed": ["method"],
        }
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        rows = [
            f"{i:016x},{r},{100 + 10 * j + r},{m},{n},done,1,0.1,{i},,\n"
            for i, (m, (j, n), r) in enumerate((m, jn, r) for m in "ab" for jn in enumerate((5, 10)) for r in (0, 1))
        ]
        with open(os.path.join(d, "results.csv"), "w") as f:
            f.write("task,replicate,seed,method,n,status,attempts,seconds,y,class,error\n" + "".join(rows))
        ds = sweep.open(d)
        self.assertEqual(dict(ds.sizes), {"method": 2, "n": 2, "replicate": 2})
        self.assertEqual(ds["method"].values.tolist(), ["a", "b"])
        self.assertEqual(ds.attrs["common_seed"], ["method"])
        # The seeds of a replicate are the same across methods, and differ otherwise.
        # (`.sel(method=...)` would be sel's own `method` argument: a dict names the dimension.)
        a, b = {"method": "a"}, {"method": "b"}
        self.assertTrue((ds["seed"].sel(a) == ds["seed"].sel(b)).all())
        self.assertEqual(len(set(ds["seed"].sel(a).values.ravel().tolist())), 4)
        # A paired difference is a subtraction along the dimension.
        diff = ds["y"].sel(b) - ds["y"].sel(a)
        self.assertEqual(diff.dims, ("n", "replicate"))
        self.assertTrue((diff == 4).all())
        self.assertNotIn("common_seed", sweep.open(out_dir(ROWS)).attrs)

    def test_a_results_csv_that_does_not_fill_the_grid_is_refused(self):
        with self.assertRaisesRegex(sweep.SweepDataError, "3 rows, but the manifest's grid has 2 points x 2"):
            sweep.open(out_dir(ROWS[:3]))

    def test_a_refined_curve_is_refused_with_where_to_read_it(self):
        d = out_dir(ROWS)
        with open(os.path.join(d, "manifest.json")) as f:
            m = json.load(f)
        m["refine"] = {"axis": "k", "metric": "y", "budget": 2, "batch": 8, "tolerance": None}
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(m, f)
        with self.assertRaisesRegex(sweep.SweepDataError, r"`k` is refined .*sweep.load.*refine.csv"):
            sweep.open(d)
        self.assertEqual(len(sweep.load(d)), len(ROWS), "sweep.load reads it as any sweep")


if __name__ == "__main__":
    unittest.main()
