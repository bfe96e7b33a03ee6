"""sweep's Python worker driver: runs one user function for task after task.

sweep starts N long-lived worker processes as

    python3 -c <this file's source> --function SPEC --base DIR --params JSON_LIST

Each imports the user's module once, then answers requests for as long as sweep sends
them. The same file is importable as ``sweep._worker`` (``main(argv)`` is the entry point).

Protocol v1, JSON lines on the worker's fd 0 (requests) and fd 1 (replies):

1. Start-up. The driver imports the module and checks the function's signature against
   the parameter names in --params. On success it writes one handshake line
   ``{"sweep_worker": 1, "pid": ..., "python": sys.version, "executable": ..., "code": {...}}``
   (``code``: the project's files the import loaded and the versions of the packages it
   imported, see ``code_report``); on
   failure ``{"sweep_worker": 1, "error": "<one line>", "detail": "<traceback>"}`` and it
   exits with status 2.
2. Requests, one object a line: ``{"id", "task", "params", "seed", "seed_str", "seed32",
   "replicate", "attempt", "out"}``; unknown fields are ignored. Requests may be
   pipelined; they are handled strictly in order.
3. The function is called with every parameter as a keyword, plus whichever of the
   extras ``seed``, ``seed32``, ``rng`` (numpy PCG64 Generator from ``seed``), ``out``
   (a pathlib.Path, created first), ``replicate`` and ``task`` its signature names (all
   of them if it takes ``**kwargs``).
4. One reply a request, in order, with ``"seconds"`` the call took: ``{"id", "metrics": {...}}`` plus ``"arrays": [...]``
   when it returned numpy arrays (written as ``<out>/<name>.npy``) and ``"files": true``
   when anything was written into ``<out>`` (sweep then moves it into place), or
   ``{"id", "error": "<one line>", "detail": "<traceback>"}``. A request that is not
   JSON gets ``{"id": null, "error": "protocol: ..."}``.
5. Whatever the task writes to fd 1 or fd 2 (print, os.write, C code) goes to private
   capture files, and from there to ``<out>/stdout.txt`` and ``<out>/stderr.txt``; the
   protocol never sees it. Output while importing goes to the real fd 2 (sweep's log).
   The protocol itself moves to private duplicates of fds 0 and 1 before the import;
   fd 0 becomes /dev/null, so a task that reads stdin gets EOF, not requests.
6. EOF on fd 0: the outstanding replies are written and the driver exits 0. SIGINT is
   ignored (sweep stops its workers itself); SIGTERM ends the worker.
"""

import sys

# Run as `python3 -c`, sys.path starts with "" (the current directory), where a file such
# as json.py or random.py would shadow a standard module the driver uses. So every
# module the driver needs but numpy is imported here, up front, with "" out of the way;
# it goes back before the user's import, which may rely on it.
_cwd = sys.path.pop(0) if __name__ == "__main__" and sys.path[:1] == [""] else None

import difflib  # noqa: E402
import faulthandler  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import importlib.machinery  # noqa: E402
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import json.encoder  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

if _cwd is not None:
    sys.path.insert(0, _cwd)

PROTOCOL = 1

#: The values sweep can pass besides the parameters, in the order they are documented.
EXTRAS = ("seed", "seed32", "rng", "out", "replicate", "task")

# One read takes whatever sweep has queued, up to a pipe's default capacity.
_READ_SIZE = 1 << 16

# Replies are batched per read; a reply that comes this long (seconds) or more after the
# last write is sent at once, so that the replies of slow tasks arrive as they finish.
_FLUSH_AFTER = 0.005

# A reply followed by a slow task would wait for it: a thread sends any reply that has
# waited this long. Longer than _FLUSH_AFTER, so that the thread rarely wakes.
_STALE_AFTER = 0.05

# Replies also go out once this many have been collected: sweep keeps a window of
# requests in flight and sends more once half have come back, and this keeps the next
# requests arriving while the driver still works on the rest of the window.
_FLUSH_EVERY = 16

# Values that go into the metrics as they are. Checked by exact type: the fast path.
_PLAIN = frozenset({int, float, bool, str, type(None)})

# The integers sweep reads back exactly (i64 and u64); others are sent as their decimal
# text, so that 2**70 + 1 stays 1180591620717411303425 instead of becoming a float.
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


def _readable(v):
    """`v` as sweep can read it back: an int beyond 64 bits as its exact decimal text, and
    a str with lone surrogates (what os.listdir gives for a name that is not UTF-8) with
    them escaped as \\udcXX text; JSON would carry them as escapes no UTF-8 reader
    accepts (#24: the reply could not be read, and every later one was taken for the one
    before)."""
    if isinstance(v, str):
        if v.isascii():
            return v
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:
            return v.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(v, int) and not isinstance(v, bool) and not _INT_MIN <= v <= _INT_MAX:
        return str(int(v))
    return v

# Frames whose globals are these are the driver's own; tracebacks start below them.
_GLOBALS = globals()


class StartupError(Exception):
    """A start-up failure that is not an exception of the user's: a missing function,
    an impossible signature, a bad command line. ``error`` is the one-line message for
    the handshake, ``detail`` the longer explanation sent in its place of a traceback."""

    def __init__(self, error, detail=None):
        super().__init__(error)
        self.error = error
        self.detail = detail if detail is not None else error + "\n"


class BadReturn(Exception):
    """The function returned something that cannot become metrics and arrays."""


# ----------------------------------------------------------------------------------------
# Start-up: the command line, the import, the signature.


def parse_args(argv):
    """``--function SPEC --base DIR --params JSON_LIST`` into (spec, base, params).

    Written by hand rather than with argparse so that every mistake becomes a handshake
    error (sweep reads fd 1) instead of a usage message on stderr."""
    usage = "usage: _worker.py --function SPEC --base DIR --params JSON_LIST"
    opts = {}
    it = iter(argv)
    for arg in it:
        name, eq, value = arg.partition("=")
        if name not in ("--function", "--base", "--params"):
            raise StartupError(f"worker: unknown argument `{arg}`; {usage}")
        if not eq:
            value = next(it, None)
            if value is None:
                raise StartupError(f"worker: {name} needs a value; {usage}")
        opts[name[2:]] = value
    for name in ("function", "base", "params"):
        if name not in opts:
            raise StartupError(f"worker: --{name} is missing; {usage}")
    try:
        params = json.loads(opts["params"])
    except ValueError as e:
        raise StartupError(f"worker: --params is not JSON ({e}): {opts['params']}") from None
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise StartupError(f"worker: --params must be a JSON list of names, not {opts['params']}")
    return opts["function"], os.path.abspath(opts["base"]), params


def is_file_spec(module_part):
    """Whether the part of SPEC before ':' names a file rather than a dotted module."""
    return module_part.endswith(".py") or "/" in module_part or os.sep in module_part


def load_function(spec, base):
    """Imports the module that SPEC names and returns (function, its name, where).

    ``path/to/model.py:func`` loads that file (relative to `base`) as module ``model``,
    with the file's directory first on sys.path so that its sibling imports work.
    ``package.module:func`` is imported normally, with `base` first on sys.path.
    ``func`` may be dotted (``model.py:Model.run``)."""
    module_part, colon, attr = spec.rpartition(":")
    if not colon or not module_part or not attr:
        raise StartupError(f"worker: --function `{spec}` must be path/to/model.py:function or package.module:function")
    if is_file_spec(module_part) and module_part.endswith(".pkl"):
        # A function shipped by value by sweep.run (one from a script or a notebook, a
        # lambda, a closure): unpickled, with cloudpickle installed in this interpreter.
        return _unpickle(os.path.normpath(os.path.join(base, module_part)), attr), attr, module_part
    if is_file_spec(module_part):
        path = os.path.normpath(os.path.join(base, module_part))
        module = _import_file(path)
        where = module_part
    else:
        sys.path.insert(0, base)
        module = importlib.import_module(module_part)
        where = f"module `{module_part}`"
    obj = module
    for piece in attr.split("."):
        try:
            obj = getattr(obj, piece)
        except AttributeError:
            raise StartupError(*_missing_function(where, obj, piece)) from None
    if not callable(obj):
        raise StartupError(f"{where}: `{attr}` is {_a(type(obj))}, not a function")
    return obj, attr.rpartition(".")[2], where


def _unpickle(path, name):
    """The function pickled at `path` (written by sweep.run with cloudpickle)."""
    import pickle

    try:
        with open(path, "rb") as f:
            func = pickle.load(f)
    except FileNotFoundError:
        raise StartupError(f"FileNotFoundError: {path} does not exist; run sweep.run again to write it") from None
    except ModuleNotFoundError as e:
        raise StartupError(
            f"{path}: {name}() needs the module `{e.name}` in this interpreter ({sys.executable}); "
            f"install it there (a shipped function needs cloudpickle, and whatever it imports)"
        ) from None
    if not callable(func):
        raise StartupError(f"{path} holds {_a(type(func))}, not a function")
    return func


def _import_file(path):
    """Executes the file at `path` as a module named after the file's stem."""
    if not os.path.isfile(path):
        what = "is a directory, not a .py file" if os.path.isdir(path) else "does not exist"
        raise StartupError(f"FileNotFoundError: {path} {what}")
    name = os.path.splitext(os.path.basename(path))[0]
    # Registered under its stem (dataclasses and pickle look modules up by name), which
    # must not replace a module that is already loaded, such as the driver's own json.
    if name in sys.modules:
        raise StartupError(
            f"{os.path.basename(path)} has the name of the Python module `{name}`, which is "
            f"already imported; rename the file"
        )
    sys.path.insert(0, os.path.dirname(path))
    # An explicit loader, so that a file without the .py suffix loads too.
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def code_report(spec, base):
    """The code the import loaded, for sweep's code identity: ``{"files": [...], "packages":
    {...}}``.

    ``files`` are the absolute paths of the modules in ``sys.modules`` whose files lie under
    the spec's directory (`base`) or the module's own, outside any site-packages and the
    interpreter's own library, plus the module file itself (for a function shipped by
    value, the ``.code`` text sweep.run wrote beside its pickle, else the pickle); sweep
    hashes their bytes. ``packages`` are the versions of the other top-level modules
    imported (numpy, scipy, ...): an installed package is recorded by version, never hashed. Taken after the import, so that
    it is what this process runs, not what a separate probe would find."""
    module_part = spec.rpartition(":")[0]
    roots = [os.path.realpath(base)]
    own = None
    if is_file_spec(module_part):
        own = os.path.realpath(os.path.join(base, module_part))
        roots.append(os.path.dirname(own))
        # A function shipped by value: the stable text sweep.run wrote beside its pickle,
        # whose own bytes differ from process to process.
        described = own[: -len(".pkl")] + ".code" if own.endswith(".pkl") else None
        if described and os.path.isfile(described):
            own = described
    skip = set()
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        skip.add(os.path.realpath(prefix) + os.sep)

    def in_project(path):
        if "site-packages" in path.split(os.sep) or "dist-packages" in path.split(os.sep):
            return False
        if any(path.startswith(s) for s in skip):
            return False
        return any(path == r or path.startswith(r + os.sep) for r in roots)

    files = {own} if own else set()
    tops = set()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path or name == "__main__":
            tops.add(name.partition(".")[0])
            continue
        path = os.path.realpath(path)
        if in_project(path):
            files.add(path)
        elif not in_project(path):
            tops.add(name.partition(".")[0])
    return {"files": sorted(files), "packages": _versions(tops)}


def _versions(tops):
    """The versions of the top-level modules `tops` that are installed packages, by name:
    the module's ``__version__`` (numpy, scipy, torch and most others have one), else the
    version of the distribution of that name. The standard library and sweep itself are
    left out. (Metadata only when needed: importing importlib.metadata alone costs tens of
    milliseconds, and mapping modules to distributions reads every installed package's.)"""
    stdlib = getattr(sys, "stdlib_module_names", frozenset()) | set(sys.builtin_module_names)
    tops = {t for t in tops if t and not t.startswith("_") and t not in stdlib and t != "sweep"}
    out = {}
    for top in sorted(tops):
        version = getattr(sys.modules.get(top), "__version__", None)
        if not isinstance(version, str):
            try:
                import importlib.metadata

                version = importlib.metadata.version(top)
            except Exception:
                continue
        out[top] = version
    return out


def _missing_function(where, obj, name):
    """The error and detail for `name` not found in `obj` (a module or a class)."""
    names = sorted(n for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n, None)))
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    error = f"{where} has no function `{name}`{hint}"
    listing = ", ".join(names) if names else "(none)"
    return error, f"{error}\nfunctions there: {listing}\n"


class Plan:
    """What calling the function takes, worked out once from its signature.

    ``extras`` are the names of the extras to pass, in EXTRAS order; ``wants_numpy``
    is set when one of them (rng) needs numpy, which is imported only then."""

    def __init__(self, func, name, params):
        self.func = func
        self.name = name
        self.params = list(params)
        clash = [p for p in params if p in EXTRAS]
        if clash:
            raise StartupError(
                f"parameter `{clash[0]}` has the name of a value sweep passes itself "
                f"({', '.join(EXTRAS)}); rename the parameter"
            )
        if inspect.iscoroutinefunction(func):
            raise StartupError(
                f"{name}() is async; sweep calls functions directly: give it a plain "
                f"wrapper that calls asyncio.run({name}(...))"
            )
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            # Some builtins have no signature: pass the parameters, no extras, no checks.
            self.extras = ()
            self.wants_numpy = False
            return
        self.extras = self._check(sig, set(params))
        self.wants_numpy = "rng" in self.extras

    def _check(self, sig, params):
        """The extras the signature asks for; StartupError if it cannot take the call."""
        P = sig.parameters
        takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in P.values())
        wanted = set()
        for p in P.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if p.kind is p.POSITIONAL_ONLY:
                if p.name in params or p.name in EXTRAS or p.default is p.empty:
                    raise StartupError(
                        f"{self.name}() takes `{p.name}` positional-only (before `/`), but "
                        f"sweep passes everything by name; remove the `/`"
                    )
                continue
            if p.name in params:
                continue
            if p.name in EXTRAS:
                wanted.add(p.name)
            elif p.default is p.empty:
                swept = ", ".join(f"`{n}`" for n in self.params) or "none"
                raise StartupError(
                    f"{self.name}() requires `{p.name}`, which is not a parameter of this sweep; "
                    f"add it to the spec's parameters, or give it a default",
                    f"{self.name}() requires `{p.name}`, which is not a parameter of this sweep "
                    f"(parameters: {swept}) nor a value sweep passes ({', '.join(EXTRAS)}); "
                    f"add it to the spec's parameters, or give it a default\n",
                )
        if takes_kwargs:
            return tuple(e for e in EXTRAS if e not in params)
        unknown = [n for n in self.params if n not in P]
        if unknown:
            names = ", ".join(f"`{n}`" for n in unknown)
            plural = "s" if len(unknown) > 1 else ""
            them = "them" if len(unknown) > 1 else "it"
            raise StartupError(f"{self.name}() has no parameter{plural} {names}; add {them}, or **kwargs")
        return tuple(e for e in EXTRAS if e in wanted)


def _extras_adder(extras):
    """A function (kwargs, request) -> None that adds the extras in `extras` to kwargs.

    Built once so that the per-task path does only the lookups this function needs.
    A request that lacks a field raises KeyError, which the caller reports."""
    if not extras:
        return None
    getters = []
    for name in extras:
        if name == "rng":
            import numpy

            Generator, PCG64 = numpy.random.Generator, numpy.random.PCG64
            getters.append(("rng", lambda req: Generator(PCG64(req["seed"]))))
        elif name == "out":

            def out(req, makedirs=os.makedirs, Path=Path):
                path = req["out"]
                makedirs(path, exist_ok=True)
                return Path(path)

            getters.append(("out", out))
        else:
            getters.append((name, lambda req, name=name: req[name]))
    getters = tuple(getters)

    def add(kwargs, req):
        for name, get in getters:
            kwargs[name] = get(req)

    return add


# ----------------------------------------------------------------------------------------
# Messages.


def _type_name(tp):
    """'list', 'numpy.float16', 'pandas.DataFrame': a type, for messages."""
    if tp.__module__ in ("builtins", "__main__"):
        return tp.__qualname__
    return f"{tp.__module__.partition('.')[0]}.{tp.__qualname__}"


def _a(tp):
    """'a list', 'an int', 'a numpy.float16': a type with its article, for messages."""
    name = _type_name(tp)
    return ("an " if name[0] in "aeiouAEIOU" else "a ") + name


def error_line(e):
    """The one-line form of an exception: ``ValueError: k must be > 0``.

    This is the final line of traceback.format_exception_only, without the notes that
    Python 3.11 prints after it; for a SyntaxError it keeps the file and line
    (``SyntaxError: invalid syntax (model.py, line 3)``), which that line alone lacks."""
    if isinstance(e, SyntaxError):
        return f"{type(e).__name__}: {e}"
    line = traceback.format_exception_only(type(e), e)[0].rstrip("\n")
    if isinstance(e, ValueError) and "Seed must be between 0 and 2**32 - 1" in str(e):
        # sweep's seeds are below 2**64; numpy's legacy seeding takes 32 bits.
        line += " (sweep's `seed` is 64 bits: ask for `seed32` instead, or use `rng`)"
    return line


def user_traceback(e):
    """The traceback of `e` from the user's first frame on: the driver's own frames and
    importlib's are dropped from the top."""
    tb = e.__traceback__
    while tb is not None and (
        tb.tb_frame.f_globals is _GLOBALS or tb.tb_frame.f_code.co_filename.startswith("<frozen importlib")
    ):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(e), e, tb))


def json_encoder():
    """A function obj -> compact JSON text, with NaN and the infinities as json's tokens
    (which sweep's reader accepts).

    It calls json's C encoder, made once: json.dumps and JSONEncoder.encode build a new
    one on every call, which is half the cost of encoding a small reply. There is no
    check for circular references; replies are flat by construction. Where the C
    encoder is missing, or takes other arguments in another Python, JSONEncoder.encode."""
    plain = json.JSONEncoder(separators=(",", ":"))
    encoder = json.encoder
    make = getattr(encoder, "c_make_encoder", None)
    if make is not None:
        try:
            c = make(None, plain.default, encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
            sample = {"a": [1, 1.5, float("nan"), None, True, "\u00e9"]}
            if "".join(c(sample, 0)) == plain.encode(sample):
                return lambda obj: "".join(c(obj, 0))
        except Exception:
            pass
    return plain.encode


# ----------------------------------------------------------------------------------------
# File descriptors.


def _write_all(fd, data):
    """os.write until all of `data` is written (a pipe may take part of a large write)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


_NPY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_npy_headers = {}  # (dtype, shape, fortran order) -> numpy's header for it


def _save_npy(path, a):
    """numpy.save(path, a, allow_pickle=False), in one write of the header and the data."""
    np = sys.modules["numpy"]
    fmt = np.lib.format
    if a.dtype.hasobject:
        np.save(path, a, allow_pickle=False)  # refused, with numpy's own message
        return
    fortran = a.flags.f_contiguous and not a.flags.c_contiguous
    key = (a.dtype, a.shape, fortran)
    header = _npy_headers.get(key)
    if header is None:
        buf = io.BytesIO()
        try:
            fmt.write_array_header_1_0(buf, fmt.header_data_from_array_1_0(a))
        except ValueError:  # a header too long for format 1.0: numpy picks the version
            with open(path, "wb") as f:
                np.save(f, a, allow_pickle=False)
            return
        header = buf.getvalue()
        if len(_npy_headers) < 256:
            _npy_headers[key] = header
    # As numpy.save lays the data out: Fortran order as the transpose's C order, anything
    # else in C order.
    data = a.T if fortran else np.ascontiguousarray(a)
    view = memoryview(data.reshape(-1).view(np.uint8))
    fd = os.open(path, _NPY_FLAGS, 0o666)
    try:
        n = os.writev(fd, [header, view])
        if n < len(header) + len(view):  # a short write (a full disk raises on the next)
            rest = (header + bytes(view))[n:]
            _write_all(fd, rest)
    finally:
        os.close(fd)


def _capture_file():
    """A private, unlinked temporary file, open for reading and writing."""
    f = tempfile.TemporaryFile()
    fd = os.dup(f.fileno())
    f.close()
    return fd


def _text_stream(fd):
    """A line-buffered text stream on `fd` that never closes it. Line-buffered so that
    print() and C-level writes in one task keep their order in the capture file."""
    return open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)


# ----------------------------------------------------------------------------------------
# The worker.


class Outbox:
    """Reply lines on their way to the protocol fd, a batch at a time.

    A batch goes out in one write once it has _FLUSH_EVERY lines, or when a reply comes
    _FLUSH_AFTER or more after the last write (so the reply of a slow task goes at once).
    The last reply before a slow task would wait for that task: a thread sends a batch
    whose first line has waited _STALE_AFTER, so that sweep learns of every finished
    task within a blink. While replies flow the thread wakes once per _STALE_AFTER; once
    they stop, it sleeps until the next reply that is left waiting."""

    def __init__(self, fd, clock):
        self.fd = fd
        self.clock = clock
        self.lines = []
        self.since = clock()  # the last write, or when the requests being answered came
        self.first = 0.0  # when the first of `lines` was added
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.idle = False  # the thread waits with no deadline
        self.broken = False  # the thread's write failed: sweep has gone
        threading.Thread(target=self._watch, name="sweep-replies", daemon=True).start()

    def put(self, line):
        """Adds a reply; sends the batch when it is full or the last write is old."""
        with self.lock:
            lines = self.lines
            lines.append(line)
            now = self.clock()
            if len(lines) >= _FLUSH_EVERY or now - self.since > _FLUSH_AFTER:
                self._send()
            elif len(lines) == 1:
                self.first = now
                if self.idle:
                    self.wake.notify()

    def flush(self):
        """Sends whatever waits."""
        with self.lock:
            if self.lines:
                self._send()

    def _send(self):
        """Writes the batch in one write; the lock is held."""
        lines = self.lines
        lines.append("")
        data = "\n".join(lines).encode()
        lines.clear()
        self.since = self.clock()
        _write_all(self.fd, data)

    def _watch(self):
        """The thread: sends a batch whose first line has waited _STALE_AFTER."""
        quiet = False  # nothing waited at the last look either
        with self.lock:
            while not self.broken:
                if not self.lines:
                    if quiet:
                        self.idle = True
                        self.wake.wait()
                        self.idle = quiet = False
                    else:
                        quiet = True
                        self.wake.wait(_STALE_AFTER)
                    continue
                quiet = False
                left = self.first + _STALE_AFTER - self.clock()
                if left > 0:
                    self.wake.wait(left)
                    continue
                try:
                    self._send()
                except OSError:
                    self.broken = True


class Worker:
    """Answers requests for one function (see the module docstring for the protocol).

    ``proto_in`` and ``proto_out`` are the private duplicates of the original fds 0 and
    1; fds 1 and 2 point at the capture files, whose own private duplicates are
    ``capture`` (stdout's, then stderr's)."""

    def __init__(self, plan, proto_in, proto_out, capture):
        self.func = plan.func
        self.name = plan.name
        self.add_extras = _extras_adder(plan.extras)
        # Whether every task's `out` exists once it ran: then sweep must move it into place.
        self.makes_out = "out" in plan.extras
        self.clock = time.perf_counter
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.capture = capture
        self.encode = json_encoder()

    # -- the loop --------------------------------------------------------------------

    def serve(self):
        """Reads requests until EOF on the protocol fd, answering each in order."""
        read, fd, run, clock = os.read, self.proto_in, self.run, time.perf_counter
        loads, raw_decode = json.loads, json.JSONDecoder().raw_decode
        outbox = Outbox(self.proto_out, clock)
        put = outbox.put
        parts = []  # the start of a line that a read cut short
        eof = False
        while not eof:
            chunk = read(fd, _READ_SIZE)
            if chunk:
                cut = chunk.rfind(b"\n") + 1
                if not cut:
                    parts.append(chunk)
                    continue
                if parts:
                    parts.append(chunk[:cut])
                    block = b"".join(parts)
                    parts.clear()
                else:
                    block = chunk[:cut]
                if cut < len(chunk):
                    parts.append(chunk[cut:])
            else:
                # EOF: a last line without its newline is still a request.
                eof = True
                block = b"".join(parts)
                if not block:
                    break
            outbox.since = clock()  # a batch collects from here
            for line in block.decode("utf-8", "replace").split("\n"):
                if not line:
                    continue
                # raw_decode parses the value at the start of the line and says where it
                # ended, without the checks json.loads makes first. A line with anything
                # around its value (blanks, a \r, garbage) goes to json.loads, which
                # accepts blanks and words an error for the rest.
                try:
                    req, end = raw_decode(line)
                except ValueError:
                    end = -1
                if end != len(line):
                    if line.isspace():
                        continue
                    try:
                        req = loads(line)
                    except ValueError as e:
                        put(self.encode({"id": None, "error": f"protocol: request is not JSON ({e})"}))
                        continue
                put(run(req))
            # Before waiting for more requests, everything is answered.
            outbox.flush()

    # -- one task --------------------------------------------------------------------

    def run(self, req):
        """Runs one request and returns its reply line (without the newline).

        This is the path of the common task: a flat dict of plain values returned, and
        nothing printed. Everything else goes on in `finish`."""
        try:
            rid = req["id"]
            kwargs = req["params"]
            if type(kwargs) is not dict:
                raise TypeError("params")
            if self.add_extras is not None:
                self.add_extras(kwargs, req)
        except (KeyError, TypeError) as e:
            return self.protocol_error(req, e)
        except Exception as e:  # making `out` failed, say
            return self.encode({"id": rid, "error": error_line(e), "detail": user_traceback(e)})

        clock = self.clock
        started = clock()
        try:
            result = self.func(**kwargs)
        except BaseException as e:  # SystemExit too: a task may not end the worker
            return self.finish(req, rid, None, e, clock() - started)
        seconds = clock() - started
        if type(result) is not dict:
            return self.finish(req, rid, result, None, seconds)
        for k, v in result.items():
            t = type(v)
            # Not on the fast path: what must be made readable first (see _readable).
            if type(k) is not str or t not in _PLAIN or not k.isascii():
                return self.finish(req, rid, result, None, seconds)
            if (t is int and not _INT_MIN <= v <= _INT_MAX) or (t is str and not v.isascii()):
                return self.finish(req, rid, result, None, seconds)
        # What the task printed. Both streams are line-buffered, so flushing is usually
        # free; the two lseeks are the only system calls of a quiet task.
        try:
            sys.stdout.flush()
        except Exception:
            pass
        try:
            sys.stderr.flush()
        except Exception:
            pass
        try:
            if os.lseek(1, 0, os.SEEK_CUR) or os.lseek(2, 0, os.SEEK_CUR):
                return self.finish(req, rid, result, None, seconds)
        except OSError:
            return self.finish(req, rid, result, None, seconds)
        if self.makes_out:
            return self.encode({"id": rid, "metrics": result, "files": True, "seconds": seconds})
        return self.encode({"id": rid, "metrics": result, "seconds": seconds})

    def finish(self, req, rid, result, exc, seconds):
        """The reply to any task but the common one: the function raised `exc`, or it
        returned `result`, which may need converting, or have arrays to save; and what
        the task wrote to fds 1 and 2 is saved into its out directory."""
        failure = None
        metrics = arrays = None
        if exc is not None:
            failure = error_line(exc), user_traceback(exc)
        else:
            try:
                if result is None:
                    metrics = {}
                elif isinstance(result, dict):
                    metrics, arrays = self.convert(result)
                else:
                    raise BadReturn(
                        f"{self.name}() returned {_a(type(result))}; return a dict of metrics and arrays, or None"
                    )
                if arrays:
                    self.save_arrays(req.get("out"), arrays)
            except BadReturn as e:
                failure = str(e), str(e) + "\n"
            except Exception as e:
                failure = error_line(e), user_traceback(e)

        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        try:
            dirty = os.lseek(1, 0, os.SEEK_CUR) or os.lseek(2, 0, os.SEEK_CUR)
        except OSError:
            # The task closed fd 1 or 2, or pointed it at a pipe: the next task starts
            # with both on the capture files again.
            os.dup2(self.capture[0], 1)
            os.dup2(self.capture[1], 2)
            # What the task printed after closing them is still in the streams' buffers:
            # it is this task's output, not the next one's.
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            dirty = True
        files = self.makes_out
        if dirty or failure is not None:
            try:
                files = self.save_output(req.get("out"), failure) or files
            except Exception as e:  # OSError, or an `out` that is not a path
                if failure is None:
                    failure = f"{error_line(e)} (saving the task's output)", user_traceback(e)

        if failure is not None:
            error, detail = _readable(failure[0]), _readable(failure[1])
            return self.encode({"id": rid, "error": error, "detail": detail, "seconds": seconds})
        if arrays:
            return self.encode(
                {"id": rid, "metrics": metrics, "arrays": list(arrays), "files": True, "seconds": seconds}
            )
        try:
            if files:
                return self.encode({"id": rid, "metrics": metrics, "files": True, "seconds": seconds})
            return self.encode({"id": rid, "metrics": metrics, "seconds": seconds})
        except (TypeError, ValueError, RecursionError) as e:  # a str subclass that json refuses, say
            return self.encode({"id": rid, "error": error_line(e), "detail": user_traceback(e)})

    def protocol_error(self, req, e):
        """The reply to a request that is JSON but not a valid request."""
        if not isinstance(req, dict):
            return self.encode({"id": None, "error": f"protocol: a request is a JSON object, not {_a(type(req))}"})
        rid = req.get("id")
        if isinstance(e, KeyError):
            msg = f"protocol: the request has no `{e.args[0]}`"
        elif not isinstance(req.get("params"), dict):
            msg = "protocol: the request's `params` is not an object"
        else:  # a field of the wrong type, such as a seed that is not a number
            msg = f"protocol: {error_line(e)}"
        return self.encode({"id": rid, "error": msg})

    # -- return values ---------------------------------------------------------------

    def convert(self, result):
        """Splits a returned dict into (metrics, arrays), flattening nested dicts with
        dots; BadReturn names the first value that is neither."""
        metrics, arrays = {}, {}
        self._flatten(result, "", metrics, arrays)
        return metrics, arrays

    def _flatten(self, d, prefix, metrics, arrays):
        np = sys.modules.get("numpy")  # a value can only be a numpy object if it is loaded
        for key, v in d.items():
            if type(key) is not str and not isinstance(key, str):
                raise BadReturn(
                    f"{self.name}() returned a dict with the key {key!r} ({_type_name(type(key))}); "
                    f"names of metrics and arrays must be strings"
                )
            name = prefix + key
            if not name.isascii():
                name = _readable(name)
            if name in metrics or name in arrays:
                raise BadReturn(
                    f"{self.name}() returned `{name}` twice (a nested dict's keys joined with dots "
                    f"give a name that is already used); rename one"
                )
            t = type(v)
            if t in _PLAIN:
                metrics[name] = _readable(v) if t is str or t is int else v
            elif isinstance(v, dict):
                self._flatten(v, name + ".", metrics, arrays)
            elif np is not None and isinstance(v, np.ndarray) and v.ndim == 0 and type(v.item()) in _PLAIN:
                # A 0-d array (np.mean(a, keepdims=False) of some libraries, np.asarray(x))
                # is a number, meant as a metric, not a one-value .npy file.
                item = v.item()
                metrics[name] = _readable(item) if type(item) is str or type(item) is int else item
            elif np is not None and isinstance(v, np.ndarray):
                if not name or "/" in name or "\0" in name:
                    raise BadReturn(
                        f"{self.name}() returned an array named `{name}`, which cannot be a file name "
                        f"({name}.npy); name it without '/'"
                    )
                if v.dtype.hasobject:
                    raise BadReturn(
                        f"{self.name}() returned an array of dtype {v.dtype} for `{name}`; .npy files of "
                        f"Python objects need pickle, which sweep does not read: return a numeric, bool "
                        f"or string array"
                    )
                arrays[name] = v
            elif np is not None and isinstance(v, np.generic):
                item = v.item()
                if type(item) in _PLAIN:
                    metrics[name] = _readable(item)
                else:
                    raise BadReturn(self._bad_value(name, key, v, item))
            elif isinstance(v, (int, float, str)):  # subclasses: IntEnum, numpy.float64 ...
                metrics[name] = _readable(v)
            else:
                raise BadReturn(self._bad_value(name, key, v, v))

    def _bad_value(self, name, key, v, item):
        """The message for a value that is neither a metric nor an array, with the fix."""
        var = key if key.isidentifier() else "x"
        if isinstance(item, (list, tuple)) or (not isinstance(item, (set, frozenset)) and hasattr(item, "__array__")):
            fix = f"return a numpy array (numpy.asarray({var}))"
        elif isinstance(item, (set, frozenset)):
            fix = f"return a numpy array (numpy.array(sorted({var})))"
        elif isinstance(item, complex):
            fix = f"return its parts as two metrics ({var}.real, {var}.imag)"
        elif isinstance(item, (bytes, bytearray)):
            fix = f"return a str ({var}.decode())"
        else:
            fix = "return a number, str, bool, None, numpy array or dict"
        return f"{self.name}() returned {_a(type(v))} for `{name}`; {fix}"

    def save_arrays(self, out, arrays):
        """Writes each array as <out>/<name>.npy, byte for byte what numpy.save writes.

        <out> is this attempt's own directory, which sweep moves into place as a whole only
        once the reply says the task is done: the directory is the temporary name, so the
        files in it are written under their final names (a rename each would be for nothing).
        One directory and one file per array is the layout's cost; everything else is kept
        off it: no file object, numpy's header built once per dtype and shape, the header
        and the data in one system call."""
        if out is None:
            raise BadReturn(f"protocol: the request has no `out` to write {self.name}()'s arrays into")
        try:
            os.mkdir(out)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(out, exist_ok=True)
        for name, a in arrays.items():
            _save_npy(os.path.join(out, name + ".npy"), a)

    # -- captured output -------------------------------------------------------------

    def save_output(self, out, failure):
        """Moves what the task wrote to fds 1 and 2 into <out>/stdout.txt and stderr.txt,
        empties the capture files, and appends a failure's traceback to stderr.txt.
        Returns whether it wrote anything into <out>."""
        moved = False
        for fd, filename in zip(self.capture, ("stdout.txt", "stderr.txt")):
            size = os.fstat(fd).st_size
            if not size:
                continue
            try:
                if out is not None:
                    if not moved:
                        os.makedirs(out, exist_ok=True)
                        moved = True
                    dst = os.open(os.path.join(out, filename), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
                    try:
                        offset = 0
                        while offset < size:
                            data = os.pread(fd, min(size - offset, 1 << 20), offset)
                            if not data:
                                break
                            _write_all(dst, data)
                            offset += len(data)
                    finally:
                        os.close(dst)
            finally:
                # The capture fd shares its file offset with fd 1 (or 2): both go to 0.
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
        if failure is not None and out is not None:
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, "stderr.txt"), "a", encoding="utf-8", errors="backslashreplace") as f:
                f.write(failure[1])
            moved = True
        return moved


# ----------------------------------------------------------------------------------------
# main


def main(argv):
    """Runs the worker; returns the exit status (0 at EOF, 2 when start-up failed)."""
    # Before the user's import, so that no handler the module installs is overridden.
    # Ctrl-C in sweep's terminal is sweep's to handle (it stops its workers itself), and
    # SIGTERM ends the worker even if an ignored SIGTERM was inherited.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    # The protocol moves to private fds first. Fd 0 becomes /dev/null, so that a task
    # calling input() reads EOF instead of requests; fd 1 goes to the real fd 2 while the
    # module is imported, so that import-time output of any kind lands in sweep's log.
    sys.stdout.flush()
    proto_in, proto_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    log = os.dup(2)
    encode = json_encoder()

    try:
        spec, base, params = parse_args(argv)
        func, name, _ = load_function(spec, base)
        plan = Plan(func, name, params)
        if plan.wants_numpy:
            # Here, so that a missing numpy is a start-up error that says why it is needed.
            try:
                import numpy  # noqa: F401
            except ImportError as e:
                raise StartupError(
                    f"{plan.name}() takes `rng`, a numpy Generator, but {error_line(e)} for "
                    f"{sys.executable}; install numpy there, or take `seed` instead of `rng`"
                ) from None
        capture = (_capture_file(), _capture_file())
    except StartupError as e:
        msg = {"sweep_worker": PROTOCOL, "error": e.error, "detail": e.detail}
        _write_all(proto_out, (encode(msg) + "\n").encode())
        return 2
    except BaseException as e:  # anything the import raised, SystemExit included
        error = error_line(e)
        chosen = os.environ.get("SWEEP_PYTHON_CHOSEN")
        if isinstance(e, ModuleNotFoundError) and chosen:
            # A module missing is most often the wrong interpreter: say which ran, and why.
            error += f" (in the interpreter {chosen}; set `python` in [python] to choose another)"
        msg = {"sweep_worker": PROTOCOL, "error": error, "detail": user_traceback(e)}
        _write_all(proto_out, (encode(msg) + "\n").encode())
        return 2

    # From here on fds 1 and 2 are the capture files, and sys.stdout / sys.stderr are
    # new streams over them. The old streams (still sys.__stdout__ / sys.__stderr__)
    # write to the same fds; a module may have kept them, so they become line-buffered
    # and what is written to them lands in the task that wrote it.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass
    os.dup2(capture[0], 1)
    os.dup2(capture[1], 2)
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.reconfigure(line_buffering=True)
        except Exception:
            pass
    sys.stdout, sys.stderr = _text_stream(1), _text_stream(2)
    # A crash in C code (segfault, abort) dumps the Python stack to sweep's log.
    faulthandler.enable(file=log)

    # A child that the function forks (os.fork, multiprocessing's fork pools) must not
    # keep the protocol pipes open: sweep would see no EOF when this worker dies.
    os.register_at_fork(after_in_child=lambda: (os.close(proto_in), os.close(proto_out)))

    # What the function imported (numpy, scipy, torch: up to millions of objects) lives as
    # long as the worker. Frozen, it is out of the collector's reach: the full collections
    # that the tasks' garbage sets off now and then no longer walk all of it each time.
    gc.freeze()
    worker = Worker(plan, proto_in, proto_out, capture)
    hello = {
        "sweep_worker": PROTOCOL,
        "pid": os.getpid(),
        "python": sys.version,
        "executable": sys.executable,
        # What the call passes besides the parameters, for sweep's --dry-run.
        "function": plan.name,
        "extras": list(plan.extras),
        # What sweep hashes into the sweep's code identity, as this process loaded it.
        # The first worker's only: the others import the same files, and sweep reads one.
        "code": code_report(spec, base) if os.environ.get("SWEEP_WORKER", "0") == "0" else None,
    }
    try:
        _write_all(proto_out, (encode(hello) + "\n").encode())
        worker.serve()
    except BrokenPipeError:  # sweep has gone; nobody is left to tell
        return 1
    except BaseException:
        _write_all(log, ("sweep worker: internal error\n" + traceback.format_exc()).encode())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
