"""sweep.run's progress bar, fed from the binary's `--progress json` lines on stderr:
`tqdm.auto` when installed (a widget in Jupyter, a bar in a terminal), else one line
rewritten in place on a terminal, else nothing."""

import json
import sys


class Bar:
    def __init__(self):
        self.tqdm = None
        self.total = None
        self.shown = False

    def feed(self, line):
        """Takes a `{"progress": ...}` line; returns False for any other line."""
        if not line.startswith('{"progress"'):
            return False
        try:
            p = json.loads(line)["progress"]
            done, failed, total = int(p["done"]), int(p["failed"]), int(p["total"])
        except (ValueError, KeyError, TypeError):
            return False
        self.update(done, failed, total)
        return True

    def update(self, done, failed, total):
        if self.tqdm is None and self.total is None:
            self.total = total
            try:
                from tqdm.auto import tqdm

                self.tqdm = tqdm(total=total, desc="sweep", unit="task")
            except ImportError:
                pass
        if self.tqdm is not None:
            self.tqdm.total = total
            self.tqdm.set_postfix(failed=failed, refresh=False)
            step = done + failed - self.tqdm.n
            if step > 0:
                self.tqdm.update(step)  # through update, so that tqdm's rate is right
            else:
                self.tqdm.refresh()
        elif sys.stderr.isatty():
            sys.stderr.write(f"\rsweep: {done + failed}/{total} ({failed} failed)")
            sys.stderr.flush()
            self.shown = True

    def write(self, text, dst):
        """Writes another line of sweep's stderr without garbling the bar."""
        if self.tqdm is not None:
            # sweep's own lines come between runs of tasks (the summary at the end): the bar
            # is done; a later progress line starts another.
            self.tqdm.close()
            self.tqdm, self.total = None, None
        if self.shown:
            dst.write("\n")
            self.shown = False
        dst.write(text)
        dst.flush()

    def close(self):
        if self.tqdm is not None:
            self.tqdm.close()
        elif self.shown:
            sys.stderr.write("\n")
