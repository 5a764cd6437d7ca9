"""The catalogue queries on the fictional fixtures in tests/fixtures/studies (contents known here)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from evidence.catalog.build import build_catalog
from evidence.catalog.queries import (
    EFFECT_COLUMNS,
    STUDY_COLUMNS,
    Filters,
    catalog_info,
    connect,
    effects,
    facets,
    studies,
    study,
)
from evidence.errors import CatalogError

OWN = Path(__file__).parent / "fixtures" / "studies"
ALL = {
    ("alpha-2010-cct", "work-all"), ("alpha-2010-cct", "work-girls"), ("alpha-2010-cct", "work-plus"),
    ("alpha-2010-cct", "enrol"), ("beta-2006-uct", "paid"), ("beta-2006-uct", "hours-boys"),
    ("beta-2006-uct", "attend"), ("delta-2015-meals", "cl"), ("delta-2015-meals", "drop"),
    ("epsilon-2019-clmrs", "hazard"),
}
ALPHA = {e for e in ALL if e[0] == "alpha-2010-cct"}
BETA = {e for e in ALL if e[0] == "beta-2006-uct"}
DELTA = {e for e in ALL if e[0] == "delta-2015-meals"}
EPS = {("epsilon-2019-clmrs", "hazard")}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("studies")
    for f in OWN.glob("*.yaml"):
        shutil.copy(f, d / f.name)
    out = d.parent / "catalog.db"
    build_catalog(d, out, progress=False)
    return out


@pytest.fixture(scope="module")
def engine(db):
    return connect(db)


def keys(df) -> set:
    return set(zip(df["study_id"], df["effect_id"]))


def test_effect_columns_exact(engine):
    df = effects(engine=engine)
    assert list(df.columns) == EFFECT_COLUMNS
    assert "harmful" in EFFECT_COLUMNS and len(EFFECT_COLUMNS) == len(set(EFFECT_COLUMNS))
    assert keys(df) == ALL and len(df) == len(ALL)
    assert list(studies(engine=engine).columns) == STUDY_COLUMNS


@pytest.mark.parametrize("filters,expected", [
    (Filters(families=("education",)), DELTA),
    (Filters(interventions=("cash_plus",)), {("alpha-2010-cct", "work-plus")}),
    (Filters(interventions=("conditional_cash_transfer", "cash_plus")), ALPHA),
    (Filters(outcomes=("enrolment",)), {("alpha-2010-cct", "enrol")}),
    (Filters(outcome_groups=("schooling",)), {("alpha-2010-cct", "enrol"), ("beta-2006-uct", "attend"),
                                              ("delta-2015-meals", "drop")}),
    (Filters(countries=("UGA",)), DELTA),
    (Filters(regions=("Latin America & Caribbean",)), ALPHA | BETA),
    (Filters(regions=("South Asia",)), set()),  # the Bangladesh study is mapped, without effects
    (Filters(designs=("did", "matching")), DELTA | EPS),
    (Filters(randomised_only=True), ALPHA | BETA),
    (Filters(sex="girls"), {("alpha-2010-cct", "work-girls")}),
    (Filters(sex="boys"), {("beta-2006-uct", "hours-boys")}),
    (Filters(sex="all"), ALL - {("alpha-2010-cct", "work-girls"), ("beta-2006-uct", "hours-boys")}),
    # ages overlap: alpha 6-15 (girls 12-14), beta 10-17, delta 6-10, epsilon unknown (open)
    (Filters(age_min=12, age_max=14), ALL - DELTA),
    (Filters(age_min=16), BETA | EPS),
    (Filters(age_max=8), ALPHA - {("alpha-2010-cct", "work-girls")} | DELTA | EPS),
    (Filters(rob_levels=("high",)), DELTA),
    (Filters(rob_levels=("low", "moderate")), ALPHA | BETA),  # epsilon has only CLEAR's quality rating, not a RoB level
    (Filters(exclude_high_rob=True), ALL - DELTA),
    (Filters(quality_ratings=("moderate",)), EPS),  # CLEAR's rating, apart from the RoB levels
    (Filters(quality_ratings=("high",)), set()),
    (Filters(year_min=2010, year_max=2015), ALPHA | DELTA),
    (Filters(coding_status=("headline",)), EPS),
    (Filters(primary_only=True), {("alpha-2010-cct", "work-all"), ("alpha-2010-cct", "enrol"), ("beta-2006-uct", "paid"),
                                  ("beta-2006-uct", "hours-boys"), ("beta-2006-uct", "attend"), ("delta-2015-meals", "cl"),
                                  ("delta-2015-meals", "drop"), ("epsilon-2019-clmrs", "hazard")}),
    (Filters(exclude_imputed=True), ALL - {("beta-2006-uct", "paid")}),
    (Filters(has_variance=True), ALL - EPS),
    (Filters(families=("social_protection",), outcome_groups=("child_labour",), primary_only=True),
     {("alpha-2010-cct", "work-all"), ("beta-2006-uct", "paid"), ("beta-2006-uct", "hours-boys")}),
])
def test_each_filter(engine, filters, expected):
    assert keys(effects(filters, engine=engine)) == expected


def test_studies_filters(engine):
    ids = lambda f=None: list(studies(f, engine=engine)["id"])  # noqa: E731
    assert ids() == ["alpha-2010-cct", "beta-2006-uct", "delta-2015-meals", "epsilon-2019-clmrs", "zeta-2021-works"]
    assert ids(Filters(regions=("South Asia",))) == ["zeta-2021-works"]  # study-level: mapped studies count
    assert ids(Filters(interventions=("public_works",))) == ["zeta-2021-works"]
    assert ids(Filters(has_variance=True)) == ["alpha-2010-cct", "beta-2006-uct", "delta-2015-meals"]
    assert ids(Filters(sex="girls")) == ["alpha-2010-cct"]
    assert ids(Filters(coding_status=("mapped",))) == ["zeta-2021-works"]
    assert ids(Filters(exclude_high_rob=True)) == ["alpha-2010-cct", "beta-2006-uct", "epsilon-2019-clmrs",
                                                   "zeta-2021-works"]
    df = studies(Filters(outcomes=("economic_activity",)), engine=engine).set_index("id")
    assert df.loc["alpha-2010-cct", "n_effects"] == 3 and list(df.index) == ["alpha-2010-cct"]
    full = studies(engine=engine).set_index("id")
    assert full.loc["alpha-2010-cct", "n_effects"] == 4 and full.loc["zeta-2021-works", "n_effects"] == 0
    assert full.loc["alpha-2010-cct", "interventions"] == "conditional_cash_transfer, cash_plus"
    assert full.loc["alpha-2010-cct", "outcomes"] == "economic_activity, enrolment"
    assert full.loc["delta-2015-meals", "countries"] == "KEN, UGA"
    assert full.loc["delta-2015-meals", "regions"] == "Sub-Saharan Africa"
    assert full.loc["delta-2015-meals", "risk_of_bias"] == "high"
    eps = full.loc["epsilon-2019-clmrs"]  # CLEAR's rating is a quality rating, never a risk-of-bias level
    assert pd.isna(eps["rob_tool"]) and pd.isna(eps["risk_of_bias"])
    assert (eps["quality_rater"], eps["quality_rating"]) == ("clear", "moderate")


def test_harmful_flag(engine):
    df = effects(engine=engine).set_index("effect_id")
    assert bool(df.loc["cl", "harmful"])  # +2.5 pp child labour: harmful
    assert not df.loc["work-all", "harmful"]  # -4.2 pp work: desirable
    assert not df.loc["enrol", "harmful"]  # +8 pp enrolment: desirable
    assert not df.loc["attend", "harmful"]  # -1.2 pp attendance (SE 0.8): undesirable way but a clear null
    assert not df.loc["drop", "harmful"]  # -5 pp dropout (desirable: decrease)
    assert df["harmful"].sum() == 1


def test_direction_column_is_the_one_rule(engine):
    """``direction`` comes from evidence.direction; ``harmful`` is derived from it."""
    from evidence.direction import effect_direction

    df = effects(engine=engine).set_index("effect_id")
    assert EFFECT_COLUMNS.index("direction") == EFFECT_COLUMNS.index("harmful") + 1
    assert df["direction"].to_dict() == {
        "work-all": "improves", "work-girls": "improves", "work-plus": "improves", "enrol": "improves",
        "paid": "improves",  # SE imputed from p<0.05: |yi|/SE is exactly z(0.975), a clear effect
        "hours-boys": "improves", "attend": "unclear", "cl": "worsens", "drop": "unclear",
        "hazard": "unclear",  # headline estimate, no significance stated
    }
    for _eid, r in df.iterrows():
        assert r["direction"] == effect_direction(r["yi"], r["vi"], r["significance"], r["variance_imputed"],
                                                  r["desirable"])
        assert bool(r["harmful"]) == (r["direction"] == "worsens")


def test_effect_values(engine):
    df = effects(engine=engine).set_index("effect_id")
    a = df.loc["work-all"]
    assert (a["citation"], a["countries"], a["country_names"], a["design"]) == ("Alpha (2010)", "MEX", "Mexico", "cluster_rct")
    assert a["randomised"] and a["primary"] and a["follow_up_months"] == 24  # from the design
    assert (a["source_id"], a["source_url"], a["location"], a["quote"]) == \
        ("paper", "https://example.org/alpha", "Table 3 col 1", "-4.2 (1.5)")
    assert (a["rob_tool"], a["rob_overall"], a["risk_of_bias"]) == ("rob2", "low", "low")
    assert df.loc["work-plus", "intervention_label"] == "Cash plus"  # taxonomy label when the arm has none
    assert df.loc["work-all", "intervention_label"] == "Cash conditional on attendance"
    assert df.loc["cl", "citation"] == "Delta et al. (2015)" and df.loc["paid", "citation"] == "Beta & Gamma (2006)"
    assert df.loc["paid", "variance_imputed"] and df.loc["paid", "significance"] == "p<0.05"
    assert df.loc["hours-boys", "metric"] == "hours_per_week" and df.loc["hours-boys", "yi"] == pytest.approx(-3.5)
    assert df.loc["hazard", "vi"] != df.loc["hazard", "vi"]  # NaN: headline estimate
    assert df.loc["work-girls", "subgroup_age_min"] == 12 and df.loc["work-girls", "age_min"] == 6


def test_study_detail(engine):
    s = study("alpha-2010-cct", engine=engine)
    assert s["citation"] == "Alpha (2010)" and s["programme"]["name"] == "Programa Ficticio"
    assert [c["iso3"] for c in s["countries"]] == ["MEX"]
    assert [a["arm_id"] for a in s["interventions"]] == ["cct", "cct-plus"]
    assert len(s["risk_of_bias"]["domains"]) == 5
    assert {d["domain"]: d["level"] for d in s["risk_of_bias"]["domains"]}["measurement"] == "moderate"
    assert s["versions"][0]["kind"] == "working_paper"
    assert s["links"] == [{"other_id": "beta-2006-uct", "kind": "link"}]
    assert [e["effect_id"] for e in s["effects"]] == ["work-all", "work-girls", "work-plus", "enrol"]
    assert s["effects"][0]["primary"] is True and s["effects"][0]["provenance"]["quote"] == "-4.2 (1.5)"
    assert study("epsilon-2019-clmrs", engine=engine)["links"] == [{"other_id": "delta-2015-meals", "kind": "not_duplicate"}]
    assert study("zeta-2021-works", engine=engine)["risk_of_bias"] is None
    with pytest.raises(CatalogError, match="no study"):
        study("nope", engine=engine)


def test_facets_and_info(engine):
    f = facets(engine)
    assert f["countries"] == ["BGD", "CIV", "ECU", "KEN", "MEX", "UGA"]
    assert f["regions"] == ["Latin America & Caribbean", "South Asia", "Sub-Saharan Africa"]
    assert f["coding_status"] == ["coded", "headline", "mapped"] and f["sex"] == ["all", "boys", "girls"]
    assert "public_works" in f["interventions"] and f["rob_levels"] == ["high", "low", "moderate"]
    i = catalog_info(engine)
    assert len(i["catalog_version"]) == 12 and i["studies_hash"].startswith(i["catalog_version"])
    assert i["counts"]["studies"] == 5 and i["counts"]["effects"] == len(ALL)
    assert i["counts"]["effects_imputed"] == 1 and i["counts"]["effects_with_variance"] == len(ALL) - 1
    assert i["counts"]["by_status"] == {"coded": 3, "headline": 1, "mapped": 1}


def test_filters_are_hashable_and_canonical():
    a = Filters(countries=["UGA", "KEN"], outcomes="enrolment")
    b = Filters(countries=("KEN", "UGA"), outcomes=("enrolment",))
    assert a == b and hash(a) == hash(b) and a.countries == ("KEN", "UGA")
    with pytest.raises(CatalogError):
        Filters(sex="women")
    with pytest.raises(AttributeError):
        a.countries = ()  # frozen


def _copy_unlinked(name: str, d: Path) -> None:
    """Copy a fixture study without its ``links`` (a link must name a study present in the build)."""
    text = (OWN / name).read_text(encoding="utf-8")
    (d / name).write_text("".join(x for x in text.splitlines(True) if not x.startswith("links:")), encoding="utf-8")


def test_results_are_copies_and_cache_follows_rebuilds(tmp_path, monkeypatch):
    import evidence.config as config

    d = tmp_path / "s"
    d.mkdir()
    _copy_unlinked("alpha-2010-cct.yaml", d)
    out = tmp_path / "c.db"
    build_catalog(d, out, progress=False)
    monkeypatch.setattr(config, "CATALOG_URL", None)
    monkeypatch.setattr(config, "CATALOG_PATH", out)  # engine=None: the default catalogue, cached by URL + file
    r1 = effects()
    r1.loc[0, "yi"] = 999.0
    assert effects()["yi"].iloc[0] == -4.2  # the cached frame was not mutated by the caller
    shutil.copy(OWN / "beta-2006-uct.yaml", d)
    build_catalog(d, out, progress=False)
    assert set(effects()["study_id"]) == {"alpha-2010-cct", "beta-2006-uct"}  # rebuilt file: fresh result
    assert len(studies()) == 2


def test_cache_follows_rebuilds_with_an_explicit_engine(tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(OWN / "delta-2015-meals.yaml", d)
    out = tmp_path / "c.db"
    build_catalog(d, out, progress=False)
    engine = connect(out)
    assert set(effects(engine=engine)["effect_id"]) == {"cl", "drop"}
    shutil.copy(OWN / "epsilon-2019-clmrs.yaml", d)
    build_catalog(d, out, progress=False)
    assert set(effects(engine=engine)["effect_id"]) == {"cl", "drop", "hazard"}
    assert list(studies(engine=engine)["id"]) == ["delta-2015-meals", "epsilon-2019-clmrs"]


def test_cache_follows_rebuilds_of_a_server_database(tmp_path):
    """An engine not made by connect() (e.g. PostgreSQL): the cache is keyed by the studies hash."""
    from sqlalchemy import create_engine

    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(OWN / "zeta-2021-works.yaml", d)
    url = f"sqlite:///{tmp_path / 'server.db'}"
    build_catalog(d, url, progress=False)
    engine = create_engine(url)
    assert list(studies(engine=engine)["id"]) == ["zeta-2021-works"]
    _copy_unlinked("beta-2006-uct.yaml", d)
    build_catalog(d, url, progress=False)
    assert list(studies(engine=engine)["id"]) == ["beta-2006-uct", "zeta-2021-works"]
    assert len(effects(engine=engine)) == 3


def test_caches_are_keyed_on_strings_not_engines(tmp_path):
    """A caller's engine is not kept alive by the query caches (keys are URLs), and still reads its data."""
    import gc
    import weakref

    from sqlalchemy import create_engine

    from evidence.catalog import queries

    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(OWN / "zeta-2021-works.yaml", d)
    url = f"sqlite:///{tmp_path / 'weak.db'}"
    build_catalog(d, url, progress=False)
    engine = create_engine(url)
    assert list(studies(engine=engine)["id"]) == ["zeta-2021-works"]
    assert queries._key(engine) == url and queries._key(connect(tmp_path / "weak.db")) == url
    ref = weakref.ref(engine)
    engine.dispose()
    del engine
    gc.collect()
    assert ref() is None  # no lru_cache entry holds the engine
    assert list(studies(engine=connect(tmp_path / "weak.db"))["id"]) == ["zeta-2021-works"]


def test_connect_memoises_engines_per_url_and_mode(db):
    assert connect(db) is connect(str(db)) is connect(f"sqlite:///{db.resolve()}")
    assert connect(db, read_only=False) is not connect(db)
    assert connect(db, read_only=False) is connect(db, read_only=False)


def test_server_urls_get_one_pool_and_postgres_reads_read_only(monkeypatch):
    from evidence.catalog import queries

    made = []

    def fake_create_engine(url, **kw):
        made.append((url, kw))
        return object()

    monkeypatch.setattr(queries, "create_engine", fake_create_engine)
    monkeypatch.setattr(queries, "_ENGINES", {})
    url = "postgresql://reader@db.example.org/evidence"
    ro = connect(url)
    assert connect(url) is ro and len(made) == 1  # memoised: one pool per (url, read_only)
    assert made[0][1]["connect_args"] == {"options": "-c default_transaction_read_only=on"}
    connect(url, read_only=False)
    assert len(made) == 2 and "connect_args" not in made[1][1]
    connect("mysql://reader@db.example.org/evidence")  # no portable switch: a read-only role is needed
    assert "connect_args" not in made[2][1]
