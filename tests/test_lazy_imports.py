"""The catalogue, the CLI, the exact engine and the app's view logic never pay for PyMC at import.

PyMC, pytensor, bambi, arviz and nutpie take seconds to import; only the on-request sampled models
may load them. Checked in a fresh interpreter so other tests' imports cannot hide a regression.
"""

import subprocess
import sys

HEAVY = ("pymc", "pytensor", "bambi", "arviz", "nutpie")
MODULES = ("evidence.cli.main", "evidence.catalog.queries", "evidence.catalog.build", "evidence.ingest",
           "evidence.meta.exact", "evidence.meta.exact_regression", "evidence.meta.frequentist",
           "evidence.meta.models", "evidence.meta.sampling", "evidence.synthesis", "evidence.summary")


def test_no_heavy_import_on_the_fast_paths():
    code = (f"import importlib, sys\nfor m in {MODULES!r}: importlib.import_module(m)\n"
            f"print(','.join(h for h in {HEAVY!r} if h in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"imported at start-up: {out}"
