"""PyMC random-effects models: normal-normal, Student-t (robust) and three-level.

Each ``build_*`` returns an *unsampled* ``pm.Model`` so the same specification can be sampled by
either backend (:mod:`evidence.meta.pymc.sampling`), inspected or compared. Random effects are
non-centred (theta = mu + tau * z) because k is small and tau is often near 0, where the centred
form gives funnels and divergences. The priors are the exact engine's strings
(:mod:`evidence.meta.priors`), translated by :func:`tau_prior_args` / :func:`mu_prior_args`, so
both engines accept, reject and mean the same priors; ``mu_prior="flat"`` is ``pm.Flat``, exactly
what the exact engine integrates.

Each model also has a summariser (posterior -> :class:`~evidence.meta.pymc.draws.Draws`) and a
*marginal* per-effect log-likelihood, p(y_i | hyper-parameters) with the random effect integrated
out, for LOO (:mod:`evidence.meta.pymc.compare` explains why).
"""

from __future__ import annotations

import numpy as np

from evidence.errors import MetaAnalysisError
from evidence.meta.priors import parse_mu_prior, parse_tau_prior
from evidence.meta.pymc.draws import Draws, flat, norm_logpdf, summarize

N_MIX = 256  # quantile nodes of the Student-t scale mixture (smooth integrand: error << MC error)


# -- priors --------------------------------------------------------------------------------------
def tau_prior_args(spec) -> tuple[str, dict]:
    """Tau prior string -> (PyMC/bambi distribution name, parameters), e.g. ``("HalfNormal", {"sigma": .5})``."""
    p = parse_tau_prior(spec)
    a = p.params
    if p.kind == "halfnormal":
        return "HalfNormal", {"sigma": a[0]}
    if p.kind == "halft":
        return ("HalfCauchy", {"beta": a[1]}) if a[0] == 1.0 else ("HalfStudentT", {"nu": a[0], "sigma": a[1]})
    if p.kind == "lognormal":
        return "LogNormal", {"mu": a[0], "sigma": a[1]}
    if p.kind == "uniform":
        if np.isfinite(a[1]):
            return "Uniform", {"lower": a[0], "upper": a[1]}
        if a[0] == 0:
            return "HalfFlat", {}
    raise MetaAnalysisError(f"tau prior {spec!r} has no PyMC counterpart here")


def mu_prior_args(spec) -> tuple[str, dict]:
    """``"flat"`` -> improper uniform (``pm.Flat``, what the exact engine integrates); ``"normal:m:s"``."""
    p = parse_mu_prior(spec)
    return ("Flat", {}) if p.kind == "flat" else ("Normal", {"mu": p.mean, "sigma": p.sd})


def rv(name, args, **kw):
    """A PyMC random variable from ``(distribution name, parameters)``."""
    import pymc as pm

    dist, params = args
    return getattr(pm, dist)(name, **params, **kw)


def coord_labels(labels, k) -> list[str]:
    """Study labels usable as PyMC coordinates (unique: duplicates get their row number)."""
    if labels is None:
        return [str(i + 1) for i in range(k)]
    labels = [str(x) for x in labels]
    if len(set(labels)) != k:
        labels = [f"{lab} [{i + 1}]" for i, lab in enumerate(labels)]
    return labels


# -- normal-normal -------------------------------------------------------------------------------
def build_normal_normal(yi, vi, opts):
    """y_i ~ N(theta_i, v_i), theta_i = mu + tau z_i, z_i ~ N(0, 1): the exact engine's model."""
    import pymc as pm

    with pm.Model(coords={"study": coord_labels(opts.get("labels"), yi.size)}) as model:
        mu = rv("mu", mu_prior_args(opts["mu_prior"]))
        tau = rv("tau", tau_prior_args(opts["tau_prior"]))
        z = pm.Normal("z", 0.0, 1.0, dims="study")
        theta = pm.Deterministic("theta", mu + tau * z, dims="study")
        pm.Normal("yi", theta, sigma=np.sqrt(vi), observed=yi, dims="study")
    return model


def normal_draws(post, yi, vi, opts, rng) -> Draws:
    mu, tau = flat(post, "mu"), flat(post, "tau")
    return Draws(mu, tau, flat(post, "theta"), mu + tau * rng.standard_normal(mu.size))


def normal_loglik(post, yi, vi, opts) -> np.ndarray:
    mu, tau = flat(post, "mu")[:, None], flat(post, "tau")[:, None]
    return norm_logpdf(yi[None, :], mu, vi[None, :] + tau**2)


# -- robust (Student-t effects) -------------------------------------------------------------------
def robust_spec(opts) -> dict:
    nu = opts.get("nu")
    return {"nu": "gamma(2, 0.1)" if nu is None else float(nu)}


def build_robust(yi, vi, opts):
    """Student-t random effects: theta_i = mu + tau t_i, t_i ~ t_nu(0, 1); nu ~ Gamma(2, 0.1) or fixed.

    Heavy tails let one outlying programme keep its own effect instead of dragging mu and inflating
    tau. ``tau`` is the t scale (its SD is tau * sqrt(nu / (nu - 2)) for nu > 2).
    """
    import pymc as pm

    nu = opts.get("nu")
    with pm.Model(coords={"study": coord_labels(opts.get("labels"), yi.size)}) as model:
        mu = rv("mu", mu_prior_args(opts["mu_prior"]))
        tau = rv("tau", tau_prior_args(opts["tau_prior"]))
        nu_rv = pm.Gamma("nu", alpha=2.0, beta=0.1) if nu is None else pm.Data("nu", float(nu))
        z = pm.StudentT("z", nu=nu_rv, mu=0.0, sigma=1.0, dims="study")
        theta = pm.Deterministic("theta", mu + tau * z, dims="study")
        pm.Normal("yi", theta, sigma=np.sqrt(vi), observed=yi, dims="study")
    return model


def _nu_draws(post, opts, n) -> np.ndarray:
    return flat(post, "nu") if opts.get("nu") is None else np.full(n, float(opts["nu"]))


def robust_draws(post, yi, vi, opts, rng) -> Draws:
    mu, tau = flat(post, "mu"), flat(post, "tau")
    nu = _nu_draws(post, opts, mu.size)
    coefficients = {"nu": summarize(nu)} if opts.get("nu") is None else {}
    return Draws(mu, tau, flat(post, "theta"), mu + tau * rng.standard_t(nu), coefficients)


def robust_loglik(post, yi, vi, opts) -> np.ndarray:
    """t_nu(0, tau) = N(0, tau^2 lam), lam ~ InvGamma(nu/2, nu/2): the normal averaged over lam's quantiles."""
    from scipy import stats
    from scipy.special import logsumexp

    mu, tau = flat(post, "mu")[:, None], flat(post, "tau")[:, None]
    nu = _nu_draws(post, opts, mu.shape[0])
    probs = (np.arange(N_MIX) + 0.5) / N_MIX
    lam = stats.invgamma.ppf(probs[None, :], nu[:, None] / 2, scale=nu[:, None] / 2)  # (n, N)
    var = vi[None, :, None] + (tau**2)[:, :, None] * lam[:, None, :]  # (n, k, N)
    return logsumexp(norm_logpdf(yi[None, :, None], mu[:, :, None], var), axis=-1) - np.log(N_MIX)


# -- three-level ---------------------------------------------------------------------------------
def three_level_data(opts, k) -> dict:
    cluster = opts["cluster"]
    if len(cluster) != k:
        raise MetaAnalysisError(f"cluster must have one entry per effect ({k}), got {len(cluster)}")
    return {"cluster": [str(c) for c in cluster]}


def build_three_level(yi, vi, opts):
    """Effects within studies: y_ij ~ N(mu + u_j + e_ij, v_ij), u_j ~ N(0, s_b^2), e_ij ~ N(0, s_w^2).

    Both SDs get ``tau_prior`` (as metafor's ``rma.mv(random = ~ 1 | cluster/effect)`` treats them
    alike); ``sigma2_between``/``sigma2_within`` are recorded to compare with metafor's ``sigma2``.
    """
    import pymc as pm

    levels, idx = np.unique(np.asarray(opts["cluster"]).astype(str), return_inverse=True)
    coords = {"study": coord_labels(opts.get("labels"), yi.size), "cluster": list(levels)}
    with pm.Model(coords=coords) as model:
        mu = rv("mu", mu_prior_args(opts["mu_prior"]))
        s_b = rv("sigma_between", tau_prior_args(opts["tau_prior"]))
        s_w = rv("sigma_within", tau_prior_args(opts["tau_prior"]))
        z_b = pm.Normal("z_between", 0.0, 1.0, dims="cluster")
        z_w = pm.Normal("z_within", 0.0, 1.0, dims="study")
        pm.Deterministic("sigma2_between", s_b**2)
        pm.Deterministic("sigma2_within", s_w**2)
        pm.Deterministic("tau", pm.math.sqrt(s_b**2 + s_w**2))
        u = pm.Deterministic("u_cluster", s_b * z_b, dims="cluster")
        theta = pm.Deterministic("theta", mu + u[idx] + s_w * z_w, dims="study")
        pm.Normal("yi", theta, sigma=np.sqrt(vi), observed=yi, dims="study")
    return model


def three_level_draws(post, yi, vi, opts, rng) -> Draws:
    d = normal_draws(post, yi, vi, opts, rng)
    d.coefficients = {v: summarize(flat(post, v))
                      for v in ("sigma2_between", "sigma2_within", "sigma_between", "sigma_within")}
    return d


def three_level_loglik(post, yi, vi, opts) -> np.ndarray:
    """p(y_ij | mu, u_cluster, sigma_within): a new effect from a known cluster."""
    idx = np.unique(np.asarray(opts["cluster"]).astype(str), return_inverse=True)[1]
    m = flat(post, "mu")[:, None] + flat(post, "u_cluster")[:, idx]
    return norm_logpdf(yi[None, :], m, vi[None, :] + flat(post, "sigma_within")[:, None] ** 2)
