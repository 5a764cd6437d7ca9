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
