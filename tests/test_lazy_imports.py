"""The catalogue, the CLI, the exact and frequentist engines, the app's views and the summaries never
pay for PyMC at import.

PyMC, pytensor, bambi, arviz and nutpie take seconds to import; only the on-request sampled models
(``evidence.meta.pymc``) may load them, and nothing on these paths imports that package either.
Checked in a fresh interpreter so other tests' imports cannot hide a regression.
"""

import pkgutil
import subprocess
import sys

import evidence.views

HEAVY = ("pymc", "pytensor", "bambi", "arviz", "nutpie")
VIEWS = tuple(f"evidence.views.{m.name}" for m in pkgutil.iter_modules(evidence.views.__path__))
MODULES = ("evidence.cli.main", "evidence.catalog.queries", "evidence.catalog.build", "evidence.ingest",
           "evidence.meta.exact", "evidence.meta.exact.grid", "evidence.meta.exact.mixture",
           "evidence.meta.frequentist", "evidence.meta.frequentist.tau2", "evidence.meta.inputs",
           "evidence.meta.moderators", "evidence.meta.priors", "evidence.provenance", "evidence.meta.result",
           "evidence.synthesis", "evidence.summary", *VIEWS)


def _loaded_after(modules, heavy=HEAVY) -> list[str]:
    code = (f"import importlib, sys\nfor m in {tuple(modules)!r}: importlib.import_module(m)\n"
            f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {tuple(heavy)!r} "
            f"or m.startswith('evidence.meta.pymc'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return [m for m in out.split(",") if m]


def test_no_heavy_import_on_the_fast_paths():
    assert len(VIEWS) >= 5, VIEWS  # the views package is really scanned
    loaded = _loaded_after(MODULES)
    assert loaded == [], f"imported at start-up: {loaded}"


def test_the_guard_sees_the_sampled_models():
    """The check above can fail: importing the sampled models' fit module is caught."""
    assert "evidence.meta.pymc.models" in _loaded_after(["evidence.meta.pymc.models"])


# What ``evidence meta --csv`` imports: the strict reader, its table, both engines and the provenance.
CSV_PATH = ("evidence.cli.main", "evidence.cli.meta_cmd", "evidence.ingest.effect_table", "evidence.ingest.table",
            "evidence.meta.frequentist", "evidence.meta.exact", "evidence.meta.moderators", "evidence.provenance")


def test_the_csv_path_imports_no_pandas():
    """pandas is for moderator coding and the app's tables (``Table.to_frame``), imported where used."""
    assert _loaded_after(CSV_PATH, heavy=("pandas", "formulae", "sqlalchemy", "sqlmodel")) == []
    assert "pandas" in _loaded_after(["evidence.catalog.queries"], heavy=("pandas",))  # the check can fail
