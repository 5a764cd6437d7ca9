"""The rule registry: every rule is registered once with a name, scope, severity and message; the
rule modules import no cycle; every problem validate and import print names a registered rule;
the checks across files (duplicate ids, likely duplicates, links) report instead of swallowing."""

from __future__ import annotations

import ast
import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence.cli.main import app
from evidence.ingest import dedup, validate_paths
from evidence.ingest.rules import REGISTRY, RULES
from evidence.ingest.sheet import sheet_to_studies

HERE = Path(__file__).parent
RULES_DIR = Path(__file__).parents[1] / "evidence" / "ingest" / "rules"
VALID = HERE / "valid" / "fixture-cct-coded.yaml"
runner = CliRunner()


def test_every_rule_has_name_scope_severity_message_and_check():
    rules = REGISTRY.all()
    assert len({r.name for r in rules}) == len(rules) >= 40
    for r in rules:
        assert re.match(r"^[a-z0-9][a-z0-9.-]*$", r.name), r.name
        assert r.scope in ("file", "tree") and r.severity in ("error", "warning")
        assert r.message and "\n" not in r.message and callable(r.check)
    assert {"duplicate-study-id", "possible-duplicate", "links-exist"} <= set(REGISTRY.of_scope("tree"))
    assert {"file-readable", "yaml-syntax", "yaml-aliases", "sheet-columns", "sheet-cells"} <= set(REGISTRY.of_scope("file"))
    assert set(RULES) <= set(REGISTRY.of_scope("file"))


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):
        REGISTRY.rule("schema", "again")(lambda s, c: [])


def test_list_rules_lists_every_rule_with_scope_and_severity():
    result = runner.invoke(app, ["validate", "--list-rules"])
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[1:3] for line in result.output.splitlines() if line.strip()}
    assert {r.name: [r.scope, r.severity] for r in REGISTRY.all()} == rows


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "evidence.ingest.rules":
                names |= {f"evidence.ingest.rules.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def test_rule_modules_form_no_import_cycle():
    mods = {f"evidence.ingest.rules.{p.stem}": _imports(p) for p in RULES_DIR.glob("*.py") if p.stem != "__init__"}
    for mod, deps in mods.items():
        assert "evidence.ingest.rules" not in deps, f"{mod} imports the package that imports it"
    graph = {m: {d for d in deps if d in mods} for m, deps in mods.items()}
    state: dict[str, int] = {}

    def visit(m, path):
        assert state.get(m) != 1, "import cycle: " + " -> ".join(path + [m])
        if state.get(m) == 2:
            return
        state[m] = 1
        for dep in graph[m]:
            visit(dep, path + [m])
        state[m] = 2
    for m in graph:
        visit(m, [])


@pytest.mark.parametrize("module", sorted(p.stem for p in RULES_DIR.glob("*.py")))
def test_each_rule_module_imports_first_in_a_fresh_interpreter(module):
    name = "evidence.ingest.rules" + ("" if module == "__init__" else f".{module}")
    run = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_every_problem_printed_comes_from_a_registered_rule(tmp_path):
    report = validate_paths([HERE / "invalid", HERE / "valid", tmp_path / "missing.yaml"])
    assert report.problems and all(p.rule in REGISTRY for p in report.problems)
    sheet = tmp_path / "s.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["study_id", "estmate"], ["", "x"]])
    _, problems = sheet_to_studies(sheet)
    assert problems and all(p.rule in REGISTRY for p in problems)


def test_a_file_that_breaks_the_duplicate_check_is_reported_and_the_rest_still_checked(tmp_path):
    shutil.copy(VALID, tmp_path)
    text = VALID.read_text(encoding="utf-8").replace("id: fixture-cct-coded", "id: fixture-cct-twin")
    (tmp_path / "fixture-cct-twin.yaml").write_text(text, encoding="utf-8")
    broken = text.replace("id: fixture-cct-twin", "id: fixture-broken") + "links: not-a-list\n"
    (tmp_path / "fixture-broken.yaml").write_text(broken, encoding="utf-8")
    report = validate_paths([tmp_path])
    dup = [p for p in report.problems if p.rule == "possible-duplicate"]
    failed = [p for p in dup if "duplicate check cannot read this study" in p.message]
    assert len(failed) == 1 and failed[0].severity == "error" and failed[0].path.name == "fixture-broken.yaml"
    assert any("possible duplicate of" in p.message and p.severity == "warning" for p in dup)


def test_a_failing_duplicate_check_is_an_error_not_silence(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise ValueError("titles could not be compared")
    monkeypatch.setattr(dedup, "find_duplicates", boom)
    report = validate_paths([VALID])
    assert [(p.rule, p.severity) for p in report.problems] == [("possible-duplicate", "error")]
    assert "titles could not be compared" in report.problems[0].message and not report.ok


def test_links_must_name_existing_studies_not_paths(tmp_path):
    shutil.copy(VALID, tmp_path)
    text = VALID.read_text(encoding="utf-8").replace("id: fixture-cct-coded", "id: fixture-linker")
    text = text.replace("title: ", "links: [fixture-cct-coded, nobody-2001-x, studies/fixture-cct-coded.yaml, "
                                    "fixture-linker]\nnot_duplicates: [ghost-1999-y]\ntitle: ", 1)
    (tmp_path / "fixture-linker.yaml").write_text(text, encoding="utf-8")
    report = validate_paths([tmp_path / "fixture-linker.yaml"])  # one file: its neighbours still count
    got = sorted((p.field, p.message) for p in report.problems if p.rule == "links-exist")
    assert got == [("links[1]", "no study with id 'nobody-2001-x'"),
                   ("links[2]", "'studies/fixture-cct-coded.yaml' is a path, not a study id"),
                   ("links[3]", "the study lists itself in links"),
                   ("not_duplicates[0]", "no study with id 'ghost-1999-y'")]
    assert all(p.line > 1 for p in report.problems if p.rule == "links-exist")


def test_a_missing_file_is_a_problem_of_the_reading_rule(tmp_path):
    report = validate_paths([tmp_path / "nope.yaml"])
    assert [(p.rule, p.message) for p in report.problems] == [("file-readable", "no such file")]
