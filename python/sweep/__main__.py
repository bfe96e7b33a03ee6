"""`python -m sweep ARGS...` runs the sweep binary with the same arguments, for environments
where the wheel's script directory is not on PATH."""

import os
import sys

from ._binary import SweepError, binary


def main():
    try:
        exe = binary()
    except SweepError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    os.execv(exe, [exe, *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
