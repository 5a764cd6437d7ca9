"""The explorer's pages, run headless with Streamlit's AppTest against a small test catalogue."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import streamlit as st
import yaml
from app_catalogue import app_catalogue, build_test_catalogue
from streamlit.testing.v1 import AppTest

from evidence import config, synthesis
from evidence.catalog import queries
from evidence.meta import exact

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["app_pages/home.py", "app_pages/gap_map.py", "app_pages/what_works.py", "app_pages/studies.py", "app_pages/where.py",
         "app_pages/your_data.py", "app_pages/method.py"]
pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    with app_catalogue(tmp_path_factory.mktemp("app")) as db:
        yield db


def _rebuild(db: Path, sid: str, out: Path | None = None, **effect) -> Path:
    """Rebuild the test catalogue (``build_test_catalogue``'s studies folder next to ``db``) with the
    first effect of study ``sid`` changed; written to ``out`` (default: ``db`` itself, as `evidence build` does)."""
    from evidence.catalog.build import build_catalog

    f = db.parent / "studies" / f"{sid}.yaml"
    doc = yaml.safe_load(f.read_text(encoding="utf-8"))
    doc["effects"][0].update(effect)
    if "reported" in effect:
        doc["effects"][0]["provenance"] = {"source": "paper", "location": "Table 3", "quote": f"{effect['reported']['estimate']}**"}
    f.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    build_catalog(f.parent, out or db, progress=False)
    return out or db


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def _text(els) -> str:
    return " ".join(str(e.value) for e in els).replace("\\", "")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(catalogue, page):
    at = _app(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title


def test_gap_map_filters_change_the_numbers(catalogue):
    at = _app("app_pages/gap_map.py")
    before = [m.value for m in at.metric]
    at.sidebar.multiselect(key="f_regions").set_value(["Sub-Saharan Africa"]).run()
    after = [m.value for m in at.metric]
    assert not at.exception and before != after


def test_gap_map_opens_cell_on_what_works(catalogue):
    at = _app("app_pages/gap_map.py")
    at.selectbox(key="gm_intervention").set_value("conditional_cash_transfer").run()
    at.selectbox(key="gm_outcome").set_value("economic_activity").run()
    at.button(key="gm_open").click().run()
    assert not at.exception
    assert at.session_state["ww_intervention"] == "conditional_cash_transfer"
    assert "reduces any economic activity" in _text(at.header)


def _expected_headline(filters=None, **opts) -> str:
    """The exact engine's answer for the selection, computed here independently of the page."""
    eff = queries.effects(filters)
    cell = eff[(eff.intervention == "conditional_cash_transfer") & (eff.outcome == "economic_activity") & eff.primary.astype(bool)
               & eff.vi.notna() & (eff.metric == "percentage_points")]
    if opts.get("exclude_high_rob"):
        cell = cell[cell.risk_of_bias != "high"]
    r = exact.posterior(cell.yi.to_numpy(float), cell.vi.to_numpy(float), tau_prior=synthesis.tau_prior_for("percentage_points"))
    return synthesis.headline(r, "economic_activity", "conditional_cash_transfer", "percentage_points")


def test_what_works_headline_equals_exact_engine(catalogue):
    at = _app("app_pages/what_works.py")
    at.selectbox(key="ww_intervention").set_value("conditional_cash_transfer").run()
    at.selectbox(key="ww_outcome").set_value("economic_activity").run()
    shown = _text(at.header)
    assert _expected_headline() in shown
    # a filter change updates the headline to the exact engine's answer for the new selection
    at.sidebar.multiselect(key="f_regions").set_value(["Latin America & Caribbean"]).run()
    new = _expected_headline(queries.Filters(regions=("Latin America & Caribbean",)))
    assert not at.exception and new in _text(at.header) and new != _expected_headline()


def test_what_works_sensitivity_and_nothing_pooled(catalogue):
    at = _app("app_pages/what_works.py")
    at.selectbox(key="ww_intervention").set_value("conditional_cash_transfer").run()
    at.selectbox(key="ww_outcome").set_value("economic_activity").run()
    at.multiselect(key="ww_leave").set_value(["alpha-2010-cct", "gamma-2012-cct"]).run()
    assert not at.exception
    assert "pooling needs at least two" in _text(at.warning)
    assert any("Harvest plot" in s.value for s in at.header)


def test_upload_page_example_and_bad_csv(catalogue):
    at = _app("app_pages/your_data.py")
    ref = exact.posterior(*_bcg(), tau_prior="halfnormal:0.5")
    assert synthesis.fmt(ref.mu.mean) in _text(at.header)
    at.radio(key="yd_engine").set_value("Frequentist random effects").run()
    assert not at.exception and "Pooled estimate" in _text(at.header)
    assert len(at.get("download_button")) == 2


def _bcg():
    from evidence.ingest import effect_table as uploads

    ds = uploads.load_example(next(iter(uploads.EXAMPLES)))
    return ds.yi, ds.vi


def test_upload_page_accepts_good_and_rejects_bad_csv(catalogue):
    at = _app("app_pages/your_data.py")
    at.radio(key="yd_source").set_value("Upload a CSV").run()
    at.get("file_uploader")[0].upload("bad.csv", b"name;value\nx;y\n", "text/csv").run()
    assert not at.exception and "needs columns yi and vi" in _text(at.error)
    at.get("file_uploader")[0].upload("good.csv", b"study,yi,vi\nA,-0.5,0.04\nB,-0.2,0.09\nC,-0.8,0.05\n", "text/csv").run()
    ref = exact.posterior([-0.5, -0.2, -0.8], [0.04, 0.09, 0.05], tau_prior="halfnormal:0.5")
    assert not at.exception and not at.error and synthesis.fmt(ref.mu.mean) in _text(at.header)


def test_summary_download_equals_the_cli_file(catalogue, tmp_path):
    """The What-works download is byte-for-byte the file `evidence summary` writes (same selection)."""
    from typer.testing import CliRunner

    from evidence.cli.main import app as cli
    from evidence.views.downloads import summary_file
    from evidence.views.loaders import catalogue_stamp

    at = _app("app_pages/what_works.py")
    at.button(key="dl_prepare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    iv, oc = at.selectbox(key="ww_intervention").value, at.selectbox(key="ww_outcome").value
    options = synthesis.WhatWorksOptions(iv, oc, None, False, False, "halfnormal", None, "primary", ())
    for fmt in ("md", "csv"):
        out = tmp_path / f"s.{fmt}"
        res = CliRunner().invoke(cli, ["summary", "--intervention", iv, "--outcome", oc, "--format", fmt, "-o", str(out)])
        assert res.exit_code == 0, res.output
        app_bytes = summary_file(catalogue_stamp(), (), options, None, "", fmt)
        assert app_bytes == out.read_bytes()


# -- review fixes -------------------------------------------------------------------------------
def test_cached_loaders_follow_a_rebuilt_catalogue(tmp_path, monkeypatch):
    """After `evidence build` rewrites the catalogue, a running app serves the new data, not the cached old."""
    from evidence.views import downloads, loaders

    db = build_test_catalogue(tmp_path)
    monkeypatch.setattr(config, "CATALOG_PATH", db)
    monkeypatch.setattr(config, "CATALOG_URL", None)
    st.cache_data.clear()
    options = synthesis.WhatWorksOptions("conditional_cash_transfer", "economic_activity")

    def kappa(stamp):
        eff = loaders.load_effects(stamp, ())
        return eff.loc[eff.study_id == "kappa-2016-cct", "yi"].iloc[0]

    before = loaders.catalogue_stamp()
    assert before[0] == str(db.resolve()) and kappa(before) == -6.5
    old_mu = loaders.load_what_works(before, (), options).result.mu.mean
    old_md = downloads.summary_file(before, (), options, None, "", "md")
    old_studies = loaders.load_studies(before, ())
    _rebuild(db, "kappa-2016-cct", reported={"form": "coefficient", "estimate": -9.25, "unit": "percentage_points", "se": 2.0})
    after = loaders.catalogue_stamp()
    assert after != before
    assert kappa(after) == -9.25
    assert loaders.load_what_works(after, (), options).result.mu.mean < old_mu
    assert downloads.summary_file(after, (), options, None, "", "md") != old_md
    assert len(loaders.load_studies(after, ())) == len(old_studies)
    st.cache_data.clear()


def test_catalogue_stamp_of_a_server_database(monkeypatch):
    from evidence.errors import CatalogError
    from evidence.views.loaders import catalogue_stamp

    # The one stamp (evidence.catalog.target.stamp) reads a server's studies hash, so an app on PostgreSQL
    # follows rebuilds; a server it cannot reach is one clear error that never shows the password.
    monkeypatch.setattr(config, "CATALOG_URL", "postgresql+psycopg://me:secret@127.0.0.1:1/evidence")
    with pytest.raises(CatalogError) as err:
        catalogue_stamp()
    assert "127.0.0.1:1" in str(err.value) and "secret" not in str(err.value)


def test_age_slider_full_range_means_no_restriction(catalogue):
    from evidence.views.components import age_items

    assert age_items((0, 18)) == []
    assert age_items((5, 17)) == [("age_min", 5.0), ("age_max", 17.0)]  # was silently ignored
    assert age_items((0, 12)) == [("age_max", 12.0)]
    at = _app("app_pages/gap_map.py")
    slider = at.sidebar.slider(key="f_ages")
    assert tuple(slider.value) == (0, 18) and "0-18 = all" in slider.label
    everything = [m.value for m in at.metric]
    slider.set_value((0, 3)).run()  # no fixture effect is for children under 4 only
    assert not at.exception and [m.value for m in at.metric] != everything


def test_what_works_caption_counts_imputed_variances(catalogue, tmp_path, monkeypatch):
    """A pooled effect whose variance was imputed from a significance level is counted under the headline."""
    at = _app("app_pages/what_works.py")
    assert "none uses a variance imputed from a significance level" in _text(at.caption)
    db = build_test_catalogue(tmp_path)
    _rebuild(db, "kappa-2016-cct", reported={"form": "coefficient", "estimate": -6.5, "unit": "percentage_points",
                                             "significance": "p<0.05"})
    monkeypatch.setattr(config, "CATALOG_PATH", db)
    at = _app("app_pages/what_works.py")
    at.selectbox(key="ww_intervention").set_value("conditional_cash_transfer").run()
    at.selectbox(key="ww_outcome").set_value("economic_activity").run()
    assert not at.exception
    assert "1 of them uses a variance imputed (conservatively) from a stated significance level" in _text(at.caption)


def test_studies_search_finds_programme_names(catalogue):
    at = _app("app_pages/studies.py")
    total = len(queries.studies())
    for programme, n in (("Bono Ficticio", 1), ("fixture works", 1), ("Programa Ficticio", 3)):
        at.text_input(key="st_query").input(programme).run()
        assert not at.exception and f"{n} of {total} studies" in _text(at.caption), programme


def test_studies_page_links_only_web_addresses(catalogue, tmp_path, monkeypatch):
    from evidence.views.components import is_web_link

    assert is_web_link("https://example.org/a") and is_web_link("HTTP://x.org")
    assert not any(is_web_link(v) for v in ("javascript:alert(1)", "file:///etc/passwd", "example.org", None))
    db = tmp_path / "catalog.db"
    db.write_bytes(Path(catalogue).read_bytes())
    with sqlite3.connect(db) as con:
        con.execute("UPDATE source SET url = 'javascript:alert(1)' WHERE study_id = 'alpha-2010-cct'")
    monkeypatch.setattr(config, "CATALOG_PATH", db)
    at = _app("app_pages/studies.py")
    at.selectbox(key="st_study").set_value("alpha-2010-cct").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Effect" in d.value.columns)
    assert table["Source link"].isna().all() and (table["Source (not a web address)"] == "javascript:alert(1)").all()
    assert not any("javascript" in b.proto.url for b in at.get("link_button"))  # the effect cards link no such source


def test_three_level_does_not_strip_the_shared_fit(monkeypatch):
    """The page's copy drops the sampler output; the object ``cached_fit`` shares keeps it."""
    import dataclasses

    from evidence.meta.pymc import cache
    from evidence.views import sampled

    shared = dataclasses.replace(exact.posterior([-1.0, -2.0, 0.5], [0.3, 0.4, 0.5]), idata="the sampler's draws")
    monkeypatch.setattr(cache, "cached_fit", lambda *a, **k: shared)
    sampled._three_level.clear()
    res = sampled._three_level((-1.0, -2.0, 0.5), (0.3, 0.4, 0.5), ("a", "a", "b"), ("1", "2", "3"), "halfnormal:0.5", None)
    assert res.idata is None and shared.idata == "the sampler's draws" and res.mu == shared.mu
    sampled._three_level.clear()


def test_upload_is_read_once(catalogue, monkeypatch):
    from evidence.ingest import effect_table as uploads

    calls = []
    real = uploads.read_table
    monkeypatch.setattr(uploads, "read_table", lambda data: calls.append(1) or real(data))
    st.cache_data.clear()
    at = _app("app_pages/your_data.py")
    at.radio(key="yd_source").set_value("Upload a CSV").run()
    calls.clear()  # the example read before
    at.get("file_uploader")[0].upload("once.csv", b"study,yi,sei\nA,-0.5,0.2\nB,-0.2,0.3\nC,-0.8,0.25\n", "text/csv").run()
    assert not at.exception and not at.error and len(calls) == 1
    at.radio(key="yd_engine").set_value("Frequentist random effects").run()
    assert not at.exception and len(calls) == 1
