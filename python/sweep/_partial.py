"""The results of a sweep whose run is going, or was stopped before its end.

A run writes results.csv when it ends; until then the done tasks are in its journal. Here
`load` finds out whether results.csv is current, and when it is not, reads the table as of
now from the binary (`sweep status OUT --csv -`, which folds the journal as sweep itself
does: one reader of the journal, in Rust, not a second one in Python).
"""

import glob
import os
import subprocess
import warnings

from . import _binary


class Partial:
    """Why results.csv of an out directory is not the sweep's table: a run is going
    (`running`), or the last one stopped before its end; `why` says what was found."""

    def __init__(self, running, why, stale=False):
        self.running = running
        self.why = why
        # results.csv exists but is older than a journal: most often a resume stopped before
        # its end, but a copy that did not keep the files' times (`cp -r`, `scp -r`) looks
        # the same, so without the binary results.csv is still read, with a warning.
        self.stale = stale


def _journals(out_dir):
    return [p for p in [os.path.join(out_dir, "journal.jsonl")] if os.path.isfile(p)] + glob.glob(
        os.path.join(out_dir, "journal", "*.jsonl")
    )


def _held(path):
    """Whether a run holds the lock file at `path`, exclusively. Probed with a shared lock,
    taken and dropped at once (flock, as sweep's own lock): it conflicts only with an
    exclusive holder, and blocks no reader (a run starting in that instant is the only one
    it can turn away, as `sweep status` can)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def running(out_dir):
    """Whether a run holds `out_dir`: a whole-grid run holds .sweep.lock exclusively, and a
    shard run its journal/<shard>.lock (see src/outdir/lock.rs)."""
    locks = [os.path.join(out_dir, ".sweep.lock")] + glob.glob(os.path.join(out_dir, "journal", "*.lock"))
    return any(_held(p) for p in locks)


def partial(out_dir):
    """None when results.csv of `out_dir` is the sweep's table (or nothing ran there yet);
    otherwise a `Partial` saying why not."""
    results = os.path.join(out_dir, "results.csv")
    if running(out_dir):
        return Partial(True, f"a run is going in {out_dir}")
    journals = _journals(out_dir)
    if not journals:
        return None
    try:
        written = os.stat(results).st_mtime_ns
    except FileNotFoundError:
        return Partial(False, f"{results} is missing")
    # A run writes results.csv after its last journal line: a journal written since is
    # that of a later run (a resume) that stopped before its end.
    newer = [j for j in journals if os.stat(j).st_mtime_ns > written]
    if newer:
        return Partial(False, f"{results} is older than {newer[0]}", stale=True)
    return None


def table(out_dir, state):
    """The table of the sweep in `out_dir` as of now, as results.csv's text (bytes), from
    `sweep status OUT --csv -`; the binary's warnings become Python warnings. None (read
    results.csv) when results.csv is only older than the journal and no binary is found."""
    results = os.path.join(out_dir, "results.csv")
    try:
        exe = _binary.binary()
    except _binary.SweepError as e:
        if state.stale and not state.running:
            warnings.warn(
                f"{results} is older than the journal: the last run may have stopped before its end, "
                f"or the directory was copied without its files' times (cp -r); with no sweep binary "
                f"to read the journal ({e}), results.csv is read as it is",
                stacklevel=3,
            )
            return None
        from .data import SweepDataError

        raise SweepDataError(
            f"{results} is not the sweep's table ({state.why}): a run writes it when it ends. "
            f"Reading the tasks done so far takes the sweep binary: {e}"
        ) from None
    argv = [exe, "status", os.fspath(out_dir), "--csv", "-"]
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        from .data import SweepDataError

        raise SweepDataError(
            f"{results} is not the sweep's table ({state.why}), and `{' '.join(argv)}` could not read "
            f"the tasks done so far (exit {done.returncode}): {stderr.strip()}"
        )
    for line in stderr.splitlines():
        if line.startswith("warning: "):
            warnings.warn(f"{out_dir}: {line[len('warning: '):]}", stacklevel=3)
    return done.stdout


def note(out_dir, state, df):
    """The warning for a table read while results.csv is not current, with its counts."""
    status = df["status"].astype(str)
    done, failed, total = int((status == "done").sum()), int((status == "failed").sum()), len(df)
    pending = int((status == "pending").sum())
    counts = f"{done} of {total} tasks done so far, {failed} failed; the {pending} pending rows have status pending"
    if state.running:
        return (
            f"a run is going in {out_dir}: {counts}. This is a snapshot (its attrs['partial'] says so); "
            f"results.csv is written when the run ends"
        )
    return (
        f"{out_dir}: the last run stopped before its end ({state.why}): {counts} "
        f"(its attrs['partial'] says so). `sweep run SPEC --resume` (or sweep.run with the same "
        f"arguments) finishes it and writes results.csv; for shards, `sweep collect {out_dir}`"
    )


def no_store(out_dir, store, state):
    """Why `open` cannot read the store of a `[output] arrays = "zarr"` sweep now."""
    if state.running:
        now = f"a run is going in {out_dir}, and it builds {store} when it ends"
    else:
        now = (
            f"the last run stopped before its end ({state.why}); `sweep run SPEC --resume` finishes "
            f"it and builds {store} (for shards: `sweep collect {out_dir}`)"
        )
    return (
        f"{store}: not the sweep's arrays yet: {now}. The arrays of the tasks done so far are in "
        f"{os.path.join(out_dir, 'staging')}; sweep.load({os.fspath(out_dir)!r}) reads their table now"
    )
