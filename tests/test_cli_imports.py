"""Each quick command imports only what it uses: run it in a fresh interpreter and look at
``sys.modules`` afterwards. Asserts imports, not timings (``benchmarks/bench_cli.py`` times them).

Why: a whole-process ``evidence meta --csv`` was slower than Rscript + metafor because start-up
imported SQLAlchemy, sqlmodel, pandas and scipy for every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CSV = REPO / "tests" / "fixtures" / "bcg_effects.csv"
STUDY = sorted((REPO / "studies").glob("*.yaml"))[0]
HEAVY = ("pandas", "scipy.stats", "sqlalchemy", "sqlmodel", "streamlit", "pymc", "rich", "rich.progress")

PROBE = """
import json, runpy, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["evidence", *json.loads(sys.argv[1])]
code = 0
try:
    runpy.run_module("evidence", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
print(json.dumps({"code": code, "heavy": [m for m in heavy if m in sys.modules]}), file=sys.stderr)
"""

CASES = {
    # the strict CSV reader still builds a pandas table (its moderator coding uses it); the estimators
    # take their quantiles from scipy.special, and the small-study tests (scipy.stats) load on first use
    "meta --csv": (["meta", "--csv", str(CSV)], {"scipy.stats", "sqlalchemy", "sqlmodel", "streamlit", "pymc", "rich", "rich.progress"}),
    "validate": (["validate", str(STUDY)], set(HEAVY)),
    "list": (["list"], {"scipy.stats", "streamlit", "pymc", "rich.progress"}),
    "answer": (["answer", "--intervention", "conditional_cash_transfer", "--outcome", "child_labour"],
               {"streamlit", "pymc", "rich.progress"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_command_imports_only_what_it_uses(name):
    args, forbidden = CASES[name]
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)], cwd=REPO,
                         capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO)))
    report = json.loads(out.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert not forbidden & set(report["heavy"]), f"{name} imported {sorted(forbidden & set(report['heavy']))}"
