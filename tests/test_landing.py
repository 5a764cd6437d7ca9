"""The landing page ("Start here"), the gap map's chosen cell and empty state, and filters in the URL:
the package's rules (``evidence.synthesis.landing``) and the pages run headless with AppTest."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pandas as pd
import pytest
from app_catalogue import app_catalogue
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from evidence import synthesis
from evidence.catalog import queries
from evidence.cli.main import app as cli
from evidence.schema import Coding
from evidence.synthesis import charts, landing

APP = str(Path(__file__).resolve().parents[1] / "app.py")
GAP_MAP = "app_pages/gap_map.py"
pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    with app_catalogue(tmp_path_factory.mktemp("landing")) as db:
        yield db


@pytest.fixture(scope="module")
def data(catalogue):
    engine = queries.connect(catalogue)
    effects = queries.effects(queries.Filters(), engine=engine)
    studies = queries.studies(queries.Filters(), engine=engine)
    return studies, effects, synthesis.gap_map_cells(effects)


def _app(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _params(at: AppTest) -> dict[str, list[str]]:
    """The URL's query parameters after a run, each as a list (AppTest keeps a single value as a string)."""
    return {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()}


def _studies_table(at: AppTest) -> pd.DataFrame:
    (table,) = [d.value for d in at.dataframe if "In the pooled answer" in d.value.columns]
    return table


def _text(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.header, *at.warning, *at.info]
    return " ".join(str(e.value) for e in parts).replace("\\", "")


# -- the package's rules ------------------------------------------------------------------------
def test_every_coding_status_of_the_schema_is_explained():
    assert set(landing.STATUS_MEANING) == set(typing.get_args(Coding.model_fields["status"].annotation))


def test_evidence_state_counts_the_catalogue(data):
    studies, effects, cells = data
    s = landing.evidence_state(studies, effects, cells)
    assert s.n_studies == len(studies) and sum(s.by_status.values()) == len(studies)
    assert s.studies_with_variance == effects.loc[effects["vi"].notna(), "study_id"].nunique() >= 2
    assert s.studies_with_variance <= s.studies_with_estimate <= s.n_studies
    assert s.effects_with_variance == int(effects["vi"].notna().sum()) and s.n_effects == len(effects)
    assert s.cells_total == len(cells) and 1 <= s.cells_pooled <= s.cells_with_studies
    for figure in (s.n_studies, s.studies_with_variance, s.cells_pooled, s.cells_with_studies):
        assert str(figure) in s.paragraph
    pooled = cells[cells["n_pooled"] >= 2]
    assert s.programmes_pooled == list(dict.fromkeys(pooled["intervention_label"]))
    assert s.best_certainty in set(pooled["certainty"]) and f"above {s.best_certainty} certainty" in s.paragraph
    assert all(p.lower() in s.paragraph for p in s.programmes_pooled) and "provisional" in s.paragraph


def test_best_findings_rank_certainty_then_studies_and_vary_programmes():
    cells = pd.DataFrame({"intervention": ["a", "a", "b", "c", "a", "d"], "outcome": ["x", "y", "x", "x", "z", "x"],
                          "n_pooled": [2, 5, 2, 0, 3, 1], "n_studies": [2, 5, 3, 4, 3, 1],
                          "certainty": ["low", "low", "moderate", None, "very low", "high"]})
    # b (moderate) first; a's best low cell (5 pooled) next; then a's other cells fill the rest; c and d
    # never (c pools nothing, d pools one study).
    assert landing.best_findings(cells) == [("b", "x"), ("a", "y"), ("a", "x")]
    assert landing.best_findings(cells, 5) == [("b", "x"), ("a", "y"), ("a", "x"), ("a", "z")]
    assert landing.best_findings(cells.iloc[3:4]) == []


def test_cell_studies_lists_each_study_once_and_marks_the_pooled(data):
    _, effects, cells = data
    iv, oc = landing.best_findings(cells)[0]
    card = synthesis.answer_card(effects, synthesis.WhatWorksOptions(iv, oc))
    table = landing.cell_studies(effects, iv, oc, card.pooled_ids)
    assert list(table["study_id"]) == list(dict.fromkeys(table["study_id"]))
    assert set(table["study_id"]) == set(card.study_ids)
    assert set(table.loc[table["In the pooled answer"] == "yes", "study_id"]) == set(card.pooled_ids)
    assert not table.isna().any().any()


def test_gap_map_chart_highlights_the_chosen_cell_and_counts_whole_studies(data):
    _, _, cells = data
    spec = charts.gap_map_chart(cells, chosen=("conditional_cash_transfer", "economic_activity")).to_dict()
    bubbles = spec["layer"][1]
    (param,) = spec["params"]  # Altair lifts a layer's selection to the top level
    assert param["value"] == [{"intervention": "conditional_cash_transfer", "outcome": "economic_activity"}]
    enc = bubbles["encoding"]
    (opacity,), (stroke,) = enc["opacity"]["condition"], enc["stroke"]["condition"]
    assert opacity["param"] == stroke["param"] == "cell" and stroke["empty"] is False and stroke["value"] == "#000000"
    size = enc["size"]["legend"]
    assert size["format"] == "d" and all(isinstance(v, int) for v in size["values"])
    assert size["values"][-1] == int(cells["n_studies"].max())
    for axis in (enc["x"]["axis"], enc["y"]["axis"]):
        assert axis["labelLimit"] == 0 and axis["grid"] is False  # no label cut, no crosshair through the marks
    assert all(leg.get("orient") == "bottom" and leg.get("columns") == 1
               for leg in (enc["color"]["legend"], enc["shape"]["legend"], size))
    data_rows = spec["datasets"][bubbles["data"]["name"]]
    for row in data_rows:  # tooltips in words: no null, no machine key
        for t in enc["tooltip"]:
            value = row[t["field"]]
            assert value is not None and value != "" and "_" not in str(value), (t["field"], value)


# -- the pages ------------------------------------------------------------------------------------
def test_landing_cards_are_the_cli_answers(catalogue, data):
    studies, effects, cells = data
    at = _app()
    assert at.title[0].value == "What works to reduce child labour?"
    facts = landing.evidence_state(studies, effects, cells)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Studies"] == str(facts.n_studies)
    assert metrics["Studies a meta-analysis can use"] == str(facts.studies_with_variance)
    assert metrics["Cells that pool"] == f"{facts.cells_pooled} of {facts.cells_with_studies}"
    text = _text(at)
    assert facts.paragraph.replace("\\", "") in text
    findings = landing.best_findings(cells)
    assert findings
    runner = CliRunner()
    for iv, oc in findings:
        out = runner.invoke(cli, ["answer", "--intervention", iv, "--outcome", oc, "--catalog", str(catalogue), "--json"])
        assert out.exit_code == 0, out.output
        got = json.loads(out.output)
        assert got["statement"] in text and got["headline"] in text
        assert f"Certainty: {(got['certainty'] or 'not rated').upper()} · Studies pooled / in this cell: " \
               f"{len(got['pooled_ids'])} / {got['n_studies']} · Direction: {got['category']}" in text.replace("**", "")


def test_landing_question_opens_what_works_with_its_choices(catalogue):
    at = _app()
    at.selectbox(key="home_iv").set_value("conditional_cash_transfer").run()
    at.selectbox(key="home_oc").set_value("economic_activity").run()
    at.selectbox(key="home_region").set_value("Latin America & Caribbean")
    at.selectbox(key="home_sex").set_value("girls")
    at.button(key="home_ask").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "What works"
    assert at.selectbox(key="ww_intervention").value == "conditional_cash_transfer"
    assert at.selectbox(key="ww_outcome").value == "economic_activity"
    assert at.sidebar.multiselect(key="f_regions").value == ["Latin America & Caribbean"]
    assert at.sidebar.selectbox(key="f_sex").value == "girls"
    assert _params(at)["regions"] == ["Latin America & Caribbean"] and _params(at)["sex"] == ["girls"]


def test_gap_map_chosen_cell_shows_its_answer_and_studies(catalogue, data):
    _, effects, _ = data
    at = _app(GAP_MAP, {"intervention": "conditional_cash_transfer", "outcome": "economic_activity"})
    card = synthesis.answer_card(effects, synthesis.WhatWorksOptions("conditional_cash_transfer", "economic_activity"))
    assert card.statement in _text(at)
    table = _studies_table(at)
    assert len(table) == card.n_studies and (table["In the pooled answer"] == "yes").sum() == len(card.pooled_ids)
    at.button(key="gm_open").click().run()
    assert at.title[0].value == "What works" and card.statement in _text(at)


def test_empty_filters_say_so_and_reset(catalogue):
    at = _app(GAP_MAP)
    at.sidebar.multiselect(key="f_regions").set_value(["Sub-Saharan Africa"]).run()
    at.sidebar.multiselect(key="f_countries").set_value(["BRA"]).run()  # Brazil is not in Africa: nothing matches
    assert "No study matches these filters" in _text(at) and not at.metric
    assert _params(at)["countries"] == ["BRA"]
    at.button(key="gm_reset").click().run()
    assert not at.exception
    assert at.sidebar.multiselect(key="f_regions").value == [] and at.sidebar.multiselect(key="f_countries").value == []
    assert at.metric and not {"regions", "countries"} & set(_params(at))


def test_filters_round_trip_through_the_url(catalogue):
    query = {"regions": ["Sub-Saharan Africa", "Latin America & Caribbean"], "designs": ["cluster_rct"], "sex": "girls",
             "years": "2008-2016", "ages": "6-14"}
    at = _app(GAP_MAP, query)
    assert at.sidebar.multiselect(key="f_regions").value == query["regions"]
    assert at.sidebar.multiselect(key="f_designs").value == ["cluster_rct"]
    assert at.sidebar.selectbox(key="f_sex").value == "girls"
    assert tuple(at.sidebar.slider(key="f_years").value) == (2008, 2016)
    assert tuple(at.sidebar.slider(key="f_ages").value) == (6, 14)
    written = {k: v for k, v in _params(at).items() if k not in ("intervention", "outcome")}
    assert written == {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    at.sidebar.selectbox(key="f_sex").set_value("boys").run()  # a change is written back
    assert _params(at)["sex"] == ["boys"]
    again = _app(GAP_MAP, _params(at))  # the copied link, opened in a new session
    assert again.sidebar.selectbox(key="f_sex").value == "boys"
    assert [m.value for m in again.metric] == [m.value for m in at.metric]
    # A value the catalogue does not have is dropped, and a malformed range leaves the slider whole.
    odd = _app(GAP_MAP, {"regions": ["Atlantis", "Sub-Saharan Africa"], "years": "soon"})
    assert odd.sidebar.multiselect(key="f_regions").value == ["Sub-Saharan Africa"] and "years" not in _params(odd)
    (note,) = [w.value.replace("\\", "") for w in odd.sidebar.warning]
    assert "Ignored from the link" in note and "regions=Atlantis" in note and "years=soon" in note


def test_cell_studies_name_studies_that_share_a_citation_apart():
    """On the shipped catalogue (de Hoop et al. 2020 evaluated Malawi's and Zambia's transfers), every
    study listed under a cell has a name of its own, the Studies page's names."""
    from evidence.catalog import queries

    effects = queries.effects(queries.Filters())
    for (iv, oc), _ in effects.groupby(["intervention", "outcome"]):
        listed = landing.cell_studies(effects, iv, oc)
        assert listed["Study"].is_unique, (iv, oc, list(listed["Study"]))
