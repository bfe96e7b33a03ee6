"""Tests of sweep's own `.npy` reading and writing: python/sweep/_npy.py, the fast reader of
`sweep.open`, must give what `numpy.load` gives for every file numpy writes, and hand what
it does not read itself back to numpy.load (errors included); the worker driver's writer
(`_save_npy` in python/sweep/_worker.py) must write byte for byte what `numpy.save` writes.

    python3 -m unittest python/tests/test_npy.py -v
"""

import io
import os
import sys
import tempfile
import unittest
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sweep import _npy  # noqa: E402
from sweep import _worker  # noqa: E402


class ReadsWhatNumpyWrites(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def saved(self, a, name="a.npy", version=None):
        path = os.path.join(self.dir, name)
        if version is None:
            np.save(path, a, allow_pickle=False)
        else:
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(a), version=version, allow_pickle=False)
            with open(path, "wb") as f:
                f.write(buf.getvalue())
        return path

    def same(self, a, **kw):
        path = self.saved(a, **kw)
        got, want = _npy.read(path), np.load(path, allow_pickle=False)
        self.assertEqual(got.dtype, want.dtype)
        self.assertEqual(got.shape, want.shape)
        np.testing.assert_array_equal(got, want)
        self.assertTrue(got.flags.writeable, "sweep.open may fill arrays in place")
        return got

    def test_every_plain_dtype_and_shape_reads_as_numpy_load_reads_it(self):
        for dtype in ("<f8", "<f4", "<i8", "<i4", "|u1", "|b1", "<c16", ">f8", ">i4", "<U7"):
            for shape in ((), (0,), (5,), (3, 4), (2, 3, 4)):
                with self.subTest(dtype=dtype, shape=shape):
                    a = np.arange(int(np.prod(shape))).reshape(shape)
                    self.same(a.astype(dtype))

    def test_fortran_ordered_arrays_keep_their_values(self):
        a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
        got = self.same(a)
        self.assertEqual(got[1, 2], 6.0)

    def test_header_versions_2_and_3_read(self):
        self.same(np.linspace(0, 1, 7), version=(2, 0))
        self.same(np.linspace(0, 1, 7), version=(3, 0))

    def test_a_structured_dtype_goes_to_numpy_load(self):
        a = np.zeros(3, dtype=[("x", "<f8"), ("n", "<i4")])
        self.same(a)

    def test_a_datetime_goes_to_numpy_load(self):
        self.same(np.array(["2026-01-01", "2026-12-08"], dtype="datetime64[D]"))

    def test_a_truncated_file_raises_numpys_error(self):
        path = self.saved(np.arange(100.0))
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 8)
        with self.assertRaises(ValueError):
            _npy.read(path)

    def test_a_pickled_array_is_refused_not_unpickled(self):
        path = os.path.join(self.dir, "o.npy")
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        with self.assertRaises(ValueError):
            _npy.read(path)

    def test_a_file_that_is_not_npy_raises_numpys_error(self):
        path = os.path.join(self.dir, "x.npy")
        with open(path, "wb") as f:
            f.write(b"not an array")
        with self.assertRaises(Exception):
            _npy.read(path)


class WritesWhatNumpySaves(unittest.TestCase):
    def check(self, a):
        d = tempfile.mkdtemp()
        ours, theirs = os.path.join(d, "ours.npy"), os.path.join(d, "theirs.npy")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's note on a format 2.0 header
            _worker._save_npy(ours, a)
            _worker._save_npy(ours, a)  # again: the header now comes from the cache
            np.save(theirs, a, allow_pickle=False)
        with open(ours, "rb") as f, open(theirs, "rb") as g:
            self.assertEqual(f.read(), g.read())

    def test_every_layout_numpy_save_knows_is_written_byte_for_byte(self):
        base = np.arange(24.0).reshape(4, 6)
        cases = {
            "C order": base,
            "Fortran order": np.asfortranarray(base),
            "a strided slice": base[::2, 1::2],
            "a transpose of a slice": base[:, ::3].T,
            "0-d": np.array(3.5),
            "empty": np.zeros((0, 3)),
            "big-endian": np.arange(5, dtype=">i4"),
            "bool": np.array([True, False, True]),
            "complex": np.array([1 + 2j, 3 - 4j]),
            "unicode": np.array(["a", "bcd"]),
            "datetime": np.array(["2026-12-08"], dtype="datetime64[D]"),
            "structured": np.zeros(2, dtype=[("x", "<f8"), ("n", "<i2")]),
            "a header past format 1.0": np.zeros(1, dtype=[(f"field_{i:05d}", "<f8") for i in range(3000)]),
        }
        for name, a in cases.items():
            with self.subTest(name):
                self.check(a)

    def test_an_object_array_is_refused_with_numpys_message(self):
        with self.assertRaisesRegex(ValueError, "allow_pickle=False"):
            _worker._save_npy(os.path.join(tempfile.mkdtemp(), "o.npy"), np.array([{}], dtype=object))


if __name__ == "__main__":
    unittest.main()
