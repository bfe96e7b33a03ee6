"""Finding the `sweep` binary that `sweep.run` and `python -m sweep` run."""

import os
import shutil
import sysconfig


class SweepError(Exception):
    """sweep refused or failed a run: a bad argument, a spec error, a refused change of grid
    (the CLI's own message, in `message`), or no binary to run. `returncode` is the
    binary's exit status (None when the binary never ran)."""

    def __init__(self, message, returncode=None):
        super().__init__(message)
        self.message = message
        self.returncode = returncode


def binary():
    """The `sweep` binary: the one installed with the wheel (in this interpreter's scripts
    directory), else `sweep` on PATH, else $SWEEP_BIN."""
    wheel = os.path.join(sysconfig.get_path("scripts"), "sweep")
    if os.path.isfile(wheel) and os.access(wheel, os.X_OK):
        return wheel
    on_path = shutil.which("sweep")
    if on_path:
        return on_path
    env = os.environ.get("SWEEP_BIN")
    if env and os.path.isfile(env) and os.access(env, os.X_OK):
        return env
    raise SweepError(
        "no sweep binary found: looked for the wheel's ("
        + wheel
        + ", from `pip install .` in a checkout of sweep), for `sweep` on PATH, and at $SWEEP_BIN ("
        + (repr(env) + ", not an executable file" if env else "not set")
        + "); install the wheel, put sweep on PATH, or set SWEEP_BIN=/path/to/sweep"
    )
