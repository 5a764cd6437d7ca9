"""Rules on values with a natural range: years, ages, follow-up and sample sizes."""

from __future__ import annotations

from evidence.ingest.rules.base import d, effects, get, items, num, rule


@rule("year-range", "Years are between 1950 and the current year.")
def _years(study, ctx):
    s = d(study)
    locs = [("year",)] + [("versions", i, "year") for i, _ in items(s.get("versions"))]
    locs += [("programme", k) for k in ("start_year", "end_year")]
    for loc in locs:
        y = num(get(s, loc))
        if y is None:
            continue
        if y > ctx.today.year:
            yield ctx.problem(loc, f"year {int(y)} is in the future")
        elif y < 1950:
            yield ctx.problem(loc, f"year {int(y)} is before 1950", "a typo?")
    prog = d(s.get("programme"))
    a, b = num(prog.get("start_year")), num(prog.get("end_year"))
    if a is not None and b is not None and a > b:
        yield ctx.problem(("programme", "end_year"), f"end_year {int(b)} is before start_year {int(a)}")


def age_groups(study):
    yield ("population",), d(d(study).get("population"))
    for i, e, _ in effects(study):
        yield ("effects", i, "subgroup"), d(e.get("subgroup"))


@rule("child-age", "Population and subgroup ages are within 0-17 (every outcome is a child outcome).")
def _child_age(study, ctx):
    for base, g in age_groups(study):
        for k in ("age_min", "age_max"):
            a = num(g.get(k))
            if a is not None and not 0 <= a <= 17:
                yield ctx.problem(base + (k,), f"age {a:g} is outside 0-17", "child outcomes concern children aged 0-17")


@rule("age-order", "age_min is not greater than age_max.")
def _age_order(study, ctx):
    for base, g in age_groups(study):
        lo, hi = num(g.get("age_min")), num(g.get("age_max"))
        if lo is not None and hi is not None and lo > hi:
            yield ctx.problem(base + ("age_min",), f"age_min {lo:g} is greater than age_max {hi:g}")


@rule("follow-up", "Follow-up months are not negative.")
def _follow_up(study, ctx):
    locs = [("design", "follow_up_months")] + [("effects", i, "follow_up_months") for i, _, _ in effects(study)]
    for loc in locs:
        v = num(get(study, loc))
        if v is not None and v < 0:
            yield ctx.problem(loc, f"follow-up {v:g} months is negative", "months since programme start")


@rule("sample-size", "Sample sizes and cluster counts are at least 1.")
def _sample_size(study, ctx):
    s = d(study)
    pop = d(s.get("population"))
    checks = [(("population", k), pop.get(k)) for k in ("n_treatment", "n_control", "n_total", "n_clusters")]
    checks.append((("design", "clusters"), d(s.get("design")).get("clusters")))
    for i, _, r in effects(s):
        checks += [(("effects", i, "reported", k), r.get(k)) for k in ("n1", "n2", "n", "avg_cluster_size")]
    for loc, v in checks:
        v = num(v)
        if v is not None and v < 1:
            yield ctx.problem(loc, f"sample size {v:g} is less than 1")


# --- limits no study can exceed, and contradictions between design, population and effects -------

MAX_FOLLOW_UP_MONTHS = 600  # 50 years


@rule("follow-up-limit", "Follow-up is at most 50 years.")
def _follow_up_limit(study, ctx):
    locs = [("design", "follow_up_months")] + [("effects", i, "follow_up_months") for i, _, _ in effects(study)]
    for loc in locs:
        v = num(get(study, loc))
        if v is not None and v > MAX_FOLLOW_UP_MONTHS:
            yield ctx.problem(loc, f"follow-up {v:g} months is more than 50 years", "months, not days or weeks?")


@rule("sample-total", "n_total is at least n_treatment + n_control.")
def _sample_total(study, ctx):
    pop = d(d(study).get("population"))
    total, t, c = num(pop.get("n_total")), num(pop.get("n_treatment")), num(pop.get("n_control"))
    if None not in (total, t, c) and total < t + c:
        yield ctx.problem(("population", "n_total"), f"n_total {total:g} is less than n_treatment + n_control = {t + c:g}",
                          "check the three counts")


@rule("clusters", "A cluster-randomised trial has at least two clusters.")
def _clusters(study, ctx):
    s = d(study)
    if d(s.get("design")).get("type") != "cluster_rct":
        return
    for loc in (("design", "clusters"), ("population", "n_clusters")):
        v = num(get(s, loc))
        if v is not None and v < 2:
            yield ctx.problem(loc, f"a cluster RCT with {v:g} cluster", "randomising one cluster compares nothing")


@rule("subgroup-age", "A subgroup's age band lies within the population's.")
def _subgroup_age(study, ctx):
    pop = d(d(study).get("population"))
    lo, hi = num(pop.get("age_min")), num(pop.get("age_max"))
    for i, e, _ in effects(study):
        sub = d(e.get("subgroup"))
        a, b = num(sub.get("age_min")), num(sub.get("age_max"))
        if a is not None and lo is not None and a < lo:
            yield ctx.problem(("effects", i, "subgroup", "age_min"), f"subgroup age_min {a:g} is below the population's {lo:g}",
                              "widen population ages, or check the subgroup")
        if b is not None and hi is not None and b > hi:
            yield ctx.problem(("effects", i, "subgroup", "age_max"), f"subgroup age_max {b:g} is above the population's {hi:g}",
                              "widen population ages, or check the subgroup")


@rule("programme-start", "The programme starts no later than the study's publication year.")
def _programme_start(study, ctx):
    s = d(study)
    start, year = num(d(s.get("programme")).get("start_year")), num(s.get("year"))
    if start is not None and year is not None and start > year:
        yield ctx.problem(("programme", "start_year"), f"start_year {int(start)} is after the publication year {int(year)}",
                          "an evaluation cannot precede its programme: check both years")


_LIMITS = {"percentage_points": (100, "percentage points"), "hours_per_day": (24, "hours per day"),
           "hours_per_week": (168, "hours per week")}
_STATUS_OUTCOMES = ("enrolment", "dropout", "progression")


@rule("unit-limit", "Values fit their unit (|pp| <= 100, <= 24 h/day, <= 168 h/week); enrolment is not in hours.")
def _unit_limit(study, ctx):
    for i, e, r in effects(study):
        unit = r.get("unit")
        base = ("effects", i, "reported")
        if not isinstance(unit, str):
            continue  # a schema problem
        if unit in _LIMITS:
            limit, words = _LIMITS[unit]
            for k in ("estimate", "ci_low", "ci_high", "m1", "m2"):
                v = num(r.get(k))
                if v is not None and abs(v) > limit:
                    yield ctx.problem(base + (k,), f"{v:g} {words} is impossible (at most {limit})", "check the unit")
        if unit in ("hours_per_day", "hours_per_week") and e.get("outcome") in _STATUS_OUTCOMES:
            yield ctx.problem(base + ("unit",), f"outcome '{e['outcome']}' is a status, not measured in hours",
                              "use proportion or percentage_points, or an hours outcome")
