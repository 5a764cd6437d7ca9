"""Publication-bias models: a Bayesian step-function selection model and PET-PEESE.

Selection model (Vevea & Hedges 1995 type). Effects are published with a probability that depends
only on their one-sided p-value, constant within intervals cut at ``cutpoints`` (default 0.025 and
0.5, i.e. "significant in the expected direction", "right direction, not significant", "wrong
direction"). With u_i = s * y_i (s = +1 when the expected direction is positive, -1 when negative)
and S_i^2 = v_i + tau^2, the per-effect likelihood is the weighted and *per-study normalised* normal

    p(y_i) = omega_{j(i)} N(u_i; s mu, S_i^2) / sum_j omega_j P(u in interval_j | s mu, S_i^2)

where interval j in u-space is (se_i z_{1-c_j}, se_i z_{1-c_{j-1}}]. Weights are relative to the most
significant interval (omega_1 = 1) and monotone non-increasing, omega_j = sum_{l >= j} d_l with
d ~ Dirichlet(1, ..., 1) (the cumulative-Dirichlet prior of RoBMA, Bartos et al. 2021): selection
may favour significant results, never the reverse. ``mu``/``tau`` describe effects *before*
selection, which is the bias-adjusted answer.

PET-PEESE, the frequentist companion, is in :mod:`evidence.meta.frequentist.bias`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from evidence.errors import MetaAnalysisError
from evidence.meta.pymc.draws import Draws, flat, summarize
from evidence.meta.pymc.random_effects import coord_labels, mu_prior_args, rv, tau_prior_args

DEFAULT_CUTPOINTS = (0.025, 0.5)
_BIG = 1e6  # stands in for +-inf in interval bounds: keeps gradients finite (0 * inf = nan otherwise)


def _sign(alternative: str) -> float:
    if alternative not in ("greater", "less"):
        raise MetaAnalysisError("alternative must be 'greater' or 'less' (direction favoured by selection)")
    return 1.0 if alternative == "greater" else -1.0


def selection_bounds(vi, cutpoints=DEFAULT_CUTPOINTS):
    """Lower/upper bounds (k x J) of each p-value interval in u = s*y space, for every effect."""
    cut = np.asarray(sorted(cutpoints), dtype=float)
    if cut.size < 1 or cut[0] <= 0 or cut[-1] >= 1:
        raise MetaAnalysisError("cutpoints must lie strictly between 0 and 1")
    se = np.sqrt(np.asarray(vi, dtype=float))[:, None]
    edges = np.concatenate([[0.0], cut, [1.0]])  # p-value edges; p small <-> u large
    zq = stats.norm.isf(edges)  # +inf, z_{1-c1}, ..., -inf
    zq = np.clip(zq, -_BIG, _BIG)
    upper = se * zq[None, :-1]
    lower = se * zq[None, 1:]
    return lower, upper


def interval_index(yi, vi, cutpoints=DEFAULT_CUTPOINTS, alternative="greater"):
    """Which p-value interval each observed effect falls in (0 = most significant)."""
    u = _sign(alternative) * np.asarray(yi, dtype=float)
    p = stats.norm.sf(u / np.sqrt(np.asarray(vi, dtype=float)))
    return np.searchsorted(np.asarray(sorted(cutpoints)), p, side="right")


def selection_loglik(u, se, mu_s, tau, omega, lower, upper, idx, *, lib):
    """Pointwise log-likelihood of the step selection model; ``lib`` is numpy/scipy or pytensor.

    Broadcasting: u, se, idx (k,); lower/upper (k, J); mu_s/tau scalars or (n, 1); omega (J,) or (n, J).
    """
    S = lib.sqrt(se**2 + tau**2)  # (.., k)
    std = (u - mu_s) / S
    log_dens = -0.5 * std**2 - lib.log(S) - 0.5 * math.log(2 * math.pi)
    Sx = S[..., None]
    mux = mu_s[..., None] if hasattr(mu_s, "ndim") and mu_s.ndim else mu_s
    prob = 0.5 * (lib.erfc(-(upper - mux) / (Sx * math.sqrt(2))) - lib.erfc(-(lower - mux) / (Sx * math.sqrt(2))))
    om = omega[..., None, :]
    norm = lib.log(lib.sum(om * prob, axis=-1))
    log_w = lib.log(omega[..., idx])
    return log_w + log_dens - norm


class _PT:
    """The few pytensor ops ``selection_loglik`` needs, under numpy's names."""

    def __init__(self):
        import pytensor.tensor as pt

        self.sqrt, self.log, self.erfc, self.sum = pt.sqrt, pt.log, pt.erfc, pt.sum


class _NP:
    sqrt, log, sum = staticmethod(np.sqrt), staticmethod(np.log), staticmethod(np.sum)

    @staticmethod
    def erfc(x):
        from scipy.special import erfc

        return erfc(x)


NUMPY_LIB = _NP()


def selection_spec(opts) -> dict:
    return {"alternative": opts["alternative"], "cutpoints": list(opts.get("cutpoints") or DEFAULT_CUTPOINTS),
            "weights_prior": "cumulative Dirichlet(1,...,1), omega_1 = 1"}


def build_selection(yi, vi, opts):
    """Step-function selection model as an unsampled ``pm.Model`` (likelihood via ``pm.Potential``).

    The pointwise log-likelihood is also stored as the deterministic ``loglik_i`` so LOO can use it
    (the same function evaluated with numpy, ``lib=NUMPY_LIB``, serves the normalisation test).
    """
    import pymc as pm

    cutpoints = opts.get("cutpoints") or DEFAULT_CUTPOINTS
    s = _sign(opts["alternative"])
    lower, upper = selection_bounds(vi, cutpoints)
    idx = interval_index(yi, vi, cutpoints, opts["alternative"])
    J = lower.shape[1]
    coords = {"study": coord_labels(opts.get("labels"), yi.size), "interval": _interval_names(cutpoints)}
    with pm.Model(coords=coords) as model:
        mu = rv("mu", mu_prior_args(opts["mu_prior"]))
        tau = rv("tau", tau_prior_args(opts["tau_prior"]))
        d = pm.Dirichlet("d", a=np.ones(J))
        omega = pm.Deterministic("omega", pm.math.cumsum(d[::-1])[::-1], dims="interval")
        ll = selection_loglik(s * yi, np.sqrt(vi), s * mu, tau, omega, lower, upper, idx, lib=_PT())
        ll = pm.Deterministic("loglik_i", ll, dims="study")
        pm.Potential("selection_likelihood", ll.sum())
    return model


def selection_draws(post, yi, vi, opts, rng) -> Draws:
    """mu and tau before selection; the weights omega; theta_i | y_i, mu, tau is the usual normal
    shrinkage (selection acts on y_i alone)."""
    mu, tau = flat(post, "mu"), flat(post, "tau")
    theta_new = mu + tau * rng.standard_normal(mu.size)
    om = np.asarray(post["omega"]).reshape(mu.size, -1)
    coefficients = {f"omega[{lab}]": summarize(om[:, j]) for j, lab in enumerate(post["omega"]["interval"].values)}
    prec = 1.0 / vi[None, :] + 1.0 / tau[:, None] ** 2
    mean = (yi[None, :] / vi[None, :] + mu[:, None] / tau[:, None] ** 2) / prec
    theta = mean + rng.standard_normal(mean.shape) / np.sqrt(prec)
    return Draws(mu, tau, theta, theta_new, coefficients)


def selection_marginal_loglik(post, yi, vi, opts) -> np.ndarray:
    """The model's own normalised per-effect likelihood, stored while sampling."""
    return flat(post, "loglik_i")


def _interval_names(cutpoints):
    edges = [0.0, *sorted(cutpoints), 1.0]
    return [f"p in ({a:g}, {b:g}]" for a, b in zip(edges[:-1], edges[1:])]
