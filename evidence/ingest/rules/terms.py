"""Rules on controlled terms: taxonomy terms (with the nearest valid term as hint) and ISO3 countries.

Terms are data (``evidence/data/taxonomy.yaml``), so these rules only look them up; a new term is
added there, with its definition, not here.
"""

from __future__ import annotations

import csv
from functools import lru_cache

from evidence.ingest.rules.base import d, effects, items, rule
from evidence.taxonomy import DATA, countries, suggest, taxonomy


def _did_you_mean(value, choices) -> str:
    near = suggest(str(value), choices)
    if near:
        return f"did you mean '{near}'?"
    return f"one of: {', '.join(choices)}" if len(choices) <= 8 else "see evidence/data/taxonomy.yaml"


@rule("intervention-type", "Intervention types (and components) are taxonomy terms.")
def _intervention_type(study, ctx):
    terms = taxonomy().interventions
    for i, iv in items(d(study).get("interventions")):
        t = iv.get("type")
        if isinstance(t, str) and t not in terms:
            yield ctx.problem(("interventions", i, "type"), f"unknown intervention type '{t}'", _did_you_mean(t, terms))
        comps = iv.get("components")
        for j, c in enumerate(comps if isinstance(comps, list) else []):
            if isinstance(c, str) and c not in terms:
                yield ctx.problem(("interventions", i, "components", j), f"unknown intervention type '{c}'",
                                  _did_you_mean(c, terms))


def _effect_terms(study, ctx, field: str, terms, what: str):
    """Each effect's ``field`` is one of ``terms``; an unknown one names the nearest."""
    for i, e, _ in effects(study):
        v = e.get(field)
        if isinstance(v, str) and v not in terms:
            yield ctx.problem(("effects", i, field), f"unknown {what} '{v}'", _did_you_mean(v, terms))


@rule("outcome", "Effect outcomes are taxonomy terms.")
def _outcome(study, ctx):
    yield from _effect_terms(study, ctx, "outcome", taxonomy().outcomes, "outcome")


@rule("design", "The design type is a taxonomy term.")
def _design(study, ctx):
    t = d(d(study).get("design")).get("type")
    terms = taxonomy().designs
    if isinstance(t, str) and t not in terms:
        yield ctx.problem(("design", "type"), f"unknown design '{t}'", _did_you_mean(t, terms))


@rule("sdg871", "SDG 8.7.1 coverage of each effect is a taxonomy term.")
def _sdg871(study, ctx):
    yield from _effect_terms(study, ctx, "sdg871", taxonomy().sdg871_coverage, "SDG 8.7.1 coverage")


@rule("risk-of-bias-terms", "Risk-of-bias judgements and domain names belong to the declared tool.")
def _rob(study, ctx):
    rob = d(d(study).get("risk_of_bias"))
    tools = taxonomy().rob_tools
    raw_tool = rob.get("tool")
    if rob and isinstance(raw_tool, str) and raw_tool not in tools and raw_tool not in taxonomy().quality_raters:
        yield ctx.problem(("risk_of_bias", "tool"), f"unknown risk-of-bias tool '{raw_tool}'",
                          _did_you_mean(raw_tool, list(tools)))
    tool = tools.get(raw_tool) if isinstance(raw_tool, str) else None
    if not rob or tool is None:
        return  # no assessment, or an unknown tool (reported above, or by rob-not-quality)
    name, judgements, domains = tool["label"], tool["judgements"], tool["domains"]
    overall = rob.get("overall")
    if isinstance(overall, str) and overall not in judgements:
        yield ctx.problem(("risk_of_bias", "overall"), f"'{overall}' is not a {name} judgement",
                          _did_you_mean(overall, judgements))
    for dom, j in d(rob.get("domains")).items():
        if dom not in domains:
            hint = _did_you_mean(dom, domains) if domains else f"{name} has no domains"
            yield ctx.problem(("risk_of_bias", "domains", dom), f"'{dom}' is not a {name} domain", hint)
        if isinstance(j, str) and j not in judgements:
            yield ctx.problem(("risk_of_bias", "domains", dom), f"'{j}' is not a {name} judgement",
                              _did_you_mean(j, judgements))


@lru_cache(maxsize=1)
def _iso2() -> dict[str, str]:
    with (DATA / "countries.csv").open(encoding="utf-8") as fh:
        return {r["iso2"]: r["iso3"] for r in csv.DictReader(fh) if r.get("iso2")}


@rule("country-code", "Programme countries are ISO 3166-1 alpha-3 codes.")
def _country(study, ctx):
    known = countries()
    codes = d(d(study).get("programme")).get("countries")
    for j, c in enumerate(codes if isinstance(codes, list) else []):
        if not isinstance(c, str) or c in known:
            continue
        loc = ("programme", "countries", j)
        if c.upper() in known:
            hint = f"use '{c.upper()}'"
        elif len(c) == 2 and c.upper() in (iso2 := _iso2()):
            hint = f"'{c}' is alpha-2; use '{iso2[c.upper()]}'"
        else:
            names = {k.name: k.iso3 for k in known.values()}
            near = suggest(c, names)
            hint = f"'{names[near]}' is {near}" if near else "see evidence/data/countries.csv"
        yield ctx.problem(loc, f"'{c}' is not an ISO 3166-1 alpha-3 country code", hint)


@rule("rob-not-quality", "A clearinghouse's quality rating (e.g. CLEAR) goes in evidence_quality, not risk_of_bias.")
def _rob_not_quality(study, ctx):
    rob = d(d(study).get("risk_of_bias"))
    rater = rob.get("tool")
    if isinstance(rater, str) and rater in taxonomy().quality_raters:
        rating = rob.get("overall")
        yield ctx.problem(("risk_of_bias", "tool"),
                          f"'{rater}' rates the quality of causal evidence; it is not a risk-of-bias tool "
                          f"(a high quality rating is not a high risk of bias)",
                          f"move the block to evidence_quality: {{rater: {rater}, rating: {rating or '...'}, "
                          "source: ..., reason: ...}; risk_of_bias is for rob2, rob2_cluster or robins_i")
