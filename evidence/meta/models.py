"""PyMC / bambi specifications of the sampled meta-analysis models, and ``fit`` to run them.

Each ``build_*`` returns an *unsampled* ``pm.Model`` (or ``bmb.Model``) so the same specification can
be sampled by either backend (:mod:`evidence.meta.sampling`), inspected, or compared. ``fit`` samples,
summarises into :class:`~evidence.meta.result.MetaResult` and attaches the ``InferenceData``.

All random-effects models share the exact engine's priors: ``tau_prior`` strings such as
``"halfnormal:0.5"``, ``"halfcauchy:1"``, ``"halft:3:0.5"``, ``"lognormal:-1.5:1"``, ``"uniform:0:5"``;
``mu_prior="flat"`` is an improper uniform (``pm.Flat``), exactly what the exact engine integrates,
or ``"normal:m:s"``. Random effects are non-centred (theta = mu + tau * z) because k is small and
tau is often near 0, where the centred form gives funnels and divergences.

The ``log_likelihood`` group holds the per-effect *marginal* log density p(y_i | hyper-parameters)
(random effect integrated out; for the three-level model: given the cluster effect), computed in
:mod:`evidence.meta.compare`, so LOO compares models at the level of "a new effect", not "a new draw
of a known theta_i" (which would make LOO favour whichever model over-fits theta).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evidence.errors import MetaAnalysisError
from evidence.meta.exact import typical_variance
from evidence.meta.result import MetaResult, StudyEstimate, Summary

# -- priors --------------------------------------------------------------------------------------


def tau_prior_args(spec) -> tuple[str, dict]:
    """Tau prior string -> (PyMC/bambi distribution name, parameters), e.g. ``("HalfNormal", {"sigma": .5})``.

    Parsed by the exact engine's :func:`evidence.meta.priors.parse_tau_prior`, so both engines accept,
    reject and mean exactly the same strings.
    """
    from evidence.meta.priors import parse_tau_prior

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
    from evidence.meta.priors import parse_mu_prior

    p = parse_mu_prior(spec)
    return ("Flat", {}) if p.kind == "flat" else ("Normal", {"mu": p.mean, "sigma": p.sd})


# -- builders ------------------------------------------------------------------------------------


def _labels(labels, k):
    if labels is None:
        return [str(i + 1) for i in range(k)]
    labels = [str(x) for x in labels]
    if len(set(labels)) != k:  # coords must be unique
        labels = [f"{lab} [{i + 1}]" for i, lab in enumerate(labels)]
    return labels


def _check(yi, vi):
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    if yi.ndim != 1 or yi.shape != vi.shape or yi.size < 2:
        raise MetaAnalysisError("yi and vi must be 1-d of equal length >= 2")
    if not (np.all(np.isfinite(yi)) and np.all(np.isfinite(vi)) and np.all(vi > 0)):
        raise MetaAnalysisError("yi must be finite and vi finite and > 0")
    return yi, vi


def _rv(name, args, **kw):
    import pymc as pm

    dist, params = args
    return getattr(pm, dist)(name, **params, **kw)


def build_normal_normal(yi, vi, *, tau_prior="halfnormal:0.5", mu_prior="flat", labels=None):
    """y_i ~ N(theta_i, v_i), theta_i = mu + tau z_i, z_i ~ N(0, 1): the exact engine's model."""
    import pymc as pm

    yi, vi = _check(yi, vi)
    with pm.Model(coords={"study": _labels(labels, yi.size)}) as model:
        mu = _rv("mu", mu_prior_args(mu_prior))
        tau = _rv("tau", tau_prior_args(tau_prior))
        z = pm.Normal("z", 0.0, 1.0, dims="study")
        theta = pm.Deterministic("theta", mu + tau * z, dims="study")
        pm.Normal("yi", theta, sigma=np.sqrt(vi), observed=yi, dims="study")
    return model


def build_robust(yi, vi, *, tau_prior="halfnormal:0.5", mu_prior="flat", nu=None, labels=None):
    """Student-t random effects: theta_i = mu + tau t_i, t_i ~ t_nu(0, 1); nu ~ Gamma(2, 0.1) or fixed.

    Heavy tails let one outlying programme keep its own effect instead of dragging mu and inflating
    tau. ``tau`` is the t scale (its SD is tau * sqrt(nu / (nu - 2)) for nu > 2).
    """
    import pymc as pm

    yi, vi = _check(yi, vi)
    with pm.Model(coords={"study": _labels(labels, yi.size)}) as model:
        mu = _rv("mu", mu_prior_args(mu_prior))
        tau = _rv("tau", tau_prior_args(tau_prior))
        nu_rv = pm.Gamma("nu", alpha=2.0, beta=0.1) if nu is None else pm.Data("nu", float(nu))
        z = pm.StudentT("z", nu=nu_rv, mu=0.0, sigma=1.0, dims="study")
        theta = pm.Deterministic("theta", mu + tau * z, dims="study")
        pm.Normal("yi", theta, sigma=np.sqrt(vi), observed=yi, dims="study")
    return model


def build_three_level(yi, vi, cluster, *, tau_prior="halfnormal:0.5", mu_prior="flat", labels=None):
    """Effects within studies: y_ij ~ N(mu + u_j + e_ij, v_ij), u_j ~ N(0, s_b^2), e_ij ~ N(0, s_w^2).

    Both SDs get ``tau_prior`` (as metafor's ``rma.mv(random = ~ 1 | cluster/effect)`` treats them
    alike); ``sigma2_between``/``sigma2_within`` are recorded to compare with metafor's ``sigma2``.
    """
    import pymc as pm

    yi, vi = _check(yi, vi)
    cluster = np.asarray(cluster)
    if cluster.shape != yi.shape:
        raise MetaAnalysisError("cluster must have one entry per effect")
    levels, idx = np.unique(cluster.astype(str), return_inverse=True)
    coords = {"study": _labels(labels, yi.size), "cluster": list(levels)}
    with pm.Model(coords=coords) as model:
        mu = _rv("mu", mu_prior_args(mu_prior))
        s_b = _rv("sigma_between", tau_prior_args(tau_prior))
        s_w = _rv("sigma_within", tau_prior_args(tau_prior))
        z_b = pm.Normal("z_between", 0.0, 1.0, dims="cluster")
        z_w = pm.Normal("z_within", 0.0, 1.0, dims="study")
        pm.Deterministic("sigma2_between", s_b**2)
        pm.Deterministic("sigma2_within", s_w**2)
        pm.Deterministic("tau", pm.math.sqrt(s_b**2 + s_w**2))
        u = pm.Deterministic("u_cluster", s_b * z_b, dims="cluster")
        theta = pm.Deterministic("theta", mu + u[idx] + s_w * z_w, dims="study")
        pm.Normal("yi", theta, sigma=np.sqrt(vi), observed=yi, dims="study")
    model.cluster_index = idx  # used for the cluster-conditional log-likelihood
    return model


def regression_frame(yi, vi, mods, labels=None) -> pd.DataFrame:
    """Data frame for the bambi formula: yi, vi, log_se, study, and the moderator columns."""
    yi, vi = _check(yi, vi)
    df = pd.DataFrame(mods).reset_index(drop=True) if mods is not None else pd.DataFrame(index=range(yi.size))
    if len(df) != yi.size:
        raise MetaAnalysisError("mods must have one row per effect")
    reserved = {"yi", "vi", "log_se", "study"} & set(df.columns)
    if reserved:
        raise MetaAnalysisError(f"moderator names clash with reserved columns: {sorted(reserved)}")
    df.insert(0, "study", _labels(labels, yi.size))
    df.insert(0, "log_se", 0.5 * np.log(vi))
    df.insert(0, "vi", vi)
    df.insert(0, "yi", yi)
    if df.isna().any().any():
        raise MetaAnalysisError("missing moderator values: drop those rows first (as metafor does)")
    return df


def rhs_of(formula, mods) -> str:
    """Right-hand side of a metafor-style moderator formula ("~ x1 + x2"); default: all mods columns."""
    if formula:
        return formula.split("~", 1)[-1].strip()
    cols = list(pd.DataFrame(mods).columns) if mods is not None else []
    return " + ".join(cols) if cols else "1"


def build_metareg_bambi(df, rhs, *, tau_prior="halfnormal:0.5", mu_prior="flat"):
    """Meta-regression with bambi: y_i ~ N(x_i'b + u_i, v_i), u_i ~ N(0, tau^2).

    bambi has no known-variance term (bambinos/bambi#817), so sigma gets its own formula with no
    intercept and an offset: ``sigma ~ 0 + offset(log_se)``. The gaussian family's sigma link is log,
    so sigma_i = exp(log se_i) = se_i exactly, with no free parameter. ``(1|study)`` gives one random
    intercept per effect whose SD is tau (``1|study_sigma``; bambi non-centres it). Predictors are not
    centred so ``Intercept`` is the metafor ``intrcpt``.
    """
    import bambi as bmb

    mu_dist, mu_params = mu_prior_args(mu_prior)
    coef_prior = bmb.Prior(mu_dist, **mu_params)
    tau_dist, tau_params = tau_prior_args(tau_prior)
    priors = {"common": coef_prior, "Intercept": coef_prior,
              "1|study": bmb.Prior("Normal", mu=0.0, sigma=bmb.Prior(tau_dist, **tau_params))}
    formula = bmb.Formula(f"yi ~ {rhs} + (1|study)", "sigma ~ 0 + offset(log_se)")
    return bmb.Model(formula, df, family="gaussian", priors=priors, center_predictors=False)


def build_metareg_pymc(yi, vi, X, *, tau_prior="halfnormal:0.5", mu_prior="flat", names=None):
    """The same meta-regression written directly in PyMC (design matrix ``X`` incl. intercept)."""
    import pymc as pm

    yi, vi = _check(yi, vi)
    X = np.asarray(X, dtype=float)
    names = list(names) if names is not None else [f"b{j}" for j in range(X.shape[1])]
    with pm.Model(coords={"study": _labels(None, yi.size), "coef": names}) as model:
        b = _rv("b", mu_prior_args(mu_prior), dims="coef")
        tau = _rv("tau", tau_prior_args(tau_prior))
        z = pm.Normal("z", 0.0, 1.0, dims="study")
        theta = pm.Deterministic("theta", pm.math.dot(X, b) + tau * z, dims="study")
        pm.Normal("yi", theta, sigma=np.sqrt(vi), observed=yi, dims="study")
    return model


# -- fit -----------------------------------------------------------------------------------------

MODEL_NAMES = {
    "normal": "pymc-normal-normal",
    "metareg": "bambi-metareg",
    "three-level": "pymc-three-level",
    "robust": "pymc-robust-t",
    "selection": "pymc-selection-step",
    "petpeese": "pet-peese",
}


def describe(kind, yi, vi, *, tau_prior="halfnormal:0.5", mu_prior="flat", mods=None, formula=None,
             cluster=None, labels=None, nu=None, cutpoints=None, alternative="greater",
             thresholds=()):
    """(model name, spec, data) of a fit: what ``MetaResult.hash`` is computed from (and the cache key)."""
    from evidence.meta.models_bias import DEFAULT_CUTPOINTS

    if kind not in MODEL_NAMES:
        raise MetaAnalysisError(f"unknown model kind {kind!r}; use one of {sorted(MODEL_NAMES)}")
    yi, vi = _check(yi, vi)
    from evidence.meta.priors import parse_mu_prior, parse_tau_prior

    spec = {"kind": kind, "tau_prior": parse_tau_prior(tau_prior).spec, "mu_prior": parse_mu_prior(mu_prior).spec,
            "thresholds": list(thresholds)}
    data = {"labels": _labels(labels, yi.size), "yi": yi.tolist(), "vi": vi.tolist()}
    if kind == "metareg":
        spec["formula"] = f"yi ~ {rhs_of(formula, mods)} + (1|study); sigma ~ 0 + offset(log(sqrt(vi)))"
        data["mods"] = {} if mods is None else {str(c): list(v) for c, v in pd.DataFrame(mods).items()}
    if kind == "three-level":
        if cluster is None:
            raise MetaAnalysisError("the three-level model needs cluster (one study id per effect)")
        data["cluster"] = [str(c) for c in cluster]
    if kind == "robust":
        spec["nu"] = "gamma(2, 0.1)" if nu is None else float(nu)
    if kind in ("selection", "petpeese"):
        spec["alternative"] = alternative
    if kind == "selection":
        spec["cutpoints"] = list(cutpoints or DEFAULT_CUTPOINTS)
        spec["weights_prior"] = "cumulative Dirichlet(1,...,1), omega_1 = 1"
    if kind in ("normal", "metareg", "three-level", "selection"):
        spec["i2"] = "posterior median of 100 tau^2 / (tau^2 + s^2); s^2 = Higgins-Thompson typical vi"
    if kind == "petpeese":
        spec = {"kind": kind, "alternative": alternative, "thresholds": list(thresholds)}
    return MODEL_NAMES[kind], spec, data


def build(kind, yi, vi, *, tau_prior="halfnormal:0.5", mu_prior="flat", mods=None, formula=None,
          cluster=None, labels=None, nu=None, cutpoints=None, alternative="greater"):
    """The unsampled model for ``kind`` (``pm.Model``, or ``bmb.Model`` for "metareg")."""
    from evidence.meta.models_bias import DEFAULT_CUTPOINTS, build_selection

    pri = {"tau_prior": tau_prior, "mu_prior": mu_prior}
    if kind == "normal":
        return build_normal_normal(yi, vi, labels=labels, **pri)
    if kind == "robust":
        return build_robust(yi, vi, nu=nu, labels=labels, **pri)
    if kind == "three-level":
        return build_three_level(yi, vi, cluster, labels=labels, **pri)
    if kind == "metareg":
        return build_metareg_bambi(regression_frame(yi, vi, mods, labels), rhs_of(formula, mods), **pri)
    if kind == "selection":
        return build_selection(yi, vi, cutpoints=cutpoints or DEFAULT_CUTPOINTS, alternative=alternative,
                               labels=labels, **pri)
    raise MetaAnalysisError(f"no sampled model for kind {kind!r}")


def _draws(post, name) -> np.ndarray:
    return np.asarray(post[name], dtype=float).reshape(post.sizes["chain"] * post.sizes["draw"], -1).squeeze(-1)


def summarize(x) -> Summary:
    x = np.asarray(x, dtype=float)
    q = np.quantile(x, [0.025, 0.5, 0.975])
    return Summary(mean=float(x.mean()), sd=float(x.std(ddof=1)), q025=float(q[0]), q50=float(q[1]), q975=float(q[2]))


def _study_draws(post, name):
    a = np.asarray(post[name], dtype=float)
    return a.reshape(-1, a.shape[-1])


def fit(kind, yi, vi, *, tau_prior="halfnormal:0.5", mu_prior="flat", mods=None, formula=None, cluster=None,
        labels=None, measure=None, nu=None, cutpoints=None, alternative="greater", thresholds=(),
        draws=1000, tune=1000, chains=2, seed=2026, sampler="nutpie", target_accept=0.9,
        log_likelihood=True) -> MetaResult:
    """Sample model ``kind`` and summarise it as a :class:`MetaResult` (``idata`` attached).

    kinds: "normal", "metareg" (bambi; ``mods`` columns, optional metafor-style ``formula``
    "~ x1 + x2"), "three-level" (``cluster``), "robust" (``nu`` None = Gamma(2, 0.1) prior),
    "selection" (``cutpoints``, ``alternative``) and "petpeese" (no sampling).
    """
    from evidence.meta import sampling
    from evidence.meta.compare import add_marginal_loglik
    from evidence.meta.models_bias import pet_peese

    opts = dict(tau_prior=tau_prior, mu_prior=mu_prior, mods=mods, formula=formula, cluster=cluster,
                labels=labels, nu=nu, cutpoints=cutpoints, alternative=alternative)
    name, spec, data = describe(kind, yi, vi, thresholds=thresholds, **opts)
    yi, vi = _check(yi, vi)
    if kind == "petpeese":
        pp = pet_peese(yi, vi, alternative=alternative if alternative in ("greater", "less") else None)
        mu = Summary(mean=pp["estimate"], sd=pp["se"], q025=pp["ci_lb"], q975=pp["ci_ub"])
        return MetaResult(model=name, k=yi.size, measure=measure, spec=spec, data=data, mu=mu,
                          frequentist=pp, studies=[StudyEstimate(lab, y, v) for lab, y, v in
                                                   zip(data["labels"], yi.tolist(), vi.tolist())])
    model = build(kind, yi, vi, **opts)
    idata = sampling.sample(model, draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler,
                            target_accept=target_accept)
    post = idata.posterior
    rng = np.random.default_rng(seed)
    coefficients: dict[str, Summary] = {}
    if kind == "metareg":
        mu_d, tau_d = _draws(post, "Intercept"), _draws(post, "1|study_sigma")
        for term in post.data_vars:
            t = str(term)
            if t in ("mu", "sigma") or "|" in t or t.endswith("__"):
                continue
            arr = post[t]
            extra = [d for d in arr.dims if d not in ("chain", "draw")]
            if not extra:
                coefficients["intrcpt" if t == "Intercept" else t] = summarize(_draws(post, t))
            else:
                for lev in arr[extra[0]].values:
                    coefficients[f"{t}[{lev}]"] = summarize(np.asarray(arr.sel({extra[0]: lev})).ravel())
        theta = _study_draws(post, "mu")
    else:
        mu_d, tau_d = _draws(post, "mu"), _draws(post, "tau")
        theta = _study_draws(post, "theta") if "theta" in post else None
    if kind == "robust":
        nu_d = _draws(post, "nu") if nu is None else np.full(mu_d.size, float(nu))
        theta_new = mu_d + tau_d * rng.standard_t(nu_d)
        if nu is None:
            coefficients["nu"] = summarize(nu_d)
    else:
        theta_new = mu_d + tau_d * rng.standard_normal(mu_d.size)
    if kind != "metareg":  # keep the predictive draws (with chain structure: arviz gives their MCSE)
        post["theta_new"] = (("chain", "draw"), theta_new.reshape(post.sizes["chain"], post.sizes["draw"]))
    if kind == "three-level":
        for v in ("sigma2_between", "sigma2_within", "sigma_between", "sigma_within"):
            coefficients[v] = summarize(_draws(post, v))
    if kind == "selection":
        om = np.asarray(post["omega"]).reshape(mu_d.size, -1)
        for j, lab in enumerate(post["omega"]["interval"].values):
            coefficients[f"omega[{lab}]"] = summarize(om[:, j])
        # theta_i | y_i, mu, tau is the usual normal shrinkage: selection acts on y_i alone
        prec = 1.0 / vi[None, :] + 1.0 / tau_d[:, None] ** 2
        mean = (yi[None, :] / vi[None, :] + mu_d[:, None] / tau_d[:, None] ** 2) / prec
        theta = mean + rng.standard_normal(mean.shape) / np.sqrt(prec)
    studies = []
    for i, (lab, y, v) in enumerate(zip(data["labels"], yi.tolist(), vi.tolist())):
        q = np.quantile(theta[:, i], [0.025, 0.975])
        studies.append(StudyEstimate(lab, y, v, float(theta[:, i].mean()), float(q[0]), float(q[1])))
    i2 = None
    if kind in ("normal", "metareg", "three-level", "selection"):
        s2 = typical_variance(np.asarray(vi, dtype=float))
        i2 = float(np.median(100 * tau_d**2 / (tau_d**2 + s2)))
    if log_likelihood:
        add_marginal_loglik(idata, kind, yi, vi, cluster=cluster, nu=nu, labels=data["labels"])
    skip = {"mu", "sigma", "loglik_i"} if kind == "metareg" else {"loglik_i"}
    diag = sampling.diagnose(idata, [v for v in post.data_vars if v not in skip and not str(v).endswith("__")])
    warnings = sampling.diagnostic_warnings(diag, idata.attrs.get("sampler_fallback", ""))
    return MetaResult(
        model=name, k=yi.size, measure=measure, spec=spec, data=data, mu=summarize(mu_d),
        tau=summarize(tau_d), theta_new=None if kind == "metareg" else summarize(theta_new),
        p_below_0=float(np.mean(mu_d < 0)),
        p_abs_above={f"{float(t):g}": float(np.mean(np.abs(mu_d) > t)) for t in thresholds},
        i2=i2, studies=studies, coefficients=coefficients, diagnostics=diag, warnings=warnings,
        seed=seed, idata=idata,
    )
