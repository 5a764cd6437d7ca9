"""Exact Bayesian engine: normal-normal random effects and meta-regression, with no sampling.

Cost: milliseconds (k = 1,000: a few ms), numpy and scipy only; never imports pymc, bambi or arviz.
This is what the app and the CLI compute interactively. The location parameters are integrated
out in closed form and tau on an adaptive grid (:mod:`.grid`), so every marginal is a mixture
of normals (:mod:`.mixture`). The public entry points are :func:`posterior` and :func:`regression`.
"""

from evidence.meta.exact.metareg import ExactRegression, regression
from evidence.meta.exact.normal import ExactPosterior, posterior

__all__ = ["ExactPosterior", "ExactRegression", "posterior", "regression"]
