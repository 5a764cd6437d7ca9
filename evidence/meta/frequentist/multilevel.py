"""Three-level meta-analysis: metafor's ``rma.mv(yi, vi, random = ~ 1 | cluster/inner)`` by REML.

Why: several effect sizes from one study share a sample, so treating them as independent overstates
precision. The model adds a between-cluster variance sigma2[0] and a within-cluster (between effect
sizes) variance sigma2[1]:  V = diag(vi) + sigma2[0] Z_c Z_c' + sigma2[1] Z_ci Z_ci'.

The restricted log-likelihood is evaluated from per-group sums (O(groups), no k x k matrix: see
``_Reml``) and maximised on log-scale parameters from several starts (robust against
flat regions), then polished on the natural scale with a 0 lower bound so boundary solutions are exact.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, stats

from evidence.errors import MetaAnalysisError
from evidence.meta.frequentist.wls import check_variances
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
    """Restricted log-likelihood of the intercept-only three-level model, from per-group sums.

    V is block diagonal by cluster, and within a cluster V_c = D + s1 (a block of ones per inner
    group) + s0 11'. Two rank-one updates (Sherman-Morrison and the matrix determinant lemma: first
    per inner group, then per cluster) give 1'V^-1 1, 1'V^-1 y, y'V^-1 y and log det V from the sums
    of 1/v, y/v, y^2/v and log v over each inner group, computed once. An evaluation is O(number of
    groups); no k x k matrix and no inverse is ever formed.
    """

    def __init__(self, y, v, cl, inner):
        self.k = y.size
        self.c = float(np.sum(y / v) / np.sum(1.0 / v))  # centre y so the quadratic form loses no digits
        yc = y - self.c
        n_in = int(inner.max()) + 1
        self.n1 = np.bincount(inner, 1.0 / v, n_in)
        self.ny = np.bincount(inner, yc / v, n_in)
        self.nyy = np.bincount(inner, yc * yc / v, n_in)
        self.logv = float(np.sum(np.log(v)))
        self.cluster_of = np.zeros(n_in, dtype=int)
        self.cluster_of[inner] = cl
        self.n_cl = int(cl.max()) + 1

    def _sums(self, s2) -> tuple[float, float, float, float]:
        """(1'V^-1 1, 1'V^-1 yc, yc'V^-1 yc, log det V) at variance components s2 = (s0, s1)."""
        s0, s1 = float(s2[0]), float(s2[1])
        f = 1.0 + s1 * self.n1  # inner group: (D + s1 11')^-1 by Sherman-Morrison
        q11, q1y, qyy = self.n1 / f, self.ny / f, self.nyy - s1 * self.ny**2 / f
        Q11, Q1y, Qyy = (np.bincount(self.cluster_of, q, self.n_cl) for q in (q11, q1y, qyy))
        F = 1.0 + s0 * Q11  # cluster: + s0 11'
        logdet = self.logv + float(np.sum(np.log(f))) + float(np.sum(np.log(F)))
        return float(np.sum(Q11 / F)), float(np.sum(Q1y / F)), float(np.sum(Qyy - s0 * Q1y**2 / F)), logdet

    def fixed(self, s2) -> tuple[float, float]:
        """(estimate, variance of the estimate) at variance components s2."""
        sw, swy, _, _ = self._sums(s2)
        return self.c + swy / sw, 1.0 / sw

    def loglik(self, s2) -> float:
        if np.any(np.asarray(s2) < 0):
            return -np.inf
        sw, swy, syy, logdet = self._sums(s2)
        if not (math.isfinite(sw) and sw > 0 and math.isfinite(logdet)):
            return -np.inf
        q = max(syy - swy * swy / sw, 0.0)
        return -0.5 * ((self.k - 1) * math.log(2 * math.pi) + logdet + math.log(sw) + q)


def rma_mv_three_level(yi, vi, cluster, inner, method: str = "REML", level: float = 95.0) -> MultilevelFit:
    """Fit ``rma.mv(yi, vi, random = ~ 1 | cluster/inner, method="REML")``.

    ``cluster``: e.g. the study id; ``inner``: the effect-size id within a study (the pair defines the
    inner level, as the ``/`` nesting in R does). Only REML is implemented (metafor's default).
    """
    if str(method).upper() != "REML":
        raise MetaAnalysisError("The three-level model is implemented for method='REML' only.")
    y, v = check_effects(yi, vi)
    check_variances(v)
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

    mu, var_mu = model.fixed(s2)
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
