"""Sampled models: PyMC and bambi specifications, NUTS sampling (nutpie, PyMC fallback), LOO, a fit cache.

Cost: importing pymc/pytensor/bambi/arviz takes seconds and a fit seconds to minutes, so this
package is used on request only. Its modules import those packages inside functions, and nothing
on the fast paths (CLI, catalogue, exact and frequentist engines, views, summaries) imports this
package at all (``tests/test_lazy_imports.py``).

* :mod:`.registry` - one entry per model kind (builder, what it needs, its label, how its draws
  are summarised and its marginal log-likelihood); :mod:`.models` fits any entry.
* :mod:`.settings` - ``SamplerSettings``, the one set of sampler defaults (seed from ``evidence.config``).
* :mod:`.random_effects`, :mod:`.metareg`, :mod:`.selection` - the model specifications.
* :mod:`.sampling`, :mod:`.compare`, :mod:`.cache` - how to sample, judge, compare and reuse fits.
"""
