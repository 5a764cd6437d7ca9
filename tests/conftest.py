"""Shared test configuration.

Under ``CI=true`` a skipped test is a failure: a CI run that silently skips the browser test or the
golden tests (because chromium or ../shared is missing) must not look green.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (skips are failures in CI): {reason}"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``../shared/reference``; missing is a failure in CI and a skip on a developer machine."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server for this test session (``tests/pgserver.py``), stopped at the end.
    Missing PostgreSQL is a skip on a developer machine and a failure under CI=true."""
    from pgserver import PgServer, available

    why = available()
    if why:
        if IN_CI:
            pytest.fail(why)
        pytest.skip(why)
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()
