"""The catalogue commands, run through typer on the fictional fixtures (tests/fixtures/studies)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evidence.cli import catalog_cmds
from evidence.errors import BuildError, CatalogError

OWN = Path(__file__).parent / "fixtures" / "studies"
runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()  # only this area's commands: other areas' modules are not under test here
    catalog_cmds.register(app)
    return app


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(app, tmp_path_factory, request) -> str:
    """The fixture catalogue built through the CLI: a SQLite file (``--out``, the old name), or a
    PostgreSQL database (``--catalog`` owner URL; the commands then read it as the read-only role)."""
    d = tmp_path_factory.mktemp("studies")
    for f in OWN.glob("*.yaml"):
        shutil.copy(f, d / f.name)
    if request.param == "sqlite":
        out = read = str(d.parent / "cli.db")
        option = "--out"
    else:
        out, read = request.getfixturevalue("pg_server").create_database("cli")
        option = "--catalog"
    res = runner.invoke(app, ["build", "--studies", str(d), option, out, "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "studies 5" in res.output and "catalog version" in res.output
    return read


def test_build_refuses_invalid_files(app, tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    (d / "broken.yaml").write_text("id: broken\ntitle: [unclosed\n", encoding="utf-8")
    res = runner.invoke(app, ["build", "--studies", str(d), "--out", str(tmp_path / "c.db"), "--no-progress"])
    assert res.exit_code != 0 and isinstance(res.exception, BuildError)
    assert "broken.yaml" in str(res.exception) and not (tmp_path / "c.db").exists()


def test_list_json_lines(app, db):
    res = runner.invoke(app, ["list", "--catalog", db, "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert [r["id"] for r in rows] == ["alpha-2010-cct", "beta-2006-uct", "delta-2015-meals", "epsilon-2019-clmrs",
                                       "zeta-2021-works"]
    for key in ("id", "title", "authors", "year", "countries", "design", "interventions", "outcomes", "coding_status"):
        assert all(key in r for r in rows), key
    delta = rows[2]
    assert delta["countries"] == ["KEN", "UGA"] and delta["authors"] == ["Delta, Dee", "Eta, Ed", "Theta, Tom"]
    assert delta["interventions"] == ["school_feeding"] and delta["outcomes"] == ["child_labour", "dropout"]


@pytest.mark.parametrize("args,expected", [
    (["--intervention", "cash_plus"], ["alpha-2010-cct"]),
    (["--outcome", "paid_work"], ["beta-2006-uct"]),
    (["--country", "KEN", "--country", "MEX"], ["alpha-2010-cct", "delta-2015-meals"]),
    (["--region", "Sub-Saharan Africa"], ["delta-2015-meals", "epsilon-2019-clmrs"]),
    (["--design", "rdd"], ["zeta-2021-works"]),
    (["--status", "headline"], ["epsilon-2019-clmrs"]),
])
def test_list_filters(app, db, args, expected):
    res = runner.invoke(app, ["list", "--catalog", db, "--json", *args])
    assert res.exit_code == 0, res.output
    assert [json.loads(line)["id"] for line in res.output.splitlines()] == expected


def test_list_table(app, db):
    res = runner.invoke(app, ["list", "--catalog", db], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "5 studies" in res.output and "epsilon-2019-clmrs" in res.output


def test_show(app, db):
    res = runner.invoke(app, ["show", "alpha-2010-cct", "--catalog", db], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "Alpha (2010)" in res.output and "Programa Ficticio" in res.output
    assert "-6.0 [t = -3.0]" in res.output  # coded text is printed literally, not as rich markup
    res = runner.invoke(app, ["show", "alpha-2010-cct", "--catalog", db, "--json"])
    s = json.loads(res.output)
    assert s["id"] == "alpha-2010-cct" and len(s["effects"]) == 4 and s["coding_date"] == "2026-01-15"
    res = runner.invoke(app, ["show", "nope", "--catalog", db])
    assert res.exit_code != 0 and isinstance(res.exception, CatalogError)


def test_export_csv(app, db, tmp_path):
    out = tmp_path / "effects.csv"
    res = runner.invoke(app, ["export-csv", "-o", str(out), "--catalog", db])
    assert res.exit_code == 0, res.output
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    required = ["study_id", "effect_id", "intervention", "outcome", "subgroup", "measure", "yi", "vi",
                "variance_imputed", "risk_of_bias", "source", "location", "quote"]
    assert set(required) <= set(rows[0]) and len(rows) == 10
    girls = next(r for r in rows if r["effect_id"] == "work-girls")
    assert girls["subgroup"] == "girls, ages 12-14" and float(girls["yi"]) == -5.1
    assert next(r for r in rows if r["effect_id"] == "work-all")["subgroup"] == "full sample"
    assert next(r for r in rows if r["effect_id"] == "hazard")["vi"] == ""  # no variance: empty (NA in R)
    res = runner.invoke(app, ["export-csv", "-o", str(out), "--catalog", db, "--has-variance", "--exclude-imputed",
                              "--outcome-group", "child_labour", "--primary-only"])
    with out.open(encoding="utf-8") as fh:
        assert sorted(r["effect_id"] for r in csv.DictReader(fh)) == ["cl", "hours-boys", "work-all"]


def test_info(app, db):
    res = runner.invoke(app, ["info", "--catalog", db], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "catalog version" in res.output and "studies 5" in res.output and "effects 10" in res.output


def test_missing_catalogue(app, tmp_path):
    res = runner.invoke(app, ["info", "--catalog", str(tmp_path / "none.db")])
    assert isinstance(res.exception, CatalogError) and "evidence build" in str(res.exception)
