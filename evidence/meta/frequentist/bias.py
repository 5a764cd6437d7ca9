"""Small-study / publication-bias diagnostics: metafor 3.8-1's ``regtest`` and ``trimfill``, and PET-PEESE.

All are sensitivity analyses, not corrections: they are reported next to the pooled estimate so a
reader can see whether asymmetric funnel plots could explain it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from evidence.errors import MetaAnalysisError
from evidence.meta.frequentist.univariate import rma
from evidence.meta.inputs import check_effects


def egger_test(yi, vi, method: str = "REML", knha: bool = False) -> dict:
    """Egger's regression test: metafor ``regtest(res, model="rma", predictor="sei")``.

    A meta-regression of yi on sqrt(vi) with the same tau^2 estimator (``method="FE"`` for the classic
    fixed-effect version); the test statistic is the z (or t, with ``knha``) of the sqrt(vi) slope.
    Needs k >= 3 (two coefficients plus tau^2 for random effects).
    """
    y, v = check_effects(yi, vi)
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
    y0, v0 = check_effects(yi, vi)
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


# -- PET-PEESE -------------------------------------------------------------------------------------


def _direction(alternative: str) -> float:
    if alternative not in ("greater", "less"):
        raise MetaAnalysisError("alternative must be 'greater' or 'less' (the direction favoured by selection)")
    return 1.0 if alternative == "greater" else -1.0


def _wls(y, x, w):
    """Weighted least squares y ~ 1 + x with weights w and estimated residual variance (R's lm)."""
    X = np.column_stack([np.ones_like(x), x])
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    resid = (y - X @ coef) * sw
    df = y.size - 2
    sigma2 = float(resid @ resid / df)
    cov = sigma2 * np.linalg.inv((X * w[:, None]).T @ X)
    se = np.sqrt(np.diag(cov))
    return coef, se, df, sigma2


def pet_peese(yi, vi, alternative: str | None = None, alpha: float = 0.05) -> dict:
    """PET (yi ~ se) and PEESE (yi ~ vi), weights 1/vi; the conditional estimator picks one.

    Rule (Stanley & Doucouliagos 2014): test PET's intercept one-sided at ``alpha`` in the expected
    direction (``alternative`` "greater"/"less"; default None: the direction of PET's own intercept,
    i.e. a two-sided test at 2*alpha). If it is significant there is a genuine effect and PEESE's
    intercept (less biased when an effect exists) is the estimate; otherwise PET's.
    """
    y, v = check_effects(yi, vi)
    if y.size < 3:
        raise MetaAnalysisError(f"PET-PEESE needs at least 3 effect sizes, got {y.size}")
    out: dict[str, Any] = {}
    for name, x in (("PET", np.sqrt(v)), ("PEESE", v)):
        coef, se, df, sigma2 = _wls(y, x, 1.0 / v)
        tval = coef[0] / se[0]
        tcrit = stats.t.ppf(0.975, df)
        out[name] = {
            "estimate": float(coef[0]), "se": float(se[0]), "tval": float(tval), "df": int(df),
            "pval": float(2 * stats.t.sf(abs(tval), df)),
            "ci_lb": float(coef[0] - tcrit * se[0]), "ci_ub": float(coef[0] + tcrit * se[0]),
            "slope": float(coef[1]), "slope_se": float(se[1]), "slope_tval": float(coef[1] / se[1]),
            "sigma2": sigma2,  # residual variance factor of the multiplicative-error WLS
        }
    pet = out["PET"]
    direction = _direction(alternative) if alternative else (1.0 if pet["estimate"] >= 0 else -1.0)
    p_one = float(stats.t.sf(direction * pet["tval"], pet["df"]))
    chosen = "PEESE" if p_one < alpha else "PET"
    out.update(
        chosen=chosen,
        pet_pval_one_sided=p_one,
        direction="greater" if direction > 0 else "less",
        rule=f"PEESE if PET intercept significant one-sided at {alpha:g} ({'greater' if direction > 0 else 'less'}), else PET",
        **{key: out[chosen][key] for key in ("estimate", "se", "ci_lb", "ci_ub")},
    )
    return out
