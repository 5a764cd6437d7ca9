"""LOO comparison of fitted PyMC models, on the *marginal* per-effect log-likelihood.

The observed node of a non-centred model gives log p(y_i | theta_i), and LOO on it asks "how well is
a new draw from the *same* study predicted given its theta_i" - which rewards over-fitting the
theta_i and yields unreliable Pareto-k values. Models are therefore compared on log p(y_i | hyper-
parameters) with the study's random effect integrated out (closed form for normal effects, a
quantile-midpoint rule over the scale mixture for Student-t effects, the selection model's own
normalised likelihood). For the three-level model it is p(y_ij | mu, u_cluster, sigma_within): a new
effect from a known cluster. Stored as the ``log_likelihood`` group, variable ``yi``, dim ``study``.
"""

from __future__ import annotations

import numpy as np

N_MIX = 256  # quantile nodes of the Student-t scale mixture (smooth integrand: error << MC error)


def _flat(post, name):
    a = np.asarray(post[name], dtype=float)
    return a.reshape(post.sizes["chain"] * post.sizes["draw"], *a.shape[2:])


def _norm_logpdf(y, m, var):
    return -0.5 * (np.log(2 * np.pi * var) + (y - m) ** 2 / var)


def marginal_loglik(kind, idata, yi, vi, *, cluster=None, nu=None, labels=None) -> np.ndarray:
    """Per-effect marginal log-likelihood, shape (draws, k); see the module docstring."""
    from scipy import stats
    from scipy.special import logsumexp

    post = idata.posterior
    y, v = np.asarray(yi, float)[None, :], np.asarray(vi, float)[None, :]
    if kind == "selection":
        return _flat(post, "loglik_i")
    if kind == "metareg":  # fixed part = bambi's linear predictor minus the effect's own random intercept
        u = post["1|study"].sel({"study__factor_dim": list(labels)})
        fixed = _flat(post, "mu") - np.asarray(u, float).reshape(-1, y.size)
        return _norm_logpdf(y, fixed, v + _flat(post, "1|study_sigma")[:, None] ** 2)
    if kind == "three-level":
        idx = np.unique(np.asarray(cluster).astype(str), return_inverse=True)[1]
        m = _flat(post, "mu")[:, None] + _flat(post, "u_cluster")[:, idx]
        return _norm_logpdf(y, m, v + _flat(post, "sigma_within")[:, None] ** 2)
    mu, tau = _flat(post, "mu")[:, None], _flat(post, "tau")[:, None]
    if kind == "normal":
        return _norm_logpdf(y, mu, v + tau**2)
    if kind == "robust":
        # t_nu(0, tau) = N(0, tau^2 lam), lam ~ InvGamma(nu/2, nu/2): average the normal over lam's quantiles
        n = mu.shape[0]
        nu_d = _flat(post, "nu") if nu is None else np.full(n, float(nu))
        probs = (np.arange(N_MIX) + 0.5) / N_MIX
        lam = stats.invgamma.ppf(probs[None, :], nu_d[:, None] / 2, scale=nu_d[:, None] / 2)  # (n, N)
        var = v[:, :, None] + (tau**2)[:, :, None] * lam[:, None, :]  # (n, k, N)
        return logsumexp(_norm_logpdf(y[:, :, None], mu[:, :, None], var), axis=-1) - np.log(N_MIX)
    raise ValueError(f"no marginal log-likelihood for kind {kind!r}")


def add_marginal_loglik(idata, kind, yi, vi, **kw) -> None:
    """Store :func:`marginal_loglik` as ``idata.log_likelihood['yi']`` (replacing any existing group)."""
    import xarray as xr

    post = idata.posterior
    ll = marginal_loglik(kind, idata, yi, vi, **kw).reshape(post.sizes["chain"], post.sizes["draw"], -1)
    ds = xr.Dataset({"yi": (("chain", "draw", "study"), ll)},
                    coords={"chain": post["chain"].values, "draw": post["draw"].values})
    if "log_likelihood" in idata.groups():
        del idata["log_likelihood"]
    idata.add_groups({"log_likelihood": ds})


def loo_compare(fits: dict, ic: str = "loo", scale: str = "log"):
    """Compare fitted models (name -> ``MetaResult`` with ``idata``, or ``InferenceData``) by PSIS-LOO.

    Returns arviz's comparison table (rank, elpd_loo, p_loo, elpd_diff, weight, se, dse, warning)
    plus ``max_pareto_k`` per model; all models must be fitted to the same effects in the same order.
    """
    import arviz as az

    idatas = {}
    for name, f in fits.items():
        idata = getattr(f, "idata", f)
        if idata is None or "log_likelihood" not in idata.groups():
            raise ValueError(f"model {name!r} has no log_likelihood group (fit with log_likelihood=True)")
        idatas[name] = idata
    sizes = {n: idata.log_likelihood["yi"].shape[-1] for n, idata in idatas.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"models were fitted to different numbers of effects: {sizes}")
    table = az.compare(idatas, ic=ic, scale=scale)
    if ic == "loo":
        table["max_pareto_k"] = [float(np.max(az.loo(idatas[n], pointwise=True).pareto_k)) for n in table.index]
    return table
