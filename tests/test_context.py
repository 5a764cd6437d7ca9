""""For my context": answers from the coded subgroup effects and a meta-regression, or one line per
characteristic that cannot be separated. Synthetic catalogues with a known moderator effect (the
prediction is computed by hand) and the shipped catalogue."""

from __future__ import annotations

import pandas as pd
import pytest

from evidence import synthesis
from evidence.synthesis import context
from evidence.synthesis.context import Context, context_answer

CELL = dict(intervention="conditional_cash_transfer", outcome="paid_work")


def _effects(rows):
    base = dict(effect_id="e", citation=None, subgroup_label=None, primary=True, metric="percentage_points", randomised=True,
                harmful=False, risk_of_bias="low", variance_imputed=False, regions="Latin America & Caribbean",
                conditionality="monitored_enforced", subgroup_sex="all", subgroup_age_min=None, subgroup_age_max=None,
                age_min=6.0, age_max=15.0, usd_per_year=None, significance=None, estimate=None, unit="percentage_points",
                desirable="decrease", family="social_protection", design="cluster_rct", secondary=False, **CELL)
    out = pd.DataFrame([{**base, **r} for r in rows])
    out["estimate"] = out["estimate"].fillna(out["yi"])
    out["citation"] = out["citation"].fillna(out["study_id"])
    return out


def _ww(rows):
    return synthesis.what_works(_effects(rows), synthesis.WhatWorksOptions(**CELL))


# Equal, tiny variances: every weighting gives each study the same weight, so the meta-regression's
# prediction is the ordinary least-squares fit, computable by hand.
V = 1e-4


def test_region_moderator_prediction_equals_hand_computed_group_mean():
    rows = [dict(study_id=s, yi=y, vi=V, regions=r) for s, y, r in
            [("a", -4.0, "South Asia"), ("b", -3.0, "South Asia"), ("c", -2.0, "South Asia"),
             ("d", -6.0, "Sub-Saharan Africa"), ("e", -5.0, "Sub-Saharan Africa"), ("f", -7.0, "Sub-Saharan Africa")]]
    ans = context_answer(_ww(rows), Context(region="Sub-Saharan Africa"))
    assert ans.source == "meta-regression" and ans.used == ["region"]
    assert ans.result.mu.mean == pytest.approx(-6.0, abs=0.05)  # (-6 - 5 - 7) / 3
    other = context_answer(_ww(rows), Context(region="South Asia"))
    assert other.result.mu.mean == pytest.approx(-3.0, abs=0.05)  # (-4 - 3 - 2) / 3
    new = ans.result.theta_new
    assert new.q025 <= ans.result.mu.q025 and new.q975 >= ans.result.mu.q975
    assert "programmes in Sub-Saharan Africa" in ans.text and synthesis.fmt(new.q025, "percentage_points") in ans.text
    assert ans.per_100.startswith("Out of 100 children, about 6.0 fewer")
    assert not ans.reasons


def test_transfer_size_slope_prediction_equals_hand_computed_line():
    # yi = -1 - 0.02 * usd: at US$250 a year the line gives -6.0
    rows = [dict(study_id=f"s{u}", yi=-1 - 0.02 * u, vi=V, usd_per_year=float(u)) for u in (100, 200, 300, 400, 500)]
    ans = context_answer(_ww(rows), Context(usd_per_year=250.0))
    assert ans.source == "meta-regression" and ans.used == ["usd_per_year"]
    assert ans.result.mu.mean == pytest.approx(-6.0, abs=0.05)
    assert "a transfer of US$250 a year" in ans.text


def test_region_that_does_not_vary_gets_one_line_and_the_pooled_answer():
    rows = [dict(study_id=s, yi=y, vi=1.0, regions="Sub-Saharan Africa") for s, y in (("a", -4.0), ("b", -3.0))]
    ww = _ww(rows)
    ans = context_answer(ww, Context(region="Sub-Saharan Africa", design="rct"))
    assert ans.source == "pooled" and ans.result.mu.mean == pytest.approx(ww.result.mu.mean)
    assert ans.reasons[0] == ("Region: all 2 studies pooled are in Sub-Saharan Africa: region cannot be separated. The "
                              "answer is for that region; studies of another would be needed to compare.")
    assert ans.reasons[1].startswith("Design: all 2 studies pooled are cluster_rct: design cannot be separated. None is rct")
    assert len(ans.reasons) == 2


def test_too_few_studies_for_the_terms_is_a_reason_not_a_fit():
    rows = [dict(study_id=s, yi=y, vi=1.0, regions=r) for s, y, r in
            [("a", -4.0, "South Asia"), ("b", -3.0, "Sub-Saharan Africa"), ("c", -2.0, "South Asia")]]
    ans = context_answer(_ww(rows), Context(region="South Asia"))
    assert ans.source == "pooled"
    assert ans.reasons == ["Region: 3 studies with it coded are too few to separate it (a meta-regression with 2 terms "
                           "needs at least 4)."]


def _with_subgroups(girls_studies):
    rows = [dict(study_id=s, yi=y, vi=1.0) for s, y in (("a", -4.0), ("b", -3.0), ("c", -2.0))]
    rows += [dict(study_id=s, effect_id="girls", yi=y, vi=2.0, primary=False, subgroup_sex="girls")
             for s, y in zip(girls_studies, (-6.0, -5.0, -4.0))]
    rows += [dict(study_id=s, effect_id="older", yi=y, vi=2.0, primary=False, subgroup_age_min=12, subgroup_age_max=14)
             for s, y in (("a", -1.0), ("b", -2.0))]
    return _ww(rows)


def test_sex_and_age_band_use_the_cards_subgroup_answers():
    ww = _with_subgroups(["a", "b"])
    card = synthesis.card_from(ww)
    sub = {g.label: g for g in card.subgroups}
    girls = context_answer(ww, Context(sex="girls"))
    assert girls.source == "subgroup" and girls.used == ["sex"] and girls.study_ids == ["a", "b"]
    assert (girls.result.mu.q50, girls.result.mu.q025, girls.result.mu.q975) == (
        sub["Girls"].mean, sub["Girls"].q025, sub["Girls"].q975)
    assert girls.text.startswith(f"For girls: {synthesis.fmt(sub['Girls'].mean, 'percentage_points')} percentage points")
    age = context_answer(ww, Context(age_band="Children 12–14"))
    assert age.result.mu.q50 == sub["Children 12–14"].mean
    # girls aged 12-14 together: no study codes both, so the better-covered one answers, the other is a line
    both = context_answer(ww, Context(sex="girls", age_band="Children 12–14"))
    assert both.source == "subgroup" and len(both.used) == 1 and len(both.reasons) == 1
    assert "together in 0 studies" in both.reasons[0] and "2 needed" in both.reasons[0]


def test_girls_aged_12_14_coded_together_answer_together():
    rows = [dict(study_id=s, yi=y, vi=1.0) for s, y in (("a", -4.0), ("b", -3.0))]
    rows += [dict(study_id=s, effect_id="g1214", yi=y, vi=2.0, primary=False, subgroup_sex="girls", subgroup_age_min=12,
                  subgroup_age_max=14) for s, y in (("a", -6.0), ("b", -8.0))]
    ww = _ww(rows)
    ans = context_answer(ww, Context(sex="girls", age_band="Children 12–14"))
    from evidence.meta import exact

    ref = exact.posterior([-6.0, -8.0], [2.0, 2.0], tau_prior=ww.tau_prior, measure=ww.metric)
    assert ans.used == ["sex", "age_band"] and not ans.reasons and ans.result.mu.q50 == ref.mu.q50
    assert ans.text.startswith(f"For girls, children 12–14: {synthesis.fmt(ref.mu.q50, ww.metric)} percentage points")


def test_design_moderator_enters_the_meta_regression():
    rows = [dict(study_id=s, yi=y, vi=V, design=d) for s, y, d in
            [("a", -4.0, "cluster_rct"), ("b", -6.0, "cluster_rct"), ("c", -1.0, "matching"), ("d", -3.0, "matching")]]
    ans = context_answer(_ww(rows), Context(design="matching"))
    assert ans.source == "meta-regression" and ans.result.mu.mean == pytest.approx(-2.0, abs=0.05)  # (-1 - 3) / 2


def test_girls_coded_for_one_study_says_so_and_answers_for_both_sexes():
    ww = _with_subgroups(["a"])
    ans = context_answer(ww, Context(sex="girls"))
    assert ans.reasons == ["Sex: girls' effects coded for 1 study, 1 with a usable variance; 2 needed. The answer below is "
                           "for both sexes."]
    assert ans.source == "pooled" and ans.result.mu.mean == pytest.approx(ww.result.mu.mean)


def test_nothing_pools_gives_reasons_only():
    ww = _ww([dict(study_id="a", yi=-4.0, vi=1.0), dict(study_id="b", yi=-3.0, vi=None)])
    ans = context_answer(ww, Context(region="South Asia", sex="girls"))
    assert ans.text is None and ans.result is None
    assert ans.reasons[0].startswith("Sex: no study in this cell reports girls' effects separately")
    assert ans.reasons[1].startswith("Nothing pools for this cell (Only 1 study")


# -- the shipped catalogue ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    from evidence.catalog import queries

    return queries.effects(queries.Filters())


@pytest.mark.parametrize("outcome", ["economic_activity", "household_chores", "excessive_hours"])
def test_shipped_uct_child_labour_outcomes_answer_for_age_and_give_reasons(shipped, outcome):
    ww = synthesis.what_works(shipped, synthesis.WhatWorksOptions("unconditional_cash_transfer", outcome))
    card = synthesis.card_from(ww)
    sub = {g.label: g for g in card.subgroups}
    ans = context_answer(ww, Context(region="Sub-Saharan Africa", sex="girls", age_band="Children 12–14"))
    assert ans.text is not None and ans.source == "subgroup" and ans.used == ["age_band"]
    assert ans.result.mu.q50 == sub["Children 12–14"].mean and ans.result.mu.q025 == sub["Children 12–14"].q025
    assert ans.per_100 and ans.per_100.startswith("Out of 100 children")
    assert any(r.startswith("Sex: ") for r in ans.reasons)
    assert any(r.startswith("Region: all 2 studies pooled are in Sub-Saharan Africa") for r in ans.reasons)
    plain = context_answer(ww, Context())
    assert plain.per_100.startswith(card.absolute.text) and plain.result.mu.mean == card.pooled.mean


def test_shipped_cct_child_labour_says_why_nothing_answers(shipped):
    ww = synthesis.what_works(shipped, synthesis.WhatWorksOptions("conditional_cash_transfer", "child_labour"))
    ans = context_answer(ww, Context(region="Sub-Saharan Africa", sex="girls", age_band="Children 12–14"))
    assert ans.text is None
    assert ans.reasons[0].startswith("Sex: girls' effects coded for 4 studies, 1 with a usable variance; 2 needed")
    assert ans.reasons[-1].startswith("Nothing pools for this cell")
    levels = context.context_levels(ww.cell)
    assert levels["sex"] == ["girls", "boys"] and "Sub-Saharan Africa" in levels["region"]
    assert levels["age_band"][0] == "Children 12 and over" and "Children 12–14" in levels["age_band"]


def test_certainty_words_are_the_statements_words(shipped):
    """The word shown with the certainty rating is the one the card's GRADE statement uses."""
    assert {r: w for r, (w, _) in context.CERTAINTY_MEANING.items()} == {
        "high": "", "moderate": "probably", "low": "may", "very low": "very uncertain"}
    for outcome in ("economic_activity", "paid_work"):
        card = synthesis.answer_card(shipped, synthesis.WhatWorksOptions("unconditional_cash_transfer", outcome))
        assert context.CERTAINTY_MEANING[card.certainty][0] in card.statement


@pytest.mark.parametrize("outcome", ["paid_work", "unpaid_family_work"])
def test_shipped_uct_cells_without_age_subgroups_answer_pooled_with_region_line(shipped, outcome):
    ww = synthesis.what_works(shipped, synthesis.WhatWorksOptions("unconditional_cash_transfer", outcome))
    ans = context_answer(ww, Context(region="Sub-Saharan Africa", age_band="Children 12–14"))
    assert ans.source == "pooled" and ans.result.mu.mean == ww.result.mu.mean and ans.per_100
    assert ans.reasons[0].startswith("Age band: ") and "The answer below is for all ages" in ans.reasons[0]
    assert ans.reasons[1].startswith("Region: all 2 studies pooled are in Sub-Saharan Africa: region cannot be separated.")
