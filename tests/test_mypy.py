"""The meta-analysis engines and the catalogue type-check (mypy, configured in pyproject.toml).

Runs the pinned mypy of the test extra on ``[tool.mypy] files``; any error fails with mypy's report.
The incremental cache (``.mypy_cache``) keeps a re-run to a few seconds.
"""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mypy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=REPO, capture_output=True, text=True)


def test_meta_and_catalog_type_check():
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    res = _mypy()
    assert res.returncode == 0, f"mypy found errors:\n{res.stdout}{res.stderr}"
    assert "evidence/meta" in (REPO / "pyproject.toml").read_text()  # the configured files include meta


def test_mypy_reports_a_type_error(tmp_path):
    """The check can fail: the same configuration rejects a wrong type."""
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    bad = tmp_path / "bad.py"
    bad.write_text("from evidence.meta.inputs import study_labels\n\nx: int = study_labels(None, 3)\n")
    res = _mypy("--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"), str(bad))
    assert res.returncode == 1 and "Incompatible types in assignment" in res.stdout, res.stdout
