"""The policy adviser's walk on the shipped catalogue (AppTest): "do cash transfers reduce child labour
for girls aged 12-14 in sub-Saharan Africa, how sure are we, what could a new programme expect?".

Each thing the page states is checked against ``evidence answer --json`` for the same question (the
answer card, the one source) and against ``context_answer`` for the "for my context" panel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_catalogue import use_catalogue
from streamlit.testing.v1 import AppTest

from evidence import synthesis
from evidence.synthesis import context

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
SHIPPED = REPO / "evidence" / "catalog.db"
SSA = "Sub-Saharan Africa"
pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(scope="module")
def shipped():
    with use_catalogue(SHIPPED) as db:
        yield db


def cli_card(intervention: str, outcome: str, *filters: str) -> dict:
    """``evidence answer --json`` for one question (the command the adviser could run instead)."""
    from typer.testing import CliRunner

    from evidence.cli.main import app as cli

    res = CliRunner().invoke(cli, ["answer", "--intervention", intervention, "--outcome", outcome, "--json",
                                   "--catalog", str(SHIPPED), *filters])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def _text(els) -> str:
    return " ".join(str(e.value) for e in els).replace("\\", "")


def _open(intervention: str, outcome: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("app_pages/what_works.py")
    at.run()
    at.selectbox(key="ww_intervention").set_value(intervention).run()
    at.selectbox(key="ww_outcome").set_value(outcome).run()
    assert not at.exception
    return at


def _subgroup_rows(at: AppTest) -> dict[str, dict]:
    for table in at.table:
        v = table.value
        if v.index.name == "Subgroup":
            return {label: dict(r) for label, r in v.iterrows()}
    return {}


def _check_card(at: AppTest, card: dict) -> None:
    """How sure we are, what a new programme could expect, girls' results and per 100 children: as the card."""
    page = _text(at.header) + " " + _text(at.markdown) + " " + _text(at.info) + " " + _text(at.warning)
    assert card["statement"] in _text(at.header)
    shown = {m.label: m.value for m in at.metric}
    if card["certainty"]:
        verb = context.CERTAINTY_MEANING[card["certainty"]][0]
        assert shown["Certainty of the evidence"] == card["certainty"].capitalize() + (f" (“{verb}”)" if verb else "")
        assert f"How sure we are: {card['certainty']} certainty." in _text(at.caption)
        assert "a new programme can expect between" in card["headline"]  # what a new programme could expect
        assert card["headline"] in _text(at.header)  # pooled effect, credible and prediction intervals
    else:
        assert shown["Certainty of the evidence"] == "not rated"
        assert (card["reason"] or "") in page  # the plain reason nothing pools
    assert card["vote_statement"] in page
    rows = _subgroup_rows(at)
    assert set(rows) == {g["label"] for g in card["subgroups"]}
    for g in card["subgroups"]:
        assert rows[g["label"]]["What the evidence says"] == g["text"] and rows[g["label"]]["Studies"] == g["k"]
        expected = context.per_100_children(g["mean"], g["q025"], g["q975"], card["metric"], card["outcome_label"])
        assert rows[g["label"]]["Out of 100 children"] == (expected or "—")
    if card["absolute"]:
        assert card["absolute"]["text"] in _text(at.info)


def _set_context(at: AppTest, **chosen) -> None:
    for c, v in chosen.items():
        at.selectbox(key=f"ww_ctx_{c}").set_value(v).run()
    assert not at.exception


def _expected_context(filters, intervention, outcome, ctx):
    from evidence.catalog import queries

    eff = queries.effects(queries.Filters(**filters), engine=queries.connect(SHIPPED))
    return context.context_answer(synthesis.what_works(eff, synthesis.WhatWorksOptions(intervention, outcome)), ctx)


def test_cct_child_labour_sure_what_to_expect_and_girls(shipped):
    at = _open("conditional_cash_transfer", "child_labour")
    card = cli_card("conditional_cash_transfer", "child_labour")
    assert card["pooled"] is None and any(g["label"] == "Girls" for g in card["subgroups"])
    _check_card(at, card)
    # for my context: girls aged 12-14 in sub-Saharan Africa
    _set_context(at, sex="girls", age_band="Children 12–14", region=SSA)
    want = _expected_context({}, "conditional_cash_transfer", "child_labour",
                             context.Context(region=SSA, sex="girls", age_band="Children 12–14"))
    assert want.text is None and want.reasons
    assert [r for r in want.reasons if r in _text(at.info)] == want.reasons
    assert "Sex: girls' effects coded for 4 studies, 1 with a usable variance; 2 needed." in _text(at.info)


def test_cct_child_labour_filtered_to_girls_12_14_in_africa_says_so(shipped):
    at = _open("conditional_cash_transfer", "child_labour")
    at.sidebar.multiselect(key="f_regions").set_value([SSA]).run()
    at.sidebar.selectbox(key="f_sex").set_value("girls").run()
    at.sidebar.slider(key="f_ages").set_value((12, 14)).run()
    assert not at.exception and at.selectbox(key="ww_outcome").value == "child_labour"  # never switches outcome
    card = cli_card("conditional_cash_transfer", "child_labour", "--region", SSA, "--sex", "girls",
                    "--age-min", "12", "--age-max", "14")
    _check_card(at, card)
    assert card["n_studies"] == 0 and "no study in this cell under the current filters" in _text(at.info)


def test_uct_child_labour_outcome_in_africa_12_14_pools_per_100_children(shipped):
    at = _open("unconditional_cash_transfer", "economic_activity")
    at.sidebar.multiselect(key="f_regions").set_value([SSA]).run()
    at.sidebar.slider(key="f_ages").set_value((12, 14)).run()
    card = cli_card("unconditional_cash_transfer", "economic_activity", "--region", SSA, "--age-min", "12",
                    "--age-max", "14")
    assert card["pooled"] is not None and card["absolute"] is not None
    _check_card(at, card)
    _set_context(at, sex="girls", age_band="Children 12–14")
    want = _expected_context({"regions": (SSA,), "age_min": 12, "age_max": 14}, "unconditional_cash_transfer",
                             "economic_activity", context.Context(sex="girls", age_band="Children 12–14"))
    assert want.text is not None and want.per_100 is not None and "95% prediction interval" in want.text
    success = _text(at.success)
    assert want.text.replace("$", "") in success.replace("$", "") and want.per_100 in success
    assert want.reasons and all(r in _text(at.info) for r in want.reasons)
    # the age-band answer is the card's own subgroup answer
    sub = {g["label"]: g for g in card["subgroups"]}["Children 12–14"]
    assert synthesis.fmt(sub["mean"], card["metric"]) in want.text


def test_uct_child_labour_nothing_pools_gives_the_reason_and_vote_count(shipped):
    at = _open("unconditional_cash_transfer", "child_labour")
    card = cli_card("unconditional_cash_transfer", "child_labour")
    assert card["pooled"] is None
    _check_card(at, card)
