"""Validation refuses what is wrong, and validate and build agree: the same files (near-miss
extensions refused with a message, never skipped), the same rules (whatever validate accepts the
build converts), messages instead of tracebacks, alias bombs refused fast, warnings made errors by
--strict. The corpus itself is tests/invalid/ (see test_validate.py)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence.catalog.build import build_catalog
from evidence.cli.main import app
from evidence.errors import BuildError
from evidence.ingest import validate_paths
from evidence.ingest.loader import loads

HERE = Path(__file__).parent
INVALID = sorted((HERE / "invalid").glob("*.yaml"))
VALID = HERE / "valid" / "fixture-cct-coded.yaml"
runner = CliRunner()


def _bomb(size: int = 1400) -> str:
    """An alias bomb of about ``size`` bytes: ten levels of nine aliases to the level below."""
    names = [f"level{i:02d}" for i in range(10)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * 9)}]"]
    lines += [f"{n}: &{n} [{', '.join(['*' + p] * 9)}]" for p, n in zip(names, names[1:])]
    text = "\n".join(lines) + "\n"
    return text + "# " + "x" * max(0, size - len(text) - 3) + "\n"


def test_a_1_4_kb_alias_bomb_fails_fast_with_a_message(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb(), encoding="utf-8")
    assert 1300 <= path.stat().st_size <= 1500
    t0 = time.perf_counter()
    report = validate_paths([path])
    assert time.perf_counter() - t0 < 1.0
    (p,) = report.problems
    assert (p.rule, p.line) == ("yaml-aliases", 1) and "at most 1,000" in p.message and "aliases" in p.hint


def test_a_few_aliases_as_yaml_dump_writes_them_are_fine():
    loaded = loads("a: &id001 {x: 1, y: 2}\nb: *id001\n")
    assert loaded.issues == [] and loaded.data == {"a": {"x": 1, "y": 2}, "b": {"x": 1, "y": 2}}


@pytest.mark.parametrize("suffix", [".yml", ".YAML", ".Yaml", ".json"])
def test_near_miss_extensions_are_refused_by_validate_and_build_alike(tmp_path, suffix):
    d = tmp_path / "studies"
    d.mkdir()
    shutil.copy(VALID, d / f"fixture-cct-coded{suffix}")
    report = validate_paths([d])
    assert report.files == 1 and not report.ok
    msg = f"a study file ends in .yaml, not '{suffix}'"
    assert [p.message for p in report.errors] == [msg]
    with pytest.raises(BuildError, match=msg):
        build_catalog(d, tmp_path / "c.db", progress=False)


def test_other_files_in_a_studies_directory_are_not_study_files(tmp_path):
    d = tmp_path / "studies"
    d.mkdir()
    shutil.copy(VALID, d)
    (d / "README.md").write_text("notes", encoding="utf-8")
    assert validate_paths([d]).files == 1 and build_catalog(d, tmp_path / "c.db", progress=False).n_files == 1


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_every_corpus_file_gives_messages_not_tracebacks_and_build_agrees(path, tmp_path):
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    report = validate_paths([path])
    assert "Traceback" not in result.output and result.exit_code == (0 if report.ok else 1)
    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(path, d)
    if report.ok:  # warnings only: build accepts it too
        assert build_catalog(d, tmp_path / "c.db", progress=False).n_studies == 1
    else:
        with pytest.raises(BuildError, match="validation failed"):
            build_catalog(d, tmp_path / "c.db", progress=False)


@pytest.mark.parametrize("name", ["invalid-effect-unusually-large", "invalid-follow-up-unusually-long"])
def test_unusual_values_warn_and_strict_makes_them_errors(name):
    path = HERE / "invalid" / f"{name}.yaml"
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    strict = runner.invoke(app, ["validate", "--strict", str(path)])
    assert strict.exit_code == 1 and "warning" in strict.output


def test_corpus_covers_at_least_100_classes():
    assert len(INVALID) >= 100
    first_lines = [p.read_bytes()[:200] for p in INVALID]
    assert len(set(first_lines)) == len(first_lines)  # one class each: no two files open alike
