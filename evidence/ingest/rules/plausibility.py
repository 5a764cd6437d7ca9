"""Plausible but unusual values: warnings (``--strict`` makes them errors), because a very large
effect or a very long follow-up is more often a unit or scale slip than a finding."""

from __future__ import annotations

from evidence.ingest.rules.base import effects, get, num, rule

#: |estimate| above which an effect is unusual, by unit (above the unit's hard limit, ``unit-limit`` refuses it).
LARGE = {"proportion": 0.5, "percentage_points": 50, "sd": 2, "hours_per_week": 40, "hours_per_day": 8,
         "percent_relative": 300}
HARD = {"proportion": 1, "percentage_points": 100, "hours_per_week": 168, "hours_per_day": 24}
RATIO_LARGE = 10  # odds or risk ratio above 10 or below 1/10
LONG_FOLLOW_UP_MONTHS = 240  # 20 years


@rule("large-effect", "An effect is not unusually large for its unit (e.g. over 0.5 as a proportion).", severity="warning")
def _large(study, ctx):
    for i, _, r in effects(study):
        b, unit = num(r.get("estimate")), r.get("unit")
        if b is None or not isinstance(unit, (str, type(None))):
            continue
        loc = ("effects", i, "reported", "estimate")
        if unit in ("odds_ratio", "risk_ratio") or r.get("form") in ("odds_ratio", "risk_ratio"):
            if b > 0 and not 1 / RATIO_LARGE <= b <= RATIO_LARGE:
                yield ctx.problem(loc, f"a ratio of {b:g} is unusually far from 1", "check the measure and the scale")
        elif unit in LARGE and LARGE[unit] < abs(b) <= HARD.get(unit, float("inf")):
            yield ctx.problem(loc, f"an effect of {b:g} {unit.replace('_', ' ')} is unusually large (over {LARGE[unit]:g})",
                              "check the unit and the scale")


@rule("long-follow-up", "Follow-up is not unusually long (over 20 years).", severity="warning")
def _long(study, ctx):
    locs = [("design", "follow_up_months")] + [("effects", i, "follow_up_months") for i, _, _ in effects(study)]
    for loc in locs:
        v = num(get(study, loc))
        if v is not None and LONG_FOLLOW_UP_MONTHS < v <= 600:
            yield ctx.problem(loc, f"follow-up {v:g} months is over 20 years", "months, not weeks?")
