"""Guided risk of bias: RoB 2's domain algorithms on their decision tables, RoB 2 CRT's domain 1b, the
ROBINS-I domain proposals on the 2016 guidance's judgement criteria (no worked example with
signalling-question answers was available in the reference corpora, so the cases are the criteria's
sentences), the overall rules of RoB 2 and ROBINS-I, which questions are asked, and the override rule
in `evidence validate`."""

from __future__ import annotations

import pytest
import yaml

from evidence import rob
from evidence.errors import EvidenceError
from evidence.ingest.validate import check_file

# Domain 1 (randomisation): (1.1, 1.2, 1.3) -> judgement, the rows of the guidance's decision table.
D1 = [(("Y", "Y", "N"), "low"), (("NI", "Y", "PN"), "low"), (("PY", "PY", "NI"), "low"),
      (("N", "Y", "N"), "some_concerns"), (("PN", "Y", "NI"), "some_concerns"),
      (("Y", "Y", "Y"), "some_concerns"), (("N", "PY", "PY"), "some_concerns"),
      (("Y", "NI", "N"), "some_concerns"), (("NI", "NI", "NI"), "some_concerns"),
      (("Y", "NI", "Y"), "high"), (("Y", "N", "N"), "high"), (("NI", "PN", "NI"), "high")]


@pytest.mark.parametrize("answers,expected", D1)
def test_rob2_domain1_decision_table(answers, expected):
    a = dict(zip(("1.1", "1.2", "1.3"), answers))
    assert rob.propose_domain("rob2", "randomisation", a).judgement == expected


D2 = [({"2.1": "N", "2.2": "PN", "2.6": "Y"}, "low"),
      ({"2.1": "Y", "2.2": "Y", "2.3": "N", "2.6": "PY"}, "low"),
      ({"2.1": "Y", "2.2": "N", "2.3": "NI", "2.6": "Y"}, "some_concerns"),
      ({"2.1": "Y", "2.2": "N", "2.3": "Y", "2.4": "N", "2.6": "Y"}, "some_concerns"),
      ({"2.1": "Y", "2.2": "N", "2.3": "Y", "2.4": "Y", "2.5": "Y", "2.6": "Y"}, "some_concerns"),
      ({"2.1": "Y", "2.2": "N", "2.3": "Y", "2.4": "NI", "2.5": "N", "2.6": "Y"}, "high"),
      ({"2.1": "N", "2.2": "N", "2.6": "N", "2.7": "N"}, "some_concerns"),
      ({"2.1": "N", "2.2": "N", "2.6": "NI", "2.7": "PY"}, "high")]
D3 = [({"3.1": "Y"}, "low"), ({"3.1": "N", "3.2": "Y"}, "low"), ({"3.1": "NI", "3.2": "N", "3.3": "PN"}, "low"),
      ({"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "N"}, "some_concerns"),
      ({"3.1": "N", "3.2": "PN", "3.3": "NI", "3.4": "NI"}, "high")]
D4 = [({"4.1": "Y", "4.2": "N"}, "high"), ({"4.1": "N", "4.2": "PY"}, "high"),
      ({"4.1": "N", "4.2": "N", "4.3": "N"}, "low"), ({"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "PN"}, "low"),
      ({"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "Y", "4.5": "N"}, "some_concerns"),
      ({"4.1": "NI", "4.2": "N", "4.3": "NI", "4.4": "NI", "4.5": "NI"}, "high"),
      ({"4.1": "N", "4.2": "NI", "4.3": "N"}, "some_concerns")]  # the cautious NI branch (module doc)
D5 = [({"5.1": "Y", "5.2": "N", "5.3": "PN"}, "low"), ({"5.1": "NI", "5.2": "N", "5.3": "N"}, "some_concerns"),
      ({"5.1": "Y", "5.2": "NI", "5.3": "N"}, "some_concerns"), ({"5.1": "Y", "5.2": "PY", "5.3": "N"}, "high"),
      ({"5.1": "Y", "5.2": "N", "5.3": "Y"}, "high")]


@pytest.mark.parametrize("domain,answers,expected",
                         [("deviations", a, j) for a, j in D2] + [("missing_data", a, j) for a, j in D3]
                         + [("measurement", a, j) for a, j in D4] + [("reporting", a, j) for a, j in D5])
def test_rob2_domains_2_to_5(domain, answers, expected):
    p = rob.propose_domain("rob2", domain, answers)
    assert p.judgement == expected, p.why


def test_questions_are_asked_only_when_the_tool_asks_them():
    ids = lambda a: [q["id"] for q in rob.open_questions("rob2", "deviations", a)]  # noqa: E731
    assert ids({"2.1": "N", "2.2": "N"}) == ["2.1", "2.2", "2.6"]
    assert ids({"2.1": "Y", "2.2": "N", "2.3": "Y", "2.4": "PY", "2.6": "N"}) == ["2.1", "2.2", "2.3", "2.4", "2.5",
                                                                                 "2.6", "2.7"]
    assert [q["id"] for q in rob.open_questions("rob2", "measurement", {"4.1": "Y", "4.2": "N"})] == ["4.1", "4.2"]
    assert rob.propose_domain("rob2", "deviations", {"2.1": "Y", "2.2": "N"}).judgement is None  # 2.3 open


def test_overall_rules():
    five = lambda *js: dict(zip(["randomisation", "deviations", "missing_data", "measurement", "reporting"], js))  # noqa: E731
    assert rob.propose_overall("rob2", five(*["low"] * 5)).judgement == "low"
    assert rob.propose_overall("rob2", five("low", "some_concerns", "low", "low", "low")).judgement == "some_concerns"
    assert rob.propose_overall("rob2", five("low", "some_concerns", "high", "low", "low")).judgement == "high"
    assert rob.propose_overall("rob2", five("low", "low", None, "low", "low")).judgement is None
    seven = lambda *js: dict(zip([d["id"] for d in rob.tool_spec("robins_i")["domains"]], js))  # noqa: E731
    assert rob.propose_overall("robins_i", seven(*["low"] * 7)).judgement == "low"
    assert rob.propose_overall("robins_i", seven("moderate", *["low"] * 6)).judgement == "moderate"
    assert rob.propose_overall("robins_i", seven("moderate", "serious", *["low"] * 5)).judgement == "serious"
    assert rob.propose_overall("robins_i", seven("critical", "serious", *["low"] * 5)).judgement == "critical"
    assert rob.propose_overall("robins_i", seven("no_information", "moderate", *["low"] * 5)).judgement == "no_information"


def test_tool_for_design_and_bad_answers():
    assert rob.tool_for_design("cluster_rct") == "rob2_cluster" and rob.tool_for_design("did") == "robins_i"
    assert rob.tool_for_design("individual_rct") == "rob2"
    with pytest.raises(EvidenceError, match="not a rob2 answer"):
        rob.propose_domain("rob2", "randomisation", {"1.1": "maybe"})


def test_validation_wants_a_reason_for_an_override(tmp_path):
    doc = yaml.safe_load(open("tests/fixtures/studies/alpha-2010-cct.yaml", encoding="utf-8"))
    doc["risk_of_bias"]["answers"] = {"randomisation": {"1.1": "Y", "1.2": "N", "1.3": "N"}}  # proposes high
    path = tmp_path / "alpha-2010-cct.yaml"
    problems = check_file(path, yaml.safe_dump(doc, sort_keys=False)).problems
    hit = [p for p in problems if p.rule == "rob-override"]
    # the fixture's overall 'low' also differs from the proposal ('some_concerns': measurement has some concerns)
    assert [p.field for p in hit] == ["risk_of_bias.domains.randomisation", "risk_of_bias.overall"]
    assert "proposes 'high'" in hit[0].message and "proposes 'some_concerns'" in hit[1].message
    doc["risk_of_bias"]["overrides"] = {"randomisation": "concealment by sealed envelopes, confirmed by the authors",
                                        "overall": "measurement concerns are minor for this outcome"}
    assert not [p for p in check_file(path, yaml.safe_dump(doc, sort_keys=False)).problems if p.rule == "rob-override"]


# RoB 2 CRT domain 1b (1b.1, 1b.2, 1b.3) -> judgement; 1b.2 is asked only when 1b.1 is N/PN/NI.
D1B = [(("Y", None, "N"), "low"), (("PY", None, "NI"), "low"), (("N", "N", "PN"), "low"),
       (("Y", None, "Y"), "some_concerns"), (("NI", "PN", "PY"), "some_concerns"), (("N", "NI", "N"), "some_concerns"),
       (("N", "Y", "N"), "high"), (("PN", "PY", "Y"), "high"), (("NI", "NI", "Y"), "high")]


@pytest.mark.parametrize("answers,expected", D1B)
def test_rob2_cluster_domain_1b(answers, expected):
    a = {k: v for k, v in zip(("1b.1", "1b.2", "1b.3"), answers) if v}
    assert rob.propose_domain("rob2_cluster", "recruitment", a).judgement == expected


def test_rob2_cluster_is_rob2_plus_domain_1b():
    ids = [d["id"] for d in rob.tool_spec("rob2_cluster")["domains"]]
    assert ids == ["randomisation", "recruitment", "deviations", "missing_data", "measurement", "reporting"]
    assert [d["id"] for d in rob.tool_spec("rob2")["domains"]] == [i for i in ids if i != "recruitment"]
    assert [c for _, c in rob.domain_codes("rob2_cluster")] == ["D1", "D1b", "D2", "D3", "D4", "D5"]
    assert [q["id"] for q in rob.open_questions("rob2_cluster", "recruitment", {"1b.1": "Y"})] == ["1b.1", "1b.3"]
    assert rob.propose_domain("rob2_cluster", "recruitment", {"1b.1": "N"}).judgement is None  # 1b.2, 1b.3 open
    six = dict.fromkeys(ids, "low")
    assert rob.propose_overall("rob2_cluster", six).judgement == "low"
    assert rob.propose_overall("rob2_cluster", {**six, "recruitment": "high"}).judgement == "high"
    assert rob.propose_overall("rob2_cluster", {**six, "recruitment": None}).judgement is None  # 1b must be judged


# ROBINS-I: (domain, answers) -> proposal, one case per sentence of the 2016 guidance's judgement criteria
# that the answers can state; None where the guidance leaves the judgement to the assessor.
ROBINS = [
    ("confounding", {"1.1": "N"}, "low"),                                                     # no confounding expected
    ("confounding", {"1.1": "Y", "1.2": "N", "1.4": "Y", "1.5": "PY", "1.6": "N"}, "moderate"),  # all controlled, measured well
    ("confounding", {"1.1": "Y", "1.2": "N", "1.4": "PN", "1.6": "N"}, "serious"),            # an important domain not controlled
    ("confounding", {"1.1": "PY", "1.2": "N", "1.4": "Y", "1.5": "N", "1.6": "N"}, "serious"),  # measured poorly
    ("confounding", {"1.1": "Y", "1.2": "N", "1.4": "Y", "1.5": "Y", "1.6": "Y"}, None),      # post-intervention adjustment
    ("confounding", {"1.1": "Y", "1.2": "Y", "1.3": "Y", "1.4": "Y", "1.5": "Y", "1.6": "N"}, None),  # time-varying
    ("confounding", {"1.1": "Y", "1.2": "N", "1.4": "NI", "1.6": "N"}, None),                  # no information
    ("selection", {"2.1": "N", "2.4": "Y"}, "low"),
    ("selection", {"2.1": "Y", "2.2": "PN", "2.4": "PY"}, "low"),
    ("selection", {"2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "Y", "2.5": "Y"}, "moderate"),
    ("selection", {"2.1": "Y", "2.2": "Y", "2.3": "PY", "2.4": "Y", "2.5": "N"}, "serious"),
    ("selection", {"2.1": "N", "2.4": "N", "2.5": "PN"}, "serious"),
    ("selection", {"2.1": "N", "2.4": "N", "2.5": "NI"}, None),
    ("classification", {"3.1": "Y", "3.2": "Y", "3.3": "N"}, "low"),
    ("classification", {"3.1": "PY", "3.2": "PN", "3.3": "PN"}, "moderate"),
    ("classification", {"3.1": "N", "3.2": "Y", "3.3": "N"}, "serious"),
    ("classification", {"3.1": "Y", "3.2": "Y", "3.3": "PY"}, "serious"),
    ("classification", {"3.1": "Y", "3.2": "NI", "3.3": "N"}, None),
    ("deviations", {"4.1": "N"}, "low"),
    ("deviations", {"4.1": "Y", "4.2": "PN"}, "moderate"),
    ("deviations", {"4.1": "PY", "4.2": "Y"}, "serious"),
    ("deviations", {"4.1": "NI"}, None),
    ("missing_data", {"5.1": "Y", "5.2": "N", "5.3": "PN"}, "low"),
    ("missing_data", {"5.1": "N", "5.2": "N", "5.3": "N", "5.4": "Y", "5.5": "N"}, "low"),
    ("missing_data", {"5.1": "PN", "5.2": "N", "5.3": "N", "5.4": "N", "5.5": "PY"}, "low"),
    ("missing_data", {"5.1": "N", "5.2": "Y", "5.3": "N", "5.4": "N", "5.5": "N"}, None),  # minimal or substantial?
    ("measurement", {"6.1": "N", "6.2": "Y", "6.3": "Y", "6.4": "N"}, "low"),
    ("measurement", {"6.1": "Y", "6.2": "PN", "6.3": "PY", "6.4": "PN"}, "low"),
    ("measurement", {"6.1": "Y", "6.2": "Y", "6.3": "Y", "6.4": "N"}, "serious"),
    ("measurement", {"6.1": "N", "6.2": "N", "6.3": "N", "6.4": "N"}, "serious"),
    ("measurement", {"6.1": "N", "6.2": "N", "6.3": "Y", "6.4": "Y"}, "serious"),
    ("measurement", {"6.1": "NI", "6.2": "NI", "6.3": "Y", "6.4": "N"}, None),
    ("reporting", {"7.1": "N", "7.2": "N", "7.3": "N"}, "low"),
    ("reporting", {"7.1": "N", "7.2": "PN", "7.3": "N"}, "moderate"),
    ("reporting", {"7.1": "N", "7.2": "N", "7.3": "PY"}, "serious"),
    ("reporting", {"7.1": "NI", "7.2": "N", "7.3": "N"}, None),
]


@pytest.mark.parametrize("domain,answers,expected", ROBINS, ids=[f"{d}-{i}" for i, (d, _, _) in enumerate(ROBINS)])
def test_robins_i_domain_proposals_follow_the_guidance_criteria(domain, answers, expected):
    p = rob.propose_domain("robins_i", domain, answers)
    assert p.judgement == expected, p.why
    if expected is None:
        assert "assessor" in p.why  # says that the coder judges, not that something is missing


def test_robins_i_never_proposes_critical_and_waits_for_open_questions():
    assert rob.propose_domain("robins_i", "confounding", {"1.1": "Y"}).judgement is None
    assert "answer 1.2, 1.4, 1.6 first" in rob.propose_domain("robins_i", "confounding", {"1.1": "Y"}).why
    answers = ["Y", "PY", "PN", "N", "NI"]
    seen = set()
    for spec in rob.tool_spec("robins_i")["domains"]:
        for a in answers:  # every question of the domain answered the same way
            p = rob.propose_domain("robins_i", spec["id"], {q["id"]: a for q in spec["questions"]})
            seen.add(p.judgement)
    assert "critical" not in seen and {"low", "moderate", "serious", None} <= seen


def test_validation_checks_robins_i_domain_proposals(tmp_path):
    doc = yaml.safe_load(open("tests/fixtures/studies/alpha-2010-cct.yaml", encoding="utf-8"))
    doc["risk_of_bias"] = {"tool": "robins_i", "overall": "low", "domains": {"deviations": "low"},
                           "answers": {"deviations": {"4.1": "Y", "4.2": "Y"}}}  # proposes serious
    path = tmp_path / "alpha-2010-cct.yaml"
    problems = [p for p in check_file(path, yaml.safe_dump(doc, sort_keys=False)).problems if p.rule == "rob-override"]
    assert [p.field for p in problems] == ["risk_of_bias.domains.deviations"]
    assert "proposes 'serious'" in problems[0].message


def test_form_codes_evidence_quality_apart_and_transfer_values():
    from evidence.coding import form

    doc = yaml.safe_load(open("tests/fixtures/studies/alpha-2010-cct.yaml", encoding="utf-8"))
    doc.pop("risk_of_bias")
    st = form.to_state(doc)
    st.update({form.key("evidence_quality.rater"): "clear", form.key("evidence_quality.rating"): "high",
               form.key("evidence_quality.source"): doc["sources"][0]["id"],
               form.key("interventions[0].value.amount"): "150", form.key("interventions[0].value.currency"): "MXN",
               form.key("interventions[0].value.period"): "month",
               form.key("interventions[0].value.share_of_consumption"): "0.2",
               form.key("risk_of_bias.tool"): "rob2_cluster",
               **{form.key(f"risk_of_bias.answers.recruitment.{q}"): a for q, a in (("1b.1", "N"), ("1b.2", "PY"), ("1b.3", "N"))}})
    study, errors = form.from_state(st, doc)
    assert not errors
    assert study["evidence_quality"] == {"rater": "clear", "rating": "high", "source": doc["sources"][0]["id"]}
    assert study["interventions"][0]["value"] == {"amount": 150, "currency": "MXN", "period": "month",
                                                  "usd_per_year": 320, "share_of_consumption": 0.2}  # 320: the fixture's
    r = study["risk_of_bias"]
    assert r["tool"] == "rob2_cluster" and r["domains"] == {"recruitment": "high"}  # proposed by domain 1b's algorithm
    assert "overall" not in r  # five domains still to judge
    assert {"evidence_quality.rating", "interventions[0].value.amount", "risk_of_bias.domains.recruitment"} <= form.visible_fields(st)
    # an empty quality block and a cleared value leave the file without them
    st2 = form.to_state(doc)
    assert st2[form.key("interventions[0].value.usd_per_year")] == "320"
    st2.update({k: "" for k in st2 if k.startswith(form.key("interventions[0].value."))})  # the coder clears them
    back, _ = form.from_state(st2, doc)
    assert "evidence_quality" not in back and "value" not in back["interventions"][0]
    problems = check_file(__import__("pathlib").Path("alpha-2010-cct.yaml"), yaml.safe_dump(study, sort_keys=False)).problems
    assert not [p for p in problems if p.field.startswith(("evidence_quality", "interventions[0].value"))], problems
