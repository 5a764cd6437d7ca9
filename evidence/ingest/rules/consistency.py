"""Contradictions a file proves on its own: two numbers, or a number and the words of its quote or
of another field, that cannot both be true.

Tolerances allow for rounding and for the usual t-versus-normal differences: the SE and the SE a
CI implies (width / 2z, on the log scale for ratios, with t quantiles when df is given) may differ
by up to 25% plus rounding; t and p are checked like p and estimate/SE (factor 2 and 0.01, see
``statistics``); a quote contradicts the sign only when it uses words of one direction alone.

A positive estimate whose quote says only 'reduced' (or 'fell', 'declined') and prints the number
without a minus is an error here: ``number-in-quote`` sees the number as written and passes it.
"""

from __future__ import annotations

import math
import re

from evidence.ingest.rules.base import d, effects, num, rule
from evidence.ingest.rules.provenance import quote_numbers
from evidence.ingest.rules.statistics import _half_unit, _two_sided_p

SE_CI_TOLERANCE = 0.25


def _z(level: float, df: float | None) -> float:
    from scipy import stats  # late: scipy is slow to import

    q = 0.5 + level / 2
    return float(stats.t.ppf(q, df)) if df else float(stats.norm.ppf(q))


def _ratio(r: dict) -> bool:
    return r.get("form") in ("odds_ratio", "risk_ratio") or r.get("unit") in ("odds_ratio", "risk_ratio")


@rule("se-matches-ci", "The SE and the SE implied by the CI agree (within 25% plus rounding).")
def _se_ci(study, ctx):
    for i, _, r in effects(study):
        se, lo, hi = num(r.get("se")), num(r.get("ci_low")), num(r.get("ci_high"))
        level = num(r.get("ci_level")) or 0.95
        if None in (se, lo, hi) or se <= 0 or not lo < hi or not 0 < level < 1:
            continue
        if _ratio(r):
            if lo <= 0:
                continue
            width_lo = math.log(max(hi - _half_unit(hi), 1e-300) / (lo + _half_unit(lo)))
            width_hi = math.log((hi + _half_unit(hi)) / max(lo - _half_unit(lo), 1e-300))
        else:
            width_lo = (hi - _half_unit(hi)) - (lo + _half_unit(lo))
            width_hi = (hi + _half_unit(hi)) - (lo - _half_unit(lo))
        z = _z(level, num(r.get("df")))
        implied_lo, implied_hi = max(width_lo, 0) / (2 * z), width_hi / (2 * z)
        hs = _half_unit(se)
        if se + hs < implied_lo * (1 - SE_CI_TOLERANCE) or se - hs > implied_hi * (1 + SE_CI_TOLERANCE):
            implied = (math.log(hi / lo) if _ratio(r) else hi - lo) / (2 * z)
            yield ctx.problem(("effects", i, "reported", "se"),
                              f"SE {se:g} contradicts the CI [{lo:g}, {hi:g}], which implies SE {implied:.3g}",
                              "check both; an SE on another scale (log?) does not belong here, keep the CI")


@rule("t-matches-p", "t and p agree when there is no SE (two-sided; factor 2 and 0.01 tolerance).")
def _t_p(study, ctx):
    for i, _, r in effects(study):
        t, p, df = num(r.get("t")), num(r.get("p")), num(r.get("df"))
        if t is None or p is None or not 0 < p <= 1 or (num(r.get("se")) or 0) > 0:
            continue  # with an SE, p-consistent and t-consistent check both against estimate / SE
        ht = _half_unit(t)
        p_lo, p_hi = _two_sided_p(abs(t) + ht, df), _two_sided_p(max(abs(t) - ht, 0), df)
        hp = _half_unit(p)
        if (p + hp < p_lo / 2 or p - hp > 2 * p_hi) and max(p_lo - (p + hp), (p - hp) - p_hi, 0) > 0.01:
            yield ctx.problem(("effects", i, "reported", "p"),
                              f"p {p:g} contradicts t {t:g}, which implies p = {_two_sided_p(abs(t), df):.2g}",
                              "check t and p; set df if the source used t quantiles")


_NS = re.compile(r"\bn\.?\s?s\.?(?![a-z])|not\s+(statistically\s+)?significant|insignificant", re.I)


@rule("significance-matches", "'n.s.' is not coded with p < 0.05 or a 95% CI that excludes 0.")
def _significance(study, ctx):
    for i, _, r in effects(study):
        sig = r.get("significance")
        if not isinstance(sig, str) or not _NS.search(sig):
            continue
        p, lo, hi = num(r.get("p")), num(r.get("ci_low")), num(r.get("ci_high"))
        null = 1.0 if _ratio(r) else 0.0
        if p is not None and p < 0.05:
            yield ctx.problem(("effects", i, "reported", "significance"), f"'{sig}' but p = {p:g} < 0.05",
                              "check which one the source reports")
        elif lo is not None and hi is not None and (num(r.get("ci_level")) or 0.95) >= 0.95 and not lo <= null <= hi:
            yield ctx.problem(("effects", i, "reported", "significance"),
                              f"'{sig}' but the CI [{lo:g}, {hi:g}] excludes {null:g}", "check which one the source reports")


_DOWN = re.compile(r"\b(reduc\w*|decreas\w*|declin\w*|fell|drop(ped|s)?|lower(ed|s)?|cut)\b", re.I)
_UP = re.compile(r"\b(increas\w*|rais\w*|rose|grew|higher)\b", re.I)


@rule("sign-matches-words", "A quote that says only 'reduced' ... 0.05 is not coded +0.05; direction agrees with the sign.")
def _sign_words(study, ctx):
    for i, e, r in effects(study):
        b = num(r.get("estimate"))
        quote = d(e.get("provenance")).get("quote")
        if b is None or b == 0 or _ratio(r) or not isinstance(quote, str):
            continue
        down, up = bool(_DOWN.search(quote)), bool(_UP.search(quote))
        if down == up:
            continue
        unsigned = [text for v, text in quote_numbers(quote) if math.isclose(v, abs(b), rel_tol=1e-9) and v > 0]
        if unsigned and down and b > 0:  # (up-words with b < 0: number-in-quote warns 'sign differs')
            word = _DOWN.search(quote).group()
            yield ctx.problem(("effects", i, "reported", "estimate"),
                              f"estimate {b:g} is {'positive' if b > 0 else 'negative'} but the quote says '{word}' "
                              f"... {unsigned[0]}", f"code {-b:g}: the sign follows the words for the outcome as measured")
    for i, _e, r in effects(study):
        b, direction = num(r.get("estimate")), r.get("direction")
        if b and not _ratio(r) and direction in ("decrease", "increase") and (b > 0) != (direction == "increase"):
            yield ctx.problem(("effects", i, "reported", "direction"),
                              f"direction '{direction}' contradicts the estimate {b:g}", "one of them has the wrong sign")
