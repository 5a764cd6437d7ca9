"""The explorer's pages, run headless with Streamlit's AppTest against a small test catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_catalogue import build_test_catalogue
from evidence import config
from evidence.catalog import queries
from evidence.meta import exact
from evidence.views import analysis

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["app_pages/gap_map.py", "app_pages/what_works.py", "app_pages/studies.py", "app_pages/where.py",
         "app_pages/your_data.py", "app_pages/method.py"]
pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    db = build_test_catalogue(tmp_path_factory.mktemp("app"))
    old = config.CATALOG_PATH
    config.CATALOG_PATH = db
    yield db
    config.CATALOG_PATH = old


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
    at = _app()
    before = [m.value for m in at.metric]
    at.sidebar.multiselect(key="f_regions").set_value(["Sub-Saharan Africa"]).run()
    after = [m.value for m in at.metric]
    assert not at.exception and before != after


def test_gap_map_opens_cell_on_what_works(catalogue):
    at = _app()
    at.selectbox(key="gm_intervention").set_value("conditional_cash_transfer").run()
    at.selectbox(key="gm_outcome").set_value("economic_activity").run()
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["ww_intervention"] == "conditional_cash_transfer"
    assert "reduces any economic activity" in _text(at.subheader)


def _expected_headline(filters=None, **opts) -> str:
    """The exact engine's answer for the selection, computed here independently of the page."""
    eff = queries.effects(filters)
    cell = eff[(eff.intervention == "conditional_cash_transfer") & (eff.outcome == "economic_activity") & eff.primary.astype(bool)
               & eff.vi.notna() & (eff.metric == "percentage_points")]
    if opts.get("exclude_high_rob"):
        cell = cell[cell.risk_of_bias != "high"]
    r = exact.posterior(cell.yi.to_numpy(float), cell.vi.to_numpy(float), tau_prior=analysis.tau_prior_for("percentage_points"))
    return analysis.headline(r, "economic_activity", "conditional_cash_transfer", "percentage_points")


def test_what_works_headline_equals_exact_engine(catalogue):
    at = _app("app_pages/what_works.py")
    at.selectbox(key="ww_intervention").set_value("conditional_cash_transfer").run()
    at.selectbox(key="ww_outcome").set_value("economic_activity").run()
    shown = _text(at.subheader)
    assert _expected_headline() in shown
    # a filter change updates the headline to the exact engine's answer for the new selection
    at.sidebar.multiselect(key="f_regions").set_value(["Latin America & Caribbean"]).run()
    new = _expected_headline(queries.Filters(regions=("Latin America & Caribbean",)))
    assert not at.exception and new in _text(at.subheader) and new != _expected_headline()


def test_what_works_sensitivity_and_nothing_pooled(catalogue):
    at = _app("app_pages/what_works.py")
    at.selectbox(key="ww_intervention").set_value("conditional_cash_transfer").run()
    at.selectbox(key="ww_outcome").set_value("economic_activity").run()
    at.multiselect(key="ww_leave").set_value(["alpha-2010-cct", "gamma-2012-cct"]).run()
    assert not at.exception
    assert "pooling needs at least two" in _text(at.warning)
    assert any("Harvest plot" in s.value for s in at.subheader)


def test_upload_page_example_and_bad_csv(catalogue):
    at = _app("app_pages/your_data.py")
    ref = exact.posterior(*_bcg(), tau_prior="halfnormal:0.5")
    assert analysis.fmt(ref.mu.mean) in _text(at.subheader)
    at.radio(key="yd_engine").set_value("Frequentist random effects").run()
    assert not at.exception and "Pooled estimate" in _text(at.subheader)
    assert len(at.get("download_button")) == 2


def _bcg():
    from evidence.views import uploads

    ds = uploads.load_example(next(iter(uploads.EXAMPLES)))
    return ds.yi, ds.vi


def test_upload_page_accepts_good_and_rejects_bad_csv(catalogue):
    at = _app("app_pages/your_data.py")
    at.radio(key="yd_source").set_value("Upload a CSV").run()
    at.get("file_uploader")[0].upload("bad.csv", b"name;value\nx;y\n", "text/csv").run()
    assert not at.exception and "needs columns yi and vi" in _text(at.error)
    at.get("file_uploader")[0].upload("good.csv", b"study,yi,vi\nA,-0.5,0.04\nB,-0.2,0.09\nC,-0.8,0.05\n", "text/csv").run()
    ref = exact.posterior([-0.5, -0.2, -0.8], [0.04, 0.09, 0.05], tau_prior="halfnormal:0.5")
    assert not at.exception and not at.error and analysis.fmt(ref.mu.mean) in _text(at.subheader)


def test_summary_download_equals_the_cli_file(catalogue, tmp_path):
    """The What-works download is byte-for-byte the file `evidence summary` writes (same selection)."""
    from typer.testing import CliRunner

    from evidence.cli.main import app as cli
    from evidence.views.downloads import summary_file

    at = _app("app_pages/what_works.py")
    at.button(key="dl_prepare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    iv, oc = at.selectbox(key="ww_intervention").value, at.selectbox(key="ww_outcome").value
    options = analysis.WhatWorksOptions(iv, oc, None, False, False, "halfnormal", None, "primary", ())
    for fmt in ("md", "csv"):
        out = tmp_path / f"s.{fmt}"
        res = CliRunner().invoke(cli, ["summary", "--intervention", iv, "--outcome", oc, "--format", fmt, "-o", str(out)])
        assert res.exit_code == 0, res.output
        app_bytes = summary_file((), options, None, "", fmt)
        assert app_bytes == out.read_bytes()
