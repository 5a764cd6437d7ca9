"""Rules on the numbers a variance is computed from: each must give a usable, positive, finite
variance, so that whatever ``validate`` accepts the catalogue build can convert (one set of rules).

Refused: an SE whose square underflows, a zero-width or one-sided CI, p = 1 or t = 0 as the only
source (z = 0 gives no SE), t != 0 with an estimate of 0, df <= 0, ratio measures <= 0, |r| >= 1,
negative SDs and negative 2x2 cells.
"""

from __future__ import annotations

import sys

from evidence.ingest.rules.base import effects, num, rule

_TINY_SE = sys.float_info.min ** 0.5 * 1e4  # se**2 below ~1e-300: the variance is not representable


def _ratio(r: dict) -> bool:
    return r.get("form") in ("odds_ratio", "risk_ratio") or r.get("unit") in ("odds_ratio", "risk_ratio")


@rule("se-usable", "A reported SE gives a representable variance (not so small its square underflows).")
def _se_usable(study, ctx):
    for i, _, r in effects(study):
        se = num(r.get("se"))
        if se is not None and 0 < se < _TINY_SE:
            yield ctx.problem(("effects", i, "reported", "se"), f"SE {se:g} is so small its variance underflows to 0",
                              "check the exponent; an SE is on the scale of the estimate")


@rule("ci-usable", "A CI has both limits and a width (a zero-width or one-sided CI gives no variance).")
def _ci_usable(study, ctx):
    for i, _, r in effects(study):
        lo, hi = num(r.get("ci_low")), num(r.get("ci_high"))
        base = ("effects", i, "reported")
        if (r.get("ci_low") is None) != (r.get("ci_high") is None):  # as written: a .nan limit is still given
            have, miss = ("ci_low", "ci_high") if r.get("ci_low") is not None else ("ci_high", "ci_low")
            yield ctx.problem(base + (have,), f"only one CI limit ({have}); {miss} is missing",
                              "give both limits, or neither")
        elif lo is not None and lo == hi:
            yield ctx.problem(base + ("ci_low",), f"the CI [{lo:g}, {hi:g}] has zero width",
                              "a CI this narrow gives no variance: check the limits")


def _other_variance_source(r: dict, skip: str) -> bool:
    """Whether something other than ``skip`` ('p' or 't') gives a variance."""
    has = lambda *ks: all(num(r.get(k)) is not None for k in ks)  # noqa: E731
    if has("se") and num(r["se"]) > 0 or has("ci_low", "ci_high"):
        return True
    other = "t" if skip == "p" else "p"
    if has(other) and num(r[other]) not in (0.0, 1.0):
        return True
    return isinstance(r.get("significance"), str) and any(c.isdigit() for c in r["significance"])


@rule("variance-source", "p = 1 or t = 0 is not the only variance source; an estimate of 0 has t = 0; df > 0.")
def _variance_source(study, ctx):
    for i, _, r in effects(study):
        base = ("effects", i, "reported")
        b, t, p, df = num(r.get("estimate")), num(r.get("t")), num(r.get("p")), num(r.get("df"))
        if p == 1 and b is not None and not _other_variance_source(r, "p"):
            yield ctx.problem(base + ("p",), "p = 1 is the only variance source, and it gives none (z = 0)",
                              "add the SE or CI the source gives, or leave p out and record the significance")
        if t == 0 and b is not None and b != 0 and not _other_variance_source(r, "t"):
            yield ctx.problem(base + ("t",), "t = 0 is the only variance source, and it gives none",
                              "add the SE or CI the source gives")
        if b == 0 and t is not None and t != 0:
            yield ctx.problem(base + ("t",), f"t {t:g} with an estimate of 0 (t = estimate / SE must be 0)",
                              "check the estimate and t")
        if df is not None and df <= 0:
            yield ctx.problem(base + ("df",), f"df {df:g} is not positive", "degrees of freedom are > 0")


@rule("measure-range", "Ratios are > 0, |r| < 1, SDs are not negative and 2x2 cells are not negative.")
def _measure_range(study, ctx):
    for i, _, r in effects(study):
        base = ("effects", i, "reported")
        if _ratio(r):
            for k in ("estimate", "ci_low", "ci_high"):
                v = num(r.get(k))
                if v is not None and v <= 0:
                    yield ctx.problem(base + (k,), f"a ratio of {v:g} is impossible (odds and risk ratios are > 0)",
                                      "on the log scale? then set form: coefficient")
        for k in ("r",) + (("estimate",) if r.get("form") == "correlation" or r.get("unit") == "correlation" else ()):
            v = num(r.get(k))
            if v is not None and abs(v) >= 1:
                yield ctx.problem(base + (k,), f"correlation {v:g} is outside (-1, 1)", "|r| = 1 has no sampling variance")
        for k in ("sd1", "sd2"):
            v = num(r.get(k))
            if v is not None and v < 0:
                yield ctx.problem(base + (k,), f"SD {v:g} is negative", "an SD is >= 0")
        for k in ("ai", "bi", "ci", "di"):
            v = num(r.get(k))
            if v is not None and v < 0:
                yield ctx.problem(base + (k,), f"2x2 cell {k} = {v:g} is negative", "cells are counts of people")
