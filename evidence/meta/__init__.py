"""The meta-analysis engines, grouped by what they cost and what they depend on.

* :mod:`evidence.meta.exact` - exact Bayesian random effects and meta-regression (numpy/scipy;
  milliseconds; what the app computes interactively).
* :mod:`evidence.meta.frequentist` - metafor-aligned estimators (numpy/scipy; O(k) per iteration).
* :mod:`evidence.meta.pymc` - sampled models (PyMC, bambi, nutpie, arviz; seconds to minutes, and
  seconds just to import): run on request only. Nothing outside it imports it at start-up.

Shared by all three: :mod:`~evidence.meta.inputs` (the one check of yi/vi), :mod:`~evidence.meta.result`
(``MetaResult``), :mod:`~evidence.provenance` (the recorded package versions),
:mod:`~evidence.meta.priors` and :mod:`~evidence.meta.moderators` (R's treatment coding via formulae).
Importing this package imports none of them.
"""
