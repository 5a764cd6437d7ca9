"""Heterogeneity (tau^2) estimators of the random-effects model, as metafor 3.8-1's ``rma()`` computes them.

Why reproduce metafor's *algorithms* and not just the estimating equations: several estimators stop at
a tolerance that is visible in the 4th-5th significant digit (Fisher scoring stops when the change in
tau^2 is below 1e-5; PM and the Q-profile CI use R's ``uniroot`` with tol = eps^0.25 ~ 1.2e-4).
To agree with metafor's published numbers we follow the same iterations, starting values, step
halving and truncation at 0, and port R's Brent root finder (``zeroin``) exactly.

All estimators accept a design matrix ``X`` (k x p, intercept included by the caller) and need
O(k p^2) work per iteration: metafor's P matrix is never formed (:mod:`evidence.meta.frequentist.wls`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evidence.errors import MetaAnalysisError
from evidence.meta.frequentist.wls import Wls, check_variances

METHODS = ("FE", "DL", "REML", "ML", "PM", "SJ", "HE", "EB", "HS")

THRESHOLD = 1e-5  # metafor control 'threshold' (Fisher scoring)
MAXITER = 100  # metafor control 'maxiter'
UNIROOT_TOL = np.finfo(float).eps ** 0.25  # metafor control 'tol' (uniroot)
TAU2_MAX = 100.0  # metafor control 'tau2.max' (PM search interval)

_EPS = np.finfo(float).eps


@dataclass
class Tau2Estimate:
    """A tau^2 estimate with metafor's standard error and the iterations used (0 if closed form)."""

    tau2: float
    se_tau2: float | None
    iterations: int = 0


def qe_stat(tau2: float, y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """Generalised Q statistic Y'PY with weights 1/(v + tau2) (metafor's .QE.func), in O(k p^2).

    The root searches (PM, Q-profile) call it dozens of times, so one coefficient takes a short path."""
    w = 1.0 / (v + tau2)
    if X.shape[1] == 1:
        x = X[:, 0]
        wx = w * x
        r = y - x * (float(wx @ y) / float(wx @ x))
        return float(w @ (r * r))
    return Wls(X, w, y).yPy


def uniroot(f, lower: float, upper: float, tol: float = UNIROOT_TOL, maxiter: int = 1000) -> float:
    """R's ``uniroot`` (Brent's zeroin as in R's zeroin.c), so roots stop where R's stop.

    scipy's brentq is a different variant; with R's loose default tolerance the two can differ in the
    4th significant digit, which is why metafor's PM and Q-profile results need this exact port.
    """
    a, b = float(lower), float(upper)
    fa, fb = f(a), f(b)
    if fa * fb > 0:
        raise MetaAnalysisError("Root search failed: the function has the same sign at both ends of the interval.")
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise MetaAnalysisError("Root search did not converge (uniroot maximum iterations reached).")


def _mad(y: np.ndarray) -> float:
    """R's mad(): median absolute deviation scaled by 1.4826."""
    return 1.4826 * float(np.median(np.abs(y - np.median(y))))


def _hedges(y, v, X, k, p) -> tuple[float, Wls]:
    """Hedges (HE) moment estimator (also metafor's start value for ML/REML/EB), with its unweighted fit."""
    ols = Wls(X, np.ones(k), y)
    return (ols.yPy - ols.tr(v)) / (k - p), ols


def _loglik(tau2, y, v, X, reml: bool) -> float:
    """ML / REML log-likelihood of the random-effects (meta-regression) model."""
    k, p = X.shape
    fit = Wls(X, 1.0 / (v + tau2), y)
    if reml:
        return -0.5 * (k - p) * math.log(2 * math.pi) - 0.5 * float(np.sum(np.log(v + tau2))) - 0.5 * fit.logdet() - 0.5 * fit.yPy
    return -0.5 * k * math.log(2 * math.pi) - 0.5 * float(np.sum(np.log(v + tau2))) - 0.5 * fit.yPy


def estimate_tau2(
    yi,
    vi,
    X: np.ndarray | None = None,
    method: str = "REML",
    tau2_init: float | None = None,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
) -> Tau2Estimate:
    """Estimate tau^2 by ``method`` (one of :data:`METHODS`) as metafor's ``rma.uni`` does.

    ``X`` defaults to an intercept column. Estimates are truncated at 0. The caller is responsible for
    input validation (finite values, vi > 0, k > p); see :func:`evidence.meta.frequentist.univariate.rma`.
    """
    method = method.upper()
    if method not in METHODS:
        raise MetaAnalysisError(f"Unknown tau^2 estimator {method!r}; choose one of {', '.join(METHODS)}.")
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = y.size
    X = np.ones((k, 1)) if X is None else np.asarray(X, dtype=float)
    p = X.shape[1]
    if method == "FE" or k == 1:
        return Tau2Estimate(0.0, None)
    y = y - y.mean()  # metafor centres yi for numerical stability (P annihilates constants when int. incl.)
    if not np.allclose(X[:, 0], 1.0):  # without an intercept centring would change the model
        y = np.asarray(yi, dtype=float)

    check_variances(v)
    if method == "HS":
        w = 1.0 / v
        f = Wls(X, w, y)
        tau2 = (f.yPy - k) / w.sum()
        t = max(tau2, 0.0)
        se = math.sqrt(1 / w.sum() ** 2 * (2 * (k - p) + 4 * t * f.tr() + 2 * t**2 * f.tr2()))
        return Tau2Estimate(max(0.0, tau2), se)

    if method == "DL":
        f = Wls(X, 1.0 / v, y)
        trP = f.tr()
        tau2 = (f.yPy - (k - p)) / trP
        t = max(tau2, 0.0)
        se = math.sqrt(1 / trP**2 * (2 * (k - p) + 4 * t * trP + 2 * t**2 * f.tr2()))
        return Tau2Estimate(max(0.0, tau2), se)

    if method == "SJ":
        tau2_0 = float(np.var(y, ddof=1) * (k - 1) / k) if tau2_init is None else float(tau2_init)
        f = Wls(X, 1.0 / (v + tau2_0), y)
        tau2 = tau2_0 * f.yPy / (k - p)
        t = max(tau2, 0.0)
        # metafor's sum(PV * t(PV)), sum(PV * P), sum(P * P) = tr(PVPV), tr(PPV), tr(PP)
        se = math.sqrt(tau2_0**2 / (k - p) ** 2 * (2 * f.tr2(v, v) + 4 * t * f.tr2(1.0, v) + 2 * t**2 * f.tr2()))
        return Tau2Estimate(max(0.0, tau2), se)

    if method == "PM":
        target = k - p
        tau2_max = max(TAU2_MAX, 10 * _mad(np.asarray(yi, dtype=float)) ** 2)
        if qe_stat(0.0, y, v, X) < target:
            tau2 = 0.0
        elif qe_stat(tau2_max, y, v, X) > target:
            raise MetaAnalysisError("Paule-Mandel estimate exceeds tau2.max; the data are too heterogeneous.")
        else:
            tau2 = uniroot(lambda t: qe_stat(t, y, v, X) - target, 0.0, tau2_max, maxiter=maxiter)
        w = 1.0 / (v + tau2)
        return Tau2Estimate(max(0.0, tau2), math.sqrt(2 * k**2 / (k - p) / w.sum() ** 2))

    he, ols = _hedges(y, v, X, k, p)
    if method == "HE":
        t = max(he, 0.0)
        se = math.sqrt(1 / (k - p) ** 2 * (2 * ols.tr2(v, v) + 4 * t * ols.tr(v) + 2 * t**2 * (k - p)))
        return Tau2Estimate(max(0.0, he), se)

    # ML, REML, EB: Fisher scoring from the (truncated) HE estimate, with step halving at 0.
    tau2 = max(0.0, he) if tau2_init is None else float(tau2_init)
    change, it = threshold + 1, 0
    while change > threshold:
        it += 1
        old = tau2
        w = 1.0 / (v + tau2)
        f = Wls(X, w, y)
        if method == "ML":
            adj = (f.yPPy - w.sum()) / np.sum(w**2)
        elif method == "REML":
            adj = (f.yPPy - f.tr()) / f.tr2()
        else:  # EB
            adj = (f.yPy * k / (k - p) - k) / w.sum()
        while tau2 + adj < 0:
            adj /= 2
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > maxiter:
            raise MetaAnalysisError(
                f"Fisher scoring for the {method} estimate of tau^2 did not converge in {maxiter} iterations."
            )
    if method in ("ML", "REML") and tau2 > threshold:
        # metafor's ll0check: Fisher scoring may stop at a local maximum above tau^2 = 0.
        yr = np.asarray(yi, dtype=float)
        if _loglik(0.0, yr, v, X, method == "REML") - _loglik(tau2, yr, v, X, method == "REML") > UNIROOT_TOL:
            tau2 = 0.0
    tau2 = max(0.0, tau2)
    w = 1.0 / (v + tau2)
    if method == "ML":
        se = math.sqrt(2 / np.sum(w**2))
    elif method == "REML":
        se = math.sqrt(2 / Wls(X, w).tr2())
    else:
        se = math.sqrt(2 * k**2 / (k - p) / w.sum() ** 2)
    return Tau2Estimate(tau2, se, it)
