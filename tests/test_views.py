"""Unit tests of the explorer's logic (evidence.synthesis / uploads / charts)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evidence import synthesis
from evidence.ingest import effect_table as uploads
from evidence.meta import exact
from evidence.meta.result import MetaResult, Summary
from evidence.synthesis import charts, context


def _effects(rows):
    base = dict(effect_id="e", citation=None, subgroup_label=None, primary=True, metric="percentage_points", randomised=True,
                harmful=False, risk_of_bias="low", variance_imputed=False, regions="Latin America & Caribbean",
                conditionality="monitored_enforced", subgroup_sex="all", subgroup_age_min=None, subgroup_age_max=None,
                age_min=6.0, age_max=15.0, usd_per_year=None, significance=None, estimate=None, unit="percentage_points",
                desirable="decrease", family="social_protection")
    out = pd.DataFrame([{**base, **r} for r in rows])
    out["estimate"] = out["estimate"].fillna(out["yi"])
    out["citation"] = out["citation"].fillna(out["study_id"])
    return out


CCT = dict(intervention="conditional_cash_transfer", outcome="paid_work")
ROWS = [dict(study_id="a", yi=-4.0, vi=1.0, **CCT), dict(study_id="b", yi=-2.0, vi=2.0, **CCT),
        dict(study_id="c", yi=-6.0, vi=1.5, risk_of_bias="high", **CCT),
        dict(study_id="c", effect_id="girls", yi=-7.0, vi=2.5, primary=False, subgroup_sex="girls", risk_of_bias="high", **CCT)]


def test_what_works_pools_primary_effect_per_study_with_exact_engine():
    ww = synthesis.what_works(_effects(ROWS), synthesis.WhatWorksOptions(**CCT))
    ref = exact.posterior([-4.0, -2.0, -6.0], [1.0, 2.0, 1.5], tau_prior=synthesis.tau_prior_for("percentage_points"))
    assert ww.result.k == 3 and ww.result.mu.mean == pytest.approx(ref.mu.mean)
    assert ww.excluded["reason"].tolist() == ["not the study's primary effect"]


def test_sensitivity_switch_excludes_high_risk_of_bias_and_leave_out():
    ww = synthesis.what_works(_effects(ROWS), synthesis.WhatWorksOptions(**CCT, exclude_high_rob=True))
    assert ww.result.k == 2 and "high risk of bias" in set(ww.excluded["reason"])
    ww = synthesis.what_works(_effects(ROWS), synthesis.WhatWorksOptions(**CCT, exclude_high_rob=True, leave_out=("a",)))
    assert ww.result is None and "pooling needs at least two" in ww.reason


def test_nothing_to_pool_gives_reason_and_harvest():
    rows = [dict(study_id="a", yi=-4.0, vi=np.nan, significance="p<0.05", **CCT)]
    ww = synthesis.what_works(_effects(rows), synthesis.WhatWorksOptions(**CCT))
    assert ww.result is None and "nothing can be pooled" in ww.reason
    h = synthesis.harvest_table(ww.cell)
    assert h["direction"].tolist() == ["Improves"]


def test_harvest_reads_the_direction_rule():
    """One rule (evidence.direction): p<0.1 / p<0.5 are not clear (the old regex said they were); an SE
    imputed from p<0.05 is (the old 1.96 check said it was not); the catalogue's column is used as is."""
    se05 = 3.0 / 1.959963984540054
    rows = [dict(study_id="a", yi=-4.0, vi=np.nan, significance="p<0.1", **CCT),
            dict(study_id="b", yi=-4.0, vi=np.nan, significance="p<0.5", **CCT),
            dict(study_id="c", yi=3.0, vi=se05**2, significance="p<0.05", variance_imputed=True, **CCT),
            dict(study_id="d", yi=-4.0, vi=np.nan, significance="significant (level not stated)", **CCT),
            dict(study_id="e", yi=-4.0, vi=np.nan, **CCT)]
    df = _effects(rows)
    assert synthesis.harvest_table(df)["direction"].tolist() == [
        "No clear effect", "No clear effect", "Worsens", "Improves", "No clear effect"]
    df["direction"] = ["worsens", "improves", None, "unclear", "improves"]  # the catalogue column wins
    assert synthesis.harvest_table(df)["direction"].tolist() == [
        "Worsens", "Improves", "No clear effect", "No clear effect", "Improves"]


def test_poolable_metrics_lists_usable_metrics_in_order():
    rows = [dict(study_id="a", yi=-0.2, vi=0.01, metric="sd", **CCT), dict(study_id="b", yi=-4.0, vi=1.0, **CCT),
            dict(study_id="c", yi=-4.0, vi=np.nan, metric="hours_per_week", **CCT),
            dict(study_id="d", yi=-4.0, vi=1.0, metric="other", **CCT)]
    df = _effects(rows)
    assert synthesis.poolable_metrics(df) == ["percentage_points", "sd"]
    assert synthesis.poolable_metrics(df.iloc[0:0]) == []
    assert synthesis.what_works(df, synthesis.WhatWorksOptions(**CCT)).metrics == ["percentage_points", "sd"]


def test_headline_takes_the_desirable_direction_from_the_data():
    r = _result(2.0, 0.5, 3.5, -1.0, 5.0, 0.01)  # an increase in paid work
    assert "unwanted direction" in synthesis.headline(r, "paid_work", "conditional_cash_transfer", "percentage_points")
    told = synthesis.headline(r, "paid_work", "conditional_cash_transfer", "percentage_points", desirable="increase")
    assert "unwanted direction" not in told
    rows = [dict(study_id=s, yi=y, vi=0.25, desirable="increase", **CCT) for s, y in (("a", 4.0), ("b", 3.5), ("c", 4.5))]
    ww = synthesis.what_works(_effects(rows), synthesis.WhatWorksOptions(**CCT))  # the data says: increase is wanted
    assert ww.result.mu.q025 > 0 and "unwanted direction" not in ww.headline
    rows = [{**r, "desirable": "decrease"} for r in rows]
    assert "unwanted direction" in synthesis.what_works(_effects(rows), synthesis.WhatWorksOptions(**CCT)).headline


def test_gap_map_cells_pooled_and_design_mix():
    rows = ROWS + [dict(study_id="d", yi=3.0, vi=1.0, intervention="school_feeding", outcome="enrolment", randomised=False,
                        desirable="increase", harmful=True)]
    cells = synthesis.gap_map_cells(_effects(rows))
    cct = cells[(cells.intervention == "conditional_cash_transfer") & (cells.outcome == "paid_work")].iloc[0]
    ref = exact.posterior([-4.0, -2.0, -6.0], [1.0, 2.0, 1.5], tau_prior=synthesis.tau_prior_for("percentage_points"))
    assert cct.n_studies == 3 and cct.n_pooled == 3 and cct["mean"] == pytest.approx(ref.mu.mean)
    assert cct.category == synthesis.category(ref.p_below_0)
    sf = cells[(cells.intervention == "school_feeding") & (cells.outcome == "enrolment")].iloc[0]
    assert sf.category == "Not pooled: non-randomised designs" and bool(sf.any_harm)
    assert (cells.n_studies == 0).sum() == len(cells) - 2  # every other taxonomy cell is visibly empty


def _result(mean, lo, hi, plo, phi, p_below):
    return MetaResult(model="t", k=3, measure=None, spec={}, data={}, mu=Summary(mean, None, lo, mean, hi),
                      theta_new=Summary(mean, None, plo, mean, phi), p_below_0=p_below)


def test_headline_wording_direction_and_harms():
    r = _result(-4.1, -6.3, -2.0, -9.0, 1.0, 0.99)
    h = synthesis.headline(r, "paid_work", "conditional_cash_transfer", "percentage_points")
    assert h.startswith("Conditional cash transfer reduces paid work outside the household by 4.1 percentage points "
                        "(95% credible interval 2.0 to 6.3); a new programme can expect between −1.0 and 9.0.")
    bad = synthesis.headline(_result(2.0, 0.5, 3.5, -1.0, 5.0, 0.01), "paid_work", "conditional_cash_transfer",
                            "percentage_points", harms=2)
    assert "increases paid work" in bad and "unwanted direction" in bad and "Harm flagged: 2 effects" in bad
    unsure = synthesis.headline(_result(1.0, -0.5, 2.5, -3.0, 5.0, 0.2), "enrolment", "school_feeding", "percentage_points")
    assert "includes no effect" in unsure
    ratio = synthesis.headline(_result(math.log(0.8), math.log(0.7), math.log(0.9), math.log(0.5), math.log(1.2), 0.99),
                              "paid_work", "minimum_age_law", "log_odds_ratio")
    assert "Minimum-age laws and bans lower" in ratio and "odds ratio 0.80" in ratio


def test_per_100_dollars_scales_by_transfer_value():
    rows = [dict(study_id="a", yi=-4.0, vi=1.0, usd_per_year=200.0, **CCT), dict(study_id="b", yi=-3.0, vi=1.0, usd_per_year=300.0, **CCT)]
    ww = synthesis.what_works(_effects(rows), synthesis.WhatWorksOptions(**CCT))
    per = context.per_100_dollars(ww.selected, ww.metric, ww.tau_prior)
    assert per.table["per_100_usd"].tolist() == pytest.approx([-2.0, -1.0])
    assert per.result is not None and per.result.k == 2


def test_uploads_examples_match_metafor_and_bad_files_rejected():
    for title in uploads.EXAMPLES:
        ds = uploads.load_example(title)
        ref = pd.read_csv(uploads.resources.files("evidence") / "data" / "examples" / uploads.EXAMPLES[title]["file"])
        assert ds.yi == pytest.approx(ref["yi"].to_numpy(), rel=1e-6) and ds.vi == pytest.approx(ref["vi"].to_numpy(), rel=1e-6)
    with pytest.raises(uploads.UploadError, match="limit is 5 MB"):
        uploads.parse_csv(b"yi,vi\n" + b"1,1\n" * (3 * 1024 * 1024))
    with pytest.raises(uploads.UploadError, match="line 2, column .vi.: .abc. is not a number"):
        uploads.parse_csv(b"yi,vi\n1,abc\n2,0.5\n")
    with pytest.raises(uploads.UploadError, match="binary"):
        uploads.parse_csv(b"PK\x03\x04\x00\x00")
    with pytest.raises(uploads.UploadError, match="positive"):
        uploads.parse_csv(b"yi,vi\n1,0\n2,0.5\n")
    ds = uploads.parse_csv(b"study,yi,sei\n=cmd(),0.1,0.2\nB,0.3,0.1\n")
    assert ds.labels[0].startswith("'=") and ds.vi == pytest.approx([0.04, 0.01])


def test_charts_have_table_twins():
    r = exact.posterior([-4.0, -2.0, -6.0], [1.0, 2.0, 1.5], tau_prior="halfnormal:5", labels=["a", "b", "c"])
    d = charts.forest_data(r)
    assert set(d["kind"]) == {"Study (observed)", "Study (shrunken)", "Pooled", "Prediction interval"}
    for chart in (charts.forest_chart(r), charts.posterior_chart(r), charts.funnel_chart([-4, -2, -6], [1, 2, 1.5], r.mu.mean)):
        assert chart.to_dict()


def test_evidence_by_country_counts_studies_per_country_and_intervention():
    from evidence.synthesis.where import evidence_by_country

    studies = pd.DataFrame([
        {"id": "a", "countries": "MWI, ZMB", "country_names": "Malawi, Zambia", "regions": "Sub-Saharan Africa, Sub-Saharan Africa",
         "interventions": "unconditional_cash_transfer"},
        {"id": "b", "countries": "MWI", "country_names": "Malawi", "regions": "Sub-Saharan Africa",
         "interventions": "school_feeding, unconditional_cash_transfer"},
    ])
    w = evidence_by_country(studies)
    top = w.ranked.iloc[0]
    assert (top["country"], top["studies"]) == ("Malawi", 2)
    assert w.matrix.loc["Malawi", "Unconditional cash transfer"] == 2
    assert w.matrix.loc["Zambia", "School feeding (on-site meals)"] == 0
    assert w.by_region.loc[0, "studies"] == 2 and w.by_region.loc[0, "countries"] == 2


def test_best_cell_prefers_pooled_evidence():
    cells = pd.DataFrame([
        {"intervention": "a", "outcome": "x", "n_studies": 5, "n_pooled": 0},
        {"intervention": "b", "outcome": "y", "n_studies": 2, "n_pooled": 2},
        {"intervention": "c", "outcome": "z", "n_studies": 0, "n_pooled": 0},
    ])
    assert synthesis.best_cell(cells) == ("b", "y")
    assert synthesis.best_cell(cells.iloc[[2]]) is None


def test_harvest_plot_places_bars_by_leaning_and_fills_by_evidence():
    """The harvest plot's columns are the leanings the vote count counts (so plot and vote count agree),
    and statistical clarity is a second channel (fill), as the caption under the plot says."""
    df = pd.DataFrame({"effect": ["a", "b", "c"], "study_id": ["a", "b", "c"],
                       "direction": ["Improves", "No clear effect", "No clear effect"],
                       "leaning": ["Improves", "Improves", "Worsens"],
                       "evidence": ["statistically clear", "not statistically clear", "significance not stated"],
                       "numbers": ["estimate reported"] * 3, "design": ["randomised", "non-randomised", "randomised"],
                       "risk_of_bias": ["low", "high", "unclear"], "height": [3, 1, 1], "estimate": [0.1, 0.2, -0.1],
                       "unit": ["pp"] * 3})
    spec = charts.harvest_chart(df).to_dict()
    enc = spec["encoding"]
    assert enc["column"]["field"] == "leaning" and enc["column"]["sort"] == ["Improves", "Worsens"]
    fill = enc["opacity"]
    assert fill["field"] == "evidence" and fill["scale"]["type"] == "ordinal"  # a point scale would interpolate
    opacity = dict(zip(fill["scale"]["domain"], fill["scale"]["range"]))
    assert opacity["statistically clear"] == 1.0 and opacity["not statistically clear"] < 0.5
    assert opacity["significance not stated"] < 0.5


@pytest.mark.parametrize("counts", [[1, 1], [3, 1], [17, 2, 1]])
def test_where_map_legend_counts_whole_studies(counts):
    """The world map's colour legend is labelled in whole studies (it once read 0.0 / 0.5 / 1.0)."""
    import html
    import re

    import vl_convert as vlc

    from evidence.synthesis.where import world_map_chart

    n = len(counts)
    ranked = pd.DataFrame({"iso3": ["MEX", "BRA", "KEN"][:n], "country": ["Mexico", "Brazil", "Kenya"][:n],
                           "region": ["Latin America & Caribbean", "Latin America & Caribbean", "Sub-Saharan Africa"][:n],
                           "studies": counts, "interventions": ["Conditional cash transfer"] * n})
    svg = html.unescape(vlc.vegalite_to_svg(world_map_chart(ranked, ()).to_dict()))
    texts = re.findall(r"<text[^>]*>([^<]+)</text>", svg)
    legend = texts[: texts.index("Studies")][-3:]  # the gradient's labels come right before its title
    assert legend[-1] == str(max(counts)) and not any("." in t for t in legend), texts[-6:]
    assert len(set(legend)) == len(legend)  # no label repeated (0.5 rounded to 1 would repeat "1")
