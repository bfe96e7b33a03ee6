"""`sweep.run(function, params=...)`: a sweep from Python in one call.

The call writes the spec that the same sweep has as a TOML file, `<out>.toml` beside the out
directory (sweep writes only into a new or empty out directory, so the spec cannot live
inside it), runs the sweep binary on it with `--resume`, and returns `sweep.open(out)`.
The spec reference (docs/spec.md, and "Python functions" in docs/tasks.md) says what every key means;
the keywords here mirror it.
"""

import json
import math
import numbers
import os
import signal
import subprocess
import sys
import threading

from ._binary import SweepError, binary

_PDEATHSIG = 1  # prctl's PR_SET_PDEATHSIG


def run(
    function,
    params=None,
    *,
    replicates=None,
    seed=None,
    out=None,
    jobs=None,
    timeout=None,
    retries=0,
    save=None,
    zip=None,  # noqa: A002 - the spec's key
    common_seed=None,
    arrays=None,
    dims=None,
    python=None,
    env=None,
    quiet=False,
    code_changed=None,
):
    """Runs `function` over the grid of `params` and returns the results as an xarray Dataset.

    `function` is ``"model.py:simulate"`` (a file relative to the current directory),
    ``"package.module:simulate"``, or the function object itself. A function of an
    importable module is named by its file; one defined in ``__main__`` (a script, a
    notebook cell), a lambda or a closure is shipped by value with cloudpickle, into
    ``<out>.function.pkl`` beside the out directory.

    `params` maps each parameter to its values: a list, a numpy array, a range, or a scalar
    (a fixed value). `replicates` is a count or the adaptive table as a dict (``{"min": 10,
    "max": 400, "until": {"metric": "y", "ci95_rel": 0.01}}``); `zip`, `common_seed`,
    `arrays` ("npy" or "zarr"), `dims` (an array's own dimensions' names, ``{"c": ["t"]}``),
    `python` (the workers' interpreter; default: this one,
    ``sys.executable``), `env`, `timeout` (per task: seconds or "10m") are the spec's keys;
    `jobs` and `retries` are `sweep run`'s `--jobs` and `--retries`. `out` defaults to
    ``runs/<function name>``.

    A second call with the same arguments runs nothing (sweep resumes by default); a grid
    that was extended runs the new tasks only; a change sweep refuses raises `SweepError`
    with sweep's message. Ctrl-C stops the run as it does `sweep run` (running tasks finish)
    and raises KeyboardInterrupt; the next call finishes the rest.

    Returns ``sweep.open(out)``, the xarray Dataset with one dimension per swept axis: the
    same object a later ``sweep.open(out)`` gives, so a script that runs and a notebook that
    only reads share one code path. `sweep.load(out)` gives the flat pandas table and
    `sweep.failures(out)` the failed tasks.

    When the function's code (or a module of the project it imports) changed since done
    tasks ran, sweep refuses (`SweepError`, naming the files) unless `code_changed` is
    ``"rerun"`` (run them again) or ``"keep"`` (keep their results; the Dataset's `code`
    variable then says which version each task came from): `sweep run`'s `--code-changed`.
    """
    spec, out, pickled = _plan(
        function, params, replicates, seed, out, timeout, save, zip, common_seed, arrays, dims, python, env
    )
    exe = binary()
    jobs_arg = _count(jobs, "jobs", minimum=1, optional=True)
    retries_arg = _count(retries, "retries", minimum=0)
    parent, leaf = os.path.split(os.path.abspath(out))
    spec_path = os.path.join(parent, leaf + ".toml")
    pkl_path = os.path.join(parent, leaf + ".function.pkl")
    # What sweep hashes as the shipped function's code: its pickle differs from process to
    # process (a set's order), this text does not (see describe_function).
    code_path = os.path.join(parent, leaf + ".function.code")
    made_parent = not os.path.isdir(parent)
    before = {p: _read(p) for p in (spec_path, pkl_path, code_path)}
    os.makedirs(parent, exist_ok=True)
    _write(spec_path, spec.encode())
    if pickled is not None:
        _write(code_path, describe_function(function).encode())
        _write(pkl_path, pickled)
    argv = [exe, "run", os.path.relpath(spec_path), "--resume"]
    if jobs_arg is not None:
        argv += ["--jobs", str(jobs_arg)]
    if retries_arg:
        argv += ["--retries", str(retries_arg)]
    if code_changed is not None:
        if code_changed not in ("rerun", "keep"):
            raise ValueError(f"code_changed must be 'rerun' or 'keep', not {code_changed!r}")
        argv += ["--code-changed", code_changed]
    if quiet:
        argv.append("--quiet")
    else:
        argv += ["--progress", "json"]
    # sweep.open's imports (pandas, xarray: about a second) overlap the run.
    warm = threading.Thread(target=_import_data, daemon=True)
    warm.start()
    code, err = _call(argv)
    if code == 2 or code not in (0, 1, 130):
        if code == 2:
            # Refused: put back what was there, so that nothing is left half-written.
            for p, old in before.items():
                if old is None:
                    if os.path.exists(p):
                        os.remove(p)
                else:
                    _write(p, old)
            if made_parent and not os.listdir(parent):
                os.rmdir(parent)
        # sweep's message: from its `error:` line on (notes such as "nothing to resume" before it
        # were printed already).
        at = err.find("error:")
        raise SweepError((err[at:] if at >= 0 else err).strip() or f"sweep exited with status {code}", code)
    if code == 130:
        raise KeyboardInterrupt(f"sweep stopped; run the same call again to finish {out}")
    from .data import open as open_dataset

    if code == 1 and not quiet:
        _print_failures(out)
    return open_dataset(out)


def _print_failures(out, shown=10):
    """The failed tasks as a short table on stderr: parameters, class and error."""
    try:
        f = failures(out)
    except Exception:  # the summary above has said it; a table is a convenience
        return
    columns = [c for c in f.columns if c not in ("replicate", "seed", "status", "attempts", "seconds", "traceback")]
    columns = [c for c in columns if c in ("task", "class", "error") or not f[c].isna().all()][:8]
    text = f[columns].head(shown).to_string(index=False, max_colwidth=60)
    more = f"\n... and {len(f) - shown} more" if len(f) > shown else ""
    sys.stderr.write(f"failed tasks ({len(f)}; sweep.failures({out!r}) has their tracebacks):\n{text}{more}\n")


def _import_data():
    try:
        import xarray  # noqa: F401
    except ImportError:
        pass  # sweep.open says what is missing, after the run


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _preexec():
    # Its own process group: a terminal's Ctrl-C reaches Python alone, which passes one
    # SIGINT on per Ctrl-C (a Jupyter kernel's interrupt reaches only the kernel anyway).
    # Dies with its caller, as its own workers die with it.
    os.setpgrp()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def _call(argv):
    """Runs argv, passing its output on to sys.stdout and sys.stderr (a notebook's cell shows
    them); returns (exit status, stderr's text). KeyboardInterrupt becomes SIGINT for it."""
    from ._progress import Bar

    bar = Bar()
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_preexec
    )
    err = []

    def pump(src, dst, keep):
        for line in iter(src.readline, b""):
            text = line.decode(errors="replace")
            if keep is None:
                dst.write(text)
                dst.flush()
            elif not bar.feed(text):
                keep.append(text)
                bar.write(text, dst)

    threads = [
        threading.Thread(target=pump, args=(proc.stdout, sys.stdout, None), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, sys.stderr, err), daemon=True),
    ]
    for t in threads:
        t.start()
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            # The first stops scheduling (running tasks finish), a second kills the
            # workers: as Ctrl-C does to `sweep run`.
            proc.send_signal(signal.SIGINT)
    for t in threads:
        t.join()
    bar.close()
    proc.stdout.close()
    proc.stderr.close()
    return code, "".join(err)


def _plan(function, params, replicates, seed, out, timeout, save, zip_, common_seed, arrays, dims, python, env):
    """Checks every argument and renders the spec; raises SweepError before anything is
    written. Returns (spec text, out, pickled function bytes or None)."""
    cwd = os.getcwd()
    if out is None:
        out = os.path.join("runs", _function_name(function))
    if not isinstance(out, (str, os.PathLike)) or not os.fspath(out).strip():
        raise SweepError(f"out={out!r}: give a directory path, e.g. out='runs/rx'")
    out = os.fspath(out)
    parent, leaf = os.path.split(os.path.abspath(out))
    if save is not None:
        raise SweepError(
            "save= applies to built-in models; a Python function's returned arrays are all saved: "
            "return only those you want"
        )
    if not isinstance(params, dict) or not params:
        raise SweepError("params= must be a dict of parameter name -> values, e.g. params={'k': [0.1, 0.2]}")
    lines = [f"# Written by sweep.run; `sweep run {os.path.relpath(os.path.join(parent, leaf + '.toml'), cwd)}` runs the same sweep."]
    lines.append(f"name = {_toml(leaf)}")
    if seed is not None:
        lines.append(f"seed = {_count(seed, 'seed', minimum=0)}")
    if replicates is not None:
        if isinstance(replicates, dict):
            lines.append(f"replicates = {_toml(replicates)}")
        else:
            lines.append(f"replicates = {_count(replicates, 'replicates', minimum=1)}")
    lines.append(f"out = {_toml(os.path.relpath(os.path.abspath(out), cwd))}   # relative to the directory sweep runs in")
    if zip_ is not None:
        lines.append(f"zip = {_toml([list(g) for g in zip_])}")
    if common_seed is not None:
        lines.append(f"common_seed = {_toml(list(common_seed))}")
    fn_spec, pickled = _function_spec(function, parent, leaf, cwd)
    lines += ["", "[python]", f"function = {_toml(fn_spec)}"]
    lines.append(f"python = {_toml(python or sys.executable)}")
    if timeout is not None:
        if not isinstance(timeout, (numbers.Real, str)) or isinstance(timeout, bool):
            raise SweepError(f"timeout={timeout!r}: give seconds (a number) or a duration such as '10m'")
        lines.append(f"timeout = {_toml(timeout)}")
    if env:
        lines.append(f"env = {_toml({str(k): str(v) for k, v in env.items()})}")
    lines.append(f"cwd = {_toml(os.path.relpath(cwd, parent))}   # the caller's directory")
    lines += ["", "[params]"]
    for name, values in params.items():
        if not isinstance(name, str):
            raise SweepError(f"params: the name {name!r} is not a string")
        lines.append(f"{_key(name)} = {_toml(_values(name, values))}")
    output = []
    if arrays is not None:
        output.append(f"arrays = {_toml(arrays)}")
    if dims is not None:
        if not isinstance(dims, dict) or not all(
            isinstance(k, str) and isinstance(v, (list, tuple)) and all(isinstance(n, str) for n in v)
            for k, v in dims.items()
        ):
            raise SweepError(f"dims={dims!r}: give array name -> its dimensions' names, e.g. dims={{'c': ['t']}}")
        output.append(f"dims = {_toml({k: list(v) for k, v in dims.items()})}")
    if output:
        lines += ["", "[output]"] + output
    return "\n".join(lines) + "\n", out, pickled


def _function_name(function):
    if isinstance(function, str):
        return function.rpartition(":")[2] or "sweep"
    name = getattr(function, "__name__", "sweep")
    return name if name.isidentifier() else "sweep"


def _function_spec(function, parent, leaf, cwd):
    """The spec's `function` (relative to the spec's directory), and the pickled function
    when it is shipped by value."""
    if isinstance(function, str):
        module, colon, name = function.rpartition(":")
        if not colon or not module or not name:
            raise SweepError(f"function={function!r}: give 'model.py:simulate', 'package.module:simulate' or the function")
        if module.endswith(".py") or "/" in module:
            return _relative(os.path.join(cwd, module), parent) + ":" + name, None
        return function, None
    if not callable(function):
        raise SweepError(f"function={function!r} is not callable: give the function, or 'model.py:simulate'")
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", "")
    by_value = module in (None, "__main__") or "<" in qualname or "." in qualname
    if not by_value:
        mod = sys.modules.get(module)
        path = getattr(mod, "__file__", None)
        if path is None or not path.endswith(".py"):
            by_value = True
        elif "." not in module:
            return _relative(path, parent) + ":" + function.__name__, None
        else:
            return f"{module}:{function.__name__}", None
    try:
        import cloudpickle
    except ImportError:
        raise SweepError(
            f"{qualname or function!r} is defined in a script, a notebook or another function, "
            "so sweep ships it to its workers by value, which needs cloudpickle: "
            "pip install cloudpickle (or, in sweep's checkout, pip install '.[run]'); or put it in a "
            "file and give 'model.py:name'"
        ) from None
    try:
        data = cloudpickle.dumps(function)
    except Exception as e:
        raise SweepError(
            f"{qualname or function!r} cannot be shipped to the workers ({type(e).__name__}: {e}); "
            "wrap it in a plain Python function in a file and give 'model.py:name'"
        ) from None
    name = function.__name__ if getattr(function, "__name__", "").isidentifier() else "function"
    return "./" + leaf + ".function.pkl:" + name, data


def _relative(path, parent):
    rel = os.path.relpath(os.path.abspath(path), parent)
    return rel if "/" in rel else "./" + rel


def _count(value, what, *, minimum, optional=False):
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise SweepError(f"{what}={value!r}: give an integer of at least {minimum}")
    return int(value)


def _values(name, values):
    """A parameter's values as the spec writes them: a list, or one fixed value."""
    if hasattr(values, "tolist") and not isinstance(values, (str, bytes)):
        values = values.tolist()
    if isinstance(values, (range, tuple, list)):
        values = list(values)
        if not values:
            raise SweepError(f"params[{name!r}] is empty: give at least one value")
        for v in values:
            _scalar(name, v)
        return values
    return _scalar(name, values)


def _scalar(name, v):
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if not isinstance(v, (bool, int, float, str)):
        raise SweepError(f"params[{name!r}]: {v!r} is {type(v).__name__}; values are numbers, strings or bools")
    return v


def _key(name):
    return name if name.replace("_", "a").replace("-", "a").isalnum() and name.isascii() else json.dumps(name)


def _toml(v):
    """One TOML value."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes, list, dict)):
        v = v.item()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple, range)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(str(k))} = {_toml(x)}" for k, x in v.items()) + " }"
    raise SweepError(f"{v!r} ({type(v).__name__}) has no TOML form")


def failures(out):
    """The failed tasks of the sweep in `out`, as a pandas DataFrame: the row of
    `results.csv` (parameters, `class`, `error`) plus `traceback`, the last failed
    attempt's stderr (attempts/<task>-*/stderr.txt), or "" when it printed nothing."""
    from .data import load

    df = load(out)
    failed = df[df["status"] == "failed"].copy()
    tracebacks = []
    attempts = os.path.join(out, "attempts")
    names = sorted(os.listdir(attempts)) if os.path.isdir(attempts) else []
    for task in failed["task"]:
        text = ""
        # attempts/<task>-<attempt>-<run>/, the last attempt last.
        mine = [d for d in names if d.startswith(task + "-") and d.split("-")[1].isdigit()]
        for d in sorted(mine, key=lambda d: int(d.split("-")[1])):
            path = os.path.join(attempts, d, "stderr.txt")
            if os.path.isfile(path):
                with open(path, errors="replace") as f:
                    text = f.read()
        tracebacks.append(text)
    failed["traceback"] = tracebacks
    return failed.reset_index(drop=True)


__all__ = ["run", "failures", "SweepError"]


def describe_function(function):
    """A text that changes when a function shipped by value changes and only then: its
    source (or its bytecode), and the values of the globals and closure cells it names,
    written in a stable order. sweep hashes it as the function's code (`code_changed`)."""
    return "\n".join(_describe(function, 0)) + "\n"


def _describe(function, depth):
    import inspect
    import textwrap

    code = getattr(function, "__code__", None)
    try:
        lines = [textwrap.dedent(inspect.getsource(function))]
    except (OSError, TypeError):
        lines = [_code_text(code) if code is not None else type(function).__qualname__]
    if code is None:
        return lines
    names = sorted(_names(code))
    g = getattr(function, "__globals__", {})
    lines += [f"global {n} = {_stable(g[n], depth)}" for n in names if n in g]
    for n, cell in zip(code.co_freevars, getattr(function, "__closure__", None) or ()):
        try:
            lines.append(f"closure {n} = {_stable(cell.cell_contents, depth)}")
        except ValueError:  # an empty cell
            pass
    return lines


def _names(code):
    """The global names a code object and the code objects nested in it refer to."""
    names = set(code.co_names)
    for c in code.co_consts:
        if hasattr(c, "co_names"):
            names |= _names(c)
    return names


def _code_text(code):
    """Bytecode and constants, nested code objects included."""
    consts = [_code_text(c) if hasattr(c, "co_code") else repr(c) for c in code.co_consts]
    return code.co_code.hex() + "(" + ", ".join(consts) + ")"


def _stable(v, depth):
    """`v` written so that equal values give equal text in any process."""
    import types

    if isinstance(v, types.ModuleType):
        return f"<module {v.__name__}>"
    if isinstance(v, (types.FunctionType, types.LambdaType)):
        if depth >= 2 or getattr(v, "__module__", "__main__") not in ("__main__", None):
            return f"<function {getattr(v, '__module__', '')}.{getattr(v, '__qualname__', '')}>"
        return "<function " + "\n".join(_describe(v, depth + 1)) + ">"
    if isinstance(v, (set, frozenset)):
        return "{" + ", ".join(sorted(_stable(x, depth) for x in v)) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(sorted(f"{_stable(k, depth)}: {_stable(x, depth)}" for k, x in v.items())) + "}"
    if isinstance(v, (list, tuple)):
        return type(v).__name__ + "[" + ", ".join(_stable(x, depth) for x in v) + "]"
    if isinstance(v, type):
        return f"<class {v.__module__}.{v.__qualname__}>"
    if hasattr(v, "tobytes") and hasattr(v, "dtype"):  # a numpy array: its bytes
        import hashlib

        return f"<array {v.dtype} {getattr(v, 'shape', '')} {hashlib.sha256(v.tobytes()).hexdigest()}>"
    text = repr(v)
    # An object without a value repr (`<Foo object at 0x...>`) differs in every process.
    return type(v).__qualname__ if " at 0x" in text else text
