"""The sampled model kinds: one entry per model, and nothing else decides what a kind does.

An entry says what the model is called in results (``label``), what it needs and accepts, how it
is built (an unsampled ``pm.Model``/``bmb.Model``), what its spec and data add to the result's
hash, how its posterior becomes the reported :class:`~evidence.meta.pymc.draws.Draws`, and its
marginal per-effect log-likelihood for LOO. :func:`evidence.meta.pymc.models.fit` and
:mod:`evidence.meta.pymc.compare` only read entries, so adding a model is adding an entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evidence.errors import MetaAnalysisError
from evidence.meta.priors import DEFAULT_MU_PRIOR, DEFAULT_TAU_PRIOR
from evidence.meta.pymc import metareg, random_effects as re_, selection

#: Every kind with priors accepts these (defaults in :mod:`evidence.meta.priors`).
PRIOR_OPTIONS = ("tau_prior", "mu_prior")

I2_SPEC = "posterior median of 100 tau^2 / (tau^2 + s^2); s^2 = Higgins-Thompson typical vi"


@dataclass(frozen=True)
class ModelKind:
    """One model kind; see the module docstring. ``build`` None means "not sampled" (``direct``
    computes the result instead)."""

    kind: str
    label: str
    description: str
    needs: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # accepted besides the priors, labels and ``needs``
    defaults: tuple[tuple[str, Any], ...] = ()
    priors: bool = True
    build: Callable[..., Any] | None = None
    draws: Callable[..., Any] | None = None
    loglik: Callable[..., Any] | None = None
    spec: Callable[[dict], dict] | None = None
    data: Callable[[dict, int], dict] | None = None
    reports_i2: bool = False
    not_diagnosed: tuple[str, ...] = ("loglik_i",)  # posterior variables left out of R-hat/ESS

    def accepted(self) -> tuple[str, ...]:
        return ("labels", *(PRIOR_OPTIONS if self.priors else ()), *self.needs, *self.options)


KINDS: dict[str, ModelKind] = {m.kind: m for m in (
    ModelKind("normal", "pymc-normal-normal", "normal-normal random effects (the exact engine's model)",
              build=re_.build_normal_normal, draws=re_.normal_draws, loglik=re_.normal_loglik, reports_i2=True),
    ModelKind("metareg", "bambi-metareg", "meta-regression with bambi (mods columns, optional formula '~ x1 + x2')",
              options=("mods", "formula"), build=metareg.build_metareg, draws=metareg.metareg_draws,
              loglik=metareg.metareg_loglik, spec=metareg.metareg_spec, data=metareg.metareg_data, reports_i2=True,
              not_diagnosed=("mu", "sigma", "loglik_i")),
    ModelKind("three-level", "pymc-three-level", "effects within studies (cluster = the study of each effect)",
              needs=("cluster",), build=re_.build_three_level, draws=re_.three_level_draws,
              loglik=re_.three_level_loglik, data=re_.three_level_data, reports_i2=True),
    ModelKind("robust", "pymc-robust-t", "Student-t random effects (nu None: Gamma(2, 0.1) prior)",
              options=("nu",), build=re_.build_robust, draws=re_.robust_draws, loglik=re_.robust_loglik,
              spec=re_.robust_spec),
    ModelKind("selection", "pymc-selection-step", "step-function publication-selection model",
              options=("cutpoints", "alternative"), defaults=(("alternative", "greater"),),
              build=selection.build_selection, draws=selection.selection_draws,
              loglik=selection.selection_marginal_loglik, spec=selection.selection_spec, reports_i2=True),
    ModelKind("petpeese", "pet-peese", "PET-PEESE weighted least squares (not sampled)",
              options=("alternative",), defaults=(("alternative", "greater"),), priors=False,
              spec=lambda opts: {"alternative": opts["alternative"]}),
)}


def get(kind: str) -> ModelKind:
    """The entry for ``kind``, or a clear error naming the kinds there are."""
    try:
        return KINDS[kind]
    except (KeyError, TypeError):
        raise MetaAnalysisError(f"unknown model kind {kind!r}; use one of {', '.join(sorted(KINDS))}") from None


def resolve(kind: str, given: dict) -> tuple[ModelKind, dict]:
    """The entry for ``kind`` and its options with defaults filled in; an option the kind does not
    take, or a missing one it needs, is an error (not silently ignored)."""
    entry = get(kind)
    given = {k: v for k, v in given.items() if v is not None}  # None = not given
    unknown = sorted(set(given) - set(entry.accepted()))
    if unknown:
        raise MetaAnalysisError(f"model kind {kind!r} does not take {', '.join(unknown)} "
                                f"(it takes {', '.join(entry.accepted())})")
    opts = {**({"tau_prior": DEFAULT_TAU_PRIOR, "mu_prior": DEFAULT_MU_PRIOR} if entry.priors else {}),
            **dict(entry.defaults), **given}
    missing = [n for n in entry.needs if opts.get(n) is None]
    if missing:
        raise MetaAnalysisError(f"the {kind} model needs {', '.join(missing)} ({entry.description})")
    return entry, opts
