"""sweep's Python side.

`sweep._worker` is the driver that runs inside each persistent Python worker of a sweep:
it imports the user's module once, then calls the swept function for one task after
another, speaking sweep's JSON-lines worker protocol on fds 0 and 1.

`sweep.load(out_dir)` and `sweep.open(out_dir)` read a sweep's results as a pandas
DataFrame and an xarray Dataset (see `sweep.data`).
"""

from .data import SweepDataError, load, metric_columns, open  # noqa: A004, F401
