"""Posterior draws -> the numbers a ``MetaResult`` reports: what every model kind hands back.

Each kind's summariser (see :mod:`evidence.meta.pymc.registry`) turns its own posterior variables
into :class:`Draws` (mu, tau, the study effects, a new study's effect and any extra coefficients),
so :func:`evidence.meta.pymc.models.fit` summarises every kind the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evidence.meta.result import Summary


@dataclass
class Draws:
    """Flattened draws (chains x draws) of the reported quantities; ``theta`` is (draws, k)."""

    mu: np.ndarray
    tau: np.ndarray
    theta: np.ndarray
    theta_new: np.ndarray | None = None  # None: no predictive distribution (meta-regression)
    coefficients: dict[str, Summary] = field(default_factory=dict)


def flat(post, name) -> np.ndarray:
    """A posterior variable with chains and draws merged into the first axis (scalars: a vector)."""
    a = np.asarray(post[name], dtype=float)
    return a.reshape(post.sizes["chain"] * post.sizes["draw"], *a.shape[2:])


def summarize(x) -> Summary:
    x = np.asarray(x, dtype=float)
    q = np.quantile(x, [0.025, 0.5, 0.975])
    return Summary(mean=float(x.mean()), sd=float(x.std(ddof=1)), q025=float(q[0]), q50=float(q[1]), q975=float(q[2]))


def norm_logpdf(y, m, var):
    return -0.5 * (np.log(2 * np.pi * var) + (y - m) ** 2 / var)
