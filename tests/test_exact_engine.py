"""Exact engine: edge cases, priors, meta-regression and independence from pymc.

Brute-force checks integrate the joint posterior numerically on tensor Gauss-Legendre grids over
(mu, tau) or (beta0, beta1, tau) -- no closed-form step shared with the engine.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate, stats

from evidence.errors import MetaAnalysisError
from evidence.meta.exact import ExactPosterior, posterior, regression
from evidence.meta.priors import parse_mu_prior, parse_tau_prior
from evidence.meta.result import MetaResult, content_hash

BCG_Y = np.array([-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209, 0.0120, -0.4694, -1.3713, -0.3394,
                  0.4459, -0.0173])
BCG_V = np.array([0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040, 0.0564, 0.0730, 0.0124, 0.5325,
                  0.0714])
BCG_LAT = np.array([44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33], float)


# -- brute force ------------------------------------------------------------------------------
def _gl(edges, n=32):
    x, w = np.polynomial.legendre.leggauss(n)
    xs, ws = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        xs.append(0.5 * (b - a) * x + 0.5 * (a + b))
        ws.append(0.5 * (b - a) * w)
    return np.concatenate(xs), np.concatenate(ws)


def brute_force(y, v, tau_prior, mu_prior="flat", tau_max=6.0):
    """E[mu], sd(mu), P(mu<0), E[tau] by a 2-D quadrature of the joint posterior (mu, tau)."""
    prior = parse_tau_prior(tau_prior)
    mp = parse_mu_prior(mu_prior)
    lo, hi = prior.support[0], min(prior.support[1], tau_max)  # hard bounds are panel edges
    tau, wt = _gl(np.r_[0, np.geomspace(1e-3, hi, 40)] if lo == 0 else np.linspace(lo, hi, 40))
    c, spread = np.mean(y), np.ptp(y) + 10 * np.sqrt(np.max(v) + tau_max**2 / len(y))
    mu, wm = _gl(np.unique(np.r_[np.linspace(c - spread, c + spread, 160), 0.0]))  # 0 is an edge: P(mu < 0)
    s2 = v[None, None, :] + tau[None, :, None] ** 2
    logj = (-0.5 * (np.log(s2) + (y[None, None, :] - mu[:, None, None]) ** 2 / s2)).sum(-1)
    logj += prior.logpdf(tau)[None, :]
    if mp.kind == "normal":
        logj += stats.norm.logpdf(mu, mp.mean, mp.sd)[:, None]
    dens = np.exp(logj - logj.max()) * wm[:, None] * wt[None, :]
    z = dens.sum()
    emu = (dens.sum(1) @ mu) / z
    return {"mu_mean": emu, "mu_sd": math.sqrt((dens.sum(1) @ (mu - emu) ** 2) / z),
            "p_below_0": dens.sum(1)[mu < 0].sum() / z, "tau_mean": (dens.sum(0) @ tau) / z}


def assert_close_to_brute(res, bf, tol=1e-5):
    scale = max(1.0, abs(bf["mu_mean"]))
    assert res.mu.mean == pytest.approx(bf["mu_mean"], abs=tol * scale)
    assert res.mu.sd == pytest.approx(bf["mu_sd"], abs=tol * scale)
    assert res.p_below_0 == pytest.approx(bf["p_below_0"], abs=tol)
    assert res.tau.mean == pytest.approx(bf["tau_mean"], abs=tol * scale)


# -- priors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,label", [
    ("halfnormal:0.5", "halfnormal(0.5)"), ("halfcauchy:1", "halfcauchy(1)"), ("halft:3:0.5", "halft(3, 0.5)"),
    ("lognormal:-1.5:1", "lognormal(-1.5, 1)"), ("uniform:0:5", "uniform(0, 5)"), ("halfcauchy(25)", "halfcauchy(25)"),
    (" HalfNormal : 0.5 ", "halfnormal(0.5)")])
def test_tau_prior_parsing_and_labels(spec, label):
    prior = parse_tau_prior(spec)
    assert prior.label == label
    assert parse_tau_prior(prior.spec) == prior == parse_tau_prior(prior.label)
    # normalised densities (improper priors aside)
    lo, hi = prior.support
    assert integrate.quad(prior.pdf, lo, hi if math.isfinite(hi) else np.inf, limit=200)[0] == pytest.approx(1, abs=1e-8)


@pytest.mark.parametrize("spec,msg", [
    ("gamma:1:2", "unknown tau prior"), ("halfnormal", "takes 1 parameter"), ("halfnormal:-1", "positive"),
    ("halfnormal:abc", "must be numbers"), ("halft:0:1", "degrees of freedom"), ("uniform:5:1", "lower < upper"),
    ("lognormal:0:0", "positive"), ("", "expected"), ("halfcauchy:1:2", "takes 1 parameter")])
def test_tau_prior_errors_are_clear(spec, msg):
    with pytest.raises(MetaAnalysisError, match=msg) as err:
        parse_tau_prior(spec)
    assert "halfnormal" in str(err.value) or msg in str(err.value)


def test_mu_prior_parsing():
    assert parse_mu_prior("flat").label == "flat" and parse_mu_prior(None).precision == 0
    p = parse_mu_prior("normal:0:10")
    assert (p.mean, p.sd, p.label) == (0.0, 10.0, "normal(0, 10)")
    for bad, msg in [("normal:0", "2 parameters"), ("normal:0:-1", "positive"), ("cauchy:0:1", "unknown mu prior")]:
        with pytest.raises(MetaAnalysisError, match=msg):
            parse_mu_prior(bad)


# -- edge cases ---------------------------------------------------------------------------------
def test_k1_proper_tau_prior_gives_prior_for_tau():
    """k=1, flat mu: the likelihood of tau is flat, so tau | y is the prior and mu | y ~ y + N(0, v + tau^2)."""
    r = posterior([0.3], [0.04], "halfnormal:0.5")
    assert r.tau.q50 == pytest.approx(0.5 * stats.norm.ppf(0.75), abs=1e-8)
    assert r.tau.mean == pytest.approx(0.5 * math.sqrt(2 / math.pi), abs=1e-8)
    assert r.mu.mean == pytest.approx(0.3, abs=1e-12) and r.mu.q50 == pytest.approx(0.3, abs=1e-9)
    assert r.mu.sd == pytest.approx(math.sqrt(0.04 + 0.25), abs=1e-8)
    assert not r.warnings


def test_k1_heavy_tail_reports_nan_moments_with_warning():
    r = posterior([0.3], [0.04], "halfcauchy:1")
    # tau | y is the half-Cauchy prior; quantiles are accurate to the stated accuracy in CDF units
    for p, q in ((0.025, r.tau.q025), (0.5, r.tau.q50), (0.975, r.tau.q975)):
        assert stats.halfcauchy.cdf(q) == pytest.approx(p, abs=max(r.spec["grid"]["accuracy"], 1e-7))
    assert r.spec["grid"]["accuracy"] < 1e-5
    assert posterior([0.3], [0.04], "halfcauchy:1", tol=1e-10).tau.q50 == pytest.approx(1.0, abs=1e-8)
    assert math.isnan(r.tau.mean) and math.isnan(r.mu.sd) and math.isnan(r.mu.mean)
    assert all(math.isfinite(x) for x in (r.mu.q025, r.mu.q975, r.theta_new.q975))
    assert any("do not exist" in w for w in r.warnings)
    json.loads(r.to_json())  # NaN serialises as null


@pytest.mark.parametrize("k,mu_prior", [(1, "flat"), (2, "flat"), (1, "normal:0:1")])
def test_improper_posterior_is_an_error(k, mu_prior):
    with pytest.raises(MetaAnalysisError, match="improper"):
        posterior(np.linspace(0, 1, k), np.full(k, 0.1), "uniform:0:inf", mu_prior)


def test_improper_tau_prior_with_enough_studies_is_proper():
    r = posterior([0.1, 0.5, 0.9], [0.1, 0.1, 0.1], "uniform:0:inf")  # density ~ tau^-2: proper, no mean
    assert math.isnan(r.tau.mean) and math.isfinite(r.tau.q975)
    r2 = posterior([0.1, 0.5], [0.1, 0.1], "uniform:0:inf", "normal:0:1")
    assert math.isfinite(r2.mu.mean) and math.isfinite(r2.mu.sd)


@pytest.mark.parametrize("y,v,prior,mu_prior,tau_max", [
    (np.array([0.2, 0.9]), np.array([0.05, 0.08]), "halfnormal:0.5", "flat", 6.0),             # k=2
    (np.array([0.1, 0.4, -0.2, 0.3, 0.0]), np.full(5, 0.05), "halfnormal:0.5", "flat", 6.0),   # all vi equal
    (np.array([0.10, 0.12, 0.09, 0.11]), np.full(4, 0.04), "halfnormal:1", "flat", 6.0),       # mode at tau=0
    (np.array([0.1, 0.2, 0.15, 3.0]), np.array([0.01, 0.02, 0.01, 0.01]), "halfnormal:2", "flat", 20.0),  # outlier
    (BCG_Y, BCG_V, "halft:3:0.5", "flat", 12.0),
    (BCG_Y, BCG_V, "lognormal:-1.5:1", "flat", 6.0),
    (BCG_Y, BCG_V, "uniform:0:2", "flat", 2.0),
    (BCG_Y, BCG_V, "uniform:0.2:2", "flat", 2.0),
    (BCG_Y[:4], BCG_V[:4], "halfnormal:0.5", "normal:0:1", 6.0),
])
def test_against_brute_force(y, v, prior, mu_prior, tau_max):
    r = posterior(y, v, prior, mu_prior)
    assert r.spec["grid"]["accuracy"] < 1e-5 and not r.warnings
    assert_close_to_brute(r, brute_force(y, v, prior, mu_prior, tau_max))


def test_mode_at_zero_density_is_largest_at_zero():
    post = ExactPosterior([0.10, 0.12, 0.09, 0.11], np.full(4, 0.04), "halfnormal:1")
    t = np.linspace(0, 1, 101)
    d = post.tau_pdf(t)
    assert d.argmax() == 0 and np.all(np.diff(d) <= 1e-12)
    assert integrate.quad(lambda s: post.tau_pdf(s)[0], 0, np.inf)[0] == pytest.approx(1, abs=1e-8)


def test_huge_variance_study_has_no_influence():
    a = posterior(BCG_Y, BCG_V, "halfnormal:0.5")
    b = posterior(np.r_[BCG_Y, 5.0], np.r_[BCG_V, 1e8], "halfnormal:0.5")
    assert b.mu.mean == pytest.approx(a.mu.mean, abs=1e-6)
    assert b.tau.q50 == pytest.approx(a.tau.q50, abs=1e-6)
    assert b.studies[-1].weight < 1e-6
    assert b.studies[-1].shrunken_mean == pytest.approx(a.mu.mean, abs=1e-3)  # fully shrunk to mu


@pytest.mark.parametrize("y,v,msg", [
    ([], [], "no effects"), ([0.1, 0.2], [0.1], "different lengths"), ([0.1, np.nan], [0.1, 0.1], "finite"),
    ([0.1, 0.2], [0.1, 0.0], "vi must be finite and > 0"), ([0.1, 0.2], [0.1, -1], "offending rows: \\[2\\]")])
def test_invalid_effects(y, v, msg):
    with pytest.raises(MetaAnalysisError, match=msg):
        posterior(y, v)


# -- the result and the lower-level object ------------------------------------------------------
def test_result_contents_and_roundtrip():
    labels = [f"trial {i}" for i in range(13)]
    r = posterior(BCG_Y, BCG_V, "halfnormal:0.5", labels=labels, thresholds=(0.1, 0.5), measure="RR")
    assert r.model == "exact-normal-normal" and r.k == 13 and r.measure == "RR"
    assert r.spec["tau_prior"] == "halfnormal(0.5)" and r.spec["mu_prior"] == "flat"
    assert r.data["labels"] == labels and r.data["yi"] == BCG_Y.tolist()
    assert set(r.p_abs_above) == {"0.1", "0.5"} and r.prob_abs_above(0.5) == r.p_abs_above["0.5"]
    assert 0 < r.p_abs_above["0.5"] < r.p_abs_above["0.1"] < 1
    assert sum(s.weight for s in r.studies) == pytest.approx(100, abs=1e-9)
    for s in r.studies:  # shrinkage pulls each estimate towards mu
        assert abs(s.shrunken_mean - r.mu.mean) <= abs(s.yi - r.mu.mean) + 1e-12
        assert s.shrunken_q025 < s.shrunken_mean < s.shrunken_q975
    for name in ("mu", "tau", "theta_new"):
        x, y = np.array(r.densities[name]["x"]), np.array(r.densities[name]["y"])
        assert len(x) == (80 if name == "tau" else 200) and np.all(y >= 0)
        assert 0.99 < np.trapezoid(y, x) <= 1.0 + (1e-3 if name == "tau" else 1e-6)
    s2 = 12 * np.sum(1 / BCG_V) / (np.sum(1 / BCG_V) ** 2 - np.sum(1 / BCG_V**2))
    assert r.i2 == pytest.approx(100 * r.tau.q50**2 / (r.tau.q50**2 + s2))
    assert r.hash == content_hash(r.model, r.spec, r.data)
    back = MetaResult.from_json(r.to_json())
    assert back.mu == r.mu and back.studies == r.studies and back.hash == r.hash


def test_exact_posterior_methods_are_consistent():
    post = ExactPosterior(BCG_Y, BCG_V, "halfcauchy:0.5")
    p = np.array([0.01, 0.3, 0.5, 0.9])
    assert post.mu_cdf(post.mu_quantile(p)) == pytest.approx(p, abs=1e-10)
    assert post.predictive_cdf(post.predictive_quantile(p)) == pytest.approx(p, abs=1e-10)
    assert post.tau_cdf(post.tau_quantile(p)) == pytest.approx(p, abs=1e-10)
    t = post.tau_quantile(0.7)[0]  # the sinc-interpolated CDF agrees with quadrature of the exact density
    assert integrate.quad(lambda s: post.tau_pdf(s)[0], 0, t, epsabs=1e-12)[0] == pytest.approx(0.7, abs=1e-7)
    assert integrate.quad(post.mu_pdf, -5, 5)[0] == pytest.approx(1, abs=1e-9)
    assert post.p_abs_above(0.0) == pytest.approx(1.0)


# -- meta-regression ----------------------------------------------------------------------------
def test_regression_intercept_only_equals_posterior():
    a = posterior(BCG_Y, BCG_V, "halfcauchy:0.5")
    b = regression(BCG_Y, BCG_V, np.ones((13, 1)), ["intrcpt"], "halfcauchy:0.5", x_new=[1.0])
    for f in ("mean", "sd", "q025", "q50", "q975"):
        assert getattr(b.mu, f) == pytest.approx(getattr(a.mu, f), abs=1e-9)
        assert getattr(b.coefficients["intrcpt"], f) == pytest.approx(getattr(a.mu, f), abs=1e-9)
        assert getattr(b.theta_new, f) == pytest.approx(getattr(a.theta_new, f), abs=1e-9)
        assert getattr(b.tau, f) == pytest.approx(getattr(a.tau, f), abs=1e-9)
    assert b.i2 == pytest.approx(a.i2, abs=1e-9)
    assert [s.shrunken_q975 for s in b.studies] == pytest.approx([s.shrunken_q975 for s in a.studies], abs=1e-9)


def test_regression_matches_brute_force_3d():
    """Coefficients, tau and P(beta1 < 0) against a 3-D quadrature of the joint posterior."""
    y, v, lat = BCG_Y[:7], BCG_V[:7], (BCG_LAT[:7] - 33) / 10
    X = np.c_[np.ones(7), lat]
    r = regression(y, v, X, ["intrcpt", "lat"], "halfnormal:0.5", x_new=[0.0, 1.0])  # mu = beta1
    tau, wt = _gl(np.r_[0, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0], 24)
    b0, w0 = _gl(np.linspace(-6, 5, 23), 16)
    b1, w1 = _gl(np.linspace(-5, 4, 19), 16)  # 0 is a panel edge
    prior = parse_tau_prior("halfnormal:0.5").logpdf(tau)
    post = np.zeros((len(b0), len(b1)))
    etau = 0.0
    for t, w, lp in zip(tau, wt, prior):  # joint density on the (beta0, beta1) grid for each tau
        s2 = v + t * t
        mean = b0[:, None, None] + b1[None, :, None] * lat
        ll = -0.5 * (np.log(s2) + (y - mean) ** 2 / s2).sum(-1) + lp
        d = np.exp(ll + 5.0) * w
        post += d
        etau += t * (d * w0[:, None] * w1[None, :]).sum()
    post *= w0[:, None] * w1[None, :]
    z = post.sum()
    m1 = (post.sum(0) @ b1) / z
    sd1 = math.sqrt((post.sum(0) @ (b1 - m1) ** 2) / z)
    assert r.coefficients["lat"].mean == pytest.approx(m1, abs=1e-6)
    assert r.coefficients["lat"].sd == pytest.approx(sd1, abs=1e-6)
    assert r.coefficients["intrcpt"].mean == pytest.approx((post.sum(1) @ b0) / z, abs=1e-6)
    assert r.mu.mean == pytest.approx(m1, abs=1e-6)
    assert r.p_below_0 == pytest.approx(post.sum(0)[b1 < 0].sum() / z, abs=1e-6)
    assert r.tau.mean == pytest.approx(etau / z, abs=1e-5)
    assert r.model == "exact-meta-regression" and r.theta_new.sd > r.mu.sd


def test_regression_errors_and_without_x_new():
    X = np.c_[np.ones(13), BCG_LAT]
    r = regression(BCG_Y, BCG_V, X, ["intrcpt", "ablat"], "halfnormal:0.5", beta_prior="normal:0:10")
    assert r.theta_new is None and r.spec["beta_prior"] == "normal(0, 10)"
    assert r.mu.q50 == pytest.approx(r.coefficients["intrcpt"].q50, abs=1e-12) and "intrcpt" in r.spec["mu"]
    with pytest.raises(MetaAnalysisError, match="collinear"):
        regression(BCG_Y, BCG_V, np.c_[np.ones(13), BCG_LAT, 2 * BCG_LAT], ["a", "b", "c"])
    with pytest.raises(MetaAnalysisError, match="x_new"):
        regression(BCG_Y, BCG_V, X, ["a", "b"], x_new=[1.0])
    with pytest.raises(MetaAnalysisError, match="one row per effect"):
        regression(BCG_Y, BCG_V, X[:5], ["a", "b"])


# -- isolation ----------------------------------------------------------------------------------
def test_import_does_not_pull_in_pymc():
    code = ("import sys, evidence.meta.exact, evidence.meta.priors;"
            "bad=[m for m in ('pymc','pytensor','arviz','bambi','nutpie') if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing the exact engine imported {out.stdout.strip()}"


def test_eight_schools_tau_against_adaptive_quadrature():
    """Tau's posterior quantiles and mean against scipy's adaptive quadrature of p(tau | y)."""
    y = np.array([28, 8, -3, 7, -1, 1, 18, 12.0])
    v = np.array([15, 10, 16, 11, 9, 11, 10, 18.0]) ** 2

    def dens(t):  # flat mu integrated out by hand, half-Cauchy(25) prior
        w = 1 / (v + t * t)
        m = (w * y).sum() / w.sum()
        return np.sqrt(np.prod(w) / w.sum()) * np.exp(-0.5 * (w * (y - m) ** 2).sum()) / (1 + (t / 25) ** 2)

    z = integrate.quad(dens, 0, np.inf, epsabs=0, epsrel=1e-12, limit=500)[0]
    mean = integrate.quad(lambda t: t * dens(t), 0, np.inf, epsabs=0, epsrel=1e-12, limit=500)[0] / z
    for tol in (1e-5, 1e-10):  # the stated accuracy is met, in CDF units and in tau sds for the mean
        post = ExactPosterior(y, v, "halfcauchy:25", tol=tol)
        acc = post.grid.accuracy
        assert acc < tol
        for p, q in zip((0.025, 0.5, 0.975), post.tau_quantile([0.025, 0.5, 0.975])):
            assert integrate.quad(dens, 0, q, epsabs=0, epsrel=1e-12, limit=500)[0] / z == pytest.approx(p, abs=2 * acc)
        r = post.result()
        assert r.tau.mean == pytest.approx(mean, abs=2 * acc * r.tau.sd + 1e-12)
