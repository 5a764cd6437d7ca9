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

   The same applies to an effect **without an estimate whose direction the source states in words**
   (``reported.direction``: "decrease" / "increase"): "significantly reduced child labour" (coded
   ``direction: decrease``, ``significance: significant (level not stated)``) improves; "reduced" with
   no significance stated is unclear. "no_clear_change" is unclear; "mixed" is unclear too.

``None`` (no direction) when there is neither ``yi`` nor a stated direction, or the desirable direction
is unknown; a clear effect of exactly zero is "unclear".

Leaning, for vote counting (SWiM, Campbell et al. 2020)
-------------------------------------------------------
Vote counting counts the *direction* of each effect regardless of its statistical significance:
:func:`effect_leaning` is "improves" / "worsens" by the sign of ``yi`` (or the stated words when there
is no estimate), "no_change" for an estimate of exactly zero or a stated "no clear change", "mixed" when
the source says the results go both ways. The harvest plot places each effect by its leaning and marks
whether it is statistically clear (:func:`effect_direction`), so an effect the source calls a
significant reduction never appears as "no clear effect".
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
LEANINGS = ("improves", "no_change", "mixed", "worsens")
#: A stated direction in words (``reported.direction``) for an outcome whose desirable direction is known.
STATED = ("decrease", "increase", "no_clear_change", "mixed")


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


def _stated_direction(reported) -> str | None:
    return reported if isinstance(reported, str) and reported in STATED else None


def effect_direction(yi, vi, significance, variance_imputed, desirable, reported=None) -> str | None:
    """"improves" | "worsens" | "unclear" for one effect; None when there is neither ``yi`` nor a stated
    direction (``reported``), or ``desirable`` is not "increase"/"decrease". See the module docstring."""
    if desirable not in ("increase", "decrease"):
        return None
    if _missing(yi):
        words = _stated_direction(reported)
        if words is None:
            return None
        if words in ("no_clear_change", "mixed") or not _clear_from_significance(significance, allow_unstated_level=True):
            return "unclear"
        return "improves" if words == desirable else "worsens"
    y = float(yi)
    if y == 0 or not is_clear(y, vi, significance, variance_imputed):
        return "unclear"
    good = y < 0 if desirable == "decrease" else y > 0
    return "improves" if good else "worsens"


def effect_leaning(yi, desirable, reported=None) -> str | None:
    """The direction of one effect regardless of significance (vote counting): "improves" | "worsens" |
    "no_change" | "mixed"; None when neither ``yi`` nor a stated direction is known, or ``desirable`` is
    not "increase"/"decrease"."""
    if desirable not in ("increase", "decrease"):
        return None
    if not _missing(yi):
        y = float(yi)
        if y == 0:
            return "no_change"
        return "improves" if (y < 0) == (desirable == "decrease") else "worsens"
    words = _stated_direction(reported)
    if words is None:
        return None
    if words == "no_clear_change":
        return "no_change"
    if words == "mixed":
        return "mixed"
    return "improves" if words == desirable else "worsens"


__all__ = ["DIRECTIONS", "LEANINGS", "STATED", "Z975", "effect_direction", "effect_leaning", "is_clear"]
