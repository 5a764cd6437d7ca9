"""The invalid corpus (each file gives exactly its expected problems, with lines), the valid
fixtures, checks across files, and the ``validate`` command's output and exit codes."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence import config
from evidence.cli.main import app
from evidence.ingest import Problem, ValidationReport, validate_paths
from evidence.ingest.loader import loads

HERE = Path(__file__).parent
INVALID = sorted((HERE / "invalid").glob("*.yaml"))
VALID = sorted((HERE / "valid").glob("*.yaml"))
runner = CliRunner()


def _shown(p: Problem, base: Path) -> str:
    return ("warning: " if p.severity == "warning" else "") + str(p).replace(f"{base}/", "")


def test_corpus_is_large_enough_and_paired():
    assert len(INVALID) >= 30
    for f in INVALID:
        assert f.with_suffix(".expected").is_file(), f"{f.name} has no .expected"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_file_gives_exactly_its_expected_problems(path: Path):
    # ``{today}``: the date the rule compares with (a fixed date would go stale the day after it was written)
    text = path.with_suffix(".expected").read_text(encoding="utf-8").replace("{today}", date.today().isoformat())
    expected = [x for x in text.splitlines() if x.strip()]
    report = validate_paths([path])
    shown = [_shown(p, path.parent) for p in report.problems]
    assert len(shown) == len(expected), "\n".join(["got:"] + shown + ["expected:"] + expected)
    unmatched = list(shown)
    for exp in expected:
        want_warning = exp.startswith("warning: ")
        hit = next((s for s in unmatched if exp in s and s.startswith("warning: ") == want_warning), None)
        assert hit is not None, f"missing {exp!r}; got:\n" + "\n".join(shown)
        unmatched.remove(hit)
    assert all(re.match(r"^(warning: )?[\w.-]+\.yaml:\d+: \S+: ", s) for s in shown)


def test_every_expectation_names_a_line():
    for f in INVALID:
        for line in f.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
            if line.strip():
                assert re.match(rf"^(warning: )?{re.escape(f.name)}:\d+: ", line), line


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixtures_have_no_problems(path: Path):
    report = validate_paths([path])
    assert report.problems == [], [str(p) for p in report.problems]
    assert report.ok and [s.id for s in report.studies] == [path.stem]


def test_valid_directory_sorted_by_id():
    report = validate_paths([HERE / "valid"])
    assert report.ok and report.files == len(VALID)
    assert [s.id for s in report.studies] == sorted(p.stem for p in VALID)


def test_several_problems_in_one_file_are_all_reported():
    report = validate_paths([HERE / "invalid" / "invalid-several.yaml"])
    assert {p.rule for p in report.errors} == {"country-code", "se-positive", "design"}
    assert [p.line for p in report.problems] == sorted(p.line for p in report.problems)
    assert report.studies == [] and not report.ok


def test_problems_sorted_by_path_then_line():
    report = validate_paths([HERE / "invalid" / "invalid-several.yaml", HERE / "invalid" / "invalid-country.yaml"])
    keys = [(str(p.path), p.line) for p in report.problems]
    assert keys == sorted(keys)


def test_default_is_studies_dir(tmp_path, monkeypatch):
    shutil.copy(VALID[0], tmp_path)
    monkeypatch.setattr(config, "STUDIES_DIR", tmp_path)
    report = validate_paths()
    assert report.files == 1 and [s.id for s in report.studies] == [VALID[0].stem]


def test_missing_file_is_a_problem(tmp_path):
    report = validate_paths([tmp_path / "nope.yaml"])
    assert not report.ok and "no such file" in str(report.errors[0])


def _copy_as(src: Path, dst_dir: Path, new_id: str, extra: str = "") -> Path:
    text = re.sub(r"^id: .*$", f"id: {new_id}", src.read_text(encoding="utf-8"), count=1, flags=re.M)
    out = dst_dir / f"{new_id}.yaml"
    out.write_text(text + extra, encoding="utf-8")
    return out


def test_duplicate_study_id_across_files(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    shutil.copy(VALID[0], a)
    shutil.copy(VALID[0], tmp_path)
    report = validate_paths([a / VALID[0].name, tmp_path / VALID[0].name])
    dup = [p for p in report.errors if p.rule == "duplicate-study-id"]
    assert len(dup) == 1 and f"duplicate study id '{VALID[0].stem}'" in dup[0].message
    assert dup[0].line == 2  # the id: line, after the fixture's comment line


def test_likely_duplicates_warn_unless_declared(tmp_path):
    base = HERE / "valid" / "fixture-cct-coded.yaml"
    shutil.copy(base, tmp_path)
    _copy_as(base, tmp_path, "fixture-cct-coded-copy")
    report = validate_paths([tmp_path])
    warn = [p for p in report.warnings if p.rule == "possible-duplicate"]
    assert len(warn) == 1 and "score 100" in warn[0].message and report.ok
    (tmp_path / "fixture-cct-coded-copy.yaml").unlink()
    _copy_as(base, tmp_path, "fixture-cct-coded-copy", "not_duplicates: [fixture-cct-coded]\n")
    report = validate_paths([tmp_path])
    assert [p for p in report.problems if p.rule == "possible-duplicate"] == []


def test_problem_format():
    p = Problem("s/x.yaml", 12, "effects[2].reported.se", "SE 0 is not positive", "an SE must be > 0")
    assert str(p) == "s/x.yaml:12: effects[2].reported.se: SE 0 is not positive (an SE must be > 0)"
    assert str(Problem("x.yaml", 1, "id", "bad")) == "x.yaml:1: id: bad"
    assert ValidationReport(problems=[Problem("x", 1, "f", "m", severity="warning")]).ok


def test_loader_lines_and_bad_yaml():
    f = loads("a: 1\nb:\n  - x: 2\n    y: [1, 2]\n  - z\n")
    assert f.data == {"a": 1, "b": [{"x": 2, "y": [1, 2]}, "z"]}
    assert f.line_of(("b", 0, "y")) == 4 and f.line_of(("b", 1)) == 5
    assert f.line_of(("b", 0, "missing", "deeper")) == 3  # falls back to the deepest existing part
    bad = loads("a: 1\nb: [1, 2\nc: 3\n")
    assert bad.data is None and bad.error[0] == 3 and "invalid YAML" in bad.error[1]
    assert loads("").error == (1, "the file is empty")


# --- the command ----------------------------------------------------------------------------------

def test_cli_valid_exit_0():
    result = runner.invoke(app, ["validate", str(HERE / "valid")])
    assert result.exit_code == 0, result.output
    assert f"{len(VALID)} file(s), {len(VALID)} valid, 0 error(s), 0 warning(s)" in result.output


def test_cli_invalid_exit_1_and_lines():
    path = HERE / "invalid" / "invalid-several.yaml"
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    lines = [x for x in result.output.splitlines() if x.startswith(str(path))]
    assert len(lines) == 3
    assert f"{path}:73: effects[1].reported.se: SE -0.7 is not positive (an SE must be > 0)  [error: se-positive]" in lines
    assert "1 file(s), 0 valid, 3 error(s), 0 warning(s)" in result.output


def test_cli_strict_turns_warnings_into_failure():
    path = HERE / "invalid" / "invalid-quote-long.yaml"  # one warning only
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    result = runner.invoke(app, ["validate", "--strict", str(path)])
    assert result.exit_code == 1 and "[warning: quote-length]" in result.output


def test_cli_json():
    path = HERE / "invalid" / "invalid-country.yaml"
    result = runner.invoke(app, ["validate", "--format", "json", str(path)])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["errors"] == 3 and doc["ok"] is False
    assert {p["field"] for p in doc["problems"]} == {f"programme.countries[{i}]" for i in range(3)}
    assert all(p["line"] == 12 and p["rule"] == "country-code" for p in doc["problems"])


def test_cli_list_rules():
    result = runner.invoke(app, ["validate", "--list-rules"])
    assert result.exit_code == 0 and "number-in-quote" in result.output and "p-consistent" in result.output
