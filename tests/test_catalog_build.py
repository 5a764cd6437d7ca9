"""Building the catalogue: complete, normalised, deterministic, atomic, and read-only to readers."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from evidence.catalog import build as build_mod
from evidence.catalog.build import build_catalog, citation, studies_hash
from evidence.catalog.queries import connect
from evidence.errors import BuildError, CatalogError, EffectSizeError
from evidence.taxonomy import taxonomy

TESTS = Path(__file__).parent
VALID = TESTS / "valid"
OWN = TESTS / "fixtures" / "studies"


def _sources() -> list[Path]:
    """The shared valid fixtures (tests/valid) when present, plus this module's own fixtures."""
    files = sorted(OWN.glob("*.yaml"))
    if VALID.is_dir():
        files += sorted(VALID.glob("*.yaml"))
    return files


@pytest.fixture
def studies_dir(tmp_path) -> Path:
    d = tmp_path / "studies"
    d.mkdir()
    for f in _sources():
        shutil.copy(f, d / f.name)
    return d


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _yaml(d: Path) -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(d.glob("*.yaml"))]


def test_build_summary_and_meta(studies_dir, tmp_path):
    out = tmp_path / "catalog.db"
    s = build_catalog(studies_dir, out, progress=False)
    docs = _yaml(studies_dir)
    assert s.n_files == s.n_studies == len(docs) >= 5
    assert s.n_effects == sum(len(d.get("effects", [])) for d in docs)
    assert s.n_interventions == sum(len(d["interventions"]) for d in docs)
    assert s.n_sources == sum(len(d["sources"]) for d in docs)
    meta = dict(_rows(out, "select key, value from catalog_meta"))
    assert meta["studies_hash"] == studies_hash(studies_dir) == s.studies_hash
    assert meta["catalog_version"] == s.studies_hash[:12] == s.catalog_version
    assert meta["built_from"] == str(len(docs))
    assert meta["schema_version"] and meta["version_sqlalchemy"]


def test_normalised_tables_hold_every_coded_fact(studies_dir, tmp_path):
    out = tmp_path / "catalog.db"
    build_catalog(studies_dir, out, progress=False)
    tax = taxonomy()
    for d in _yaml(studies_dir):
        sid = d["id"]
        (title, year, cit, fhash), = _rows(out, f"select title, year, citation, file_hash from study where id='{sid}'")
        assert (title, year, cit) == (d["title"], d["year"], citation(d["authors"], d["year"]))
        assert len(fhash) == 64
        assert [r[0] for r in _rows(out, f"select iso3 from programme_country where study_id='{sid}' order by seq")] \
            == d["programme"]["countries"]
        arms = _rows(out, f"select arm_id, type, family from intervention where study_id='{sid}' order by seq")
        assert arms == [(a["id"], a["type"], tax.family_of(a["type"])) for a in d["interventions"]]
        effs = _rows(out, f"select effect_id, outcome, outcome_group, desirable from effect where study_id='{sid}' order by seq")
        assert effs == [(e["id"], e["outcome"], tax.outcome_group(e["outcome"]), tax.desirable(e["outcome"]))
                        for e in d.get("effects", [])]
        prov = _rows(out, f"select effect_id, source_id, quote from provenance where study_id='{sid}' order by effect_id")
        assert prov == sorted((e["id"], e["provenance"]["source"], e["provenance"]["quote"]) for e in d.get("effects", []))
        assert [r[0] for r in _rows(out, f"select source_id from source where study_id='{sid}' order by seq")] \
            == [s["id"] for s in d["sources"]]
        assert len(_rows(out, f"select * from version where study_id='{sid}'")) == len(d.get("versions", []))
        links = set(_rows(out, f"select other_id, kind from study_link where study_id='{sid}'"))
        assert links == {(o, "link") for o in d.get("links", [])} | {(o, "not_duplicate") for o in d.get("not_duplicates", [])}
        rob = d.get("risk_of_bias")
        got = _rows(out, f"select tool, overall, level from risk_of_bias where study_id='{sid}'")
        assert got == ([(rob["tool"], rob["overall"], tax.risk_level(rob["tool"], rob["overall"]))] if rob else [])
        doms = _rows(out, f"select domain, judgement from rob_domain where study_id='{sid}' order by domain")
        assert doms == sorted((rob or {}).get("domains", {}).items())
        (dtype, rand), = _rows(out, f"select type, randomised from design where study_id='{sid}'")
        assert dtype == d["design"]["type"] and bool(rand) == tax.designs[dtype]["randomised"]


def test_derived_effect_sizes_are_stored(studies_dir, tmp_path):
    out = tmp_path / "catalog.db"
    build_catalog(studies_dir, out, progress=False)
    q = "select yi, vi, measure, metric, variance_imputed, conversion_notes from effect where study_id='{}' and effect_id='{}'"
    yi, vi, measure, metric, imp, notes = _rows(out, q.format("alpha-2010-cct", "enrol"))[0]
    assert (yi, measure, metric, imp) == (8.0, "RD", "percentage_points", 0)
    assert vi == pytest.approx(4.0 * (1 + 22 * 0.05)) and "design effect" in notes
    yi, vi, *_ = _rows(out, q.format("beta-2006-uct", "hours-boys"))[0]
    assert yi == pytest.approx(-3.5) and vi == pytest.approx((7 * 0.8 / (2 * 1.959964)) ** 2, rel=1e-4)
    assert _rows(out, q.format("beta-2006-uct", "paid"))[0][4] == 1  # imputed from p<0.05
    assert _rows(out, q.format("epsilon-2019-clmrs", "hazard"))[0][:2] == (-7.0, None)  # headline: no variance


def test_two_builds_are_byte_identical(studies_dir, tmp_path):
    a, b = tmp_path / "a" / "catalog.db", tmp_path / "b" / "catalog.db"
    build_catalog(studies_dir, a, progress=False)
    # the second build runs in another process (other hash seed, other object ids): set order must not leak
    code = "import sys; from evidence.catalog.build import build_catalog; build_catalog(sys.argv[1], sys.argv[2], progress=False)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(studies_dir), str(b)], check=True, env=env, cwd=TESTS.parent)
    assert a.read_bytes() == b.read_bytes()
    first = a.read_bytes()
    build_catalog(studies_dir, a, progress=False)  # in place, over an existing catalogue
    assert a.read_bytes() == first


def test_build_to_a_database_url(studies_dir, tmp_path):
    """``out`` may be a SQLAlchemy URL (e.g. PostgreSQL); tables are dropped and recreated in one transaction."""
    url = f"sqlite:///{tmp_path / 'server.db'}"
    s1 = build_catalog(studies_dir, url, progress=False)
    s2 = build_catalog(studies_dir, url, progress=False)  # again: replaces, does not duplicate rows
    assert s1.n_effects == s2.n_effects
    n, = _rows(tmp_path / "server.db", "select count(*) from effect")[0]
    assert n == s2.n_effects
    assert dict(_rows(tmp_path / "server.db", "select key, value from catalog_meta"))["studies_hash"] == s2.studies_hash


def test_hash_follows_file_contents(studies_dir):
    before = studies_hash(studies_dir)
    f = sorted(studies_dir.glob("*.yaml"))[0]
    f.write_text(f.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert studies_hash(studies_dir) != before


def test_invalid_file_leaves_old_catalogue_untouched(studies_dir, tmp_path):
    out = tmp_path / "catalog.db"
    build_catalog(studies_dir, out, progress=False)
    old = out.read_bytes()
    bad = studies_dir / "alpha-2010-cct.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("type: conditional_cash_transfer", "type: cash_bonanza"),
                   encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build_catalog(studies_dir, out, progress=False)
    assert "alpha-2010-cct.yaml" in str(err.value)
    assert out.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["catalog.db"]  # no temp file left


def test_effect_size_error_names_file_and_effect(studies_dir, tmp_path, monkeypatch):
    real = build_mod._effect_size

    def failing(rep, clustered):
        if rep.get("estimate") == -6.0:  # alpha-2010-cct, effect work-plus
            raise EffectSizeError("cannot convert this")
        return real(rep, clustered)

    monkeypatch.setattr(build_mod, "_effect_size", failing)
    out = tmp_path / "catalog.db"
    with pytest.raises(BuildError, match=r"alpha-2010-cct\.yaml: effect 'work-plus': cannot convert this"):
        build_catalog(studies_dir, out, progress=False)
    assert not out.exists()


def test_failure_while_writing_keeps_old_catalogue(studies_dir, tmp_path, monkeypatch):
    out = tmp_path / "catalog.db"
    build_catalog(studies_dir, out, progress=False)
    old = out.read_bytes()

    def boom(engine, rows, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_mod, "write_rows", boom)
    with pytest.raises(RuntimeError):
        build_catalog(studies_dir, out, progress=False)
    assert out.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["catalog.db"]


def test_read_only_connection_refuses_writes(studies_dir, tmp_path):
    out = tmp_path / "catalog.db"
    build_catalog(studies_dir, out, progress=False)
    engine = connect(out)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from study")).scalar() >= 5
    with pytest.raises(OperationalError, match="readonly"), engine.begin() as conn:
        conn.execute(text("delete from study"))
    with connect(out, read_only=False).begin() as conn:  # the writer can
        conn.execute(text("delete from study_link"))


def test_missing_catalogue_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="evidence build"):
        connect(tmp_path / "nope.db")


def test_missing_studies_dir(tmp_path):
    with pytest.raises(BuildError, match="not found"):
        build_catalog(tmp_path / "missing", tmp_path / "c.db", progress=False)


@pytest.mark.parametrize("authors,expected", [
    (["Gee, Kevin A."], "Gee (2010)"),
    (["Schady, Norbert", "Araujo, M. Caridad"], "Schady & Araujo (2010)"),
    (["Attanasio, Orazio", "Fitzsimons, Emla", "Gomez, Ana"], "Attanasio et al. (2010)"),
])
def test_citation(authors, expected):
    assert citation(authors, 2010) == expected
