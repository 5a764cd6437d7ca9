"""Fit any sampled model kind of :mod:`evidence.meta.pymc.registry` into a :class:`MetaResult`.

``describe`` gives (label, spec, data) before sampling: what ``MetaResult.hash`` and the fit cache's
key are computed from. ``build`` returns the unsampled model; ``fit`` samples it with
:class:`~evidence.meta.pymc.settings.SamplerSettings`, summarises the entry's draws the same way for
every kind, stores the marginal log-likelihood for LOO and attaches the ``InferenceData``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evidence.errors import MetaAnalysisError
from evidence.meta.frequentist.bias import pet_peese
from evidence.meta.inputs import check_effects, typical_variance
from evidence.meta.priors import parse_mu_prior, parse_tau_prior
from evidence.meta.pymc import registry, sampling
from evidence.meta.pymc.compare import add_marginal_loglik
from evidence.meta.pymc.draws import summarize
from evidence.meta.pymc.random_effects import coord_labels
from evidence.meta.pymc.settings import SamplerSettings
from evidence.meta.result import MetaResult, StudyEstimate, Summary


def describe(kind, yi, vi, *, thresholds: Sequence[float] = (), **options) -> tuple[str, dict, dict]:
    """(model label, spec, data) of a fit: what ``MetaResult.hash`` is computed from (and the cache key)."""
    entry, opts = registry.resolve(kind, options)
    y, v = check_effects(yi, vi, min_k=2)
    spec: dict = {"kind": kind}
    if entry.priors:
        spec.update(tau_prior=parse_tau_prior(opts["tau_prior"]).spec, mu_prior=parse_mu_prior(opts["mu_prior"]).spec)
    spec["thresholds"] = list(thresholds)
    data = {"labels": coord_labels(opts.get("labels"), y.size), "yi": y.tolist(), "vi": v.tolist()}
    if entry.spec is not None:
        spec.update(entry.spec(opts))
    if entry.data is not None:
        data.update(entry.data(opts, y.size))
    if entry.reports_i2:
        spec["i2"] = registry.I2_SPEC
    return entry.label, spec, data


def build(kind, yi, vi, **options):
    """The unsampled model for ``kind`` (``pm.Model``, or ``bmb.Model`` for "metareg")."""
    entry, opts = registry.resolve(kind, options)
    if entry.build is None:
        raise MetaAnalysisError(f"the {kind} model is not sampled ({entry.description})")
    y, v = check_effects(yi, vi, min_k=2)
    return entry.build(y, v, opts)


def fit(kind, yi, vi, *, settings: SamplerSettings | None = None, measure=None, thresholds: Sequence[float] = (),
        log_likelihood: bool = True, **options) -> MetaResult:
    """Sample model ``kind`` and summarise it as a :class:`MetaResult` (``idata`` attached).

    ``options`` are the model's (see ``registry.KINDS``: priors, labels, ``mods``/``formula``,
    ``cluster``, ``nu``, ``cutpoints``, ``alternative``) and, as a shorthand, fields of
    ``SamplerSettings`` overriding ``settings`` (e.g. ``draws=500``).
    """
    settings, options = SamplerSettings.resolve(settings, options)
    name, spec, data = describe(kind, yi, vi, thresholds=thresholds, **options)
    entry, opts = registry.resolve(kind, options)
    yi, vi = check_effects(yi, vi, min_k=2)
    if entry.build is None:  # PET-PEESE: weighted least squares, no sampling
        alt = opts["alternative"]
        pp = pet_peese(yi, vi, alternative=alt if alt in ("greater", "less") else None)
        mu = Summary(mean=pp["estimate"], sd=pp["se"], q025=pp["ci_lb"], q975=pp["ci_ub"])
        return MetaResult(model=name, k=yi.size, measure=measure, spec=spec, data=data, mu=mu,
                          frequentist=pp, studies=[StudyEstimate(lab, y, v) for lab, y, v in
                                                   zip(data["labels"], yi.tolist(), vi.tolist())])
    assert entry.draws is not None and entry.loglik is not None
    model = entry.build(yi, vi, opts)
    idata = sampling.sample(model, settings)
    post = idata.posterior
    d = entry.draws(post, yi, vi, opts, np.random.default_rng(settings.seed))
    if d.theta_new is not None:  # keep the predictive draws (with chain structure: arviz gives their MCSE)
        post["theta_new"] = (("chain", "draw"), d.theta_new.reshape(post.sizes["chain"], post.sizes["draw"]))
    studies = []
    for i, (lab, y, v) in enumerate(zip(data["labels"], yi.tolist(), vi.tolist())):
        q = np.quantile(d.theta[:, i], [0.025, 0.975])
        studies.append(StudyEstimate(lab, y, v, float(d.theta[:, i].mean()), float(q[0]), float(q[1])))
    i2 = None
    if entry.reports_i2:
        s2 = typical_variance(vi)
        i2 = float(np.median(100 * d.tau**2 / (d.tau**2 + s2)))
    if log_likelihood:
        add_marginal_loglik(idata, kind, yi, vi, **options)
    monitored = [v for v in post.data_vars if v not in entry.not_diagnosed and not str(v).endswith("__")]
    diag = sampling.diagnose(idata, monitored)
    warnings = sampling.diagnostic_warnings(diag, idata.attrs.get("sampler_fallback", ""))
    return MetaResult(
        model=name, k=yi.size, measure=measure, spec=spec, data=data, mu=summarize(d.mu),
        tau=summarize(d.tau), theta_new=None if d.theta_new is None else summarize(d.theta_new),
        p_below_0=float(np.mean(d.mu < 0)),
        p_abs_above={f"{float(t):g}": float(np.mean(np.abs(d.mu) > t)) for t in thresholds},
        i2=i2, studies=studies, coefficients=d.coefficients, diagnostics=diag, warnings=warnings,
        seed=settings.seed, idata=idata,
    )
