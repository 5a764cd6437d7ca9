"""Frequentist engine, numerically aligned with metafor 3.8-1: ``rma`` (all nine tau^2 estimators,
Knapp-Hartung, meta-regression), the Q-profile CI, leave-one-out, cumulative analysis, the
three-level ``rma.mv`` and the small-study diagnostics (Egger, trim-and-fill, PET-PEESE).

Cost: numpy and scipy only, milliseconds at the sizes seen in practice; never imports pymc, bambi
or arviz.
"""

from evidence.meta.frequentist.bias import egger_test, pet_peese, trimfill
from evidence.meta.frequentist.multilevel import MultilevelFit, rma_mv_three_level
from evidence.meta.frequentist.univariate import RmaFit, cumulative, leave1out, rma, tau2_ci_qprofile, to_meta_result

__all__ = ["MultilevelFit", "RmaFit", "cumulative", "egger_test", "leave1out", "pet_peese", "rma",
           "rma_mv_three_level", "tau2_ci_qprofile", "to_meta_result", "trimfill"]
