"""The frequentist estimators at scale: O(k) identities, bounded memory, no overflow.

The identities of :mod:`evidence.meta.frequentist.wls` are checked against metafor's dense P matrix
on small random problems (with and without moderators); the three-level likelihood from group sums
against the dense V; 100,000 effects run REML + Knapp-Hartung + the Q-profile CI within 200 MB
(tracemalloc peak; a single k x k matrix would need 80 GB), the three-level model on 4,000 effects
within 50 MB; tiny variances give a clear error.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from evidence.errors import MetaAnalysisError
from evidence.meta.frequentist import rma, rma_mv_three_level, tau2_ci_qprofile
from evidence.meta.frequentist.multilevel import _Reml
from evidence.meta.frequentist.wls import Wls


def _dense_p(X, w):
    W = np.diag(w)
    return W - W @ X @ np.linalg.inv(X.T @ W @ X) @ X.T @ W


@pytest.mark.parametrize("p", [1, 3])
def test_wls_traces_equal_the_dense_p_matrix(p):
    rng = np.random.default_rng(p)
    k = 40
    X = np.column_stack([np.ones(k), rng.normal(size=(k, p - 1))])
    w, y, v = rng.uniform(0.5, 20, k), rng.normal(size=k), rng.uniform(0.01, 0.3, k)
    P, f = _dense_p(X, w), Wls(X, w, y)
    assert f.yPy == pytest.approx(y @ P @ y, rel=1e-10)
    assert f.yPPy == pytest.approx(y @ P @ P @ y, rel=1e-10)
    assert f.tr() == pytest.approx(np.trace(P), rel=1e-10)
    assert f.tr(v) == pytest.approx(np.trace(P @ np.diag(v)), rel=1e-10)
    assert f.tr2() == pytest.approx(np.sum(P * P), rel=1e-10)
    PV = P * v[None, :]
    assert f.tr2(v, v) == pytest.approx(np.sum(PV * PV.T), rel=1e-10)
    assert f.tr2(1.0, v) == pytest.approx(np.sum(PV * P), rel=1e-10)
    assert f.logdet() == pytest.approx(np.linalg.slogdet(X.T @ (X * w[:, None]))[1], rel=1e-10)
    np.testing.assert_allclose(f.cov(), np.linalg.inv(X.T @ (X * w[:, None])), rtol=1e-10)


def test_three_level_likelihood_equals_the_dense_one():
    rng = np.random.default_rng(3)
    cl = np.repeat(np.arange(6), [1, 2, 3, 4, 2, 3])
    inner = np.arange(cl.size)
    inner[4] = inner[3]  # two effects of cluster 2 sharing an inner level
    _, inner = np.unique(inner, return_inverse=True)
    y, v = rng.normal(0.2, 0.3, cl.size), rng.uniform(0.01, 0.1, cl.size)
    model = _Reml(y, v, cl, inner)
    Zc, Zi = (cl[:, None] == np.unique(cl)).astype(float), (inner[:, None] == np.unique(inner)).astype(float)
    for s2 in ((0.0, 0.0), (0.04, 0.01), (0.3, 0.0), (0.0, 0.2)):
        V = np.diag(v) + s2[0] * Zc @ Zc.T + s2[1] * Zi @ Zi.T
        Vi, one = np.linalg.inv(V), np.ones(y.size)
        sw = one @ Vi @ one
        mu = one @ Vi @ y / sw
        r = y - mu
        ll = -0.5 * ((y.size - 1) * math.log(2 * math.pi) + np.linalg.slogdet(V)[1] + math.log(sw) + r @ Vi @ r)
        assert model.loglik(s2) == pytest.approx(ll, rel=1e-10)
        assert model.fixed(s2)[0] == pytest.approx(mu, rel=1e-10)
        assert model.fixed(s2)[1] == pytest.approx(1 / sw, rel=1e-10)


def test_100000_effects_in_bounded_memory():
    k = 100_000
    rng = np.random.default_rng(11)
    vi = rng.uniform(0.01, 0.2, k)
    yi = rng.normal(0.3, 0.25, k) + rng.normal(0.0, np.sqrt(vi))
    x = rng.normal(size=k)
    tracemalloc.start()
    try:
        fit = rma(yi, vi, method="REML", knha=True)
        ci = tau2_ci_qprofile(yi, vi)
        reg = rma(yi, vi, method="REML", mods=x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MB"
    assert fit.tau2 == pytest.approx(0.0625, rel=0.1) and fit.dfs == k - 1
    assert ci["lb"] < fit.tau2 < ci["ub"] and ci["ub"] - ci["lb"] < 0.01
    assert abs(reg.coefficients["mod1"]["estimate"]) < 5 * reg.coefficients["mod1"]["se"]


def test_three_level_without_k_by_k_matrices():
    """4,000 effects in 1,000 clusters: a dense V (and its inverse) would take 128 MB each."""
    k = 4_000
    rng = np.random.default_rng(5)
    vi = rng.uniform(0.01, 0.2, k)
    yi = 0.3 + np.repeat(rng.normal(0, 0.2, k // 4), 4) + rng.normal(0, 0.15, k) + rng.normal(0.0, np.sqrt(vi))
    tracemalloc.start()
    try:
        fit = rma_mv_three_level(yi, vi, np.arange(k) // 4, np.arange(k))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MB"
    assert fit.sigma2[0] == pytest.approx(0.04, rel=0.3) and fit.sigma2[1] == pytest.approx(0.0225, rel=0.4)


@pytest.mark.parametrize("method", ["REML", "DL", "PM", "FE"])
def test_tiny_variances_give_a_clear_error(method):
    y, v = np.array([0.1, 0.3, 0.2, 0.5]), np.array([1e-300, 0.02, 0.03, 0.04])
    with pytest.raises(MetaAnalysisError, match=r"below 1e-100 \(rows \[1\]"):
        rma(y, v, method=method)
    with pytest.raises(MetaAnalysisError, match="below 1e-100"):
        tau2_ci_qprofile(y, v)
    with pytest.raises(MetaAnalysisError, match="below 1e-100"):
        rma_mv_three_level(y, v, [1, 1, 2, 2], [1, 2, 3, 4])


def test_small_but_representable_variances_are_finite():
    y, v = np.array([0.1, 0.3, 0.2, 0.5]) * 1e-40, np.array([1.0, 2.0, 3.0, 4.0]) * 1e-90
    fit = rma(y, v, method="REML", knha=True)
    assert all(math.isfinite(x) for x in (fit.estimate, fit.se, fit.tau2, fit.I2, fit.QE))
