"""LOO comparison of fitted PyMC models, on the *marginal* per-effect log-likelihood.

The observed node of a non-centred model gives log p(y_i | theta_i), and LOO on it asks "how well is
a new draw from the *same* study predicted given its theta_i" - which rewards over-fitting the
theta_i and yields unreliable Pareto-k values. Models are therefore compared on log p(y_i | hyper-
parameters) with the study's random effect integrated out (closed form for normal effects, a
quantile-midpoint rule over the scale mixture for Student-t effects, the selection model's own
normalised likelihood). For the three-level model it is p(y_ij | mu, u_cluster, sigma_within): a new
effect from a known cluster. Each kind's function is its registry entry's ``loglik``. Stored as the
``log_likelihood`` group, variable ``yi``, dim ``study``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from evidence.errors import MetaAnalysisError
from evidence.meta.inputs import check_effects
from evidence.meta.pymc import registry


def marginal_loglik(kind, idata, yi, vi, **options) -> np.ndarray:
    """Per-effect marginal log-likelihood, shape (draws, k); see the module docstring."""
    entry, opts = registry.resolve(kind, options)
    if entry.loglik is None:
        raise MetaAnalysisError(f"the {kind} model is not sampled: it has no log-likelihood to compare")
    y, v = check_effects(yi, vi, min_k=2)
    return entry.loglik(idata.posterior, y, v, opts)


def add_marginal_loglik(idata, kind, yi, vi, **options) -> None:
    """Store :func:`marginal_loglik` as ``idata.log_likelihood['yi']`` (replacing any existing group)."""
    import xarray as xr

    post = idata.posterior
    ll = marginal_loglik(kind, idata, yi, vi, **options).reshape(post.sizes["chain"], post.sizes["draw"], -1)
    ds = xr.Dataset({"yi": (("chain", "draw", "study"), ll)},
                    coords={"chain": post["chain"].values, "draw": post["draw"].values})
    if "log_likelihood" in idata.groups():
        del idata["log_likelihood"]
    idata.add_groups({"log_likelihood": ds})


def loo_compare(fits: dict, ic: Literal["loo", "waic"] = "loo", scale: Literal["log", "negative_log", "deviance"] = "log"):
    """Compare fitted models (name -> ``MetaResult`` with ``idata``, or ``InferenceData``) by PSIS-LOO.

    Returns arviz's comparison table (rank, elpd_loo, p_loo, elpd_diff, weight, se, dse, warning)
    plus ``max_pareto_k`` per model; all models must be fitted to the same effects in the same order.
    """
    import arviz as az

    idatas = {}
    for name, f in fits.items():
        idata = getattr(f, "idata", f)
        if idata is None or "log_likelihood" not in idata.groups():
            raise MetaAnalysisError(f"model {name!r} has no log_likelihood group (fit it with log_likelihood=True)")
        idatas[name] = idata
    sizes = {n: idata.log_likelihood["yi"].shape[-1] for n, idata in idatas.items()}
    if len(set(sizes.values())) != 1:
        raise MetaAnalysisError(f"models were fitted to different numbers of effects: {sizes}")
    table = az.compare(idatas, ic=ic, scale=scale)
    if ic == "loo":
        table["max_pareto_k"] = [float(np.max(az.loo(idatas[n], pointwise=True).pareto_k)) for n in table.index]
    return table
