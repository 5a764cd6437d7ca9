"""Each quick command imports only what it uses: run it in a fresh interpreter and look at
``sys.modules`` afterwards. Asserts imports, not timings (``benchmarks/bench_cli.py`` times them).

Why: a whole-process ``evidence meta --csv`` was slower than Rscript + metafor because start-up
imported SQLAlchemy, sqlmodel, pandas and scipy for every command, and every command module for any
command. The commands are now registered lazily (``evidence.cli.main.COMMANDS``): these tests check
that the lazy table names exactly what the modules register, that ``evidence --help`` still lists every
command with its help line, and that running a command imports its own module and no other."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.main import get_command_name

from evidence.cli.main import COMMAND_MODULES, COMMANDS

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
cli = sorted(m for m in sys.modules if m.startswith("evidence.cli."))
print(json.dumps({"code": code, "heavy": [m for m in heavy if m in sys.modules], "cli": cli}), file=sys.stderr)
"""

CASES = {
    # the CSV is read into plain columns and pooled by numpy + scipy.special (the estimators' quantiles);
    # pandas (moderator coding), scipy.stats (the small-study tests) and the catalogue's stack are not needed
    "meta --csv": (["meta", "--csv", str(CSV)], set(HEAVY)),
    "meta --csv --method bayes": (["meta", "--csv", str(CSV), "--method", "bayes"], set(HEAVY)),
    "validate": (["validate", str(STUDY)], set(HEAVY)),
    "list": (["list"], {"scipy.stats", "streamlit", "pymc", "rich.progress"}),
    "answer": (["answer", "--intervention", "conditional_cash_transfer", "--outcome", "child_labour"],
               {"streamlit", "pymc", "rich.progress"}),
}


def probe(args: list[str]) -> tuple[dict, str]:
    """Run ``evidence ARGS`` in a fresh interpreter: (what it imported and its exit code, its stdout)."""
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)], cwd=REPO,
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="400"))
    assert out.stderr.strip(), out.stdout[-2000:]
    return json.loads(out.stderr.strip().splitlines()[-1]), out.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_command_imports_only_what_it_uses(name):
    args, forbidden = CASES[name]
    report, stdout = probe(args)
    assert report["code"] == 0, stdout[-2000:]
    assert not forbidden & set(report["heavy"]), f"{name} imported {sorted(forbidden & set(report['heavy']))}"


def test_the_guard_sees_pandas_when_moderators_are_asked_for():
    """The check above can fail: moderator coding (formulae on a DataFrame) does import pandas."""
    report, stdout = probe(["meta", "--csv", str(CSV), "--mods", "ablat"])
    assert report["code"] == 0 and "ablat" in stdout, stdout  # the moderator's coefficient is printed
    assert "pandas" in report["heavy"]


def registered() -> dict[str, tuple[str, str]]:
    """Command -> (the module that registers it, its help) as the modules themselves register them."""
    out = {}
    for module in COMMAND_MODULES:
        app = typer.Typer()
        importlib.import_module(module).register(app)
        for info in app.registered_commands:
            name = info.name or get_command_name(info.callback.__name__)
            assert name not in out, f"{name} registered by {out[name][0]} and {module}"
            out[name] = (module, info.help or inspect.getdoc(info.callback) or "")
    return out


def test_the_lazy_table_names_what_the_modules_register():
    reg = registered()
    assert len(reg) >= 16
    assert {name: module for name, (module, _) in reg.items()} == COMMANDS


def test_help_lists_every_command_with_its_help_line():
    report, stdout = probe(["--help"])
    assert report["code"] == 0, stdout
    panel = stdout[stdout.index("Commands"):]
    rows = dict(m.groups() for m in re.finditer(r"^\S (\S+) +(.+?) *\S$", panel, flags=re.MULTILINE))
    reg = registered()
    assert list(rows) == list(COMMANDS)  # every command, in the table's order
    for name, (_, doc) in reg.items():
        first = " ".join(doc.split("\n\n")[0].split())
        assert rows[name].startswith(first[:40]), (name, rows[name], first)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_imports_its_own_module_only(name):
    """``evidence NAME --help`` works and loads the module of NAME and no other command module."""
    report, stdout = probe([name, "--help"])
    assert report["code"] == 0 and "Usage:" in stdout, stdout[-2000:]
    loaded = set(report["cli"]) & set(COMMAND_MODULES)
    assert loaded == {COMMANDS[name]}, f"{name} loaded {sorted(loaded)}"
