"""What the tests that run the built binary need: its path, and the modules they import.
A test module calls `needs(name, modules)` once: where something is missing, its tests skip,
saying so, and under CI=true they fail instead."""

import importlib
import os

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(PYTHON_DIR)
BIN = os.environ.get("SWEEP_BIN") or os.path.join(ROOT, "target", "debug", "sweep")


def needs(name, modules):
    """What of `modules` and the binary is missing, as a sentence; None when nothing is."""
    missing = None
    for m in modules:
        try:
            importlib.import_module(m)
        except ImportError as e:
            missing = str(e)
    if not os.path.isfile(BIN):
        missing = f"no sweep binary at {BIN}: run `cargo build` or set SWEEP_BIN"
    if missing and os.environ.get("CI") == "true":
        raise RuntimeError(f"{name} needs what is missing under CI: {missing}")
    return missing
