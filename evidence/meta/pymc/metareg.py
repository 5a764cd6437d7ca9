"""Bayesian meta-regression with bambi: y_i ~ N(x_i'b + u_i, v_i), u_i ~ N(0, tau^2).

bambi codes text moderators with formulae, the engine :mod:`evidence.meta.moderators` uses for the
frequentist and exact meta-regressions, so all three code a moderator the same way (R's treatment
coding, first level as reference).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evidence.errors import MetaAnalysisError
from evidence.meta.pymc.draws import Draws, flat, norm_logpdf, summarize
from evidence.meta.pymc.random_effects import coord_labels, mu_prior_args, tau_prior_args


def rhs_of(formula, mods) -> str:
    """Right-hand side of a metafor-style moderator formula ("~ x1 + x2"); default: all mods columns."""
    if formula:
        return formula.split("~", 1)[-1].strip()
    cols = list(pd.DataFrame(mods).columns) if mods is not None else []
    return " + ".join(cols) if cols else "1"


def metareg_spec(opts) -> dict:
    return {"formula": f"yi ~ {rhs_of(opts.get('formula'), opts.get('mods'))} + (1|study); "
                       "sigma ~ 0 + offset(log(sqrt(vi)))"}


def metareg_data(opts, k) -> dict:
    mods = opts.get("mods")
    return {"mods": {} if mods is None else {str(c): list(v) for c, v in pd.DataFrame(mods).items()}}


def regression_frame(yi, vi, mods, labels=None) -> pd.DataFrame:
    """Data frame for the bambi formula: yi, vi, log_se, study, and the moderator columns."""
    df = pd.DataFrame(mods).reset_index(drop=True) if mods is not None else pd.DataFrame(index=range(yi.size))
    if len(df) != yi.size:
        raise MetaAnalysisError(f"mods must have one row per effect ({yi.size}), got {len(df)}")
    reserved = {"yi", "vi", "log_se", "study"} & set(df.columns)
    if reserved:
        raise MetaAnalysisError(f"moderator names clash with reserved columns: {sorted(reserved)}")
    df.insert(0, "study", coord_labels(labels, yi.size))
    df.insert(0, "log_se", 0.5 * np.log(vi))
    df.insert(0, "vi", vi)
    df.insert(0, "yi", yi)
    if df.isna().any().any():
        raise MetaAnalysisError("missing moderator values: drop those rows first (as metafor does)")
    return df


def build_metareg(yi, vi, opts):
    """The bambi model (unsampled ``bmb.Model``).

    bambi has no known-variance term (bambinos/bambi#817), so sigma gets its own formula with no
    intercept and an offset: ``sigma ~ 0 + offset(log_se)``. The gaussian family's sigma link is log,
    so sigma_i = exp(log se_i) = se_i exactly, with no free parameter. ``(1|study)`` gives one random
    intercept per effect whose SD is tau (``1|study_sigma``; bambi non-centres it). Predictors are not
    centred so ``Intercept`` is the metafor ``intrcpt``.
    """
    import bambi as bmb

    df = regression_frame(yi, vi, opts.get("mods"), opts.get("labels"))
    mu_dist, mu_params = mu_prior_args(opts["mu_prior"])
    coef_prior = bmb.Prior(mu_dist, **mu_params)
    tau_dist, tau_params = tau_prior_args(opts["tau_prior"])
    priors = {"common": coef_prior, "Intercept": coef_prior,
              "1|study": bmb.Prior("Normal", mu=0.0, sigma=bmb.Prior(tau_dist, **tau_params))}
    formula = bmb.Formula(f"yi ~ {rhs_of(opts.get('formula'), opts.get('mods'))} + (1|study)",
                          "sigma ~ 0 + offset(log_se)")
    return bmb.Model(formula, df, family="gaussian", priors=priors, center_predictors=False)


def metareg_draws(post, yi, vi, opts, rng) -> Draws:
    """mu = the intercept, tau = the random intercepts' SD; one coefficient per term (and level)."""
    coefficients = {}
    for term in post.data_vars:
        t = str(term)
        if t in ("mu", "sigma") or "|" in t or t.endswith("__"):
            continue
        arr = post[t]
        extra = [d for d in arr.dims if d not in ("chain", "draw")]
        if not extra:
            coefficients["intrcpt" if t == "Intercept" else t] = summarize(flat(post, t))
        else:
            for lev in arr[extra[0]].values:
                coefficients[f"{t}[{lev}]"] = summarize(np.asarray(arr.sel({extra[0]: lev})).ravel())
    theta = flat(post, "mu").reshape(-1, yi.size)
    return Draws(flat(post, "Intercept"), flat(post, "1|study_sigma"), theta, None, coefficients)


def metareg_loglik(post, yi, vi, opts) -> np.ndarray:
    """Fixed part = bambi's linear predictor minus the effect's own random intercept."""
    labels = coord_labels(opts.get("labels"), yi.size)
    u = post["1|study"].sel({"study__factor_dim": labels})
    fixed = flat(post, "mu").reshape(-1, yi.size) - np.asarray(u, float).reshape(-1, yi.size)
    return norm_logpdf(yi[None, :], fixed, vi[None, :] + flat(post, "1|study_sigma")[:, None] ** 2)
