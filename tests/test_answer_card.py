"""One answer per cell: the gap map, What works, the summaries and `evidence answer` all show the card
of :func:`evidence.synthesis.card.answer_card`, on every cell of the shipped catalogue."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from evidence import synthesis
from evidence.catalog import queries
from evidence.cli.main import app
from evidence.summary import summarise
from evidence.synthesis.harvest import sign_test, vote_count


@pytest.fixture(scope="module")
def effects():
    return queries.effects()


@pytest.fixture(scope="module")
def cells(effects):
    return synthesis.gap_map_cells(effects)


def _filled(cells):
    return cells[cells["n_studies"] > 0]


def test_gap_map_shows_the_card_of_every_cell(effects, cells):
    _gap_map_agrees(effects, cells)


def _gap_map_agrees(effects, cells):
    for c in _filled(cells).itertuples():
        card = synthesis.answer_card(effects, synthesis.WhatWorksOptions(c.intervention, c.outcome))
        assert c.category == card.category, (c.intervention, c.outcome)
        assert c.summary == card.tooltip and c.statement == card.statement
        assert (c.certainty if isinstance(c.certainty, str) else None) == card.certainty
        assert c.n_pooled == (card.pooled.k if card.pooled else 0)


def test_what_works_summary_and_cli_agree_with_the_card(effects, cells):
    _pages_agree(effects, cells)


def test_a_synthetic_catalogue_agrees_too(tmp_path, monkeypatch):
    """The same checks on the app tests' synthetic catalogue (pooled cells, subgroups, a harm)."""
    from app_catalogue import app_catalogue

    monkeypatch.delenv("EVIDENCE_CATALOG_URL", raising=False)
    with app_catalogue(tmp_path):  # patches the catalogue path (and restores it) itself
        effects = queries.effects()
        cells = synthesis.gap_map_cells(effects)
        assert (_filled(cells)["n_pooled"] > 0).any()  # the synthetic catalogue has cells that pool
        _gap_map_agrees(effects, cells)
        _pages_agree(effects, cells)


def _pages_agree(effects, cells):
    runner = CliRunner()
    for c in _filled(cells).itertuples():
        options = synthesis.WhatWorksOptions(c.intervention, c.outcome)
        card = synthesis.answer_card(effects, options)
        ww = synthesis.what_works(effects, options)
        assert (ww.headline if ww.result is not None else "") == card.headline
        s = summarise(options)
        assert s.card.statement == card.statement and s.card.category == card.category
        assert (s.certainty.rating if s.certainty else None) == card.certainty
        assert card.statement in s.plain_language
        out = runner.invoke(app, ["answer", "--intervention", c.intervention, "--outcome", c.outcome, "--json"])
        assert out.exit_code == 0, out.output
        got = json.loads(out.output)
        assert got["statement"] == card.statement and got["category"] == card.category
        assert got["certainty"] == card.certainty and got["vote_statement"] == card.vote_statement


def test_no_effect_with_a_stated_direction_counts_as_no_clear_effect(effects):
    stated = effects[effects["reported_direction"].isin(["decrease", "increase"])]
    assert len(stated) > 50  # the shipped catalogue codes directions in words
    h = synthesis.harvest_table(stated)
    assert set(h["leaning"]) <= {"Improves", "Worsens"}
    sig = stated["significance"].astype(str).str.contains("significant", case=False) & ~stated["significance"].astype(str).str.contains("not", case=False)
    words_only = stated["yi"].isna() & sig
    assert not (h.loc[words_only.to_numpy(), "direction"] == "No clear effect").any()


def test_amaral_significantly_higher_work_is_a_harm(effects):
    amaral = effects[(effects["study_id"] == "amaral-2014-bolsa-familia") & (effects["outcome"] == "child_labour")]
    assert bool(amaral["harmful"].iloc[0]) and amaral["direction"].iloc[0] == "worsens"


def test_disjoint_age_bands_combine_by_inverse_variance():
    rows = [dict(study_id="s1", effect_id="lt12", yi=2.0, vi=1.0, subgroup_age_min=5, subgroup_age_max=11),
            dict(study_id="s1", effect_id="12-14", yi=4.0, vi=4.0, subgroup_age_min=12, subgroup_age_max=14),
            dict(study_id="s2", effect_id="all", yi=1.0, vi=1.0, subgroup_age_min=np.nan, subgroup_age_max=np.nan)]
    df = pd.DataFrame(rows).assign(subgroup_sex="all", subgroup_label=None, primary=False, metric="percentage_points")
    out = synthesis.selection.study_effects(df).set_index("study_id")
    # hand computation: w = 1, 1/4; y = (2*1 + 4*0.25) / 1.25 = 2.4; v = 1 / 1.25 = 0.8
    assert out.loc["s1", "yi"] == pytest.approx(2.4) and out.loc["s1", "vi"] == pytest.approx(0.8)
    assert out.loc["s1", "combined_from"] == "lt12, 12-14" and out.loc["s2", "yi"] == 1.0


def test_girls_and_boys_combine_and_labelled_subgroups_do_not():
    rows = [dict(study_id="s", effect_id="g", yi=-3.0, vi=1.0, subgroup_sex="girls", subgroup_label=None),
            dict(study_id="s", effect_id="b", yi=-1.0, vi=1.0, subgroup_sex="boys", subgroup_label=None),
            dict(study_id="t", effect_id="w", yi=-5.0, vi=1.0, subgroup_sex="all", subgroup_label="working at baseline"),
            dict(study_id="t", effect_id="x", yi=-2.0, vi=2.0, subgroup_sex="all", subgroup_label="not working")]
    df = pd.DataFrame(rows).assign(subgroup_age_min=np.nan, subgroup_age_max=np.nan, primary=False)
    out = synthesis.selection.study_effects(df).set_index("study_id")
    assert out.loc["s", "yi"] == pytest.approx(-2.0) and out.loc["s", "vi"] == pytest.approx(0.5)
    assert out.loc["t", "effect_id"] == "w"  # labelled subgroups are not assumed disjoint: the first is used


def test_sign_test_and_vote_count():
    assert sign_test(5, 5) == pytest.approx(2 / 32) and sign_test(0, 0) is None
    assert sign_test(3, 6) == 1.0
    cell = pd.DataFrame([dict(study_id="a", yi=np.nan, desirable="decrease", reported_direction="decrease", primary=True),
                         dict(study_id="b", yi=-1.0, desirable="decrease", reported_direction=None, primary=True),
                         dict(study_id="c", yi=np.nan, desirable="decrease", reported_direction="no_clear_change", primary=True),
                         dict(study_id="d", yi=2.0, desirable="decrease", reported_direction=None, primary=True)])
    vc = vote_count(cell)
    assert (vc.improves, vc.worsens, vc.no_change, vc.studies_without_numbers) == (2, 1, 1, 2)
    assert vc.p_sign == pytest.approx(1.0)
    assert vc.statement("Child labour", "decrease").startswith("2 of 3 studies with a direction show a reduction in child labour")


def test_statement_follows_grade_wording():
    from evidence.synthesis.card import Pooled, _statement
    from evidence.synthesis.harvest import VoteCount

    p = Pooled(-5.0, -8.0, -2.0, -12.0, 2.0, 0.99, 1.0, 10.0, 4, "m", "halfnormal:5")
    words = {r: _statement("Cash transfers", "Child labour", p, r, "percentage_points", "decrease", VoteCount(), None)
             for r in ("high", "moderate", "low", "very low")}
    assert words["high"] == "Cash transfers reduce child labour."
    assert words["moderate"] == "Cash transfers probably reduce child labour."
    assert words["low"] == "Cash transfers may reduce child labour."
    assert words["very low"].startswith("The evidence is very uncertain")
    small = Pooled(0.2, -1.0, 1.5, -3.0, 3.0, 0.4, 1.0, 10.0, 4, "m", "halfnormal:5")
    assert "little or no difference" in _statement("Cash transfers", "Child labour", small, "moderate", "percentage_points",
                                                   "decrease", VoteCount(), None)
