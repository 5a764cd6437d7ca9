"""Frequentist random-effects meta-analysis and meta-regression, numerically aligned with metafor 3.8-1.

These are the companions of the Bayesian engine: the numbers reviewers expect to see next to a
posterior (REML/DL estimates, I^2, Q, prediction intervals, Q-profile CIs, leave-one-out and cumulative
analyses). Pure numpy/scipy so they run anywhere quickly. Publication-bias tools live in
:mod:`evidence.meta.frequentist.bias`, the three-level model in :mod:`evidence.meta.frequentist.multilevel`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from evidence.errors import MetaAnalysisError
from evidence.meta.frequentist import dist
from evidence.meta.frequentist.tau2 import METHODS, estimate_tau2, qe_stat, uniroot
from evidence.meta.frequentist.wls import Wls, check_variances
from evidence.meta.inputs import check_effects, study_labels
from evidence.meta.moderators import code_moderators
from evidence.meta.result import MetaResult, StudyEstimate, Summary, json_safe


@dataclass
class RmaFit:
    """Result of :func:`rma` (field names follow metafor's ``rma.uni`` object)."""

    k: int
    method: str
    knha: bool
    estimate: float
    se: float
    ci_lb: float
    ci_ub: float
    zval: float
    pval: float
    tau2: float
    I2: float
    H2: float
    QE: float
    QEp: float
    pi_lb: float
    pi_ub: float
    coefficients: dict[str, dict[str, float]]
    weights: list[float]
    yi: list[float]
    vi: list[float]
    se_tau2: float | None = None
    R2: float | None = None
    QM: float | None = None
    QMp: float | None = None
    level: float = 95.0
    p: int = 1
    dfs: float | None = None  # residual df of the t-distribution when knha, else None
    dropped: list[int] = field(default_factory=list)  # row indices removed for missing moderators
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return json_safe(asdict(self))


# -- input handling ------------------------------------------------------------------------------
def _design(mods, mod_names, k: int) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Intercept + moderators; returns (X, names, keep) where keep drops rows with missing moderators."""
    if mods is None:
        return np.ones((k, 1)), ["intercept"], np.ones(k, dtype=bool)
    if hasattr(mods, "columns"):  # pandas DataFrame: text columns become R-style treatment dummies
        coding = code_moderators(mods)
        M, names = coding.X, coding.names
        if mod_names is not None:
            names = list(mod_names)
    else:
        M = np.asarray(mods, dtype=float)
        if M.ndim == 1:
            M = M[:, None]
        names = [f"mod{j + 1}" for j in range(M.shape[1])] if mod_names is None else list(mod_names)
    if M.shape[0] != k:
        raise MetaAnalysisError(f"mods has {M.shape[0]} rows but there are {k} effect sizes.")
    if len(names) != M.shape[1]:
        raise MetaAnalysisError(f"{len(names)} moderator names given for {M.shape[1]} moderator columns.")
    if np.any(np.isinf(M)):
        raise MetaAnalysisError("Moderators contain infinite values.")
    keep = ~np.isnan(M).any(axis=1)
    X = np.column_stack([np.ones(k), M])
    return X, ["intercept", *names], keep


def rma(
    yi,
    vi,
    method: str = "REML",
    knha: bool = False,
    mods=None,
    mod_names=None,
    level: float = 95.0,
) -> RmaFit:
    """Random-effects (or FE) meta-analysis / meta-regression, as metafor's ``rma(yi, vi, mods=...)``.

    ``mods``: (k,) or (k, p) array or a DataFrame; an intercept is added. Rows with a missing
    moderator are dropped (metafor's default na.action) and listed in ``fit.dropped``.
    ``knha``: Knapp-Hartung adjustment (t with k-p df, variance scaled by the weighted residual RSS/(k-p)).
    """
    method = str(method).upper()
    if method not in METHODS:
        raise MetaAnalysisError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    if not 0 < level < 100:
        raise MetaAnalysisError(f"level must be a percentage in (0, 100), got {level}.")
    y, v = check_effects(yi, vi)
    check_variances(v)
    X, names, keep = _design(mods, mod_names, y.size)
    dropped = np.flatnonzero(~keep).tolist()
    y, v, X = y[keep], v[keep], X[keep]
    k, p = X.shape
    warnings: list[str] = []
    if k == 0:
        raise MetaAnalysisError("No effect sizes left after dropping rows with missing moderators.")
    if np.linalg.matrix_rank(X) < p:
        raise MetaAnalysisError("Model matrix is not of full rank (a moderator is constant or collinear).")
    if not (p == 1 and k == 1):
        need = p if method == "FE" else p + 1
        if k < need:
            raise MetaAnalysisError(
                f"Too few effect sizes (k={k}) for method {method} with {p} coefficient(s): need at least {need}."
            )
    if knha and k == 1:
        warnings.append("Knapp-Hartung adjustment not possible with k=1; used the normal distribution.")
        knha = False

    est = estimate_tau2(y, v, X, method)
    tau2 = est.tau2
    w = 1.0 / (v + tau2)
    wfit = Wls(X, w, y)
    vb, beta = wfit.cov(), wfit.beta
    dfs = None
    if knha:
        s2w = wfit.yPy / (k - p)
        vb = s2w * vb
        dfs = k - p
    se = np.sqrt(np.diag(vb))
    zv = beta / se
    alpha = 1 - level / 100
    if knha:
        crit = dist.t_ppf(1 - alpha / 2, dfs)
        pv = 2 * dist.t_sf(np.abs(zv), dfs)
    else:
        crit = dist.norm_ppf(1 - alpha / 2)
        pv = 2 * dist.norm_sf(np.abs(zv))
    coefs = {
        n: {
            "estimate": float(beta[j]),
            "se": float(se[j]),
            "zval": float(zv[j]),
            "pval": float(pv[j]),
            "ci_lb": float(beta[j] - crit * se[j]),
            "ci_ub": float(beta[j] + crit * se[j]),
        }
        for j, n in enumerate(names)
    }

    # heterogeneity statistics with FE weights (metafor: QE, typical within-study variance, I2, H2)
    if k > p:
        fe = Wls(X, 1.0 / v, y)
        QE = max(0.0, fe.yPy)
        QEp = float(dist.chi2_sf(QE, k - p))
        vt = (k - p) / fe.tr()
        if method == "FE":
            I2 = max(0.0, 100 * (QE - (k - p)) / QE) if QE > 0 else 0.0
            H2 = QE / (k - p)
        else:
            I2 = 100 * tau2 / (vt + tau2)
            H2 = tau2 / vt + 1
    else:
        QE, QEp, I2, H2 = 0.0, 1.0, 0.0, 1.0

    # prediction interval for the intercept (metafor's predict(): t(k-p) when knha)
    pred_se = math.sqrt(se[0] ** 2 + tau2)
    pcrit = dist.t_ppf(0.975, dfs) if knha else dist.norm_ppf(0.975)

    R2 = QM = QMp = None
    if p > 1:
        b2, V2 = beta[1:], vb[1:, 1:]
        QM = float(b2 @ np.linalg.solve(V2, b2))
        if knha:
            QM /= p - 1
            QMp = float(dist.f_sf(QM, p - 1, dfs))
        else:
            QMp = float(dist.chi2_sf(QM, p - 1))
        if method != "FE":
            tau2_null = estimate_tau2(y, v, None, method).tau2
            R2 = None if tau2_null == 0 else max(0.0, 100 * (tau2_null - tau2) / tau2_null)

    return RmaFit(
        k=k,
        method=method,
        knha=knha,
        estimate=float(beta[0]),
        se=float(se[0]),
        ci_lb=coefs["intercept"]["ci_lb"],
        ci_ub=coefs["intercept"]["ci_ub"],
        zval=float(zv[0]),
        pval=float(pv[0]),
        tau2=float(tau2),
        se_tau2=est.se_tau2,
        I2=float(I2),
        H2=float(H2),
        QE=float(QE),
        QEp=float(QEp),
        pi_lb=float(beta[0] - pcrit * pred_se),
        pi_ub=float(beta[0] + pcrit * pred_se),
        coefficients=coefs,
        weights=(100 * w / w.sum()).tolist(),
        yi=y.tolist(),
        vi=v.tolist(),
        R2=R2,
        QM=QM,
        QMp=QMp,
        level=float(level),
        p=p,
        dfs=dfs,
        dropped=dropped,
        warnings=warnings,
    )


def tau2_ci_qprofile(yi, vi, level: float = 95.0, mods=None) -> dict:
    """Q-profile CI for tau^2 (and I^2) as metafor's ``confint()`` of a REML fit.

    Bounds solve Q(tau^2) = chi^2 quantiles (k-p df) with R's uniroot on [0, max(100, 10*tau2)];
    a bound below 0 is reported as 0. I^2 bounds use the typical within-study variance
    s^2 = (k-p)/tr(P) (= (k-1) sum(w) / (sum(w)^2 - sum(w^2)) without moderators).
    """
    fit = rma(yi, vi, method="REML", mods=mods)
    y, v = np.asarray(fit.yi), np.asarray(fit.vi)
    X, _, keep = _design(mods, None, np.size(yi))
    X = X[keep]
    k, p = X.shape
    if k - p < 1:
        raise MetaAnalysisError("The Q-profile CI needs at least p+1 effect sizes.")
    a = 1 - level / 100
    crit_u = dist.chi2_isf(a / 2, k - p)
    crit_l = dist.chi2_ppf(a / 2, k - p)
    tmin, tmax = 0.0, max(100.0, 10 * fit.tau2)
    q_min, q_max = qe_stat(tmin, y, v, X), qe_stat(tmax, y, v, X)
    if q_min < crit_l:
        lb = ub = tmin
    else:
        ub = tmax if q_max > crit_l else uniroot(lambda t: qe_stat(t, y, v, X) - crit_l, tmin, tmax)
        if q_max > crit_u:
            lb = ub = tmax
        elif q_min < crit_u:
            lb = tmin
        else:
            lb = uniroot(lambda t: qe_stat(t, y, v, X) - crit_u, tmin, tmax)
    vt = (k - p) / Wls(X, 1.0 / v).tr()
    return {
        "estimate": fit.tau2,
        "lb": float(lb),
        "ub": float(ub),
        "I2_lb": 100 * lb / (vt + lb),
        "I2_ub": 100 * ub / (vt + ub),
    }


_SERIES_KEYS = ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "tau2", "I2", "H2", "QE", "QEp")


def leave1out(yi, vi, method: str = "REML", knha: bool = False) -> dict[str, list]:
    """Refit leaving out each study in turn (metafor's ``leave1out``); lists in input order."""
    y, v = check_effects(yi, vi, min_k=2)
    out: dict[str, list] = {key: [] for key in _SERIES_KEYS}
    for i in range(y.size):
        m = np.arange(y.size) != i
        fit = rma(y[m], v[m], method=method, knha=knha)
        for key in _SERIES_KEYS:
            out[key].append(getattr(fit, key))
    return out


def cumulative(yi, vi, order=None, method: str = "REML", knha: bool = False) -> dict[str, list]:
    """Cumulative meta-analysis (metafor's ``cumul``): fits after adding studies one at a time.

    ``order``: indices giving the order in which studies are added (default: input order).
    With one study tau^2 = 0 (as in metafor).
    """
    y, v = check_effects(yi, vi)
    idx = np.arange(y.size) if order is None else np.asarray(order, dtype=int)
    if sorted(idx.tolist()) != list(range(y.size)):
        raise MetaAnalysisError("order must be a permutation of the study indices 0..k-1.")
    out: dict[str, list] = {"order": idx.tolist(), **{key: [] for key in _SERIES_KEYS}}
    for j in range(1, y.size + 1):
        sel = idx[:j]
        fit = rma(y[sel], v[sel], method=method, knha=knha and j > 1)
        for key in _SERIES_KEYS:
            out[key].append(getattr(fit, key))
    return out


def to_meta_result(fit: RmaFit, labels=None, measure: str | None = None) -> MetaResult:
    """Wrap an :class:`RmaFit` in the project-wide :class:`MetaResult` (frequentist = fit.to_dict())."""
    labels = study_labels(labels, fit.k)
    coefs = {
        n: Summary(mean=c["estimate"], sd=c["se"], q025=c["ci_lb"], q50=c["estimate"], q975=c["ci_ub"])
        for n, c in fit.coefficients.items()
    }
    return MetaResult(
        model=fit.method + ("+KNHA" if fit.knha else ""),
        k=fit.k,
        measure=measure,
        spec={"method": fit.method, "knha": fit.knha, "level": fit.level, "moderators": list(fit.coefficients)[1:]},
        data={"labels": labels, "yi": fit.yi, "vi": fit.vi},
        mu=Summary(mean=fit.estimate, sd=fit.se, q025=fit.ci_lb, q50=fit.estimate, q975=fit.ci_ub),
        tau=Summary(mean=math.sqrt(fit.tau2)),
        theta_new=Summary(mean=fit.estimate, q025=fit.pi_lb, q50=fit.estimate, q975=fit.pi_ub),
        i2=fit.I2,
        studies=[
            StudyEstimate(label=lab, yi=yv, vi=vv, weight=wt)
            for lab, yv, vv, wt in zip(labels, fit.yi, fit.vi, fit.weights)
        ],
        coefficients=coefs if len(coefs) > 1 else {},
        frequentist=fit.to_dict(),
        warnings=list(fit.warnings),
    )
