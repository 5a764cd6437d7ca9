"""The coding workspace in the app (AppTest): form -> file -> validate -> build -> the study is in the
catalogue with the entered numbers; a wrong quote is flagged next to its field; the reconcile page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
import yaml
from app_catalogue import app_page
from streamlit.testing.v1 import AppTest

from evidence import config
from evidence.catalog import queries
from evidence.catalog.build import build_catalog
from evidence.coding import form
from evidence.ingest.validate import validate_paths

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture
def studies(tmp_path, monkeypatch):
    d = tmp_path / "studies"
    d.mkdir()
    for f in (REPO / "tests" / "fixtures" / "studies").glob("*.yaml"):
        shutil.copy(f, d / f.name)
    monkeypatch.setattr(config, "STUDIES_DIR", d)
    st.cache_data.clear()
    return d


def _page(page: str) -> AppTest:
    at = app_page(page)
    return at


def _fill(at: AppTest, values: dict) -> None:
    for k, v in values.items():
        kind = "selectbox" if k.endswith(("publication_type", ".type", ".kind", ".status", ".outcome", ".unit",
                                          ".sdg871", ".form", ".tool")) else "text_input"
        if k.endswith(("authors", "quote")):
            kind = "text_area"
        getattr(at, kind)(key=f"f:{k}").set_value(v)
    at.run()


def test_code_a_study_from_a_doi_to_the_catalogue(studies, tmp_path):
    at = _page("app_pages/code_study.py")
    at.text_area(key=form.START_TEXT).set_value("https://doi.org/10.5555/Fixture.New")
    at.text_input(key=form.START_CODER).set_value("tester")
    at.button(key=form.START_BUTTON).click().run()
    assert not at.exception
    at.button(key=form.add_button("effects")).click().run()
    _fill(at, {"id": "nu-2020-cct", "title": "Fixture: a new cash transfer coded in the app",
               "authors": "Nu, Nina", "year": "2020", "publication_type": "journal_article",
               "programme.name": "Programa Nu", "programme.countries": "COL",
               "interventions[0].type": "conditional_cash_transfer", "design.type": "individual_rct",
               "sources[0].kind": "journal_article", "coding.status": "coded",
               "effects[0].outcome": "economic_activity", "effects[0].reported.estimate": "-2.7",
               "effects[0].reported.unit": "percentage_points", "effects[0].reported.se": "0.9",
               "effects[0].provenance.location": "Table 2", "effects[0].provenance.quote": "-2.1 (0.9)"})
    quote_errors = [e.value for e in at.error if "does not appear in the quote" in e.value]
    assert quote_errors == ["estimate -2.7 does not appear in the quote (quote the sentence or table cell that "
                            "contains the number)"]
    assert any("yi = -2.7 percentage_points" in s.value and "vi = 0.81" in s.value for s in at.success)
    assert at.button(key=form.SAVE_BUTTON).disabled
    _fill(at, {"effects[0].provenance.quote": "-2.7 (0.9)"})
    assert not [e.value for e in at.error], [e.value for e in at.error]
    at.button(key=form.SAVE_BUTTON).click().run()
    assert not at.exception
    path = studies / "nu-2020-cct.yaml"
    assert path.is_file() and any("Saved" in s.value for s in at.success)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["doi"] == "10.5555/fixture.new" and doc["year"] == 2020 and doc["authors"] == ["Nu, Nina"]
    report = validate_paths([studies])
    assert report.ok, [str(p) for p in report.errors]
    db = tmp_path / "catalog.db"
    build_catalog(studies, db, progress=False)
    eff = queries.effects(queries.Filters(), engine=queries.connect(db))
    row = eff[eff.study_id == "nu-2020-cct"]
    assert len(row) == 1 and row.yi.iloc[0] == pytest.approx(-2.7) and row.vi.iloc[0] == pytest.approx(0.81)

    # reopening the saved study shows the same values
    again = _page("app_pages/code_study.py")
    again.radio(key=form.START_KIND).set_value("id")
    again.text_area(key=form.START_TEXT).set_value("nu-2020-cct")
    again.button(key=form.START_BUTTON).click().run()
    assert again.text_input(key="f:effects[0].reported.estimate").value == "-2.7"
    assert again.text_area(key="f:effects[0].provenance.quote").value == "-2.7 (0.9)"
    assert again.selectbox(key="f:design.type").value == "individual_rct"


def test_duplicates_are_shown_first(studies):
    at = _page("app_pages/code_study.py")
    at.text_area(key=form.START_TEXT).set_value("10.0000/fixture.alpha")
    at.button(key=form.START_BUTTON).click().run()
    assert any("alpha-2010-cct" in w.value and "same DOI" in w.value for w in at.warning)


def test_reconcile_page_lists_disagreements_and_writes(studies):
    fix = REPO / "tests" / "fixtures" / "coding"
    shutil.copy(fix / "omega-2015-cct.yaml", studies / "omega-2015-cct.yaml")
    (studies / "second-coding").mkdir()
    shutil.copy(fix / "omega-2015-cct.ben.yaml", studies / "second-coding" / "omega-2015-cct.ben.yaml")
    at = _page("app_pages/reconcile.py")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Disagreements": "6", "Agreement (categorical)": "70.0%", "Cohen's kappa": "0.615"}
    table = at.dataframe[0].value
    assert list(table["Field"])[0] == "design.type" and set(table.columns) >= {"ana", "ben", "Quote (ana)", "Quote (ben)"}
    assert set(table["Categorical"]) <= {"yes", "no"} and set(at.dataframe[1].value["Agree"]) == {"yes", "no"}
    at.radio(key="reconcile:choice:effects[work].reported.se").set_value("second")
    at.radio(key="reconcile:choice:effects[work].provenance.quote").set_value("second")
    at.text_input(key="reconcile:by").set_value("carla").run()
    at.button(key="reconcile:write").click().run()
    assert not at.exception and any("Wrote" in s.value for s in at.success)
    assert validate_paths([studies]).ok
    assert yaml.safe_load((studies / "omega-2015-cct.yaml").read_text())["effects"][0]["reported"]["se"] == 1.3


def test_a_second_coder_codes_independently_and_validation_waits_for_reconciliation(studies):
    shutil.copy(REPO / "tests" / "fixtures" / "coding" / "omega-2015-cct.yaml", studies / "omega-2015-cct.yaml")
    at = _page("app_pages/code_study.py")
    at.radio(key=form.START_KIND).set_value("id")
    at.text_area(key=form.START_TEXT).set_value("omega-2015-cct")
    at.text_input(key=form.START_CODER).set_value("ben")
    at.checkbox(key=form.SECOND_CODER).check()
    at.button(key=form.START_BUTTON).click().run()
    assert at.text_input(key="f:title").value == "Fixture: a cash transfer coded twice"
    assert at.session_state["n:effects"] == 0  # the first coder's effects are not shown
    _fill(at, {"programme.name": "Programa Omega", "programme.countries": "PER", "interventions[0].id": "cct",
               "interventions[0].type": "conditional_cash_transfer", "design.type": "individual_rct"})
    assert not [e.value for e in at.error], [e.value for e in at.error]
    at.button(key=form.SAVE_BUTTON).click().run()
    second = studies / "second-coding" / "omega-2015-cct.ben.yaml"
    assert second.is_file() and yaml.safe_load(second.read_text())["design"]["type"] == "individual_rct"
    assert (studies / "omega-2015-cct.yaml").read_text() == (REPO / "tests/fixtures/coding/omega-2015-cct.yaml").read_text()
    report = validate_paths([studies])
    assert [(p.rule, p.path.name) for p in report.errors] == [("second-coding-reconciled", "omega-2015-cct.yaml")]
    rc = _page("app_pages/reconcile.py")
    fields = list(rc.dataframe[0].value["Field"])
    assert "design.type" in fields and "effects[work].reported.estimate" in fields
