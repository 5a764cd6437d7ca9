"""The one check of what every engine is given: effect sizes yi, sampling variances vi, labels.

Why one: the exact, frequentist and sampled engines used to validate with three functions and three
message styles, so the same bad file got three different errors depending on the method chosen.
Every failure raises :class:`~evidence.errors.InvalidEffectsError` naming the rows (1-based, as a
spreadsheet shows them) and what is wrong there.
"""

from __future__ import annotations

import numpy as np

from evidence.errors import InvalidEffectsError

_SHOW = 10  # rows listed in a message


def _rows(mask: np.ndarray) -> list[int]:
    return [int(i) + 1 for i in np.flatnonzero(mask)[:_SHOW]]


def check_effects(yi, vi, min_k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``yi`` and ``vi`` as float vectors, after checking they are usable.

    Rules: numbers, equal lengths, at least ``min_k`` effects, every yi finite, every vi finite and > 0.
    """
    try:
        y = np.asarray(yi, dtype=float).ravel()
        v = np.asarray(vi, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InvalidEffectsError(f"Effect sizes yi and variances vi must be numeric ({exc}).") from None
    if y.size != v.size:
        raise InvalidEffectsError(f"The effect sizes yi and variances vi have different lengths ({y.size} and {v.size}).")
    if y.size < min_k:
        none = " (no effects to meta-analyse)" if y.size == 0 else ""
        raise InvalidEffectsError(f"At least {min_k} effect size(s) needed, got {y.size}{none}.")
    bad_y = ~np.isfinite(y)
    if bad_y.any():
        raise InvalidEffectsError(f"Effect sizes yi must be finite numbers (offending rows: {_rows(bad_y)}; "
                                  f"non-finite values there: {y[bad_y][:_SHOW].tolist()}).")
    nonfinite, nonpos = ~np.isfinite(v), np.isfinite(v) & (v <= 0)
    if nonfinite.any() or nonpos.any():
        parts = ([f"non-finite in rows {_rows(nonfinite)}"] if nonfinite.any() else []) + (
            [f"must be > 0 but rows {_rows(nonpos)} have {v[nonpos][:_SHOW].tolist()}"] if nonpos.any() else [])
        raise InvalidEffectsError(f"Sampling variances vi must be finite and > 0 (offending rows: "
                                  f"{_rows(nonfinite | nonpos)}; {'; '.join(parts)}).")
    return y, v


def study_labels(labels, k: int) -> list[str]:
    """``labels`` as strings (default "study 1", "study 2", ...), one per effect."""
    out = [f"study {i + 1}" for i in range(k)] if labels is None else [str(s) for s in labels]
    if len(out) != k:
        raise InvalidEffectsError(f"{len(out)} labels given for {k} effects.")
    return out


def typical_variance(v: np.ndarray, n_params: int = 1) -> float:
    """Higgins & Thompson's 'typical' within-study variance s^2 = (k-1) sum w / ((sum w)^2 - sum w^2),
    the denominator of every engine's I^2 (the mean of v when it is undefined, e.g. k = 1)."""
    k = v.size
    m = float(np.min(v))
    w = m / v  # weights scaled to max 1: the same ratio, and no overflow for tiny variances
    den = w.sum() ** 2 - (w**2).sum()
    return float((k - n_params) * w.sum() / den * m) if k > n_params and den > 0 else float(np.mean(v))
