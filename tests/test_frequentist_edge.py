"""Edge cases of the frequentist engine: tiny k, equal variances, tau^2 = 0, a huge variance, an
outlier, bad input. Each case checks a property that is known analytically (so the test can fail),
or that a clear :class:`MetaAnalysisError` is raised."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from evidence.errors import MetaAnalysisError
from evidence.meta.frequentist import (
    cumulative,
    egger_test,
    leave1out,
    rma,
    rma_mv_three_level,
    tau2_ci_qprofile,
    to_meta_result,
    trimfill,
)
from evidence.meta.frequentist.tau2 import METHODS, qe_stat, uniroot
from evidence.meta.result import MetaResult

Y = np.array([0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.80, -0.05])
V = np.array([0.010, 0.020, 0.015, 0.050, 0.008, 0.030, 0.040, 0.025])


def _finite(fit) -> None:
    for name in ("estimate", "se", "ci_lb", "ci_ub", "zval", "pval", "tau2", "I2", "H2", "QE", "QEp", "pi_lb", "pi_ub"):
        assert math.isfinite(getattr(fit, name)), name


# -- k = 1 and k = 2 ----------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_k1_is_degenerate_but_finite(method):
    """metafor fits k=1 (intercept only) with tau^2 = 0: the estimate is the study itself."""
    fit = rma([0.4], [0.04], method=method)
    _finite(fit)
    assert fit.k == 1 and fit.tau2 == 0 and fit.I2 == 0 and fit.QE == 0
    assert fit.estimate == pytest.approx(0.4)
    assert fit.se == pytest.approx(0.2)
    assert fit.ci_lb == pytest.approx(0.4 - 1.959964 * 0.2, rel=1e-6)


def test_k1_knha_falls_back_to_normal_with_warning():
    fit = rma([0.4], [0.04], knha=True)
    assert not fit.knha and fit.warnings and "k=1" in fit.warnings[0]


@pytest.mark.parametrize("method", METHODS)
def test_k2_all_estimators_finite(method):
    fit = rma([0.1, 0.9], [0.02, 0.03], method=method)
    _finite(fit)
    assert fit.tau2 >= 0
    assert 0.1 < fit.estimate < 0.9


def test_k2_knha_uses_one_df():
    fit = rma([0.1, 0.9], [0.02, 0.03], method="DL", knha=True)
    assert fit.dfs == 1
    half = (fit.ci_ub - fit.ci_lb) / 2
    assert half == pytest.approx(stats.t.ppf(0.975, 1) * fit.se)


# -- equal variances: closed forms -----------------------------------------------------------------
@pytest.mark.parametrize("method", ["DL", "REML", "PM", "HE"])
def test_equal_vi_closed_form(method):
    """With equal vi, DL = REML = PM = HE = max(0, s^2 - v) and the estimate is the plain mean."""
    v = np.full(Y.size, 0.01)
    fit = rma(Y, v, method=method)
    expected = max(0.0, np.var(Y, ddof=1) - 0.01)
    assert fit.tau2 == pytest.approx(expected, rel=1e-4)
    assert fit.estimate == pytest.approx(Y.mean(), rel=1e-12)
    assert fit.weights == pytest.approx([100 / Y.size] * Y.size)


def test_equal_vi_ml_closed_form():
    v = np.full(Y.size, 0.01)
    k = Y.size
    expected = np.var(Y, ddof=0) - 0.01  # ML divides by k
    assert rma(Y, v, method="ML").tau2 == pytest.approx(expected, rel=1e-4)
    assert k > 2


# -- tau^2 = 0 at the optimum ---------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_homogeneous_data_give_tau2_zero(method):
    y = np.array([0.30, 0.31, 0.29, 0.30, 0.305])
    v = np.array([0.04, 0.05, 0.03, 0.06, 0.04])
    fit = rma(y, v, method=method)
    _finite(fit)
    assert fit.tau2 == pytest.approx(0.0, abs=1e-5)
    assert fit.I2 == pytest.approx(0.0, abs=1e-3)
    fe = rma(y, v, method="FE")
    assert fit.estimate == pytest.approx(fe.estimate, abs=1e-4)


def test_qprofile_lower_bound_zero_for_homogeneous_data():
    y = np.array([0.30, 0.31, 0.29, 0.30, 0.305])
    v = np.array([0.04, 0.05, 0.03, 0.06, 0.04])
    ci = tau2_ci_qprofile(y, v)
    assert ci["lb"] == 0 and ci["I2_lb"] == 0
    assert ci["ub"] >= 0


def test_qprofile_bounds_solve_the_q_equation():
    ci = tau2_ci_qprofile(Y, V)
    X = np.ones((Y.size, 1))
    k = Y.size
    assert ci["lb"] <= ci["estimate"] <= ci["ub"]
    if ci["lb"] > 0:
        assert qe_stat(ci["lb"], Y, V, X) == pytest.approx(stats.chi2.isf(0.025, k - 1), rel=1e-3)
    assert qe_stat(ci["ub"], Y, V, X) == pytest.approx(stats.chi2.ppf(0.025, k - 1), rel=1e-3)


# -- a huge vi and an outlier ---------------------------------------------------------------------
@pytest.mark.parametrize("method", ["FE", "ML", "REML"])
def test_huge_vi_study_has_no_influence_on_likelihood_methods(method):
    """A study with vi = 1e9 carries no information: likelihood-based fits are unchanged."""
    y = np.append(Y, 5.0)
    v = np.append(V, 1e9)
    with_it, without = rma(y, v, method=method), rma(Y, V, method=method)
    _finite(with_it)
    assert with_it.weights[-1] < 1e-6
    # Fisher scoring stops when tau^2 changes by < 1e-5 (metafor), so allow that much slack
    assert with_it.estimate == pytest.approx(without.estimate, abs=1e-5)
    assert with_it.tau2 == pytest.approx(without.tau2, abs=2e-5)


@pytest.mark.parametrize("method", ["DL", "PM", "HE", "SJ", "HS", "EB"])
def test_huge_vi_study_stays_finite_for_moment_methods(method):
    """Moment estimators count the study in their degrees of freedom, so tau^2 may move, but the
    answer stays finite and the study gets (almost) no weight."""
    y = np.append(Y, 5.0)
    v = np.append(V, 1e9)
    fit = rma(y, v, method=method)
    _finite(fit)
    assert fit.weights[-1] < 1e-6
    assert Y.min() < fit.estimate < Y.max()


def test_outlier_raises_tau2_and_leave1out_finds_it():
    y = np.append(Y, 4.0)
    v = np.append(V, 0.02)
    fit = rma(y, v)
    _finite(fit)
    assert fit.tau2 > 10 * rma(Y, V).tau2
    l1o = leave1out(y, v)
    assert int(np.argmin(l1o["tau2"])) == y.size - 1
    assert l1o["estimate"][-1] == pytest.approx(rma(Y, V).estimate)
    assert math.isfinite(egger_test(y, v)["zval"])
    tf = trimfill(y, v)
    assert tf["k0"] >= 0 and math.isfinite(tf["estimate"])


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("yi", "vi", "kwargs", "message"),
    [
        ([0.1, 0.2], [0.01], {}, "different lengths"),
        ([0.1, np.nan], [0.01, 0.02], {}, "non-finite"),
        ([0.1, 0.2], [0.01, np.inf], {}, "non-finite"),
        ([0.1, 0.2], [0.01, 0.0], {}, "must be > 0"),
        ([0.1, 0.2], [0.01, -0.1], {}, "must be > 0"),
        ([], [], {}, "At least 1"),
        ([0.1, 0.2], [0.01, 0.02], {"method": "XYZ"}, "Unknown method"),
        ([0.1, 0.2], [0.01, 0.02], {"mods": [1.0, 2.0]}, "Too few effect sizes"),
        ([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], {"mods": [1.0, 1.0, 1.0]}, "not of full rank"),
        ([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], {"mods": [1.0, 2.0]}, "mods has 2 rows"),
        (["a", "b"], [0.01, 0.02], {}, "numeric"),
    ],
)
def test_bad_input_raises_clear_error(yi, vi, kwargs, message):
    with pytest.raises(MetaAnalysisError, match=message):
        rma(yi, vi, **kwargs)


def test_small_k_for_bias_tools():
    with pytest.raises(MetaAnalysisError, match="at least 3"):
        egger_test([0.1, 0.2], [0.01, 0.02])
    with pytest.raises(MetaAnalysisError, match="at least 3"):
        trimfill([0.1, 0.2], [0.01, 0.02])


def test_missing_moderators_are_dropped_like_metafor():
    mods = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, np.nan, 8.0]})
    fit = rma(Y, V, mods=mods)
    assert fit.dropped == [2, 6] and fit.k == 6
    ref = rma(np.delete(Y, [2, 6]), np.delete(V, [2, 6]), mods=np.delete(mods["x"].to_numpy(), [2, 6]), mod_names=["x"])
    assert fit.coefficients["x"]["estimate"] == pytest.approx(ref.coefficients["x"]["estimate"])


def test_text_moderator_is_dummy_coded_like_r():
    g = pd.DataFrame({"arm": ["b", "a", "c", "a", "b", "c", "a", None]})
    fit = rma(Y, V, mods=g)
    assert list(fit.coefficients) == ["intercept", "armb", "armc"] and fit.dropped == [7]
    x = np.column_stack([(g["arm"] == "b").to_numpy(float), (g["arm"] == "c").to_numpy(float)])[:7]
    ref = rma(Y[:7], V[:7], mods=x, mod_names=["armb", "armc"])
    assert fit.coefficients["armc"]["estimate"] == pytest.approx(ref.coefficients["armc"]["estimate"])


# -- cumulative, three-level, root finder, result conversion ---------------------------------------
def test_cumulative_first_and_last():
    order = np.argsort(V)
    cum = cumulative(Y, V, order=order)
    assert cum["tau2"][0] == 0 and cum["estimate"][0] == pytest.approx(Y[order[0]])
    assert cum["estimate"][-1] == pytest.approx(rma(Y, V).estimate)
    with pytest.raises(MetaAnalysisError, match="permutation"):
        cumulative(Y, V, order=[0, 0, 1, 2, 3, 4, 5, 6])


def test_three_level_with_singleton_clusters_recovers_rma_tau2():
    """One effect per cluster: only sigma2_1 + sigma2_2 is identified, and it equals the REML tau^2."""
    fit = rma_mv_three_level(Y, V, cluster=list(range(Y.size)), inner=[1] * Y.size)
    assert sum(fit.sigma2) == pytest.approx(rma(Y, V).tau2, rel=1e-3)
    assert fit.estimate == pytest.approx(rma(Y, V).estimate, rel=1e-3)


def test_three_level_boundary_and_errors():
    cl = [1, 1, 2, 2, 3, 3, 4, 4]
    fit = rma_mv_three_level(np.full(8, 0.2) + 1e-4 * np.arange(8), V, cl, range(8))
    assert min(fit.sigma2) >= 0 and sum(fit.sigma2) < 1e-4
    with pytest.raises(MetaAnalysisError, match="REML.* only"):
        rma_mv_three_level(Y, V, cl, range(8), method="ML")
    with pytest.raises(MetaAnalysisError, match="clusters"):
        rma_mv_three_level(Y, V, [1] * 8, range(8))


def test_uniroot_port_finds_roots_and_rejects_bad_brackets():
    f = lambda x: x**3 - 2 * x - 5  # noqa: E731 - classic Brent test function
    assert uniroot(f, 2, 3, tol=1e-12) == pytest.approx(optimize.brentq(f, 2, 3), abs=1e-10)
    assert abs(uniroot(f, 2, 3) - 2.0945514815) < 1.3e-4  # R's default tolerance eps^0.25
    with pytest.raises(MetaAnalysisError, match="same sign"):
        uniroot(f, 3, 4)


def test_to_meta_result_round_trips():
    fit = rma(Y, V, method="REML", knha=True)
    res = to_meta_result(fit, labels=[f"s{i}" for i in range(Y.size)], measure="SMD")
    assert res.model == "REML+KNHA"
    assert res.mu.mean == fit.estimate and res.mu.q025 == fit.ci_lb and res.mu.q975 == fit.ci_ub
    assert res.tau.mean == pytest.approx(math.sqrt(fit.tau2))
    assert res.theta_new.q025 == fit.pi_lb and res.theta_new.q975 == fit.pi_ub
    assert sum(s.weight for s in res.studies) == pytest.approx(100)
    assert res.frequentist["tau2"] == fit.tau2
    back = MetaResult.from_json(res.to_json())
    assert back.mu == res.mu and back.frequentist == json.loads(json.dumps(res.frequentist))
    reg = to_meta_result(rma(Y, V, mods=pd.DataFrame({"x": V})))
    assert set(reg.coefficients) == {"intercept", "x"}
    with pytest.raises(MetaAnalysisError, match="labels"):
        to_meta_result(fit, labels=["a"])


def test_engine_does_not_import_pymc():
    code = (
        "import sys, evidence.meta.frequentist, evidence.meta.frequentist.tau2;"
        "print('pymc' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
