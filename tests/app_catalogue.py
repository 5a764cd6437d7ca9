"""A small catalogue for the explorer's tests: the fictional fixture studies plus two variants of
the fixture CCT study (other ids, countries and numbers), so that at least one intervention x outcome
cell can be pooled. Everything here is invented test data."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "studies"
VARIANTS = [  # id, country, estimate, se, usd_per_year
    ("gamma-2012-cct", "BRA", -2.0, 1.2, 250),
    ("kappa-2016-cct", "PHL", -6.5, 2.0, 400),
]


def build_test_catalogue(workdir: Path) -> Path:
    from evidence.catalog.build import build_catalog

    studies = workdir / "studies"
    studies.mkdir(parents=True, exist_ok=True)
    for f in FIXTURES.glob("*.yaml"):
        shutil.copy(f, studies / f.name)
    alpha = yaml.safe_load((FIXTURES / "alpha-2010-cct.yaml").read_text(encoding="utf-8"))
    for sid, country, est, se, usd in VARIANTS:
        s = dict(alpha)
        s.update(id=sid, title=f"Fixture variant {sid}", authors=[f"{sid.split('-')[0].title()}, Test"],
                 year=int(sid.split("-")[1]), doi=None, versions=[], links=[])
        s = {k: v for k, v in s.items() if v not in (None, [])}
        s["programme"] = dict(alpha["programme"], countries=[country])
        s["interventions"] = [dict(alpha["interventions"][0], value=dict(alpha["interventions"][0]["value"], usd_per_year=usd))]
        s["effects"] = [dict(alpha["effects"][0], reported={"form": "coefficient", "estimate": est, "unit": "percentage_points", "se": se},
                             provenance={"source": "paper", "location": "Table 3", "quote": f"{est} ({se})"})]
        (studies / f"{sid}.yaml").write_text(yaml.safe_dump(s, sort_keys=False, allow_unicode=True), encoding="utf-8")
    out = workdir / "catalog.db"
    build_catalog(studies, out, progress=False)
    return out


@contextlib.contextmanager
def serve_app(env_extra: dict, port: int, script: Path | None = None, extra_args: tuple = ()):
    """Run the explorer (``streamlit run app.py``, or ``script``) on ``port`` with ``env_extra`` in its
    environment until it answers its health check; yield its URL; stop it afterwards (browser tests and
    ``benchmarks/bench_browser.py`` share this)."""
    import os
    import signal
    import subprocess
    import sys
    import tempfile
    import time
    import urllib.request

    import pytest

    repo = Path(__file__).resolve().parents[1]
    # The server's output goes to a file, not a pipe nobody reads while the test runs (a full pipe would
    # block the server's next log line); PYTHONFAULTHANDLER lets a server that hangs print its threads.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script or repo / "app.py"), "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false", *extra_args],
                            cwd=repo, env=dict(os.environ, PYTHONFAULTHANDLER="1", **env_extra), stdout=log, stderr=subprocess.STDOUT)

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")[-20_000:]

    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start: " + output())
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # stuck: SIGABRT makes faulthandler print every thread's stack
            proc.send_signal(signal.SIGABRT)
            proc.wait(timeout=20)
            raise AssertionError(f"the app server did not stop within 20 s of SIGTERM; its output:\n{output()}") from None
        finally:
            log.close()


@contextlib.contextmanager
def app_catalogue(workdir: Path):
    """The test catalogue, set as the app's catalogue (config patched, Streamlit caches cleared) for AppTest."""
    with use_catalogue(build_test_catalogue(workdir)) as db:
        yield db


@contextlib.contextmanager
def use_catalogue(db: Path):
    """``db`` as the catalogue every in-process reader (AppTest, the CLI runner, the queries) uses, with
    Streamlit's caches cleared before and after; the previous catalogue is restored on exit."""
    import pytest
    import streamlit as st

    from evidence import config

    st.cache_data.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "CATALOG_PATH", db)
        mp.setattr(config, "CATALOG_URL", None)
        yield db
    st.cache_data.clear()


def free_port() -> int:
    """A free loopback port for a test server."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHROMIUM = "/usr/bin/chromium"
#: Debian's chromium in a container: no sandbox, no GPU, no background requests.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def require_chromium() -> None:
    """Browser tests need Debian's chromium: a failure under CI=true (dev.sh test installs it), a skip elsewhere."""
    import os

    import pytest

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (bash dev.sh test does)")
        pytest.skip(f"{CHROMIUM} not installed")


@contextlib.contextmanager
def served_test_catalogue(workdir: Path):
    """The explorer in a real server on a test catalogue built in ``workdir`` (Chromium required, see
    :func:`require_chromium`): yields ``(url, catalogue path)``; the browser tests' module fixture."""
    require_chromium()
    db = build_test_catalogue(workdir)
    with serve_app({"EVIDENCE_CATALOG_PATH": str(db)}, free_port()) as url:
        yield url, db


def app_page(page: str, timeout: int = 90):
    """An AppTest of the whole explorer (``app.py``: its navigation, CSS and sidebar) switched to ``page``
    and run, as a reader who opens the app and picks that page."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page)
    at.run()
    return at
