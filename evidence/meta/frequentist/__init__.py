"""Frequentist engine, numerically aligned with metafor 3.8-1: ``rma`` (all nine tau^2 estimators,
Knapp-Hartung, meta-regression), the Q-profile CI, leave-one-out, cumulative analysis, the
three-level ``rma.mv`` and the small-study diagnostics (Egger, trim-and-fill, PET-PEESE).

Cost: numpy and scipy only; never imports pymc, bambi or arviz. Every estimator needs O(k) work per
iteration (O(k p^2) with p coefficients) and never forms a k x k matrix (:mod:`.wls`; the
three-level model works from per-group sums), so 100,000 effects run in bounded memory.
"""

from evidence.meta.frequentist.univariate import RmaFit, cumulative, leave1out, rma, tau2_ci_qprofile, to_meta_result

# The small-study diagnostics (scipy.stats) and the three-level model (scipy.optimize) load on first use:
# `evidence meta --csv` needs neither, and importing them would cost it most of a second.
_LAZY = {"egger_test": "bias", "pet_peese": "bias", "trimfill": "bias",
         "MultilevelFit": "multilevel", "rma_mv_three_level": "multilevel"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MultilevelFit", "RmaFit", "cumulative", "egger_test", "leave1out", "pet_peese", "rma",
           "rma_mv_three_level", "tau2_ci_qprofile", "to_meta_result", "trimfill"]
