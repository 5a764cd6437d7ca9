"""Unit tests (hand-computed values) and property tests for evidence.effectsize and evidence.reported."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from evidence import effectsize as es, reported
from evidence.errors import EffectSizeError

FAST = settings(max_examples=100, deadline=None)
Z975 = stats.norm.ppf(0.975)


def one(measure, **cols):
    yi, vi = es.escalc(measure, **cols)
    return float(yi[0]), float(vi[0])


# ----------------------------------------------------------------------------- escalc measures

TABLE = dict(ai=10, bi=90, ci=20, di=80)


@pytest.mark.parametrize(("measure", "yi", "vi"), [
    ("RR", math.log(0.1 / 0.2), 1 / 10 - 1 / 100 + 1 / 20 - 1 / 100),
    ("OR", math.log(10 * 80 / (90 * 20)), 1 / 10 + 1 / 90 + 1 / 20 + 1 / 80),
    ("RD", -0.1, 0.1 * 0.9 / 100 + 0.2 * 0.8 / 100),
])
def test_two_by_two(measure, yi, vi):
    assert one(measure, **TABLE) == pytest.approx((yi, vi), rel=1e-12)
    # group sizes instead of the non-event cells give the same answer
    assert one(measure, ai=10, n1i=100, ci=20, n2i=100) == pytest.approx((yi, vi), rel=1e-12)


def test_zero_cell_gets_half_in_that_row_only():
    yi, vi = es.escalc("OR", ai=[0, 10], bi=[10, 90], ci=[5, 20], di=[5, 80])
    assert yi[0] == pytest.approx(math.log(0.5 * 5.5 / (10.5 * 5.5)))
    assert vi[0] == pytest.approx(1 / 0.5 + 1 / 10.5 + 2 / 5.5)
    assert yi[1] == pytest.approx(math.log(10 * 80 / (90 * 20)))  # untouched row
    yi_none, _ = es.escalc("OR", ai=[0], bi=[10], ci=[5], di=[5], to="none")
    assert np.isnan(yi_none[0])  # log(0): metafor's NA
    assert one("RD", ai=0, bi=10, ci=5, di=5)[0] == pytest.approx(0.5 / 11 - 5.5 / 11)


def test_smd_is_hedges_g_with_exact_correction():
    yi, vi = one("SMD", m1i=10, m2i=8, sd1i=2, sd2i=2, n1i=10, n2i=10)
    m = 18
    j = math.exp(math.lgamma(m / 2) - math.lgamma((m - 1) / 2)) / math.sqrt(m / 2)
    assert j == pytest.approx(1 - 3 / (4 * m - 1), abs=1e-3)  # Hedges' approximation is close
    assert yi == pytest.approx(j * 1.0, rel=1e-12)
    assert vi == pytest.approx(1 / 10 + 1 / 10 + yi**2 / 40, rel=1e-12)
    assert es.hedges_g(10, 8, 2, 2, 10, 10) == pytest.approx((yi, vi))
    # SMDH equals SMD when SDs and group sizes are equal
    assert one("SMDH", m1i=10, m2i=8, sd1i=2, sd2i=2, n1i=10, n2i=10)[0] == pytest.approx(yi)


@pytest.mark.parametrize(("measure", "yi", "vi"), [
    ("MD", 2.0, 4 / 10 + 9 / 20),
    ("ROM", math.log(10 / 8), 4 / (10 * 100) + 9 / (20 * 64)),
])
def test_mean_measures(measure, yi, vi):
    assert one(measure, m1i=10, m2i=8, sd1i=2, sd2i=3, n1i=10, n2i=20) == pytest.approx((yi, vi), rel=1e-12)


def test_single_proportions():
    assert one("PLO", xi=20, ni=100) == pytest.approx((math.log(0.25), 1 / 20 + 1 / 80))
    assert one("PLO", xi=0, ni=100) == pytest.approx((math.log(0.5 / 100.5), 2 + 1 / 100.5))
    assert one("PR", xi=20, ni=100) == pytest.approx((0.2, 0.2 * 0.8 / 100))
    assert one("PR", xi=0, ni=100)[0] == pytest.approx(0.5 / 101)
    assert one("PLO", xi=20, mi=80) == pytest.approx(one("PLO", xi=20, ni=100))


def test_correlations():
    assert one("ZCOR", ri=0.5, ni=28) == pytest.approx((math.atanh(0.5), 1 / 25))
    assert one("COR", ri=0.5, ni=28) == pytest.approx((0.5, 0.75**2 / 27))
    assert np.isnan(one("ZCOR", ri=0.5, ni=4)[1])  # metafor: no variance for n <= 4
    assert es.fisher_z(0.5, 28) == pytest.approx((math.atanh(0.5), 1 / 25))


def test_nan_propagates_row_by_row():
    yi, vi = es.escalc("RR", ai=[10, np.nan, 3], bi=[90, 50, 40], ci=[20, 5, 4], di=[80, 50, 40])
    assert np.isnan(yi[1]) and np.isnan(vi[1])
    assert np.isfinite(yi[[0, 2]]).all() and np.isfinite(vi[[0, 2]]).all()
    yi, vi = es.escalc("SMD", m1i=[1, 2], m2i=[0, 0], sd1i=[1, np.nan], sd2i=[1, 1], n1i=[10, 10], n2i=[10, 10])
    assert np.isfinite(yi[0]) and np.isnan(yi[1]) and np.isnan(vi[1])


@pytest.mark.parametrize(("measure", "cols", "message"), [
    ("RR", dict(ai=[1, 2], bi=[5, 5], ci=[3, -1], di=[5, 5]), r"ci .*row 1"),
    ("SMD", dict(m1i=1, m2i=0, sd1i=0, sd2i=1, n1i=5, n2i=5), r"sd1i .*row 0"),
    ("MD", dict(m1i=[1, 1], m2i=0, sd1i=1, sd2i=1, n1i=5, n2i=[5, 0]), r"n2i .*row 1"),
    ("RR", dict(ai=[3, 12], n1i=[10, 10], ci=1, n2i=10), r"ai .*n1i.*row 1"),
    ("ZCOR", dict(ri=1.5, ni=20), r"ri .*row 0"),
    ("PLO", dict(xi=-1, ni=10), r"xi"),
    ("XYZ", dict(xi=1, ni=10), r"unknown measure"),
    ("PLO", dict(xi=1, ni=10, foo=3), r"unknown argument.*foo"),
    ("SMD", dict(m1i=1, m2i=0, sd1i=1, sd2i=1, n1i=5), r"needs argument n2i"),
    ("RR", dict(ai=[1, 2], bi=[1, 2, 3], ci=1, di=1), r"same length"),
])
def test_invalid_inputs_raise(measure, cols, message):
    with pytest.raises(EffectSizeError, match=message):
        es.escalc(measure, **cols)


# ----------------------------------------------------------------------------- conversions

def test_se_from_t_and_p():
    assert es.se_from_t(2.0, 4.0) == 0.5
    assert es.se_from_t(-2.0, 4.0) == 0.5
    assert es.se_from_p(Z975, 0.05) == pytest.approx(1.0, rel=1e-12)
    assert es.se_from_p(-1.0, 0.01) == pytest.approx(1 / 2.5758293035489, rel=1e-9)
    with pytest.raises(EffectSizeError):
        es.se_from_t(1.0, 0.0)
    with pytest.raises(EffectSizeError):
        es.se_from_p(1.0, 0.0)
    with pytest.raises(EffectSizeError):
        es.se_from_p(1.0, 1.0)  # z = 0: no information


def test_se_from_ci():
    assert es.se_from_ci(-Z975, Z975) == pytest.approx(1.0, rel=1e-12)
    assert es.se_from_ci(0.1, 0.5) == pytest.approx(0.4 / (2 * 1.959963985))
    t10 = stats.t.ppf(0.975, 10)
    assert t10 == pytest.approx(2.228138852)
    assert es.se_from_ci(-t10, t10, df=10) == pytest.approx(1.0)
    assert es.se_from_ci(1 - 1.645, 1 + 1.645, level=0.90) == pytest.approx(1.0, rel=1e-4)
    lo, hi = math.exp(-0.3 - Z975 * 0.2), math.exp(-0.3 + Z975 * 0.2)
    assert es.se_from_ci(lo, hi, log_scale=True) == pytest.approx(0.2)
    with pytest.raises(EffectSizeError, match="exceeds"):
        es.se_from_ci(0.5, 0.1)
    with pytest.raises(EffectSizeError, match="positive"):
        es.se_from_ci(0.0, 2.0, log_scale=True)


@pytest.mark.parametrize(("threshold", "z"), [("p<0.05", 1.959964), ("p < 0.01", 2.575829),
                                             ("p<.1", 1.644854), (0.05, 1.959964)])
def test_se_from_significance_is_conservative_and_flagged(threshold, z):
    se, imputed = es.se_from_significance(-0.98, threshold)
    assert imputed is True
    assert se == pytest.approx(0.98 / z, rel=1e-6)


def test_significance_rejects_ns_and_garbage():
    assert es.parse_threshold("n.s.") is None
    with pytest.raises(EffectSizeError, match="n.s."):
        es.se_from_significance(1.0, "n.s.")
    with pytest.raises(EffectSizeError, match="cannot read"):
        es.se_from_significance(1.0, "very significant")


def test_design_effect_and_units():
    assert es.design_effect(23, 0.05) == pytest.approx(2.1)
    assert es.design_effect(1, 0.3) == 1.0
    assert es.apply_design_effect(0.5, 2.1) == pytest.approx(1.05)
    with pytest.raises(EffectSizeError):
        es.design_effect(10, 1.5)
    with pytest.raises(EffectSizeError):
        es.design_effect(0.5, 0.1)
    assert es.hours_per_day_to_week(2.0) == 14.0
    assert es.hours_per_day_to_week(2.0, days=5) == 10.0
    assert es.pp_from_proportion_diff(-0.03) == pytest.approx(-3.0)
    assert es.pp_diff_from_proportions(0.3, 0.4, 100, 120) == pytest.approx((-10.0, 1e4 * (0.21 / 100 + 0.24 / 120)))


def test_metric_conversions():
    y, se = es.logor_from_pp(-10, 0.4, se=2.0)
    assert y == pytest.approx(math.log(0.3 / 0.7) - math.log(0.4 / 0.6))
    assert se == pytest.approx(0.02 / (0.3 * 0.7))
    y, se = es.logrr_from_pp(-10, 0.4, se=2.0)
    assert (y, se) == pytest.approx((math.log(0.75), 0.02 / 0.3))
    assert es.logor_from_pp(5, 0.2)[1] is None
    with pytest.raises(EffectSizeError):
        es.logor_from_pp(-30, 0.2)  # treated prevalence would be negative
    assert es.smd_from_logor(1.0, 0.3) == pytest.approx((math.sqrt(3) / math.pi, 0.9 / math.pi**2))


# ----------------------------------------------------------------------------- effect_from_reported

def rep(**kw):
    return reported.effect_from_reported(kw)


def test_proportion_coefficient_to_pp_with_design_effect():
    e = rep(form="coefficient", estimate=-0.03, unit="proportion", se=0.01,
            se_clustered=False, avg_cluster_size=23, icc=0.05)
    assert (e.yi, e.measure, e.metric) == (pytest.approx(-3.0), "RD", "percentage_points")
    assert e.vi == pytest.approx(1.0 * 2.1) and e.se == pytest.approx(math.sqrt(2.1))
    assert not e.variance_imputed
    assert any("x100" in n for n in e.notes)
    assert any("design effect 1+(m-1)ICC=2.1 applied (" in n and "ICC assumed 0.05" in n for n in e.notes)


def test_clustering_notes():
    e = rep(estimate=-2.0, unit="percentage_points", se=1.0, se_clustered=False)
    assert e.vi == 1.0 and "SE not adjusted for clustering" in " ".join(e.notes)
    e = rep(estimate=-2.0, unit="percentage_points", se=1.0, se_clustered=True, avg_cluster_size=20, icc=0.1)
    assert e.vi == 1.0 and not any("design effect" in n for n in e.notes)


CLUSTER_NOTE = "cluster design; whether the SE accounts for clustering is not stated"


def test_cluster_design_without_se_clustered_is_noted_not_changed():
    plain = rep(estimate=-2.0, unit="percentage_points", se=1.0)
    e = rep(estimate=-2.0, unit="percentage_points", se=1.0, clustered=True)
    assert (e.yi, e.vi) == (plain.yi, plain.vi) and CLUSTER_NOTE in e.notes and CLUSTER_NOTE not in plain.notes
    for coded in (True, False):  # the coder said whether the SE accounts for clustering: no such note
        assert CLUSTER_NOTE not in rep(estimate=-2.0, unit="percentage_points", se=1.0, clustered=True,
                                       se_clustered=coded).notes
    assert CLUSTER_NOTE not in rep(estimate=-2.0, unit="percentage_points", se=1.0, clustered=False).notes
    assert CLUSTER_NOTE not in rep(estimate=-2.0, unit="percentage_points", clustered=True).notes  # no SE at all


@pytest.mark.parametrize("unit", ["percentage_points", "proportion", None])
@pytest.mark.parametrize(("extra", "se"), [
    (dict(t=2.0), 5.0),
    (dict(p=2 * (1 - stats.norm.cdf(2.0))), 5.0),
    (dict(significance="p<0.05"), 10 / Z975),
])
def test_proportions_se_from_t_p_significance_in_percentage_points(unit, extra, se):
    """p1=.3, p2=.2: yi = 10 pp whatever the unit; an SE derived from t / p / a threshold is in pp too."""
    e = rep(form="proportions", p1=0.3, p2=0.2, unit=unit, **extra)
    assert e.yi == pytest.approx(10.0) and e.se == pytest.approx(se) and e.metric == "percentage_points"


def test_proportions_se_and_ci_are_in_the_reported_unit():
    e = rep(form="proportions", p1=0.3, p2=0.2, unit="percentage_points", se=5.0)
    assert (e.yi, e.se) == (pytest.approx(10.0), pytest.approx(5.0))
    e = rep(form="proportions", p1=0.3, p2=0.2, unit="proportion", se=0.05)
    assert (e.yi, e.se) == (pytest.approx(10.0), pytest.approx(5.0))
    e = rep(form="proportions", p1=0.3, p2=0.2, unit="percentage_points", ci_low=10 - Z975 * 5, ci_high=10 + Z975 * 5)
    assert (e.yi, e.se) == (pytest.approx(10.0), pytest.approx(5.0))  # a pp CI around a pp difference


@pytest.mark.parametrize(("extra", "se", "note"), [
    (dict(se=0.5, ci_low=-10.0, ci_high=10.0, t=-1.0), 0.5, "SE as reported"),
    (dict(ci_low=-2 - Z975 * 0.8, ci_high=-2 + Z975 * 0.8, t=-1.0, p=0.5), 0.8, "CI"),
    (dict(t=-4.0, p=0.5, significance="p<0.1"), 0.5, "SE from t"),
    (dict(p=0.05, significance="p<0.1"), 2 / Z975, "SE from exact p"),
    (dict(significance="p<0.05"), 2 / Z975, "SE imputed from p<0.05 (conservative)"),
])
def test_variance_priority(extra, se, note):
    e = rep(form="coefficient", estimate=-2.0, unit="percentage_points", **extra)
    assert e.se == pytest.approx(se, rel=1e-9)
    assert any(note in n for n in e.notes)
    assert e.variance_imputed == ("significance" in extra and len(extra) == 1)


def test_headline_and_not_significant_have_no_variance():
    for e in (rep(estimate=-2.0, unit="percentage_points"), rep(estimate=-2.0, unit="percentage_points", significance="n.s.")):
        assert e.vi is None and e.se is None and not e.variance_imputed and e.notes


def test_hours_per_day_and_t_with_df_ci():
    e = rep(estimate=-0.5, unit="hours_per_day", t=-2.5)
    assert (e.yi, e.se, e.metric) == (pytest.approx(-3.5), pytest.approx(1.4), "hours_per_week")
    assert any("hours per day x 7" in n for n in e.notes)
    t = stats.t.ppf(0.975, 30)
    e = rep(estimate=1.0, unit="hours_per_week", ci_low=1 - t * 0.4, ci_high=1 + t * 0.4, df=30)
    assert e.se == pytest.approx(0.4)


def test_ratios_on_log_scale():
    e = rep(form="odds_ratio", estimate=0.8, ci_low=0.64, ci_high=1.0)
    assert (e.measure, e.metric, e.yi) == ("OR", "log_odds_ratio", pytest.approx(math.log(0.8)))
    assert e.se == pytest.approx((math.log(1.0) - math.log(0.64)) / (2 * Z975))
    e = rep(form="risk_ratio", estimate=0.5, se=0.1)
    assert (e.measure, e.se) == ("RR", pytest.approx(0.2))
    e = rep(form="coefficient", unit="odds_ratio", estimate=2.0, p=0.05)
    assert e.se == pytest.approx(math.log(2) / Z975)


def test_raw_data_forms():
    e = rep(form="means_sds", m1=10, sd1=5, n1=50, m2=12, sd2=6, n2=55)
    assert (e.yi, e.vi) == pytest.approx(es.hedges_g(10, 12, 5, 6, 50, 55)) and e.measure == "SMD"
    assert e.alternatives["MD"] == pytest.approx((-2.0, 25 / 50 + 36 / 55))
    e = rep(form="means_sds", m1=1, sd1=0.5, n1=50, m2=1.5, sd2=0.6, n2=55, unit="hours_per_day")
    assert e.alternatives["MD"] == pytest.approx((-3.5, 49 * (0.25 / 50 + 0.36 / 55)))
    e = rep(form="counts", ai=10, bi=90, ci=20, di=80)
    assert (e.yi, e.vi) == pytest.approx((-10.0, 25.0)) and e.metric == "percentage_points"
    assert e.alternatives["OR"] == pytest.approx(one("OR", **TABLE))
    assert e.alternatives["RR"] == pytest.approx(one("RR", **TABLE))
    e = rep(form="proportions", p1=0.3, p2=0.4, n1=100, n2=120)
    assert (e.yi, e.vi) == pytest.approx((-10.0, 41.0))
    assert e.alternatives["OR"][0] == pytest.approx(math.log(0.3 / 0.7 / (0.4 / 0.6)))
    e = rep(form="correlation", r=0.3, n=103)
    assert (e.yi, e.vi, e.measure) == (pytest.approx(math.atanh(0.3)), pytest.approx(0.01), "ZCOR")
    e = rep(form="correlation", r=0.3, se=0.091)
    assert e.se == pytest.approx(0.1)


def test_relative_percent_is_not_poolable():
    e = rep(estimate=-12.0, unit="percent_relative", se=3.0)
    assert (e.yi, e.vi, e.measure) == (-12.0, None, "relative_percent")
    assert "cannot" in e.notes[-1]


def test_form_inferred():
    e = reported.effect_from_reported({"ai": 10, "bi": 90, "ci": 20, "di": 80, "form": None, "estimate": None})
    assert e.measure == "RD" and "inferred" in e.notes[0]


@pytest.mark.parametrize(("kw", "message"), [
    (dict(estimate=1.0, unit="percentage_points", ci_low=2.0, ci_high=0.0), "ci_low"),
    (dict(estimate=1.0, unit="percentage_points", se=0.0), "se must be > 0"),
    (dict(estimate=1.0, unit="percentage_points", se=-1.0), "se must be > 0"),
    (dict(estimate=5.0, unit="percentage_points", ci_low=0.0, ci_high=2.0), "outside"),
    (dict(estimate=1.0, unit="percentage_points", ci_low=0.0), "one confidence limit"),
    (dict(form="odds_ratio", estimate=-0.2, se=0.1), "ratio must be > 0"),
    (dict(form="coefficient", unit="percentage_points"), "needs estimate"),
    (dict(form="regression", estimate=1.0), "unknown form"),
    (dict(estimate=1.0, unit="furlongs"), "unknown unit"),
    (dict(form="proportions", p1=45, p2=0.3), "p1 must be a proportion"),
    (dict(form="means_sds", m1=1, m2=2, sd1=1, sd2=1, n1=10), "needs n2"),
    (dict(estimate=1.0, unit="sd", significance="***"), "cannot read"),
    (dict(estimate=0.0, unit="sd", t=2.0), "not positive"),
])
def test_inconsistent_input_raises(kw, message):
    with pytest.raises(EffectSizeError, match=message):
        reported.effect_from_reported(kw)


# ----------------------------------------------------------------------------- properties

finite = st.floats(-50, 50, allow_nan=False)
pos = st.floats(1e-3, 50)


@FAST
@given(b=finite, se=pos, level=st.floats(0.5, 0.999), df=st.one_of(st.none(), st.integers(2, 500)))
def test_ci_se_ci_round_trip(b, se, level, df):
    q = stats.norm.ppf(1 - (1 - level) / 2) if df is None else stats.t.ppf(1 - (1 - level) / 2, df)
    got = es.se_from_ci(b - q * se, b + q * se, level=level, df=df)
    assert got == pytest.approx(se, rel=1e-7, abs=1e-12)
    assert (b - q * got, b + q * got) == pytest.approx((b - q * se, b + q * se), rel=1e-7, abs=1e-9)


@FAST
@given(logr=st.floats(-4, 4), se=st.floats(0.01, 1.5))
def test_log_ci_round_trip(logr, se):
    lo, hi = math.exp(logr - Z975 * se), math.exp(logr + Z975 * se)
    assert es.se_from_ci(lo, hi, log_scale=True) == pytest.approx(se, rel=1e-7)


@FAST
@given(b=finite.filter(lambda x: abs(x) > 1e-6), t=st.floats(-50, 50).filter(lambda x: abs(x) > 1e-6))
def test_t_se_t_round_trip(b, t):
    assert abs(b) / es.se_from_t(b, t) == pytest.approx(abs(t), rel=1e-9)


@FAST
@given(b=finite.filter(lambda x: abs(x) > 1e-6), p=st.floats(1e-12, 0.999))
def test_p_se_p_round_trip(b, p):
    se = es.se_from_p(b, p)
    assert 2 * stats.norm.sf(abs(b) / se) == pytest.approx(p, rel=1e-6)


@FAST
@given(b=finite.filter(lambda x: abs(x) > 1e-6), a=st.sampled_from([0.1, 0.05, 0.01, 0.001]), frac=st.floats(1e-6, 0.999))
def test_threshold_se_bounds_every_consistent_exact_p(b, a, frac):
    assert es.se_from_p(b, a * frac) <= es.se_from_significance(b, a).se * (1 + 1e-12)


@FAST
@given(m=st.floats(1, 500), dm=st.floats(0, 100), icc=st.floats(0, 1), dicc=st.floats(0, 1))
def test_design_effect_monotone(m, dm, icc, dicc):
    icc2 = min(1.0, icc + dicc)
    d = es.design_effect(m, icc)
    assert d >= 1
    assert es.design_effect(m + dm, icc) >= d
    assert es.design_effect(m, icc2) >= d


@FAST
@given(x=st.floats(-24, 24), days=st.floats(1, 7))
def test_hours_round_trip(x, days):
    assert es.hours_per_week_to_day(es.hours_per_day_to_week(x, days), days) == pytest.approx(x, abs=1e-12)
    assert es.hours_per_day_to_week(x) == pytest.approx(7 * x)


@FAST
@given(logor=st.floats(-6, 6), var=st.floats(1e-4, 10))
def test_logit_smd_round_trip(logor, var):
    d, v = es.smd_from_logor(logor, var)
    assert es.logor_from_smd(d, v) == pytest.approx((logor, var), rel=1e-12, abs=1e-15)


@FAST
@given(m1=finite, m2=finite, sd1=pos, sd2=pos, n1=st.integers(2, 500), n2=st.integers(2, 500))
def test_smd_antisymmetric_and_variance_positive(m1, m2, sd1, sd2, n1, n2):
    g, v = es.hedges_g(m1, m2, sd1, sd2, n1, n2)
    g2, v2 = es.hedges_g(m2, m1, sd2, sd1, n2, n1)
    assert g2 == pytest.approx(-g, rel=1e-12, abs=1e-12) and v2 == pytest.approx(v, rel=1e-12)
    assert v > 1 / n1 + 1 / n2 - 1e-12
