"""Named validation rules (a registry, like mdn browser-compat-data's linter).

Each rule has a name, a one-line description and a check ``(study_dict, ctx) -> iterable of
Problem``. Rules read the raw dict defensively, so semantic problems are reported even when the
structure is broken: a researcher fixes everything in one pass. Taxonomy/country rules live in
``evidence.ingest.term_rules`` and statistical rules in ``evidence.ingest.stat_rules``; both
register here on import.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from evidence.ingest.problems import Problem, field_name
from evidence.ingest.structure import check_structure


@dataclass
class Context:
    """Where a study came from and how to turn a key path into a line and a field name."""

    path: str | Path
    line_of: Callable[[tuple], int] = lambda loc: 1
    field_of: Callable[[tuple], str] = field_name
    file_stem: str | None = None  # None: no file name to check (e.g. a sheet row)
    today: dt.date = field(default_factory=dt.date.today)
    model: object = None  # the parsed Study, set by the ``schema`` rule when the structure is valid
    duplicate_keys: list = field(default_factory=list)  # (key path, line) of repeated YAML keys

    def problem(self, loc: tuple, message: str, hint: str | None = None, severity: str = "error") -> Problem:
        return Problem(self.path, self.line_of(loc), self.field_of(loc), message, hint, "", severity)


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Callable[[dict, Context], Iterable[Problem]]


RULES: dict[str, Rule] = {}


def rule(name: str, description: str):
    def register(fn):
        RULES[name] = Rule(name, description, fn)
        return fn
    return register


def run_rules(study, ctx: Context, names: Iterable[str] | None = None) -> list[Problem]:
    """Run every rule (or the named ones) and collect all problems, each tagged with its rule."""
    out = []
    for r in (RULES[n] for n in names) if names is not None else RULES.values():
        out.extend(replace(p, rule=r.name) for p in r.check(study, ctx))
    return out


# --- defensive access to the raw dict -------------------------------------------------------------

def d(x) -> dict:
    return x if isinstance(x, dict) else {}


def items(x) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in enumerate(x) if isinstance(v, dict)] if isinstance(x, list) else []


def num(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def effects(study) -> list[tuple[int, dict, dict]]:
    return [(i, e, d(e.get("reported"))) for i, e in items(d(study).get("effects"))]


def get(obj, loc: tuple):
    """The value at a key path, or None when any part is missing or of the wrong type."""
    for part in loc:
        if isinstance(part, int) and isinstance(obj, list) and 0 <= part < len(obj):
            obj = obj[part]
        elif isinstance(part, str) and isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
    return obj


# --- structure ------------------------------------------------------------------------------------

@rule("schema", "Structure: required fields, types and unknown keys (the pydantic schema).")
def _schema(study, ctx):
    model, errors = check_structure(study)
    ctx.model = model
    for loc, message, hint in errors:
        yield ctx.problem(loc, message, hint)


@rule("filename-id", "The file name (without .yaml) equals the study id.")
def _filename(study, ctx):
    sid = d(study).get("id")
    if ctx.file_stem is not None and isinstance(sid, str) and sid != ctx.file_stem:
        yield ctx.problem(("id",), f"id '{sid}' differs from the file name '{ctx.file_stem}.yaml'",
                          f"rename the file to {sid}.yaml or set id: {ctx.file_stem}")


# --- references and ids within a file -------------------------------------------------------------

def _ids(study, key) -> list[str]:
    return [x.get("id") for _, x in items(d(study).get(key)) if isinstance(x.get("id"), str)]


@rule("references", "Effects reference existing interventions; provenance and values existing sources.")
def _references(study, ctx):
    ivs, srcs = _ids(study, "interventions"), _ids(study, "sources")
    for i, e, _ in effects(study):
        ref = e.get("intervention")
        if isinstance(ref, str) and ref not in ivs:
            yield ctx.problem(("effects", i, "intervention"), f"no intervention with id '{ref}'",
                              f"known: {', '.join(ivs)}" if ivs else "add it under interventions")
        src = d(e.get("provenance")).get("source")
        if isinstance(src, str) and src not in srcs:
            yield ctx.problem(("effects", i, "provenance", "source"), f"no source with id '{src}'",
                              f"known: {', '.join(srcs)}" if srcs else "add it under sources")
    for i, iv in items(d(study).get("interventions")):
        src = d(iv.get("value")).get("source")
        if isinstance(src, str) and src not in srcs:
            yield ctx.problem(("interventions", i, "value", "source"), f"no source with id '{src}'",
                              f"known: {', '.join(srcs)}" if srcs else "add it under sources")


@rule("duplicate-local-id", "Effect, intervention and source ids are unique within a file.")
def _dup_local(study, ctx):
    for key in ("effects", "interventions", "sources"):
        seen: dict[str, int] = {}
        for i, x in items(d(study).get(key)):
            xid = x.get("id")
            if not isinstance(xid, str):
                continue
            if xid in seen:
                yield ctx.problem((key, i, "id"), f"duplicate id '{xid}'",
                                  f"also {field_name((key, seen[xid]))}, line {ctx.line_of((key, seen[xid], 'id'))}")
            else:
                seen[xid] = i


@rule("duplicate-yaml-key", "A key appears once per mapping (YAML would silently keep the last).")
def _dup_keys(study, ctx):
    for loc, line in ctx.duplicate_keys:
        yield Problem(ctx.path, line, ctx.field_of(loc), "duplicate key: the earlier value is silently dropped",
                      f"first at line {ctx.line_of(loc)}")


# --- identity, population, dates ------------------------------------------------------------------

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


def _age_groups(study):
    yield ("population",), d(d(study).get("population"))
    for i, e, _ in effects(study):
        yield ("effects", i, "subgroup"), d(e.get("subgroup"))


@rule("child-age", "Population and subgroup ages are within 0-17 (every outcome is a child outcome).")
def _child_age(study, ctx):
    for base, g in _age_groups(study):
        for k in ("age_min", "age_max"):
            a = num(g.get(k))
            if a is not None and not 0 <= a <= 17:
                yield ctx.problem(base + (k,), f"age {a:g} is outside 0-17", "child outcomes concern children aged 0-17")


@rule("age-order", "age_min is not greater than age_max.")
def _age_order(study, ctx):
    for base, g in _age_groups(study):
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


# --- coding status, provenance, locators ----------------------------------------------------------

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


@rule("coding-status", "coded: some effect has a variance; headline: some estimate; mapped: no numbers.")
def _status(study, ctx):
    status = d(d(study).get("coding")).get("status")
    effs = effects(study)
    loc = ("coding", "status")
    if status == "coded" and not any(has_variance(r) for _, _, r in effs):
        yield ctx.problem(loc, "status 'coded' but no effect has a computable variance",
                          "add an SE, t, exact p, CI or stated threshold, or set status: headline")
    elif status == "headline":
        if not any(num(r.get("estimate")) is not None for _, _, r in effs):
            yield ctx.problem(loc, "status 'headline' but no effect has an estimate", "add one, or set status: mapped")
        elif any(has_variance(r) for _, _, r in effs):
            yield ctx.problem(loc, "status 'headline' but an effect has a computable variance",
                              "set status: coded", "warning")
    elif status == "mapped":
        for i, _, r in effs:
            if numbers(r):
                yield ctx.problem(("effects", i, "reported", numbers(r)[0]),
                                  "status 'mapped' but this effect carries numbers", "set status: headline or coded")


@rule("provenance", "Every effect carrying a number has a provenance source and a non-empty quote.")
def _provenance(study, ctx):
    for i, e, r in effects(study):
        prov = e.get("provenance")
        if not isinstance(prov, dict):
            continue  # missing provenance is a schema problem
        for k in ("quote", "source"):
            v = prov.get(k)
            if (isinstance(v, str) and not v.strip()) or (k in prov and v is None):
                what = "a number without provenance is not coded" if numbers(r) else "required"
                yield ctx.problem(("effects", i, "provenance", k), f"{k} is empty", what)


def _quotes(study):
    for i, e, _ in effects(study):
        yield ("effects", i, "provenance", "quote"), d(e.get("provenance")).get("quote")
    yield ("risk_of_bias", "quote"), d(d(study).get("risk_of_bias")).get("quote")
    for i, iv in items(d(study).get("interventions")):
        yield ("interventions", i, "value", "quote"), d(iv.get("value")).get("quote")


@rule("quote-length", "Quotes are short: at most 40 words (warning).")
def _quote_length(study, ctx):
    for loc, q in _quotes(study):
        if isinstance(q, str) and len(q.split()) > 40:
            yield ctx.problem(loc, f"quote has {len(q.split())} words (more than 40)",
                              "quote only the sentence or cell with the number", "warning")


@rule("one-primary", "At most one primary effect per (intervention, outcome, subgroup).")
def _one_primary(study, ctx):
    seen: dict[tuple, int] = {}
    for i, e, _ in effects(study):
        if e.get("primary") is not True:
            continue
        sub = d(e.get("subgroup"))
        key = (str(e.get("intervention")), str(e.get("outcome")),
               tuple(str(sub.get(k)) for k in ("sex", "age_min", "age_max", "label")))
        if key in seen:
            yield ctx.problem(("effects", i, "primary"), f"second primary effect for intervention '{key[0]}', "
                              f"outcome '{key[1]}' and the same subgroup",
                              f"effects[{seen[key]}] is already primary; keep one")
        else:
            seen[key] = i


@rule("source-locator", "Every source has a url or a doi.")
def _source_locator(study, ctx):
    for i, s in items(d(study).get("sources")):
        if not s.get("url") and not s.get("doi"):
            yield ctx.problem(("sources", i), f"source '{s.get('id')}' has neither url nor doi",
                              "add where the document can be found")


@rule("study-locator", "The study has a url or doi (its own, a version's or a source's).")
def _study_locator(study, ctx):
    s = d(study)
    places = [s] + [x for _, x in items(s.get("sources"))] + [x for _, x in items(s.get("versions"))]
    if not any(p.get("url") or p.get("doi") for p in places):
        yield ctx.problem(("id",), "the study has no url or doi anywhere", "add doi: or url: to the study or a source")


@rule("doi-format", "DOIs are bare ('10.xxxx/...'), not URLs.")
def _doi_format(study, ctx):
    s = d(study)
    locs = [(("doi",), s.get("doi"))]
    locs += [((k, i, "doi"), x.get("doi")) for k in ("sources", "versions") for i, x in items(s.get(k))]
    for loc, doi in locs:
        if isinstance(doi, str) and not re.match(r"^10\.\d{4,9}/\S+$", doi.strip()):
            bare = re.sub(r"^(https?://)?(dx\.)?doi\.org/|^doi:\s*", "", doi.strip(), flags=re.I)
            hint = f"write '{bare}'" if bare != doi.strip() and bare.startswith("10.") else "a DOI looks like 10.1111/abc"
            yield ctx.problem(loc, f"'{doi}' is not a bare DOI", hint)


from evidence.ingest import coding_rules, stat_rules, term_rules  # noqa: E402,F401  (register their rules)
