"""A real notebook, executed headless (nbclient, a python3 kernel): a function defined in a
cell runs through sweep.run, with its progress bar (tqdm.auto), against the built binary
($SWEEP_BIN, else target/debug/sweep). Skips, saying so, without nbclient, ipykernel, tqdm,
cloudpickle or the binary; under CI=true it fails instead."""

import json
import os
import sys
import tempfile
import unittest

from _needs import BIN, PYTHON_DIR, needs

MISSING = needs("test_notebook", ["cloudpickle", "ipykernel", "nbclient", "nbformat", "tqdm"])
if not MISSING:
    import nbclient
    import nbformat


@unittest.skipIf(MISSING, f"the notebook test needs: {MISSING}")
class Notebook(unittest.TestCase):
    def test_a_function_defined_in_a_cell_runs_with_a_progress_bar(self):
        d = tempfile.mkdtemp()
        setup = (
            "import os, sys\n"
            f"sys.path.insert(0, {PYTHON_DIR!r})\n"
            f"os.environ['PATH'] = {os.path.dirname(os.path.abspath(BIN))!r} + os.pathsep + os.environ['PATH']\n"
            "import sweep"
        )
        define = "import time\n\ndef decay(k, seed):\n    time.sleep(0.02)\n    return {'half_life': 0.6931 / k}"
        run = "ds = sweep.run(decay, params={'k': [0.5, 1.0, 2.0]}, replicates=4, seed=1, out='runs/nb')"
        check = "print(json.dumps(ds['half_life'].mean('replicate').values.round(4).tolist()))"
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c) for c in (setup, define, run, "import json\n" + check)]
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": d}}).execute()
        printed = "".join(o.get("text", "") for o in nb.cells[3].outputs if o.get("output_type") == "stream")
        self.assertEqual(json.loads(printed), [1.3862, 0.6931, 0.3466])
        # The bar: a tqdm widget, or tqdm's text where ipywidgets is missing.
        outs = nb.cells[2].outputs
        widget = any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outs)
        text = "".join(o.get("text", "") for o in outs if o.get("output_type") == "stream")
        self.assertTrue(widget or "12/12" in text, outs)
        self.assertTrue(os.path.isfile(os.path.join(d, "runs", "nb.function.pkl")))


if __name__ == "__main__":
    unittest.main()
