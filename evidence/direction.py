"""The one definition of an effect's direction: does it improve the outcome, worsen it, or is it unclear?

The catalogue's ``direction`` and ``harmful`` columns, the harvest plot and the "harm flagged" counts
all use :func:`effect_direction`, so a single effect is never "harmful" on one page and "no clear
effect" on another.

The rule
--------
The sign of ``yi`` against the outcome's desirable direction ("increase" / "decrease", taxonomy)
says *which way* an effect goes; whether it counts as a *clear* effect is decided by what the source
gives:

1. **A real variance** (reported or computed from an SE, CI, t or exact p): clear when the 95% interval
   excludes zero, i.e. ``|yi| / sqrt(vi) >= z(0.975)`` (1.959964...). A tiny relative slack (1e-6)
   lets an SE back-computed as ``|b| / 1.959964`` (an exact p = 0.05 or a CI edge at zero) count.
2. **An imputed variance** (imputed from a stated threshold such as "p<0.05"): the imputed SE is by
   construction the largest SE consistent with the claim, so the interval touches zero exactly; the
   decision is taken from the threshold itself: clear when ``parse_threshold(significance) <= 0.05``
   (so "p<0.1" is not clear, "p<0.05" and "p<0.01" are).
3. **No variance** (a headline estimate): clear when the source states significance at <= 0.05, or
   states "significant (level not stated)" (the source claims it; the claim is coded as such);
   unclear when it says not significant ("n.s."), gives a weaker level (e.g. "p<0.1"), or states
   nothing at all.

``None`` (no direction) when ``yi`` is missing or the desirable direction is unknown; a clear effect
of exactly zero is "unclear".
"""

from __future__ import annotations

import math

from scipy.special import ndtri

from evidence.effectsize import level_unstated, parse_threshold
from evidence.errors import EffectSizeError

#: z(0.975): the 95% two-sided critical value.
Z975 = float(ndtri(0.975))
#: Relative slack so an SE computed as |b| / 1.959964 (rounded z) still counts as significant at 5%.
SLACK = 1e-6
ALPHA = 0.05
DIRECTIONS = ("improves", "worsens", "unclear")


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def _stated(significance):
    """The stated significance (text or a number), or None when nothing is stated."""
    if isinstance(significance, str):
        return significance if significance.strip() else None
    return None if _missing(significance) else significance


def _clear_from_significance(significance, allow_unstated_level: bool) -> bool:
    sig = _stated(significance)
    if sig is None:
        return False
    if allow_unstated_level and isinstance(sig, str) and level_unstated(sig):
        return True
    try:
        a = parse_threshold(sig)
    except EffectSizeError:
        return False
    return a is not None and a <= ALPHA


def is_clear(yi, vi, significance, variance_imputed) -> bool:
    """True when the effect counts as clearly different from zero (see the module docstring)."""
    if _missing(yi):
        return False
    has_var = not _missing(vi) and float(vi) > 0 and math.isfinite(float(vi))
    imputed = not _missing(variance_imputed) and bool(variance_imputed)
    if has_var and not imputed:
        return abs(float(yi)) / math.sqrt(float(vi)) >= Z975 * (1 - SLACK)
    return _clear_from_significance(significance, allow_unstated_level=not has_var)


def effect_direction(yi, vi, significance, variance_imputed, desirable) -> str | None:
    """"improves" | "worsens" | "unclear" for one effect; None when ``yi`` is missing or ``desirable``
    is not "increase"/"decrease". See the module docstring for what counts as clear."""
    if _missing(yi) or desirable not in ("increase", "decrease"):
        return None
    y = float(yi)
    if y == 0 or not is_clear(y, vi, significance, variance_imputed):
        return "unclear"
    good = y < 0 if desirable == "decrease" else y > 0
    return "improves" if good else "worsens"


__all__ = ["DIRECTIONS", "Z975", "effect_direction", "is_clear"]
