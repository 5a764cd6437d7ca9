"""The catalogue on a real PostgreSQL server (``pg_server`` in conftest.py) against the same catalogue
in SQLite: same rows from every query, the same CLI answers, a read-only app role, and builds that
are atomic even when the builder or the server is killed midway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from app_catalogue import build_test_catalogue
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from test_catalog_guard import kill, paused_build
from typer.testing import CliRunner

from evidence.catalog import queries, target
from evidence.catalog.build import build_catalog
from evidence.catalog.queries import Filters
from evidence.cli.main import app
from evidence.errors import BuildError

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
pytestmark = pytest.mark.xdist_group("postgres")  # one server, one database: its tests run in one worker

FILTERS = [Filters(), Filters(regions=("Latin America & Caribbean",)), Filters(interventions=("conditional_cash_transfer",)),
           Filters(outcomes=("economic_activity", "hours_worked")), Filters(sex="girls", age_min=10, age_max=14),
           Filters(designs=("cluster_rct",), randomised_only=True), Filters(exclude_high_rob=True, has_variance=True),
           Filters(year_min=2010, coding_status=("coded",), primary_only=True, exclude_imputed=True),
           Filters(countries=("MEX", "KEN"), rob_levels=("low", "moderate"), families=("social_protection",))]


@pytest.fixture(scope="module")
def both(pg_server, tmp_path_factory):
    """The app's test catalogue built twice from the same files: SQLite path, and PostgreSQL (owner URL)."""
    sqlite = build_test_catalogue(tmp_path_factory.mktemp("pg"))
    build_catalog(sqlite.parent / "studies", pg_server.owner_url, progress=False)
    return {"sqlite": str(sqlite), "postgresql": pg_server.reader_url, "studies": sqlite.parent / "studies"}


def _unlinked(folder):
    """A study file that stands alone (no links to other studies), so a one-study build validates."""
    return next(p for p in sorted(folder.glob("*.yaml")) if "links: [" not in p.read_text(encoding="utf-8"))


def _engines(both):
    return queries.connect(both["sqlite"]), queries.connect(both["postgresql"])


@pytest.mark.parametrize("f", FILTERS, ids=range(len(FILTERS)))
def test_every_query_returns_the_same_rows_on_both(both, f):
    lite, pg = _engines(both)
    a, b = queries.effects(f, engine=lite), queries.effects(f, engine=pg)
    assert len(a) > 0 or f != Filters()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(queries.studies(f, engine=lite), queries.studies(f, engine=pg))


def test_study_facets_and_info_are_the_same_on_both(both):
    lite, pg = _engines(both)
    assert queries.facets(lite) == queries.facets(pg)
    for sid in queries.studies(engine=lite)["id"]:
        assert queries.study(sid, engine=lite) == queries.study(sid, engine=pg), sid
    assert queries.catalog_info(lite) == queries.catalog_info(pg)


def test_the_apps_read_only_connection_cannot_write(both, pg_server):
    ro = queries.connect(pg_server.reader_url)
    with pytest.raises(DBAPIError, match="read-only transaction"), ro.begin() as conn:
        conn.execute(text("INSERT INTO catalog_meta (key, value) VALUES ('x', 'y')"))
    rw = queries.connect(pg_server.reader_url, read_only=False)  # even without the read-only switch: the role
    with pytest.raises(DBAPIError, match="permission denied"), rw.begin() as conn:
        conn.execute(text("DELETE FROM effect"))
    assert len(queries.effects(engine=ro)) == len(queries.effects(engine=queries.connect(both["sqlite"])))


def test_rebuilds_keep_the_readers_rights_and_move_the_stamp(both, pg_server, tmp_path):
    before = target.stamp(pg_server.reader_url)
    studies = tmp_path / "s"
    studies.mkdir()
    for f in sorted(both["studies"].glob("*.yaml"))[:3]:
        (studies / f.name).write_bytes(f.read_bytes())
    try:
        build_catalog(studies, pg_server.owner_url, progress=False)
        after = target.stamp(pg_server.reader_url)
        assert after != before and after[1] == queries.catalog_info(queries.connect(pg_server.owner_url))["studies_hash"]
        assert len(queries.studies(engine=queries.connect(pg_server.reader_url))) == 3  # cache followed the rebuild
        leftovers = pg_server.psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'evidence_build_%'", db="evidence")
        assert leftovers == "0"
    finally:
        build_catalog(both["studies"], pg_server.owner_url, progress=False)
    assert target.stamp(pg_server.reader_url) == before


def _snapshot(url: str) -> tuple:
    engine = queries.connect(url)
    return target.stamp(url), queries.effects(engine=engine).to_json(), queries.catalog_info(engine)["counts"]


def test_a_build_killed_midway_leaves_the_previous_catalogue(both, pg_server, tmp_path):
    before = _snapshot(pg_server.reader_url)
    studies = tmp_path / "s"
    studies.mkdir()
    one = _unlinked(both["studies"])
    (studies / one.name).write_bytes(one.read_bytes())
    proc = paused_build(studies, pg_server.owner_url)  # rows written in its schema, not swapped in yet
    try:
        assert _snapshot(pg_server.reader_url) == before  # readers are not blocked and see the old catalogue
        with pytest.raises(BuildError, match="another `evidence build` is writing this catalogue"):
            build_catalog(studies, pg_server.owner_url, progress=False)  # a second build is refused
    finally:
        kill(proc)
    assert _snapshot(pg_server.reader_url) == before
    assert pg_server.psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'evidence_build_%'", db="evidence") == "0"


def test_a_server_killed_midway_leaves_the_previous_catalogue(both, pg_server, tmp_path):
    before = _snapshot(pg_server.reader_url)
    studies = tmp_path / "s"
    studies.mkdir()
    first = _unlinked(both["studies"])
    (studies / first.name).write_bytes(first.read_bytes())
    proc = paused_build(studies, pg_server.owner_url)
    try:
        pg_server.kill()  # the server dies with the build's transaction open
        pg_server.start()  # crash recovery
    finally:
        kill(proc)
    assert _snapshot(pg_server.reader_url) == before


def test_cli_on_both_back_ends(both, pg_server, tmp_path, monkeypatch):
    """build --catalog URL writes PostgreSQL (no folder named 'postgresql+psycopg:'), list and meta agree."""
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["build", "--studies", str(both["studies"]), "--catalog", pg_server.owner_url, "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "owner-pw" not in res.output and "***" in res.output  # the password is not printed
    assert not list(tmp_path.iterdir())  # the URL was not taken for a path
    out = {}
    for name in ("sqlite", "postgresql"):
        lst = runner.invoke(app, ["list", "--json", "--catalog", both[name]])
        meta = runner.invoke(app, ["meta", "--intervention", "conditional_cash_transfer", "--outcome",
                                   "economic_activity", "--method", "bayes", "--json", "--catalog", both[name]])
        assert lst.exit_code == 0 and meta.exit_code == 0, lst.output + meta.output
        out[name] = (lst.output, json.loads(meta.output))
    assert out["sqlite"] == out["postgresql"] and out["sqlite"][1]["k"] >= 2


def test_environment_variable_names_the_catalogue(both, pg_server, tmp_path):
    """EVIDENCE_CATALOG_URL alone: `evidence build` writes the server, `evidence list` reads it."""
    env = {**os.environ, "EVIDENCE_CATALOG_URL": pg_server.owner_url}
    run = lambda *a: subprocess.run([sys.executable, "-m", "evidence", *a], env=env, cwd=tmp_path,  # noqa: E731
                                    capture_output=True, text=True, timeout=300)
    built = run("build", "--studies", str(both["studies"]), "--no-progress")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "127.0.0.1" in built.stdout and not list(tmp_path.iterdir())
    listed = run("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == len(queries.studies(engine=queries.connect(both["sqlite"])))
    env["EVIDENCE_CATALOG_URL"] = pg_server.url("evidence_reader", "wrong")
    bad = run("list")
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "refused the credentials" in bad.stderr
    env["EVIDENCE_CATALOG_URL"] = pg_server.url(db="nodb")
    bad = run("info")
    assert bad.returncode == 1 and "no database 'nodb'" in bad.stderr and "Traceback" not in bad.stderr


def test_app_pages_on_postgresql(both, pg_server, monkeypatch):
    """The explorer pointed at the server with the read-only role shows what it shows on SQLite."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from evidence import config

    shown = {}
    for name in ("sqlite", "postgresql"):
        st.cache_data.clear()
        monkeypatch.setattr(config, "CATALOG_URL", both[name] if name == "postgresql" else None)
        monkeypatch.setattr(config, "CATALOG_PATH", Path(both["sqlite"]))
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        gap = [m.value for m in at.metric]
        at.switch_page("app_pages/what_works.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        shown[name] = (gap, [m.value for m in at.metric], [str(x.value) for x in at.markdown][:20])
    st.cache_data.clear()
    assert shown["sqlite"] == shown["postgresql"] and shown["sqlite"][0]
