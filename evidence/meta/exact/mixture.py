"""Finite mixtures of normals, sum_j pi_j N(M_j, S_j^2): the form every exact posterior takes.

Given tau, the exact engines' quantities of interest (mu, a new study's effect, each study's true
effect, regression coefficients) are normal, so integrating tau out over a grid leaves a mixture.
Quantiles use a vectorised safeguarded Newton on probit(F(x)), which is nearly linear in x.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from evidence.meta.result import Summary

_SQ2PI = math.sqrt(2.0 * math.pi)


def _cols(x, M, S):
    """Broadcast x (shape (...,) + M.shape[1:]) against components M, S: (G, prod(x.shape))."""
    G = M.shape[0]
    x = np.asarray(x, float)
    lead = x.shape[: x.ndim - (M.ndim - 1)]
    n_lead = int(np.prod(lead)) if lead else 1
    X = x.reshape(1, n_lead, -1)
    return (X - M.reshape(G, 1, -1)) / S.reshape(G, 1, -1), S.reshape(G, 1, -1), x.shape


def mix_cdf(x, pi, M, S) -> np.ndarray:
    """CDF of sum_j pi_j N(M_j, S_j^2) at x; M, S are (G,) or (G, n) with x of shape (..., n)."""
    u, _, shape = _cols(x, M, S)
    return (pi @ ndtr(u).reshape(len(pi), -1)).reshape(shape)


def mix_pdf(x, pi, M, S) -> np.ndarray:
    """Density of the mixture (components of total weight < 1e-10 are skipped)."""
    keep = _major(pi)
    pi, M, S = pi[keep], M[keep], S[keep]
    u, Sc, shape = _cols(x, M, S)
    return (pi @ (np.exp(-0.5 * u * u) / Sc).reshape(len(pi), -1)).reshape(shape) / _SQ2PI


def _major(pi, mass=1e-10):
    """Components to keep: dropping the lightest ones, of total weight < mass, moves the CDF by < mass."""
    order = np.argsort(pi)
    keep = np.ones(len(pi), bool)
    keep[order[np.cumsum(pi[order]) < mass]] = False
    return keep


def newton(fun, x, lo, hi, xtol, iters=100):
    """Vectorised safeguarded Newton for increasing functions: fun(x) -> (g(x) - target, g'(x)).

    Newton steps that leave the current bracket [lo, hi] are replaced by bisection. Stops once every
    Newton step is below ``xtol`` (the step is still applied: the error left is ~step^2/scale)."""
    for _ in range(iters):
        F, f = fun(x)
        neg = F < 0
        lo = np.where(neg, x, lo)
        hi = np.where(neg, hi, np.where(F > 0, x, hi))
        step = F / np.maximum(f, 1e-300)
        xn = x - step
        small = np.abs(step) <= xtol
        stuck = small & (np.abs(F) > 1e-4)  # a tiny step far from the target (probit units): bisect
        x = np.where((xn >= lo) & (xn <= hi) & ~stuck, xn, 0.5 * (lo + hi))  # NaN steps bisect too
        if np.all(small & ~stuck):
            break
    return x


def probit_residual(Ff, p, is_prob=True):
    """(CDF, pdf) -> Newton pair for ndtri(CDF) = ndtri(p), nearly linear in the bulk. Where the CDF
    under/overflows the probit saturates and the derivative is NaN, so ``newton`` bisects."""
    G = np.minimum(np.maximum(ndtri(np.minimum(np.maximum(Ff[0], 0.0), 1.0)), -37.0), 37.0)
    dG = np.where(np.abs(G) < 37.0, Ff[1] * _SQ2PI * np.exp(0.5 * G * G), np.nan)
    return G - (ndtri(p) if is_prob else p), dG


def mix_quantile(p, pi, M, S) -> np.ndarray:
    """Quantiles of the mixture (p has shape (n,) when M is (G, n), any shape when M is (G,))."""
    p = np.asarray(p, float)
    keep = _major(pi)
    pi, M, S = pi[keep], M[keep], S[keep]
    shape = p.shape
    if M.ndim == 1:
        Mc, Sc, pt = M[:, None], S[:, None], p.reshape(1, -1)
    else:
        Mc, Sc, pt = np.tile(M, p.size // M.shape[1]), np.tile(S, p.size // M.shape[1]), p.reshape(1, -1)
    zp = ndtri(pt)
    q = Mc + Sc * zp  # each component's quantile; the mixture's lies between them
    lo, hi = q.min(0), q.max(0)
    mean = pi @ Mc  # start from the moment-matched normal (near-normal mixtures: 2-3 Newton steps)
    x0 = mean + np.sqrt(np.maximum(pi @ (Sc * Sc + Mc * Mc) - mean * mean, 0.0)) * zp[0]
    x0, zt, iS = np.minimum(np.maximum(x0, lo), hi), zp[0], 1.0 / Sc
    wS = pi[:, None] * iS / _SQ2PI

    def fun(x):  # Newton on ndtri(F(x)) = ndtri(p): nearly linear for near-normal mixtures
        u = (x - Mc) * iS
        return probit_residual((pi @ ndtr(u), np.einsum("gn,gn->n", wS, np.exp(-0.5 * u * u))), zt, False)

    xtol = 1e-5 * (pi @ Sc)  # per column; the error after the last step is ~ xtol^2 / scale
    return newton(fun, x0, lo, hi, xtol).reshape(shape)


def mix_summary(pi, M, S, finite_mean=True, finite_var=True, probs=(0.025, 0.5, 0.975)) -> list[Summary]:
    """Summaries of each column of a mixture (M, S of shape (G,) -> one Summary, (G, n) -> n)."""
    M2, S2 = (M[:, None], S[:, None]) if M.ndim == 1 else (M, S)
    n = M2.shape[1]
    q = mix_quantile(np.repeat(np.asarray(probs)[:, None], n, 1), pi, M2, S2)
    mean = pi @ M2 if finite_mean else np.full(n, np.nan)
    var = pi @ (S2**2 + M2**2) - (pi @ M2) ** 2 if finite_var else np.full(n, np.nan)
    return [Summary(float(mean[i]), float(np.sqrt(max(var[i], 0.0)) if finite_var else np.nan),
                    float(q[0, i]), float(q[1, i]), float(q[2, i])) for i in range(n)]
