"""A clearinghouse's quality rating is never printed as a risk of bias.

US DOL CLEAR rates the *quality* of causal evidence (high = strong); RoB 2 / ROBINS-I judge the *risk*
of bias (high = weak). The summaries once printed CLEAR's rating as "Overall: high", so de Hoop et al.
(2020), an RCT CLEAR rates high, read "high" risk. Checked on the shipped catalogue and on a synthetic
one (one study per combination that matters) in every place a reader sees it: the study record (page
and ``evidence show``), ``evidence export-csv``, the Markdown, Word, PDF and Excel summaries, and the
certainty rule; plus the schema and the rule that refuses ``risk_of_bias: {tool: clear}``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from summary_fixture import study_doc
from typer.testing import CliRunner

from evidence.catalog import queries
from evidence.catalog.build import build_catalog
from evidence.cli.main import app
from evidence.ingest.validate import check_file
from evidence.schema import Study, json_schema
from evidence.summary import render, summarise
from evidence.summary.content import QUALITY_COLUMN, ROB_COLUMN
from evidence.synthesis import WhatWorksOptions
from evidence.synthesis.certainty import Downgrade, rule_risk_of_bias
from evidence.synthesis.studies import record_parts

DATE = dt.date(2026, 11, 26)
CCT = WhatWorksOptions(intervention="conditional_cash_transfer", outcome="economic_activity")
UCT = WhatWorksOptions(intervention="unconditional_cash_transfer", outcome="economic_activity")

# Synthetic studies: ((tool, judgement) or None, CLEAR rating or None), chosen so that a swap of the two
# scales (or a rating mapped to a risk level) shows: a low risk with a high rating, a high risk with a
# low rating, a rating alone, an assessment alone, and neither.
SYNTHETIC = [
    ("fixture-a-2010", 2010, "cluster_rct", ((("rob2_cluster", "low"), "high")), -4.0, 1.5),
    ("fixture-b-2012", 2012, "individual_rct", ((("rob2", "some_concerns"), "moderate")), -2.5, 1.0),
    ("fixture-c-2015", 2015, "did", ((("robins_i", "serious"), "low")), -6.0, 2.5),
    ("fixture-e-2016", 2016, "individual_rct", ((("rob2", "high"), "low")), -1.0, 1.1),
    ("fixture-f-2017", 2017, "individual_rct", ((None, "high")), -3.0, 1.3),
    ("fixture-g-2019", 2019, "cluster_rct", ((("rob2", "low"), None)), -2.0, 1.4),
    ("fixture-d-2018", 2018, "cluster_rct", None, 3.0, 1.2),
]


def _doc(sid, year, design, rob, est, se) -> dict:
    doc = study_doc(sid, year, design, None, est, se, None, None, None)
    if rob:
        assessment, rating = rob
        if assessment:
            doc["risk_of_bias"] = {"tool": assessment[0], "overall": assessment[1], "reason": "fixture", "source": "paper"}
        if rating:
            doc["evidence_quality"] = {"rater": "clear", "rating": rating, "reason": "fixture", "source": "paper"}
    return doc


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("studies")
    for row in SYNTHETIC:
        (folder / f"{row[0]}.yaml").write_text(yaml.safe_dump(_doc(*row), sort_keys=False), encoding="utf-8")
    out = tmp_path_factory.mktemp("cat") / "catalog.db"
    build_catalog(folder, out, progress=False)
    return out


SHIPPED = Path(__file__).resolve().parents[1] / "evidence" / "catalog.db"
CASES = {"shipped": (SHIPPED, UCT), "synthetic": (None, CCT)}


@pytest.fixture(scope="module", params=list(CASES))
def case(request, synthetic):
    path, options = CASES[request.param]
    path = path or synthetic
    engine = queries.connect(path)
    return path, engine, options


def _safe_ids(engine) -> tuple[set[str], set[str]]:
    """(studies that must never print as high risk: low RoB or a high quality rating, studies truly at
    high risk: RoB 2 high or ROBINS-I serious/critical), from the catalogue itself."""
    s = queries.studies(engine=engine)
    safe = set(s.loc[s["rob_overall"].eq("low") | s["quality_rating"].eq("high"), "id"])
    high = set(s.loc[s["risk_of_bias"].eq("high"), "id"])
    assert safe and not safe & high  # the catalogues have such studies, and no study is both
    return safe, high


def test_study_record_and_show(case):
    path, engine, _ = case
    safe, _ = _safe_ids(engine)
    for sid in sorted(safe):
        rec = queries.study(sid, engine=engine)
        parts = record_parts(rec)
        rob = parts["risk_of_bias"]
        assert rob is None or "high" not in rob["risk of bias"], (sid, rob)
        if rec["evidence_quality"] and rec["evidence_quality"]["rating"] == "high":
            assert parts["evidence_quality"]["evidence quality"] == "high quality (CLEAR)"
        out = CliRunner().invoke(app, ["show", sid, "--catalog", str(path)])
        assert out.exit_code == 0, out.output
        line = next(x for x in out.output.splitlines() if "risk of bias:" in x)
        assert "high" not in line.split("risk of bias:")[1].split(".")[0], line


def test_export_csv_names_both_apart(case, tmp_path):
    path, engine, _ = case
    safe, high = _safe_ids(engine)
    out = tmp_path / "effects.csv"
    res = CliRunner().invoke(app, ["export-csv", "-o", str(out), "--catalog", str(path)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert {"rob_tool", "rob_overall", "risk_of_bias", "quality_rater", "quality_rating"} <= set(df.columns)
    mine = df[df["study_id"].isin(safe)]
    assert len(mine) and not mine["risk_of_bias"].eq("high").any() and not mine["rob_overall"].eq("high").any()
    rated = df[df["quality_rating"].notna()]
    assert (rated["quality_rater"] == "clear").all()
    # a rating never becomes a risk level: rows with a rating but no assessment have no risk level
    assert rated.loc[rated["rob_tool"].isna(), "risk_of_bias"].isna().all()
    assert set(df.loc[df["risk_of_bias"].eq("high"), "study_id"]) == high & set(df["study_id"])


@pytest.fixture(scope="module")
def summary_of(case):
    path, engine, options = case
    return summarise(options, queries.Filters(), engine=engine, date=DATE), case


def _rob_by_study(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["Study"].astype(str), table[ROB_COLUMN].astype(str)))


def _expected(summary, engine) -> tuple[dict[str, str], int]:
    """citation -> 'safe' / 'high' for the summary's studies, and how many are truly at high risk."""
    safe, high = _safe_ids(engine)
    cell = summary.effects.drop_duplicates("study_id")
    kinds = {c: "safe" if s in safe else "high" if s in high else "other" for s, c in zip(cell["study_id"], cell["citation"])}
    assert "safe" in kinds.values(), "the cell should hold a study that must not print as high risk"
    return kinds, sum(k == "high" for k in kinds.values())


def _check_rows(rows: dict[str, str], kinds: dict[str, str]) -> None:
    assert set(rows) == set(kinds)
    for citation, text in rows.items():
        if kinds[citation] == "safe":
            assert "high" not in text, (citation, text)
        if kinds[citation] == "high":
            assert text.startswith(("high risk", "serious risk", "critical risk")), (citation, text)


def test_summary_table_content(summary_of):
    summary, (_, engine, _) = summary_of
    kinds, _ = _expected(summary, engine)
    table = summary.rob_table
    assert list(table.columns)[0] == "Study" and list(table.columns)[-2:] == [ROB_COLUMN, QUALITY_COLUMN]
    assert "Overall" not in table.columns
    _check_rows(_rob_by_study(table), kinds)
    for q in table[QUALITY_COLUMN]:
        assert q == "not rated" or re.fullmatch(r"(high|moderate|low) quality \(CLEAR\)", q), q


def test_markdown_summary(summary_of):
    summary, (_, engine, _) = summary_of
    kinds, _ = _expected(summary, engine)
    text = render(summary, "md").decode("utf-8")
    block = text.split("## Risk of bias", 1)[1].split("\n\n", 2)[1]
    lines = [row.strip().strip("|").split(" | ") for row in block.splitlines() if row.startswith("|")]
    header, body = [c.strip() for c in lines[0]], lines[2:]
    at = header.index(ROB_COLUMN)
    _check_rows({r[0].strip().replace("\\|", "|"): r[at].strip() for r in body}, kinds)


def test_word_summary(summary_of):
    from docx import Document

    summary, (_, engine, _) = summary_of
    kinds, _ = _expected(summary, engine)
    doc = Document(io.BytesIO(render(summary, "docx")))
    table = next(t for t in doc.tables if ROB_COLUMN in [c.text for c in t.rows[0].cells])
    header = [c.text for c in table.rows[0].cells]
    at, study = header.index(ROB_COLUMN), header.index("Study")
    _check_rows({r.cells[study].text: r.cells[at].text for r in table.rows[1:]}, kinds)


def test_pdf_summary(summary_of):
    from pypdf import PdfReader

    summary, (_, engine, _) = summary_of
    kinds, n_high = _expected(summary, engine)
    reader = PdfReader(io.BytesIO(render(summary, "pdf")))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert ROB_COLUMN in text and QUALITY_COLUMN in text and "Overall: high" not in text
    # every "high risk (tool)" cell printed belongs to a study truly at high risk: a rating never adds one
    assert len(re.findall(r"\bhigh risk \((?:RoB 2|ROBINS-I)", text)) == sum(
        1 for t in summary.rob_table[ROB_COLUMN] if t.startswith("high risk")) <= n_high
    # row by row: the table's text from one study's citation to the next one's
    table = text[text.index(QUALITY_COLUMN) + len(QUALITY_COLUMN):]  # from the first header row on
    at, starts = 0, []
    for citation in summary.rob_table["Study"]:
        at = table.index(str(citation), at)
        starts.append(at)
        at += len(str(citation))
    rows = summary.rob_table.assign(start=starts)
    for i, r in enumerate(rows.itertuples()):
        stop = starts[i + 1] if i + 1 < len(starts) else r.start + len(" ".join(map(str, r[1:-1]))) + 1
        cell = table[r.start:stop]
        assert getattr(r, "_" + str(list(rows.columns).index(ROB_COLUMN) + 1)) in cell, cell
        if kinds[r.Study] == "safe":
            assert "high risk" not in cell, cell


def test_excel_summary(summary_of):
    summary, (_, engine, _) = summary_of
    kinds, _ = _expected(summary, engine)
    book = io.BytesIO(render(summary, "xlsx"))
    rob = pd.read_excel(book, sheet_name="Risk of bias").fillna("")
    assert list(rob.columns)[-2:] == [ROB_COLUMN, QUALITY_COLUMN]
    _check_rows(_rob_by_study(rob), kinds)
    eff = pd.read_excel(book, sheet_name="Effects")
    safe, _ = _safe_ids(engine)
    mine = eff[eff["Study ID"].isin(safe)]
    assert len(mine) and not mine["Risk of bias"].eq("high").any()
    assert "Evidence quality (CLEAR rating)" in eff.columns


def _frame(levels, ratings, citations=None) -> pd.DataFrame:
    n = len(levels)
    return pd.DataFrame({"risk_of_bias": levels, "quality_rating": ratings,
                         "citation": citations or [f"S{i}" for i in range(n)]})


def test_certainty_rule_keeps_the_scales_apart():
    w = np.full(4, 0.25)
    # four studies CLEAR rates high quality, none assessed: no limitation at all
    r = rule_risk_of_bias(_frame([None] * 4, ["high"] * 4), w)
    assert isinstance(r, str) and "0% of the weight comes from studies at high risk" in r
    # CLEAR low quality without an assessment counts; with an assessment the assessment decides
    r = rule_risk_of_bias(_frame([None, None, None, "low"], ["low", "low", "low", "low"]), w)
    assert isinstance(r, Downgrade) and r.steps == 1 and "75% from studies without an assessment" in r.reason
    r = rule_risk_of_bias(_frame(["high", "high", "high", "high"], ["high"] * 4), w)
    assert isinstance(r, Downgrade) and r.steps == 2
    r = rule_risk_of_bias(_frame(["low"] * 4, ["low"] * 4), w)
    assert isinstance(r, str) and "not downgraded" in r
    r = rule_risk_of_bias(_frame([None, None, "low", "low"], [None, "moderate", "low", "low"], ["A", "B", "C", "D"]), w)
    assert isinstance(r, str) and "nor quality rating for: A." in r


def test_synthetic_certainty_counts_only_true_limitations(synthetic):
    s = summarise(CCT, queries.Filters(), engine=queries.connect(synthetic), date=DATE)
    notes = " ".join(s.certainty.footnotes())
    assert "Risk of bias" in notes and "CLEAR rates low quality" in notes


def test_schema_keeps_evidence_quality_apart():
    schema = json_schema()
    rob = schema["$defs"]["RiskOfBias"]["properties"]["tool"]
    assert rob["enum"] == ["rob2", "rob2_cluster", "robins_i"]
    q = schema["$defs"]["EvidenceQuality"]["properties"]
    assert q["rating"]["enum"] == ["high", "moderate", "low"] and q["rater"]["const"] == "clear"
    assert "evidence_quality" in schema["properties"]
    doc = _doc(*SYNTHETIC[0])
    study = Study.model_validate(doc)
    assert (study.risk_of_bias.tool, study.risk_of_bias.overall) == ("rob2_cluster", "low")
    assert (study.evidence_quality.rater, study.evidence_quality.rating) == ("clear", "high")


def test_validate_refuses_a_clear_rating_as_risk_of_bias(tmp_path):
    doc = _doc(*SYNTHETIC[4])
    doc.pop("evidence_quality")
    doc["risk_of_bias"] = {"tool": "clear", "overall": "high", "reason": "CLEAR rates it high", "source": "paper"}
    path = tmp_path / f"{doc['id']}.yaml"
    problems = check_file(path, yaml.safe_dump(doc, sort_keys=False)).problems
    hit = [p for p in problems if p.rule == "rob-not-quality"]
    assert len(hit) == 1 and hit[0].field == "risk_of_bias.tool" and hit[0].line > 0
    assert "evidence_quality: {rater: clear, rating: high" in hit[0].hint
    assert not [p for p in problems if p.rule == "risk-of-bias-terms"]  # one problem, not two


def test_shipped_studies_code_clear_only_as_evidence_quality():
    import glob

    rated = 0
    for path in glob.glob("studies/*.yaml"):
        doc = yaml.safe_load(open(path, encoding="utf-8"))
        rob = doc.get("risk_of_bias") or {}
        assert rob.get("tool") in (None, "rob2", "rob2_cluster", "robins_i"), path
        rated += bool(doc.get("evidence_quality"))
    assert rated == 36
