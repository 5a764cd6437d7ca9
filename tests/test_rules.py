"""One unit test per validation rule: the valid fixture passes every rule, and one small break
makes exactly that rule fire with the expected message and severity."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from evidence.ingest.loader import load, loads
from evidence.ingest.rules import RULES, Context, has_variance, run_rules
from evidence.ingest.rules.provenance import match_number, quote_numbers

FIXTURE = Path(__file__).parent / "valid" / "fixture-cct-coded.yaml"
BASE = load(FIXTURE).data
MAPPED = load(FIXTURE.parent / "fixture-mapped-wp.yaml").data


def run(name: str, mutate=None, base=BASE, **ctx_kw):
    data = copy.deepcopy(base)
    if mutate:
        mutate(data)
    ctx = Context(ctx_kw.pop("path", "x.yaml"), file_stem=ctx_kw.pop("stem", data.get("id")), today=dt.date(2026, 11, 26), **ctx_kw)
    return run_rules(data, ctx, [name])


def setp(*path_value):
    """A mutation setting (or deleting, with value ...) one key path."""
    *path, value = path_value

    def mutate(d):
        for part in path[:-1]:
            d = d[part]
        if value is ...:
            del d[path[-1]]
        else:
            d[path[-1]] = value
    return mutate


def eff(i, *rest):
    return ("effects", i, *rest)


# rule, mutation, expected field, expected message part, severity
CASES = [
    ("second-coding-reconciled", None, "coding.reconciled", "a second coding exists (fixture-cct-coded.ben.yaml)", "error"),
    ("rob-override", setp("risk_of_bias", "answers", {"randomisation": {"1.1": "Y", "1.2": "N", "1.3": "N"}}),
     "risk_of_bias.domains.randomisation", "the rob2 algorithm proposes 'high'", "error"),
    ("schema", setp("year", "soon"), "year", "valid integer", "error"),
    ("schema", setp("titel", "x"), "titel", "unknown key 'titel'", "error"),
    ("filename-id", None, "id", "differs from the file name 'other.yaml'", "error"),
    ("intervention-type", setp("interventions", 0, "type", "cash"), "interventions[0].type", "unknown intervention type", "error"),
    ("intervention-type", setp("interventions", 0, "components", ["meals"]), "interventions[0].components[0]", "'meals'", "error"),
    ("outcome", setp(*eff(0, "outcome"), "work"), "effects[0].outcome", "unknown outcome 'work'", "error"),
    ("design", setp("design", "type", "rct"), "design.type", "unknown design 'rct'", "error"),
    ("sdg871", setp(*eff(0, "sdg871"), "all"), "effects[0].sdg871", "unknown SDG 8.7.1 coverage", "error"),
    ("risk-of-bias-terms", setp("risk_of_bias", "overall", "serious"), "risk_of_bias.overall", "not a RoB 2 judgement", "error"),
    ("risk-of-bias-terms", setp("risk_of_bias", "domains", "confounding", "low"), "risk_of_bias.domains.confounding", "not a RoB 2 domain", "error"),
    ("risk-of-bias-terms", setp("risk_of_bias", "tool", "rob3"), "risk_of_bias.tool", "unknown risk-of-bias tool 'rob3'", "error"),
    ("rob-not-quality", setp("risk_of_bias", "tool", "clear"), "risk_of_bias.tool", "not a risk-of-bias tool", "error"),
    ("references", setp("evidence_quality", {"rater": "clear", "rating": "high", "source": "profile"}),
     "evidence_quality.source", "no source with id 'profile'", "error"),
    ("country-code", setp("programme", "countries", ["Mexico"]), "programme.countries[0]", "'MEX' is Mexico", "error"),
    ("references", setp(*eff(0, "intervention"), "arm2"), "effects[0].intervention", "no intervention with id 'arm2'", "error"),
    ("references", setp(*eff(0, "provenance", "source"), "wp"), "effects[0].provenance.source", "no source with id 'wp'", "error"),
    ("duplicate-local-id", setp(*eff(2, "id"), "work"), "effects[2].id", "duplicate id 'work'", "error"),
    ("duplicate-yaml-key", None, "programme.setting", "duplicate key", "error"),
    ("year-range", setp("year", 2027), "year", "year 2027 is in the future", "error"),
    ("year-range", setp("programme", "start_year", 1949), "programme.start_year", "before 1950", "error"),
    ("child-age", setp(*eff(2, "subgroup", "age_max"), 18), "effects[2].subgroup.age_max", "age 18 is outside 0-17", "error"),
    ("child-age", setp("population", "age_min", -1), "population.age_min", "outside 0-17", "error"),
    ("age-order", setp("population", "age_min", 16), "population.age_min", "age_min 16 is greater than age_max 15", "error"),
    ("follow-up", setp(*eff(1, "follow_up_months"), -3), "effects[1].follow_up_months", "negative", "error"),
    ("sample-size", setp(*eff(1, "reported", "n1"), 0), "effects[1].reported.n1", "less than 1", "error"),
    ("sample-size", setp("design", "clusters", 0), "design.clusters", "less than 1", "error"),
    ("coding-status", lambda d: (d["coding"].update(status="mapped"), d["effects"].__delitem__(slice(1, None))),
     "effects[0].reported.estimate", "status 'mapped' but", "error"),
    ("coding-status", setp("coding", "status", "headline"), "coding.status", "status 'headline' but an effect has a computable variance", "warning"),
    ("provenance", setp(*eff(0, "provenance", "quote"), "  "), "effects[0].provenance.quote", "quote is empty", "error"),
    ("provenance", setp(*eff(0, "provenance", "source"), ""), "effects[0].provenance.source", "source is empty", "error"),
    ("quote-length", setp(*eff(1, "provenance", "quote"), "Hours fell by 1.9 " + "word " * 40), "effects[1].provenance.quote", "more than 40", "warning"),
    ("one-primary", setp(*eff(1, "outcome"), "economic_activity"), "effects[1].primary", "second primary effect", "error"),
    ("source-locator", setp("sources", 0, "doi", ...), "sources[0]", "neither url nor doi", "error"),
    ("doi-format", setp("doi", "doi:10.0000/fixture.cct.2019"), "doi", "not a bare DOI", "error"),
    ("se-positive", setp(*eff(0, "reported", "se"), -0.018), "effects[0].reported.se", "SE -0.018 is not positive", "error"),
    ("ci-order", setp(*eff(2, "reported", "ci_low"), 0.2), "effects[2].reported.ci_low", "greater than ci_high", "error"),
    ("ci-contains-estimate", setp(*eff(2, "reported", "estimate"), 0.15), "effects[2].reported.estimate", "outside its CI", "error"),
    ("p-range", setp(*eff(0, "reported", "p"), 0), "effects[0].reported.p", "outside (0, 1]", "error"),
    ("p-consistent", setp(*eff(0, "reported", "p"), 0.05), "effects[0].reported.p", "inconsistent with estimate and SE", "error"),
    ("t-consistent", setp(*eff(0, "reported", "t"), 2.89), "effects[0].reported.t", "opposite signs", "error"),
    ("t-consistent", setp(*eff(0, "reported", "t"), -3.5), "effects[0].reported.t", "inconsistent", "error"),
    ("proportion-range", setp(*eff(0, "reported", "estimate"), -5.2), "effects[0].reported.estimate", "unit 'proportion' is outside", "error"),
    ("proportion-range", setp(*eff(1, "reported", "icc"), 1.5), "effects[1].reported.icc", "icc 1.5 is outside [0, 1]", "error"),
    ("number-in-quote", setp(*eff(1, "reported", "estimate"), -2.1), "effects[1].provenance.quote", "does not appear in the quote", "error"),
    ("number-in-quote", setp(*eff(2, "reported", "estimate"), 0.08), "effects[2].provenance.quote", "only rounded", "warning"),
]


def _strip_study_locators(d):
    del d["doi"], d["sources"][0]["doi"]
    d["sources"][0]["note"] = "no locator"


CASES.append(("study-locator", _strip_study_locators, "id", "no url or doi anywhere", "error"))
CASES.append(("yaml-1.2-values", None, "design.clusters", "octal", "error"))
def _rep(i, drop=(), **kw):
    """A mutation of effects[i].reported: drop some keys, set others."""
    def mutate(d):
        r = d["effects"][i]["reported"]
        for k in drop:
            r.pop(k)
        r.update(kw)
    return mutate


CASES += [
    ("number-type", setp(*eff(0, "reported", "se"), "0.018"), "effects[0].reported.se", "is text (in quotes), not a number", "error"),
    ("number-type", setp(*eff(0, "primary"), "yes"), "effects[0].primary", "is not true or false", "error"),
    ("finite-number", setp(*eff(0, "reported", "se"), float("inf")), "effects[0].reported.se", "not a finite number", "error"),
    ("finite-number", setp("design", "clusters", 2 ** 64), "design.clusters", "does not fit in 64 bits", "error"),
    ("se-usable", setp(*eff(0, "reported", "se"), 1e-200), "effects[0].reported.se", "variance underflows", "error"),
    ("ci-usable", setp(*eff(2, "reported", "ci_high"), ...), "effects[2].reported.ci_low", "only one CI limit", "error"),
    ("ci-usable", _rep(2, ci_low=0.081, ci_high=0.081), "effects[2].reported.ci_low", "zero width", "error"),
    ("variance-source", _rep(1, drop=("se",), p=1), "effects[1].reported.p", "p = 1 is the only variance source", "error"),
    ("variance-source", _rep(1, drop=("se",), t=0), "effects[1].reported.t", "t = 0 is the only variance source", "error"),
    ("variance-source", _rep(0, estimate=0, drop=("ci_low", "ci_high")), "effects[0].reported.t", "with an estimate of 0", "error"),
    ("variance-source", _rep(0, df=0), "effects[0].reported.df", "df 0 is not positive", "error"),
    ("measure-range", _rep(1, form="odds_ratio", unit="odds_ratio", estimate=-0.2), "effects[1].reported.estimate",
     "ratio of -0.2 is impossible", "error"),
    ("measure-range", _rep(1, form="correlation", drop=("estimate",), r=1.0, n=100), "effects[1].reported.r", "outside (-1, 1)", "error"),
    ("measure-range", _rep(1, sd1=-1.0), "effects[1].reported.sd1", "SD -1 is negative", "error"),
    ("measure-range", _rep(1, ai=-3), "effects[1].reported.ai", "is negative", "error"),
    ("se-matches-ci", _rep(0, se=0.05), "effects[0].reported.se", "contradicts the CI", "error"),
    ("t-matches-p", _rep(1, drop=("se",), t=-2.71, p=0.5), "effects[1].reported.p", "contradicts t -2.71", "error"),
    ("significance-matches", _rep(0, significance="n.s."), "effects[0].reported.significance", "p = 0.004 < 0.05", "error"),
    ("sign-matches-words", _rep(1, estimate=1.9), "effects[1].reported.estimate", "the quote says 'fell'", "error"),
    ("sign-matches-words", _rep(1, direction="increase"), "effects[1].reported.direction", "contradicts the estimate", "error"),
    ("follow-up-limit", setp("design", "follow_up_months", 700), "design.follow_up_months", "more than 50 years", "error"),
    ("sample-total", setp("population", "n_total", 2000), "population.n_total", "less than n_treatment + n_control", "error"),
    ("clusters", setp("design", "clusters", 1), "design.clusters", "a cluster RCT with 1 cluster", "error"),
    ("subgroup-age", setp(*eff(2, "subgroup", "age_max"), 16), "effects[2].subgroup.age_max", "above the population's 15", "error"),
    ("programme-start", setp("programme", "start_year", 2020), "programme.start_year", "after the publication year", "error"),
    ("unit-limit", _rep(1, estimate=-200), "effects[1].reported.estimate", "-200 hours per week is impossible", "error"),
    ("unit-limit", setp(*eff(2, "reported", "unit"), "hours_per_week"), "effects[2].reported.unit", "not measured in hours", "error"),
    ("text-not-blank", setp("title", "  "), "title", "is blank", "error"),
    ("text-not-blank", setp("authors", ["Fixture, Ada", ""]), "authors[1]", "is blank", "error"),
    ("text-length", setp("title", "x" * 1001), "title", "1,001 characters (more than 1,000)", "error"),
    ("text-characters", setp("title", "Fixture \u202etxet"), "title", "bidirectional-control character U+202E", "error"),
    ("coding-date", setp("coding", "date", dt.date(2026, 12, 1)), "coding.date", "in the future", "error"),
    ("large-effect", _rep(0, estimate=-0.6), "effects[0].reported.estimate", "unusually large", "warning"),
    ("duplicate-effect", lambda d: d["effects"].append({**copy.deepcopy(d["effects"][1]), "id": "hours-again"}),
     "effects[3].id", "repeats effects[1] ('hours')", "error"),
    ("long-follow-up", setp("design", "follow_up_months", 300), "design.follow_up_months", "over 20 years", "warning"),
]
CASES.append(("canonical-links", setp("sources", 0, "url", "https://sci-hub.se/10.0000/x"), "sources[0].url",
              "shadow library", "error"))


@pytest.mark.parametrize("name", sorted(RULES))
def test_valid_fixture_passes_each_rule(name):
    assert run(name) == []
    assert run(name, base=MAPPED) == []


@pytest.mark.parametrize("name,mutate,field,message,severity", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires(name, mutate, field, message, severity):
    kw = {}
    if name == "filename-id":
        kw["stem"] = "other"
    if name == "second-coding-reconciled":  # a second coder's file next to the study, never reconciled
        kw["path"] = Path(__file__).parent / "fixtures" / "coding" / "fixture-cct-coded.yaml"
    if name == "duplicate-yaml-key":
        kw["duplicate_keys"] = [(("programme", "setting"), 14)]
    if name == "yaml-1.2-values":
        kw["loaded"] = loads("design:\n  clusters: 042\n")
    problems = run(name, mutate, **kw)
    assert len(problems) == 1, [str(p) for p in problems]
    p = problems[0]
    assert (p.field, p.severity, p.rule) == (field, severity, name)
    assert message in p.message or message in (p.hint or ""), str(p)


def test_every_rule_has_a_firing_case_and_a_description():
    assert {c[0] for c in CASES} == set(RULES)
    assert all(r.description and "\n" not in r.description for r in RULES.values())


def test_rules_collect_everything_and_survive_broken_structure():
    data = copy.deepcopy(BASE)
    data["effects"][0]["reported"]["se"] = 0
    data["effects"][1]["outcome"] = "wrok"
    data["programme"] = "not a mapping"
    data["interventions"] = None
    problems = run_rules(data, Context("x.yaml", file_stem="fixture-cct-coded"))
    rules = {p.rule for p in problems}
    assert {"schema", "se-positive", "outcome", "references"} <= rules


def test_line_of_is_used():
    lines = {("effects", 0, "reported", "se"): 42}
    problems = run("se-positive", setp(*eff(0, "reported", "se"), 0), line_of=lambda loc: lines.get(tuple(loc), 1))
    assert problems[0].line == 42 and str(problems[0]).startswith("x.yaml:42: effects[0].reported.se: ")


@pytest.mark.parametrize("value,quote,how", [
    (-0.17, "a coefficient of -0.17 (0.05)", "exact"),
    (-0.17, "a coefficient of −0.17 (0.05)", "exact"),            # unicode minus
    (-0.17, "fell by 0.17 points", "sign-worded"),
    (-0.17, "a coefficient of 0.17", "sign"),
    (0.17, "by 17 percentage points", "scale"),
    (17, "by 17 percentage points", "exact"),
    (-10.64, "reduced by 10.6 percent", "rounded"),
    (1234, "1,234 children", "exact"),
    (0.17, "0,17 (European decimal comma)", "exact"),
    (-12, "children aged 5-12", "sign"),  # a range dash is not a minus: 12 matches only unsigned
    (1.7, "see Table 2", "absent"),
    (4, "increases labor by four percentage points", "exact"),        # a number in words
    (-4, "reduced work by four percentage points", "sign-worded"),
    (1.9, "almost two hours", "absent"),                              # words match exactly or not at all
])
def test_number_matching(value, quote, how):
    assert match_number(value, quote)[0] == how


def test_quote_numbers_signs():
    assert [v for v, _ in quote_numbers("ages 5–17: −0.3 and -2")] == [5, 17, -0.3, -2]


def test_p_tolerance_allows_rounding_and_t_quantiles():
    # b/se = 2.0 -> normal p 0.0455; a t-based 0.06 or a rounded 0.05 are fine, 0.2 is not
    def with_p(p, df=None):
        def m(d):
            r = d["effects"][1]["reported"]
            r.update(estimate=-1.9, se=0.95, p=p)
            if df:
                r["df"] = df
        return m
    assert run("p-consistent", with_p(0.05)) == []
    assert run("p-consistent", with_p(0.06)) == []
    assert len(run("p-consistent", with_p(0.2))) == 1
    assert run("p-consistent", with_p(0.2, df=1)) == []  # t with 1 df: p = 0.30, within a factor of 2


def test_has_variance_forms():
    assert has_variance({"estimate": 1, "se": 0.5})
    assert has_variance({"estimate": 1, "significance": "p<0.05"})
    assert not has_variance({"estimate": 1, "significance": "significant"})
    assert has_variance({"form": "means_sds", "m1": 1, "sd1": 1, "n1": 10, "m2": 0, "sd2": 1, "n2": 10})
    assert not has_variance({"form": "means_sds", "m1": 1, "m2": 0})
    assert not has_variance({"estimate": 1})
