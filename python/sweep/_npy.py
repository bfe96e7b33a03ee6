"""Reading the `.npy` files of a sweep's tasks, fast.

`sweep.open` reads every array of every done task: thousands of small files. `numpy.load`
spends most of its time on one small file in Python (opening it through several layers,
parsing the header with `ast.literal_eval`); the files sweep's workers write are plain
numeric arrays with numpy's own header, which a regular expression reads. Anything else
(an object or structured dtype, a header this does not recognise) goes to `numpy.load`,
which reads every valid file and words every error.
"""

import os
import re

_MAGIC = b"\x93NUMPY"
# numpy's header: a dict literal with these three keys, in this order, as numpy writes it.
_HEADER = re.compile(
    rb"\{'descr': '([<>|=]?[a-zA-Z]\d*)', 'fortran_order': (True|False), 'shape': \(([\d, ]*)\), \}"
)


def read(path):
    """The array in the `.npy` file at `path` (a writable ndarray; never unpickles)."""
    import numpy as np

    with open(path, "rb") as f:
        # One buffer, read into: a large array is not held twice (bytes, then a copy).
        data = bytearray(os.fstat(f.fileno()).st_size)
        n = f.readinto(data)
        del data[n:]  # a file that shrank meanwhile: what was read
    parsed = _parse(data)
    if parsed is None:
        return np.load(path, allow_pickle=False)
    descr, fortran, shape, start = parsed
    dtype = np.dtype(descr)
    count = 1
    for n in shape:
        count *= n
    if dtype.hasobject or len(data) - start < count * dtype.itemsize:
        return np.load(path, allow_pickle=False)  # words the error (a truncated file, say)
    a = np.frombuffer(data, dtype=dtype, count=count, offset=start)
    return a.reshape(shape, order="F" if fortran else "C")


def _parse(data):
    """(descr, fortran order, shape, where the data starts), or None for numpy.load to read."""
    if data[:6] != _MAGIC or len(data) < 10:
        return None
    major = data[6]
    if major == 1:
        size, start = int.from_bytes(data[8:10], "little"), 10
    elif major in (2, 3):
        size, start = int.from_bytes(data[8:12], "little"), 12
    else:
        return None
    m = _HEADER.match(data, start, start + size)
    if m is None:
        return None
    shape = tuple(int(n) for n in m.group(3).split(b",") if n.strip())
    return m.group(1).decode(), m.group(2) == b"True", shape, start + size
