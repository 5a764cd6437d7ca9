"""Statistical rules on ``effects[].reported``: ranges, internal consistency, number in quote.

Consistency checks allow for rounding: each number is taken as the interval its printed decimals
imply (0.17 -> [0.165, 0.175]), so only contradictions that no rounding explains are reported.

p vs estimate/SE (rule ``p-consistent``): the two-sided p implied by |b/se| (normal, or Student t
when ``df`` is given) over the rounding intervals gives a range [p_lo, p_hi]. The reported p is
inconsistent when it lies outside [p_lo / 2, 2 * p_hi] *and* differs from that range by more than
0.01 in absolute terms. The factor 2 absorbs t-vs-normal and small-cluster corrections; the
absolute floor avoids flagging tiny p values (0.001 vs 1e-6) that sources round coarsely.
t vs estimate/SE (``t-consistent``): t = b/se is an identity, so only rounding plus 2% is allowed.
Ratio forms (odds/risk ratios) are checked on the log scale.
"""

from __future__ import annotations

import math
import re

from evidence.ingest.rules.base import effects, num, rule


def _half_unit(x: float) -> float:
    """Half a unit in the last printed decimal (the rounding a printed number may hide)."""
    text = repr(float(x))
    if "e" in text or "." not in text:
        return 0.0
    decimals = len(text.split(".")[1].rstrip("0"))
    return 0.5 * 10 ** -decimals if decimals else 0.5


def _ratio(r: dict) -> bool:
    return r.get("form") in ("odds_ratio", "risk_ratio") or r.get("unit") in ("odds_ratio", "risk_ratio")


def _b_se(r: dict):
    """(b, half-unit of b, se, half-unit of se) on the analysis scale, or None."""
    b, se = num(r.get("estimate")), num(r.get("se"))
    if b is None or se is None or se <= 0:
        return None
    hb = _half_unit(b)
    if _ratio(r):
        if b <= 0:
            return None
        hb, b = hb / b, math.log(b)  # delta method: d log b = db / b
    return b, hb, se, _half_unit(se)


def _two_sided_p(z: float, df: float | None) -> float:
    if df:
        from scipy.special import stdtr  # only when a df is given (scipy is slow to import)
        return float(2 * stdtr(df, -abs(z)))
    return math.erfc(abs(z) / math.sqrt(2))


@rule("se-positive", "A reported SE is greater than 0.")
def _se(study, ctx):
    for i, _, r in effects(study):
        se = num(r.get("se"))
        if se is not None and se <= 0:
            yield ctx.problem(("effects", i, "reported", "se"), f"SE {se:g} is not positive", "an SE must be > 0")


@rule("ci-order", "ci_low is not greater than ci_high.")
def _ci_order(study, ctx):
    for i, _, r in effects(study):
        lo, hi = num(r.get("ci_low")), num(r.get("ci_high"))
        if lo is not None and hi is not None and lo > hi:
            yield ctx.problem(("effects", i, "reported", "ci_low"), f"ci_low {lo:g} is greater than ci_high {hi:g}",
                              "swapped?")


@rule("ci-contains-estimate", "The confidence interval contains its estimate.")
def _ci_contains(study, ctx):
    for i, _, r in effects(study):
        lo, hi, b = num(r.get("ci_low")), num(r.get("ci_high")), num(r.get("estimate"))
        if None in (lo, hi, b) or lo > hi:
            continue
        hb = _half_unit(b)
        if b < lo - hb - _half_unit(lo) or b > hi + hb + _half_unit(hi):
            hint = "check the sign" if lo <= -b <= hi else "check the CI and the estimate"
            yield ctx.problem(("effects", i, "reported", "estimate"),
                              f"estimate {b:g} is outside its CI [{lo:g}, {hi:g}]", hint)


@rule("p-range", "A reported p lies in (0, 1].")
def _p_range(study, ctx):
    for i, _, r in effects(study):
        p = num(r.get("p"))
        if p is not None and not 0 < p <= 1:
            hint = "p = 0 is not exact: use significance: 'p<0.001'" if p == 0 else "a p value is in (0, 1]"
            yield ctx.problem(("effects", i, "reported", "p"), f"p {p:g} is outside (0, 1]", hint)


@rule("p-consistent", "p agrees with estimate/SE (two-sided; factor 2 and 0.01 tolerance, see module doc).")
def _p_consistent(study, ctx):
    for i, _, r in effects(study):
        p, bs = num(r.get("p")), _b_se(r)
        if p is None or not 0 < p <= 1 or bs is None:
            continue
        b, hb, se, hs = bs
        df = num(r.get("df"))
        z_lo = max(abs(b) - hb, 0) / (se + hs)
        z_hi = (abs(b) + hb) / max(se - hs, 1e-12)
        p_lo, p_hi = _two_sided_p(z_hi, df), _two_sided_p(z_lo, df)
        hp = _half_unit(p)
        outside = p + hp < p_lo / 2 or p - hp > 2 * p_hi
        gap = max(p_lo - (p + hp), (p - hp) - p_hi, 0)
        if outside and gap > 0.01:
            z = abs(b) / se
            yield ctx.problem(("effects", i, "reported", "p"),
                              f"p {p:g} is inconsistent with estimate and SE: |b/se| = {z:.2f} implies "
                              f"p = {_two_sided_p(z, df):.2g}",
                              "check the SE and p; set df if the source used t quantiles")


@rule("t-consistent", "t agrees with estimate/SE (t = b/se up to rounding and 2%).")
def _t_consistent(study, ctx):
    for i, _, r in effects(study):
        t, bs = num(r.get("t")), _b_se(r)
        if t is None or bs is None:
            continue
        b, hb, se, hs = bs
        loc = ("effects", i, "reported", "t")
        if t * b < 0 and abs(b) > hb:
            yield ctx.problem(loc, f"t {t:g} and estimate have opposite signs", "signs are stored as reported")
            continue
        z_lo = max(abs(b) - hb, 0) / (se + hs)
        z_hi = (abs(b) + hb) / max(se - hs, 1e-12)
        ht = _half_unit(t)
        if abs(t) + ht < z_lo * 0.98 or abs(t) - ht > z_hi * 1.02:
            yield ctx.problem(loc, f"t {t:g} is inconsistent with estimate and SE (b/se = {b / se:.2f})",
                              "check the SE and t")


@rule("proportion-range", "Proportions (p1, p2, prevalence, ICC, proportion estimates) are in [0, 1].")
def _proportions(study, ctx):
    pop = study.get("population") if isinstance(study, dict) else None
    prev = num(pop.get("baseline_prevalence")) if isinstance(pop, dict) else None
    if prev is not None and not 0 <= prev <= 1:
        yield ctx.problem(("population", "baseline_prevalence"), f"{prev:g} is outside [0, 1]",
                          "a proportion, e.g. 0.25 for 25%")
    for i, _, r in effects(study):
        base = ("effects", i, "reported")
        for k in ("p1", "p2", "icc"):
            v = num(r.get(k))
            if v is not None and not 0 <= v <= 1:
                yield ctx.problem(base + (k,), f"{k} {v:g} is outside [0, 1]", "a proportion, e.g. 0.25 for 25%")
        level = num(r.get("ci_level"))
        if level is not None and not 0 < level < 1:
            yield ctx.problem(base + ("ci_level",), f"ci_level {level:g} is outside (0, 1)", "e.g. 0.95")
        b = num(r.get("estimate"))
        if r.get("unit") == "proportion" and b is not None and not -1 <= b <= 1:
            yield ctx.problem(base + ("estimate",), f"estimate {b:g} in unit 'proportion' is outside [-1, 1]",
                              "percentage points? set unit: percentage_points")


# --- what a variance can be computed from --------------------------------------------------

def numbers(r: dict) -> list[str]:
    """The reported fields that hold a number."""
    keys = ("estimate", "se", "t", "p", "ci_low", "ci_high", "m1", "sd1", "m2", "sd2", "ai", "bi", "ci", "di",
            "p1", "p2", "r")
    return [k for k in keys if num(r.get(k)) is not None]


_THRESHOLD = re.compile(r"p\s*(<|≤|<=)\s*(0?\.\d+)|(\d+(?:\.\d+)?)\s*%\s*(level)?", re.I)


def has_variance(r: dict) -> bool:
    """Whether a sampling variance can be computed (see docs/study-file.md: SE, t, exact p, a CI, a
    stated significance threshold, or the raw ingredients of the form)."""
    has = lambda *ks: all(num(r.get(k)) is not None for k in ks)  # noqa: E731
    if has("se") and num(r["se"]) > 0:
        return True
    if has("estimate") and (has("t") or has("p")) or has("ci_low", "ci_high"):
        return True
    if has("estimate") and isinstance(r.get("significance"), str) and _THRESHOLD.search(r["significance"]):
        return True
    form = r.get("form")
    return ((form == "means_sds" and has("m1", "sd1", "n1", "m2", "sd2", "n2"))
            or (form == "counts" and has("ai", "bi", "ci", "di"))
            or (form == "proportions" and has("p1", "p2", "n1", "n2"))
            or (form == "correlation" and has("r", "n")))
