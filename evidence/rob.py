"""Guided risk of bias: RoB 2 for randomised designs (RoB 2 CRT for cluster RCTs), ROBINS-I for the others.

The signalling questions are data (``evidence/data/rob2.yaml``, ``robins_i.yaml``); the algorithms
that propose a judgement from the answers are here, because they are decision trees. A proposal is
only a proposal: the coder may judge otherwise, and a judgement that differs from the proposal needs a
reason in ``risk_of_bias.overrides`` (checked by the ``rob-override`` rule). A foundation module, not part
of ``evidence.coding``, because validation (stage 1) applies the same algorithms to hand-written files.

Sources of the rules, and how far each could be checked here:

* RoB 2 domain algorithms: the tool's full guidance (Higgins, Savović, Page, Sterne et al., "Revised
  Cochrane risk-of-bias tool for randomized trials (RoB 2)", 22 August 2019, riskofbias.info; the tool is
  Sterne et al. 2019, BMJ 366:l4898), effect of assignment, individually randomised parallel trials.
  The guidance document itself was not in the reference corpora here; the decision trees were checked
  against an independent open implementation of the same guidance (Younthing/eagent,
  ``src/rob2/decision_rules.py``), which agrees branch by branch with the trees below except one: when
  4.2 is "no information" that implementation proposes *low* where 4.2 = N/PN would give low; the
  guidance's figure distinguishes the NI branch, so we take the cautious reading and propose *some
  concerns* there (documented in :func:`_d4`, tested).
* RoB 2 overall: "low" if every domain is low, "high" if any domain is high, otherwise "some concerns"
  (Cochrane Handbook chapter 8, section 8.2.3: the overall risk of bias is the least favourable of the
  domain judgements; the Handbook also allows "high" for several domains with some concerns: that is
  the coder's override, not an automatic rule).
* RoB 2 for cluster-randomised trials (``rob2_cluster``): the RoB 2 CRT guidance (Eldridge, Campbell,
  Campbell et al., "additional considerations for cluster-randomized trials", 2021) adds domain 1b, "bias arising from the timing of
  identification or recruitment of participants". Its algorithm, as implemented in :func:`_d1b`: low
  when everyone was identified before the clusters were randomised (1b.1) or their selection cannot
  have been affected by knowing the arm (1b.2), and baseline imbalance does not suggest differential
  recruitment (1b.3); high when selection was likely affected (1b.2), or with no information on it and
  a suggestive imbalance; some concerns otherwise. The CRT document was not in the reference corpora
  here, so this could not be checked against its text: it follows our reading of its decision table and
  mirrors D1's treatment of "no information" (tested, ``tests/test_coding_rob.py``). The other five domains are the individually randomised ones.
* ROBINS-I domains: :mod:`evidence.robins_i` proposes a judgement only where the answers match the
  2016 detailed guidance's written criteria, and none where the guidance leaves it to the assessor.
* ROBINS-I overall (Sterne et al. 2016, BMJ 355:i4919, table of judgements): critical if any domain is
  critical; serious if any is serious (none critical); no information if any domain lacks information
  and none is serious or critical; moderate if all are low or moderate; low if all are low.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from evidence import robins_i
from evidence.errors import EvidenceError
from evidence.taxonomy import taxonomy

YES, NO = {"Y", "PY"}, {"N", "PN"}
TOOLS = ("rob2", "rob2_cluster", "robins_i")


@dataclass(frozen=True)
class Proposal:
    """What the algorithm proposes for a domain (or overall), and why; ``judgement`` None: incomplete."""

    judgement: str | None
    why: str


@cache
def tool_spec(tool: str) -> dict:
    """The tool's domains and signalling questions (``evidence/data/<tool>.yaml``)."""
    if tool not in TOOLS:
        raise EvidenceError(f"no guided assessment for tool '{tool}' (known: {', '.join(TOOLS)})")
    base = "rob2" if tool == "rob2_cluster" else tool
    spec = yaml.safe_load((resources.files("evidence") / "data" / f"{base}.yaml").read_text(encoding="utf-8"))
    extra = spec.pop("cluster_domains", [])
    if tool == "rob2_cluster":  # RoB 2 CRT: domain 1b after D1
        domains = spec["domains"]
        for dom in extra:
            at = next(i for i, d in enumerate(domains) if d["id"] == dom["after"])
            domains.insert(at + 1, {k: v for k, v in dom.items() if k != "after"})
        spec.update(tool=tool, label="RoB 2 (cluster-randomised)")
    return spec


def domain_codes(tool: str) -> list[tuple[str, str]]:
    """(domain id, short code) in the tool's order, e.g. ("recruitment", "D1b"); the code is the label's first word."""
    return [(d["id"], d["label"].split()[0]) for d in tool_spec(tool)["domains"]]


#: How a judgement reads in a table cell: the tool's words plus "risk", so no reader has to know the scale.
_JUDGEMENT_WORDS = {"low": "low risk", "some_concerns": "some concerns", "high": "high risk", "moderate": "moderate risk",
                    "serious": "serious risk", "critical": "critical risk", "no_information": "no information"}


def rob_text(tool: str | None, judgement: str | None) -> str:
    """A risk-of-bias judgement as readers see it, e.g. "some concerns (RoB 2)"; "not assessed" without one."""
    spec = taxonomy().rob_tools.get(tool or "")
    if not spec or not judgement:
        return "not assessed"
    return f"{_JUDGEMENT_WORDS.get(judgement, judgement.replace('_', ' '))} ({spec['label']})"


def quality_text(rater: str | None, rating: str | None) -> str:
    """A clearinghouse's quality rating as readers see it, e.g. "high quality (CLEAR)": always with the
    word *quality*, so it never reads as a risk of bias; "not rated" without one."""
    if not rater or not rating:
        return "not rated"
    return f"{rating} quality ({rater.upper() if rater == 'clear' else rater})"


def tool_for_design(design_type: str | None) -> str:
    """RoB 2 for a randomised design (taxonomy ``randomised: true``; its cluster variant for a cluster RCT),
    ROBINS-I for any other."""
    term = taxonomy().designs.get(design_type or "", {})
    if not term.get("randomised"):
        return "robins_i"
    return "rob2_cluster" if design_type == "cluster_rct" else "rob2"


def asked(question: dict, answers: dict[str, str]) -> bool:
    """Whether a question is asked, given the answers so far: any of its ``asked_if`` conditions and all
    of its ``asked_if_all`` conditions hold (a question with neither is always asked)."""
    any_of, all_of = question.get("asked_if"), question.get("asked_if_all") or []
    return ((not any_of or any(answers.get(q) in set(allowed) for q, allowed in any_of))
            and all(answers.get(q) in set(allowed) for q, allowed in all_of))


def open_questions(tool: str, domain: str, answers: dict[str, str]) -> list[dict]:
    """The questions of a domain that are asked given ``answers`` (in order)."""
    spec = next((d for d in tool_spec(tool)["domains"] if d["id"] == domain), None)
    if spec is None:
        raise EvidenceError(f"'{domain}' is not a {tool} domain")
    return [q for q in spec["questions"] if asked(q, answers)]


def _missing(tool: str, domain: str, answers: dict[str, str]) -> list[str]:
    return [q["id"] for q in open_questions(tool, domain, answers) if not answers.get(q["id"])]


def _d1(a: dict) -> tuple[str, str]:
    q1, q2, q3 = a["1.1"], a["1.2"], a["1.3"]
    if q2 in NO:
        return "high", "1.2 allocation not concealed"
    if q2 == "NI" and q3 in YES:
        return "high", "1.2 no information on concealment and 1.3 baseline imbalance suggests a problem"
    if q2 in YES and q1 in YES | {"NI"} and q3 in NO | {"NI"}:
        return "low", "1.2 concealed, 1.1 random (or no information), 1.3 no problematic imbalance"
    return "some_concerns", "neither the low-risk nor a high-risk pattern of 1.1-1.3"


def _d1b(a: dict) -> tuple[str, str]:
    """RoB 2 CRT domain 1b (see module doc): 1b.1 all identified before randomisation of clusters, 1b.2
    selection affected by knowing the arm, 1b.3 imbalance suggesting differential recruitment."""
    q1, q2, q3 = a["1b.1"], a.get("1b.2"), a["1b.3"]
    imbalance = q3 in YES
    if q2 in YES:
        return "high", "1b.2 recruitment likely affected by knowledge of the cluster's arm"
    if q1 in YES or q2 in NO:
        first = "1b.1 identified before randomisation" if q1 in YES else "1b.2 recruitment not affected by the arm"
        if imbalance:
            return "some_concerns", f"{first}, but 1b.3 baseline imbalance suggests differential recruitment"
        return "low", f"{first}, 1b.3 no suggestive imbalance"
    if imbalance:
        return "high", "1b.2 no information on recruitment and 1b.3 imbalance suggests differential recruitment"
    return "some_concerns", "1b.2 no information whether recruitment was affected by the arm"


def _d2(a: dict) -> tuple[str, str]:
    q1, q2, q3, q4, q5 = (a.get(k) for k in ("2.1", "2.2", "2.3", "2.4", "2.5"))
    if q1 in NO and q2 in NO:
        part1 = "low", "2.1/2.2 nobody aware of the assignment"
    elif q3 in NO:
        part1 = "low", "2.3 no deviations because of the trial context"
    elif q3 == "NI":
        part1 = "some_concerns", "2.3 no information on deviations"
    elif q4 in NO:
        part1 = "some_concerns", "2.4 deviations unlikely to affect the outcome"
    elif q5 in YES:
        part1 = "some_concerns", "2.5 deviations balanced between groups"
    else:
        part1 = "high", "2.5 deviations affecting the outcome, not balanced (or no information)"
    q6, q7 = a.get("2.6"), a.get("2.7")
    if q6 in YES:
        part2 = "low", "2.6 appropriate analysis"
    elif q7 in NO:
        part2 = "some_concerns", "2.7 inappropriate analysis without substantial impact"
    else:
        part2 = "high", "2.7 inappropriate analysis with potential substantial impact"
    levels = {part1[0], part2[0]}
    j = "high" if "high" in levels else "low" if levels == {"low"} else "some_concerns"
    return j, f"part 1: {part1[1]}; part 2: {part2[1]}"


def _d3(a: dict) -> tuple[str, str]:
    if a["3.1"] in YES:
        return "low", "3.1 outcome data for (nearly) all participants"
    if a.get("3.2") in YES:
        return "low", "3.2 evidence the result is not biased by missing data"
    if a.get("3.3") in NO:
        return "low", "3.3 missingness could not depend on the true value"
    if a.get("3.4") in NO:
        return "some_concerns", "3.4 missingness could, but is unlikely to, depend on the true value"
    return "high", "3.4 missingness likely depends on the true value (or no information)"


def _d4(a: dict) -> tuple[str, str]:
    """Domain 4. With 4.2 = NI (no information whether measurement differed between groups) the
    branches that would give "low" give "some concerns" (the cautious reading, see module doc)."""
    if a["4.1"] in YES:
        return "high", "4.1 inappropriate measurement method"
    if a["4.2"] in YES:
        return "high", "4.2 measurement could differ between groups"
    ok = "low" if a["4.2"] in NO else "some_concerns"
    tail = "" if ok == "low" else " (4.2 no information)"
    if a.get("4.3") in NO:
        return ok, "4.3 assessors unaware of the intervention" + tail
    if a.get("4.4") in NO:
        return ok, "4.4 knowledge of the intervention could not influence assessment" + tail
    if a.get("4.5") in NO:
        return "some_concerns", "4.5 influence possible but unlikely"
    return "high", "4.5 assessment likely influenced by knowledge of the intervention (or no information)"


def _d5(a: dict) -> tuple[str, str]:
    q1, q2, q3 = a["5.1"], a["5.2"], a["5.3"]
    if q2 in YES or q3 in YES:
        return "high", "5.2/5.3 result likely selected from several measurements or analyses"
    if q2 in NO and q3 in NO:
        if q1 in YES:
            return "low", "5.1 pre-specified analysis, 5.2/5.3 no selection"
        return "some_concerns", "5.2/5.3 no selection, but 5.1 no (information on a) pre-specified plan"
    return "some_concerns", "5.2/5.3 no information on selection"


_ROB2 = {"randomisation": _d1, "recruitment": _d1b, "deviations": _d2, "missing_data": _d3, "measurement": _d4, "reporting": _d5}


def propose_domain(tool: str, domain: str, answers: dict[str, str]) -> Proposal:
    """The judgement the tool's algorithm proposes for one domain (None while questions are open, and for
    ROBINS-I where the guidance leaves the judgement to the assessor: :mod:`evidence.robins_i`)."""
    answers = {k: v for k, v in (answers or {}).items() if v}
    valid = set(tool_spec(tool)["answers"])
    bad = sorted(f"{k}={v}" for k, v in answers.items() if v not in valid)
    if bad:
        raise EvidenceError(f"not a {tool} answer: {', '.join(bad)} (one of {', '.join(sorted(valid))})")
    missing = _missing(tool, domain, answers)  # also checks the domain exists
    if missing:
        return Proposal(None, f"answer {', '.join(missing)} first")
    judgement, why = (robins_i.DOMAINS if tool == "robins_i" else _ROB2)[domain](answers)
    return Proposal(judgement, why)


def propose_overall(tool: str, domains: dict[str, str | None]) -> Proposal:
    """The overall judgement the tool proposes from the domain judgements (None while any is missing)."""
    names = [d["id"] for d in tool_spec(tool)["domains"]]
    missing = [n for n in names if not domains.get(n)]
    if missing:
        return Proposal(None, f"judge {', '.join(missing)} first")
    js = {domains[n] for n in names}
    if tool in ("rob2", "rob2_cluster"):
        if "high" in js:
            return Proposal("high", "a domain is at high risk")
        if js == {"low"}:
            return Proposal("low", "every domain is at low risk")
        return Proposal("some_concerns", "some concerns in at least one domain, none high")
    for level, why in (("critical", "a domain is at critical risk"), ("serious", "a domain is at serious risk"),
                       ("no_information", "information is missing for a domain (none serious or critical)"),
                       ("moderate", "every domain is at low or moderate risk")):
        if level in js:
            return Proposal(level, why)
    return Proposal("low", "every domain is at low risk")


def assessment_problems(rob: dict) -> list[tuple[tuple, str, str | None]]:
    """Judgements that differ from the algorithm's proposal without a reason in ``overrides``:
    ``(location, message, hint)`` triples for the validation rule. Only checked where answers were
    coded (a judgement copied from a source, e.g. a clearinghouse, has none)."""
    tool = rob.get("tool")
    if tool not in TOOLS or not isinstance(rob.get("answers"), dict) or not rob["answers"]:
        return []
    out = []
    overrides = rob.get("overrides") if isinstance(rob.get("overrides"), dict) else {}
    domains = rob.get("domains") if isinstance(rob.get("domains"), dict) else {}
    for dom, answers in rob["answers"].items():
        if not isinstance(answers, dict):
            continue
        try:
            p = propose_domain(tool, dom, {str(k): str(v) for k, v in answers.items()})
        except EvidenceError as exc:
            out.append((("risk_of_bias", "answers", dom), str(exc), None))
            continue
        j = domains.get(dom)
        if p.judgement and j and j != p.judgement and not overrides.get(dom):
            out.append((("risk_of_bias", "domains", dom),
                        f"judged '{j}' but the {tool} algorithm proposes '{p.judgement}' ({p.why})",
                        f"give the reason in risk_of_bias.overrides.{dom}"))
    p = propose_overall(tool, domains)
    if p.judgement and rob.get("overall") and rob["overall"] != p.judgement and not overrides.get("overall"):
        out.append((("risk_of_bias", "overall"),
                    f"overall '{rob['overall']}' but the {tool} algorithm proposes '{p.judgement}' ({p.why})",
                    "give the reason in risk_of_bias.overrides.overall"))
    return out
