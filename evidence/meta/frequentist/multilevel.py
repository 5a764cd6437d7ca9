"""Three-level meta-analysis: metafor's ``rma.mv(yi, vi, random = ~ 1 | cluster/inner)`` by REML.

Why: several effect sizes from one study share a sample, so treating them as independent overstates
precision. The model adds a between-cluster variance sigma2[0] and a within-cluster (between effect
sizes) variance sigma2[1]:  V = diag(vi) + sigma2[0] Z_c Z_c' + sigma2[1] Z_ci Z_ci'.

The restricted log-likelihood is maximised on log-scale parameters from several starts (robust against
flat regions), then polished on the natural scale with a 0 lower bound so boundary solutions are exact.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, stats

from evidence.errors import MetaAnalysisError
from evidence.meta.inputs import check_effects
from evidence.meta.result import json_safe


@dataclass
class MultilevelFit:
    """REML fit of the three-level model (metafor names where they exist)."""

    k: int
    n_clusters: int
    n_inner: int
    method: str
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    sigma2: list[float]  # [between clusters, within clusters]
    logLik: float
    pi_lb: float
    pi_ub: float
    QE: float
    QEp: float

    def to_dict(self) -> dict:
        return json_safe(asdict(self))


def _codes(labels) -> np.ndarray:
    """Integer codes of arbitrary labels (order of first appearance)."""
    _, inv = np.unique(np.asarray([str(x) for x in labels]), return_inverse=True)
    return inv


class _Reml:
    """Restricted log-likelihood of the intercept-only three-level model."""

    def __init__(self, y, v, cl, inner):
        self.y, self.v = y, v
        self.Zc = (cl[:, None] == np.unique(cl)[None, :]).astype(float)
        self.Zi = (inner[:, None] == np.unique(inner)[None, :]).astype(float)
        self.Cc = self.Zc @ self.Zc.T
        self.Ci = self.Zi @ self.Zi.T
        self.k = y.size

    def marginal(self, s2):
        return np.diag(self.v) + s2[0] * self.Cc + s2[1] * self.Ci

    def fixed(self, s2):
        """(estimate, variance of estimate, V^-1) at variance components s2."""
        V = self.marginal(s2)
        L = np.linalg.cholesky(V)
        Vinv = np.linalg.inv(L).T @ np.linalg.inv(L)
        one = np.ones(self.k)
        sw = float(one @ Vinv @ one)
        mu = float(one @ Vinv @ self.y) / sw
        return mu, 1.0 / sw, Vinv, L

    def loglik(self, s2) -> float:
        if np.any(np.asarray(s2) < 0):
            return -np.inf
        try:
            mu, var_mu, Vinv, L = self.fixed(s2)
        except np.linalg.LinAlgError:
            return -np.inf
        r = self.y - mu
        logdetV = 2.0 * float(np.sum(np.log(np.diag(L))))
        return -0.5 * ((self.k - 1) * math.log(2 * math.pi) + logdetV + math.log(1.0 / var_mu) + float(r @ Vinv @ r))


def rma_mv_three_level(yi, vi, cluster, inner, method: str = "REML", level: float = 95.0) -> MultilevelFit:
    """Fit ``rma.mv(yi, vi, random = ~ 1 | cluster/inner, method="REML")``.

    ``cluster``: e.g. the study id; ``inner``: the effect-size id within a study (the pair defines the
    inner level, as the ``/`` nesting in R does). Only REML is implemented (metafor's default).
    """
    if str(method).upper() != "REML":
        raise MetaAnalysisError("The three-level model is implemented for method='REML' only.")
    y, v = check_effects(yi, vi)
    k = y.size
    if len(cluster) != k or len(inner) != k:
        raise MetaAnalysisError(f"cluster and inner must have {k} entries (one per effect size).")
    cl = _codes(cluster)
    inn = _codes([f"{c}\x1f{i}" for c, i in zip(cl, [str(x) for x in inner])])
    n_cl, n_in = int(cl.max()) + 1, int(inn.max()) + 1
    if k < 3 or n_cl < 2:
        raise MetaAnalysisError(f"The three-level model needs k >= 3 and >= 2 clusters (k={k}, clusters={n_cl}).")
    model = _Reml(y, v, cl, inn)

    # multi-start on log scale, then polish on the natural scale with bounds [0, inf)
    scale = max(float(np.var(y, ddof=1)), float(np.mean(v)), 1e-8)
    starts = [(a * scale, b * scale) for a in (0.01, 0.3, 1.0) for b in (0.01, 0.3, 1.0)]
    runs = [optimize.minimize(lambda t: -model.loglik(np.exp(t)), np.log(s), method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000}) for s in starts]
    best = min(runs, key=lambda r: r.fun)  # the first of equal minima, as the loop it replaces
    x0 = np.exp(best.x)
    x0[x0 < 1e-10 * scale] = 0.0
    pol = optimize.minimize(
        lambda s: -model.loglik(s), x0, method="L-BFGS-B", bounds=[(0, None), (0, None)],
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000},
    )
    s2 = pol.x if pol.fun <= -model.loglik(x0) else x0
    s2 = np.maximum(s2, 0.0)
    if not np.all(np.isfinite(s2)) or not math.isfinite(model.loglik(s2)):
        raise MetaAnalysisError("REML optimisation of the three-level model failed.")

    mu, var_mu, _, _ = model.fixed(s2)
    se = math.sqrt(var_mu)
    z = mu / se
    crit = stats.norm.ppf(1 - (1 - level / 100) / 2)
    pred_se = math.sqrt(var_mu + s2[0] + s2[1])
    w = 1.0 / v
    QE = float(np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2))
    return MultilevelFit(
        k=k,
        n_clusters=n_cl,
        n_inner=n_in,
        method="REML",
        estimate=mu,
        se=se,
        zval=z,
        pval=float(2 * stats.norm.sf(abs(z))),
        ci_lb=mu - crit * se,
        ci_ub=mu + crit * se,
        sigma2=[float(s2[0]), float(s2[1])],
        logLik=model.loglik(s2),
        pi_lb=mu - stats.norm.ppf(0.975) * pred_se,
        pi_ub=mu + stats.norm.ppf(0.975) * pred_se,
        QE=QE,
        QEp=float(stats.chi2.sf(QE, k - 1)),
    )
