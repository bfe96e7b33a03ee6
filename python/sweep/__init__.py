"""sweep's Python side.

`sweep._worker` is the driver that runs inside each persistent Python worker of a sweep:
it imports the user's module once, then calls the swept function for one task after
another, speaking sweep's JSON-lines worker protocol on fds 0 and 1.

`sweep.load(out_dir)` and `sweep.open(out_dir)` read a sweep's results as a pandas
DataFrame and an xarray Dataset (see `sweep.data`).

`sweep.run(function, params=...)` runs a sweep from Python in one call and returns
`sweep.open(out)`; `sweep.failures(out)` lists its failed tasks (see `sweep.run`'s module).
`python -m sweep ARGS` runs the sweep binary.
"""

from .data import SweepDataError, load, metric_columns, open  # noqa: A004, F401
from ._binary import SweepError  # noqa: E402, F401
from .run import failures, run  # noqa: E402, F401
