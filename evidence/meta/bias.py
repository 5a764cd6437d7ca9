"""Small-study / publication-bias diagnostics aligned with metafor 3.8-1 (``regtest``, ``trimfill``).

Both are sensitivity analyses, not corrections: they are reported next to the pooled estimate so a
reader can see whether asymmetric funnel plots could explain it.
"""

from __future__ import annotations

import numpy as np

from evidence.errors import MetaAnalysisError
from evidence.meta.frequentist import _check_yv, rma


def egger_test(yi, vi, method: str = "REML", knha: bool = False) -> dict:
    """Egger's regression test: metafor ``regtest(res, model="rma", predictor="sei")``.

    A meta-regression of yi on sqrt(vi) with the same tau^2 estimator (``method="FE"`` for the classic
    fixed-effect version); the test statistic is the z (or t, with ``knha``) of the sqrt(vi) slope.
    Needs k >= 3 (two coefficients plus tau^2 for random effects).
    """
    y, v = _check_yv(yi, vi)
    if y.size < 3:
        raise MetaAnalysisError(f"Egger's test needs at least 3 effect sizes, got {y.size}.")
    fit = rma(y, v, method=method, knha=knha, mods=np.sqrt(v), mod_names=["sei"])
    c = fit.coefficients["sei"]
    return {
        "zval": c["zval"],
        "pval": c["pval"],
        "slope": c["estimate"],
        "slope_se": c["se"],
        "limit_estimate": fit.estimate,  # estimate as sei -> 0
        "method": fit.method,
        "dfs": fit.dfs,
    }


def _rank_first(x: np.ndarray) -> np.ndarray:
    """R's rank(x, ties.method="first"): 1-based ranks, ties broken by position."""
    r = np.empty(x.size, dtype=int)
    r[np.argsort(x, kind="stable")] = np.arange(1, x.size + 1)
    return r


def trimfill(yi, vi, method: str = "REML", side: str | None = None, maxiter: int = 100) -> dict:
    """Duval & Tweedie trim-and-fill with metafor's defaults (estimator L0).

    Side (when not given): metafor's rule -- fit the Egger-type model yi ~ sqrt(vi) with the same
    estimator; a negative slope means the *right* side is thought to be missing, otherwise the left.
    The k0 most extreme studies on the other side are trimmed iteratively until k0 is stable, then
    mirrored around the trimmed estimate and the model is refitted on the filled data.
    """
    y0, v0 = _check_yv(yi, vi)
    k = y0.size
    if k < 3:
        raise MetaAnalysisError(f"Trim-and-fill needs at least 3 effect sizes, got {k}.")
    if side is None:
        slope = rma(y0, v0, method=method, mods=np.sqrt(v0)).coefficients["mod1"]["estimate"]
        side = "right" if slope < 0 else "left"
    if side not in ("left", "right"):
        raise MetaAnalysisError(f"side must be 'left' or 'right', got {side!r}.")
    sign = -1.0 if side == "right" else 1.0
    ys = sign * y0
    ix = np.argsort(ys, kind="stable")
    ys, vs = ys[ix], v0[ix]

    k0, k0_prev, it = 0, -1, 0
    beta = 0.0
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise MetaAnalysisError("Trim-and-fill did not converge (maximum iterations reached).")
        beta = rma(ys[: k - k0], vs[: k - k0], method=method).estimate
        yc = ys - beta
        signed_rank = np.sign(yc) * _rank_first(np.abs(yc))
        sr = float(signed_rank[signed_rank > 0].sum())
        k0 = int(round(max(0.0, (4 * sr - k * (k + 1)) / (2 * k - 1))))
        if k0 >= k - 1:
            raise MetaAnalysisError("Trim-and-fill would trim nearly all studies; the data are unsuitable.")

    fill_y = sign * (2 * beta - ys[k - k0 :]) if k0 > 0 else np.empty(0)
    fill_v = vs[k - k0 :] if k0 > 0 else np.empty(0)
    y_all = np.concatenate([y0, fill_y])
    v_all = np.concatenate([v0, fill_v])
    fit = rma(y_all, v_all, method=method)
    return {
        "k0": k0,
        "side": side,
        "estimate": fit.estimate,
        "se": fit.se,
        "ci_lb": fit.ci_lb,
        "ci_ub": fit.ci_ub,
        "pval": fit.pval,
        "tau2": fit.tau2,
        "yi": y_all.tolist(),
        "vi": v_all.tolist(),
        "filled": [False] * k + [True] * k0,
    }
