"""Sampling backend for the PyMC models, kept apart from the model specifications.

Like bambi's split of formula and backend: :mod:`evidence.meta.pymc.models` says *what* the model is (an
unsampled ``pm.Model`` or ``bmb.Model``); this module says *how* it is sampled and whether the draws
can be trusted. nutpie (Rust NUTS, numba-compiled logp) is the default because it is several times
faster than PyMC's sampler once compiled; PyMC's NUTS is the fallback when nutpie is missing or fails,
and the sampler that actually ran is recorded in ``idata.attrs["sampler"]`` and in ``Diagnostics``.

pymc, pytensor, bambi, nutpie and arviz are imported inside functions only, so importing this module
(e.g. from the CLI or the app) costs nothing.

Convergence rule (stated once, used everywhere):

* any divergent transition after warm-up -> warning;
* max rank-normalised split R-hat > 1.01 -> warning (Vehtari et al. 2021);
* min bulk or tail ESS below ``min(400, 0.5 * draws * chains)`` -> warning. 400 is Vehtari et al.'s
  recommendation; it is capped at half the retained draws so that a deliberately short run (e.g. a
  quick look with 2 x 200 draws) is judged on its mixing, not on its length. Runs with fewer than
  400 retained draws in total get their own "too few draws" warning instead.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import numpy as np

from evidence.meta.pymc.settings import SamplerSettings
from evidence.meta.result import Diagnostics

RHAT_MAX = 1.01
ESS_TARGET = 400.0

# nutpie compilation (numba) dominates a small fit; compile each model object once.
_COMPILED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def as_pymc_model(model):
    """The ``pm.Model`` behind ``model``; a bambi model is built first (its backend holds the pm.Model)."""
    import pymc as pm

    if isinstance(model, pm.Model):
        return model
    if getattr(model, "backend", None) is None or getattr(model.backend, "model", None) is None:
        model.build()
    return model.backend.model


def _nutpie_sample(model, s: SamplerSettings, progress: bool):
    import nutpie

    compiled = _COMPILED.get(model)
    if compiled is None:
        compiled = nutpie.compile_pymc_model(model)
        _COMPILED[model] = compiled
    return nutpie.sample(compiled, draws=s.draws, tune=s.tune, chains=s.chains, cores=min(s.chains, 2), seed=s.seed,
                         target_accept=s.target_accept, progress_bar=progress, save_warmup=False)


def _pymc_sample(model, s: SamplerSettings, progress: bool):
    import pymc as pm

    return pm.sample(draws=s.draws, tune=s.tune, chains=s.chains, cores=1, random_seed=s.seed,
                     target_accept=s.target_accept, progressbar=progress, model=model,
                     compute_convergence_checks=False, return_inferencedata=True)


def sample(model, settings: SamplerSettings | None = None, progress: bool = False):
    """Draw from the posterior of ``model`` (``pm.Model`` or ``bmb.Model``); returns ``InferenceData``.

    ``settings.sampler="nutpie"`` falls back to PyMC's NUTS if nutpie cannot be imported, cannot run
    (no warm-up: nuts-rs panics rather than raising) or raises; the sampler that ran ("nutpie" or
    "pymc"), the reason for a fallback, the wall time and the settings are stored in ``idata.attrs``.
    """
    s = settings if settings is not None else SamplerSettings()
    pm_model = as_pymc_model(model)
    fallback = ""
    used = s.sampler
    t0 = time.perf_counter()
    idata = None
    if s.sampler == "nutpie":
        if s.tune < 1:
            fallback = "nutpie failed (nutpie needs tune >= 1); PyMC NUTS used instead"
        else:
            try:
                idata = _nutpie_sample(pm_model, s, progress)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - incl. pyo3's PanicException (a BaseException): fall back, say so
                fallback = f"nutpie failed ({type(exc).__name__}: {exc}); PyMC NUTS used instead"
        if idata is None:
            used = "pymc"
            t0 = time.perf_counter()
    if idata is None:
        idata = _pymc_sample(pm_model, s, progress)
    seconds = time.perf_counter() - t0
    idata.attrs.update(sampler=used, sampler_fallback=fallback, sampling_seconds=float(seconds),
                       draws=s.draws, tune=s.tune, chains=s.chains, seed=s.seed, target_accept=float(s.target_accept))
    return idata


def _monitored(idata, var_names):
    post = idata.posterior
    if var_names is None:
        var_names = [v for v in post.data_vars if not str(v).endswith("__")]
    return [v for v in var_names if v in post.data_vars]


def diagnose(idata, var_names=None) -> Diagnostics:
    """Divergences, max R-hat and min bulk/tail ESS over ``var_names`` (default: all but transformed)."""
    import arviz as az

    names = _monitored(idata, var_names)
    attrs = idata.attrs
    n_div = 0
    if "sample_stats" in idata.groups() and "diverging" in idata.sample_stats:
        n_div = int(np.asarray(idata.sample_stats["diverging"]).sum())

    def extreme(ds, fn):
        parts = [np.asarray(ds[v], dtype=float).ravel() for v in ds.data_vars]
        vals = np.concatenate(parts) if parts else np.array([np.nan])
        vals = vals[np.isfinite(vals)]
        return float(fn(vals)) if vals.size else float("nan")

    chains = int(idata.posterior.sizes["chain"])
    draws = int(idata.posterior.sizes["draw"])
    if chains * draws >= 4 and draws >= 4:
        rhat = extreme(az.rhat(idata, var_names=names), np.max)
        ess_b = extreme(az.ess(idata, var_names=names, method="bulk"), np.min)
        ess_t = extreme(az.ess(idata, var_names=names, method="tail"), np.min)
    else:
        rhat, ess_b, ess_t = float("nan"), float("nan"), float("nan")
    return Diagnostics(
        sampler=str(attrs.get("sampler", "unknown")),
        draws=int(attrs.get("draws", draws)),
        tune=int(attrs.get("tune", 0)),
        chains=int(attrs.get("chains", chains)),
        seed=int(attrs.get("seed", -1)),
        divergences=n_div,
        max_rhat=rhat,
        min_ess_bulk=ess_b,
        min_ess_tail=ess_t,
        seconds=float(attrs.get("sampling_seconds", float("nan"))),
    )


def ess_threshold(draws: int, chains: int) -> float:
    """ESS below which a warning is raised: ``min(400, 0.5 * draws * chains)`` (see module docstring)."""
    return min(ESS_TARGET, 0.5 * draws * chains)


def diagnostic_warnings(diag: Diagnostics, fallback: str = "") -> list[str]:
    """Human-readable warnings for a fit that should not be trusted as it stands."""
    out = []
    if fallback:
        out.append(fallback)
    total = diag.draws * diag.chains
    if diag.divergences > 0:
        out.append(
            f"{diag.divergences} divergent transition(s) after warm-up: the posterior may be biased; "
            "increase target_accept or reparameterise."
        )
    if not np.isfinite(diag.max_rhat):
        out.append("R-hat could not be computed (too few draws or chains); convergence is unchecked.")
    elif diag.max_rhat > RHAT_MAX:
        out.append(
            f"max R-hat = {diag.max_rhat:.3f} > {RHAT_MAX}: chains disagree (not converged); "
            "run longer (more tune/draws)."
        )
    thr = ess_threshold(diag.draws, diag.chains)
    for label, ess in (("bulk", diag.min_ess_bulk), ("tail", diag.min_ess_tail)):
        if np.isfinite(ess) and ess < thr:
            out.append(
                f"min {label} ESS = {ess:.0f} < {thr:.0f}: too few effective draws for reliable "
                f"{'means' if label == 'bulk' else 'interval limits'}; run longer."
            )
    if total < ESS_TARGET:
        out.append(f"only {total} retained draws in total (< {ESS_TARGET:.0f}): treat quantiles as rough.")
    if diag.tune == 0:
        out.append("no warm-up (tune=0): step size and mass matrix were not adapted.")
    return out
