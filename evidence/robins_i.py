"""ROBINS-I domain proposals: from the signalling-question answers to a proposed domain judgement.

ROBINS-I (Sterne et al. 2016, BMJ 355:i4919) publishes no decision tree for its domains: the detailed
guidance (Sterne, Higgins, Elbers, Reeves and the development group, "ROBINS-I: detailed guidance",
20 October 2016, riskofbias.info, section 4) describes in words what each judgement means per domain
(the same criteria are tabulated in Cochrane reviews, e.g. CD013253, table "Risk of bias judgements
in ROBINS-I"; the low and moderate wording quoted below for D1-D3 was checked against that table as
found in a reference corpus; the rest is the guidance's wording as we know it and could not be checked
line by line here). A proposal is made here only where the answers state one of those written criteria
directly; each function says which sentence it follows. Where the criteria turn on a degree the
questions do not ask ("minimal", "substantial", "very strongly", "inherently not controllable"), on
"no information", or on questions the repository's short form leaves out (1.7-1.8, time-varying
confounding), nothing is proposed and the coder judges: a ``None`` judgement with the reason.
*Critical* is never proposed: the guidance reserves it for unusual situations the assessor recognises.

The questions are ``evidence/data/robins_i.yaml`` (2016 numbering); the overall rule is
:func:`evidence.rob.propose_overall`.
"""

from __future__ import annotations

YES, NO = {"Y", "PY"}, {"N", "PN"}
Judged = tuple[str | None, str]
_ASSESSOR = "the guidance leaves this to the assessor"


def confounding(a: dict) -> Judged:
    """Low: "no confounding expected"; moderate: "confounding expected, all known important confounding
    domains appropriately measured and controlled for; and reliability and validity of measurement ...
    sufficient"; serious: "at least one known important domain was not appropriately measured, or not
    controlled for; or reliability or validity of measurement ... low"."""
    if a.get("1.1") in NO:
        return "low", "1.1 no potential for confounding"
    if a.get("1.4") in NO:
        return "serious", "1.4 an important confounding domain not controlled for"
    if a.get("1.5") in NO:
        return "serious", "1.5 confounders not measured validly and reliably"
    time_varying = a.get("1.2") in YES and a.get("1.3") not in NO
    if a.get("1.4") in YES and a.get("1.5") in YES and a.get("1.6") in NO and not time_varying:
        return "moderate", "1.4/1.5 important confounders controlled and measured well, 1.6 no post-intervention adjustment"
    if time_varying:
        return None, f"1.2/1.3 time-varying confounding (questions 1.7-1.8 are not in this short form): {_ASSESSOR}"
    if a.get("1.6") in YES:
        return None, f"1.6 adjustment for variables the intervention may have affected: {_ASSESSOR}"
    return None, f"no information on confounding control: {_ASSESSOR}"


def selection(a: dict) -> Judged:
    """Low: "all participants who would have been eligible for the target trial were included in the
    study and start of follow-up and start of intervention coincide"; moderate: "selection ... may have
    been related to intervention and outcome, but the authors used appropriate methods to adjust";
    serious: "selection into the study was related to intervention and outcome" (not adjusted)."""
    not_selected = a.get("2.1") in NO or a.get("2.2") in NO or a.get("2.3") in NO
    if not_selected and a.get("2.4") in YES:
        return "low", "2.1-2.3 no selection on post-intervention characteristics, 2.4 follow-up starts with the intervention"
    if a.get("2.5") in YES:
        return "moderate", "2.5 adjustment likely to correct the selection bias"
    if a.get("2.5") in NO and (a.get("2.3") in YES or a.get("2.4") in NO):
        return "serious", "2.3/2.4 selection related to intervention and outcome (or follow-up misaligned), 2.5 not adjusted"
    return None, f"no information on selection or its adjustment: {_ASSESSOR}"


def classification(a: dict) -> Judged:
    """Low: "intervention status is well defined and based solely on information collected at the time of
    intervention"; moderate: "well defined but some aspects ... determined retrospectively"; serious:
    "not well defined, or major aspects ... could have been affected by knowledge of the outcome"."""
    q1, q2, q3 = a.get("3.1"), a.get("3.2"), a.get("3.3")
    if q1 in NO or q3 in YES:
        return "serious", "3.1 groups not well defined, or 3.3 classification affected by knowledge of the outcome"
    if q1 in YES and q3 in NO:
        if q2 in YES:
            return "low", "3.1 well defined, 3.2 recorded at the start, 3.3 not affected by the outcome"
        if q2 in NO:
            return "moderate", "3.1 well defined, but 3.2 status defined retrospectively"
    return None, f"no information on how intervention status was classified: {_ASSESSOR}"


def deviations(a: dict) -> Judged:
    """Effect of assignment. Low: no deviation beyond usual practice; moderate: deviations beyond usual
    practice whose impact is "expected to be slight"; serious: deviations "unbalanced between groups and
    likely to have affected the outcome"."""
    if a.get("4.1") in NO:
        return "low", "4.1 no deviations beyond usual practice"
    if a.get("4.2") in NO:
        return "moderate", "4.2 deviations balanced or unlikely to affect the outcome"
    if a.get("4.2") in YES:
        return "serious", "4.2 deviations unbalanced and likely to affect the outcome"
    return None, f"no information on deviations: {_ASSESSOR}"


def missing_data(a: dict) -> Judged:
    """Low: "data were reasonably complete; or proportions of and reasons for missing participants were
    similar across intervention groups; or the analysis addressed missing data and is likely to have
    removed any risk of bias". Moderate and serious differ by whether differences are minimal or
    substantial, which the questions do not ask: not proposed."""
    complete = a.get("5.1") in YES and a.get("5.2") in NO and a.get("5.3") in NO
    if complete:
        return "low", "5.1-5.3 outcome data (nearly) complete, nobody excluded"
    if a.get("5.4") in YES:
        return "low", "5.4 proportion and reasons for missingness similar across groups"
    if a.get("5.5") in YES:
        return "low", "5.5 results robust to the missing data"
    return None, f"missingness differs between groups (minimal or substantial?): {_ASSESSOR}"


def measurement(a: dict) -> Judged:
    """Low: methods "comparable across intervention groups; and the outcome measure was unlikely to be
    influenced by knowledge of the intervention ... or the outcome assessors were unaware ...; and any
    error in measuring the outcome is unrelated to intervention status"; serious: "not comparable ...; or
    the outcome measure was subjective and likely to be influenced ...; or error ... related to
    intervention status". Moderate ("only minimally influenced") is the assessor's."""
    q1, q2, q3, q4 = (a.get(k) for k in ("6.1", "6.2", "6.3", "6.4"))
    if q3 in NO or q4 in YES or (q1 in YES and q2 in YES):
        return "serious", "6.3 not comparable, 6.4 errors related to the intervention, or 6.1/6.2 influenced and aware"
    if q3 in YES and q4 in NO and (q1 in NO or q2 in NO):
        return "low", "6.3 comparable, 6.4 errors unrelated, 6.1/6.2 measure not influenced or assessors unaware"
    return None, f"no information on outcome measurement: {_ASSESSOR}"


def reporting(a: dict) -> Judged:
    """Serious: "a high risk of selective reporting from among multiple analyses; or the cohort or subgroup
    is selected ... on the basis of the results" (any of 7.1-7.3 yes); low: clear evidence that nothing
    was selected (7.1-7.3 all a definite "no"); moderate: no indication of selection (all no or
    probably no)."""
    answers = [a.get(k) for k in ("7.1", "7.2", "7.3")]
    if any(x in YES for x in answers):
        return "serious", "7.1-7.3 result likely selected from several measurements, analyses or subgroups"
    if all(x == "N" for x in answers):
        return "low", "7.1-7.3 clearly no selection of the reported result"
    if all(x in NO for x in answers):
        return "moderate", "7.1-7.3 no indication of selection (probably no)"
    return None, f"no information on selection of the result: {_ASSESSOR}"


DOMAINS = {"confounding": confounding, "selection": selection, "classification": classification,
           "deviations": deviations, "missing_data": missing_data, "measurement": measurement, "reporting": reporting}
