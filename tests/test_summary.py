"""Evidence summaries: every format parsed back; every number equals the engine's for the selection."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from summary_fixture import write_studies
from typer.testing import CliRunner

from evidence import synthesis
from evidence.catalog import queries
from evidence.catalog.build import build_catalog
from evidence.cli.main import app
from evidence.meta import exact
from evidence.summary import render, summarise
from evidence.summary.content import fmt
from evidence.synthesis import WhatWorksOptions, tau_prior_for
from evidence.synthesis.certainty import Override

OPTIONS = WhatWorksOptions(intervention="conditional_cash_transfer", outcome="economic_activity")
DATE = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    folder = write_studies(tmp_path_factory.mktemp("studies"))
    out = tmp_path_factory.mktemp("cat") / "catalog.db"
    build_catalog(folder, out, progress=False)
    return out


@pytest.fixture(scope="module")
def engine(catalog):
    return queries.connect(catalog)


@pytest.fixture(scope="module")
def summary(engine):
    return summarise(OPTIONS, queries.Filters(), engine=engine, date=DATE)


@pytest.fixture(scope="module")
def expected(engine):
    """The exact engine's answer for the same selection, computed independently of the summary."""
    df = queries.effects(queries.Filters(primary_only=True), engine=engine)
    df = df[(df.intervention == OPTIONS.intervention) & (df.outcome == OPTIONS.outcome)]
    return exact.posterior(df.yi.to_numpy(float), df.vi.to_numpy(float), tau_prior=tau_prior_for("percentage_points"))


METRIC = "percentage_points"


def numbers(expected) -> list[str]:
    """The engine's numbers as the summary prints them (the app's format for the cell's metric)."""
    r = expected
    return [fmt(x, METRIC) for x in (r.mu.mean, r.mu.q025, r.mu.q975, r.theta_new.q025, r.theta_new.q975)]


def test_fmt_is_the_apps_format_and_na_aware():
    assert fmt(None) == "NA" and fmt(float("nan"), METRIC) == "NA" and fmt(pd.NA) == "NA"
    for x in (-4.2149, -0.04, 0.5, 12.0):
        for m in (METRIC, "hours_per_week", "sd", None):
            assert fmt(x, m) == synthesis.fmt(x, m)


def test_summary_shows_the_apps_numbers(summary, expected):
    """The summary-of-findings rows use the What-works page's decimals for the metric."""
    rows = dict(summary.sof_rows())
    r = expected
    assert rows["Pooled effect (posterior mean)"] == synthesis.fmt(r.mu.mean, METRIC)
    assert rows["95% credible interval"] == f"{synthesis.fmt(r.mu.q025, METRIC)} to {synthesis.fmt(r.mu.q975, METRIC)}"
    assert f"{synthesis.fmt(r.mu.q025, METRIC)} to {synthesis.fmt(r.mu.q975, METRIC)}" in render(summary, "md").decode()


def _girls_pooled(engine, **opts) -> dict:
    s = summarise(WhatWorksOptions(OPTIONS.intervention, OPTIONS.outcome, **opts), queries.Filters(), engine=engine, date=DATE)
    return next(g for g in s.subgroups if g["label"] == "Girls")


def _girls_expected(engine, drop=()):
    df = queries.effects(queries.Filters(sex="girls"), engine=engine)
    df = df[(df.intervention == OPTIONS.intervention) & (df.outcome == OPTIONS.outcome) & ~df.study_id.isin(drop)]
    return exact.posterior(df.yi.to_numpy(float), df.vi.to_numpy(float), tau_prior=tau_prior_for(METRIC))


@pytest.mark.parametrize("drop", [(), ("fixture-b-2012",), ("fixture-a-2010",)])
def test_subgroups_follow_the_pages_sensitivity_switches(engine, drop):
    """Sub-group pooling uses the page's selection: studies the switches leave out are left out here too."""
    girls = _girls_pooled(engine, leave_out=drop)
    ref = _girls_expected(engine, drop)
    assert girls["k"] == ref.k == 3 - len(drop)
    assert girls["q50"] == pytest.approx(ref.mu.q50, rel=1e-9)


def test_subgroup_not_pooled_when_the_switches_leave_one_study(engine):
    girls = _girls_pooled(engine, leave_out=("fixture-a-2010", "fixture-b-2012"))
    assert "not pooled" in girls["text"] and "q50" not in girls


def test_pooled_result_is_the_engines(summary, expected):
    assert summary.result.k == 4
    assert summary.result.mu.q50 == pytest.approx(expected.mu.q50, rel=1e-9)
    assert summary.result.theta_new.q975 == pytest.approx(expected.theta_new.q975, rel=1e-9)
    assert summary.certainty.rating in ("high", "moderate", "low", "very low")
    assert len(summary.harms) == 1 and "Fixture (2018)" in summary.harms[0]
    assert any(g["label"] == "Girls" for g in summary.subgroups)


@pytest.mark.parametrize("fmt_", ["md", "html"])
def test_text_formats_carry_every_number(summary, expected, fmt_):
    text = render(summary, fmt_).decode()
    for n in numbers(expected):
        assert n in text, n
    assert summary.certainty.rating.upper() in text
    assert "10.0000/fixture-a-2010" in text
    assert summary.catalog_version in text


def test_docx_parses_back(summary, expected):
    import docx

    doc = docx.Document(io.BytesIO(render(summary, "docx")))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)
    for n in numbers(expected):
        assert n in text, n
    assert len(doc.inline_shapes) == 2  # forest plot and posterior


def test_pdf_parses_back(summary, expected):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(render(summary, "pdf")))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", " ")
    for n in numbers(expected):
        assert n in text, n
    assert "Risk of bias" in text


def test_xlsx_parses_back(summary, expected):
    import openpyxl

    data = render(summary, "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert {"Summary of findings", "Result", "Effects", "Risk of bias", "References", "Certainty", "Question",
            "Provenance"} <= set(wb.sheetnames)
    result = {r[0]: r[1] for r in wb["Result"].iter_rows(min_row=2, values_only=True)}
    assert result["Pooled effect (posterior median)"] == pytest.approx(expected.mu.q50, rel=1e-12)
    assert result["New programme, 95% prediction interval lower"] == pytest.approx(expected.theta_new.q025, rel=1e-12)
    sof = pd.read_excel(io.BytesIO(data), sheet_name="Summary of findings", nrows=1)
    assert sof.loc[0, "95% CrI upper"] == pytest.approx(expected.mu.q975, rel=1e-12)
    effects = pd.read_excel(io.BytesIO(data), sheet_name="Effects")
    assert {"Study ID", "Effect ID", "Effect yi (percentage points)", "Sampling variance vi (percentage points squared)",
            "Effect measure", "Quote"} <= set(effects.columns)
    assert set(effects["Intervention"]) == {"Conditional cash transfer"}
    rob = pd.read_excel(io.BytesIO(data), sheet_name="Risk of bias")
    assert list(rob.columns)[0] == "Study" and list(rob.columns)[-2:] == ["Risk of bias (tool)", "Evidence quality (rater)"]


def test_csv_is_metafor_ready(summary, expected):
    text = render(summary, "csv").decode()
    head = dict(line[2:].split(": ", 1) for line in text.splitlines() if line.startswith("# "))
    assert float(head["mu_q975"]) == pytest.approx(expected.mu.q975, rel=1e-12)
    df = pd.read_csv(io.StringIO(text), comment="#")
    pooled = df[df.pooled]
    assert len(pooled) == 4 and np.isfinite(pooled.yi).all() and (pooled.vi > 0).all()


def test_override_is_shown(engine):
    s = summarise(OPTIONS, queries.Filters(), override=Override("low", "Reviewer judges indirectness serious"), engine=engine, date=DATE)
    text = render(s, "md").decode()
    assert "LOW" in text and "Reviewer judges indirectness serious" in text


def test_insufficient_selection_says_so(engine):
    s = summarise(OPTIONS, queries.Filters(countries=("BRA",)), engine=engine, date=DATE)
    assert s.result is None
    for f in ("md", "html", "docx", "pdf", "xlsx", "csv"):
        assert len(render(s, f)) > 200
    text = render(s, "md").decode()
    assert s.card.statement.startswith("Not pooled") and s.card.statement in text  # the card's words, as every page


def test_cli_writes_every_format(catalog, tmp_path, monkeypatch):
    monkeypatch.setattr("evidence.config.CATALOG_PATH", catalog)
    runner = CliRunner()
    for f in ("md", "html", "docx", "pdf", "xlsx", "csv"):
        out = tmp_path / f"s.{f}"
        res = runner.invoke(app, ["summary", "--intervention", OPTIONS.intervention, "--outcome", OPTIONS.outcome,
                                  "--format", f, "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert out.stat().st_size > 1000
    res = runner.invoke(app, ["summary", "--intervention", "x", "--outcome", "y", "--format", "odt", "-o", str(tmp_path / "x")])
    assert res.exit_code != 0
    # without --format: the format -o names, else a PDF (a document for a meeting, not Markdown)
    for name, magic in (("s.docx", b"PK"), ("s.pdf", b"%PDF"), ("summary", b"%PDF"), ("s.md", b"# ")):
        res = runner.invoke(app, ["summary", "--intervention", OPTIONS.intervention, "--outcome", OPTIONS.outcome,
                                  "-o", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        assert (tmp_path / name).read_bytes().startswith(magic), name


@pytest.mark.parametrize("fmt_", ["md", "html", "docx", "pdf", "xlsx", "csv"])
def test_real_cell_of_the_shipped_catalogue(fmt_, tmp_path):
    """Every format for a real, poolable cell of the shipped catalogue: unconditional cash transfers x
    any economic activity (de Hoop et al. 2020, Malawi and Zambia, Table 6 of the article)."""
    options = WhatWorksOptions(intervention="unconditional_cash_transfer", outcome="economic_activity")
    s = summarise(options, queries.Filters(), date=DATE)  # the committed evidence/catalog.db
    assert s.result is not None and s.result.k >= 2
    df = queries.effects(queries.Filters(primary_only=True, has_variance=True))
    cell = df[(df.intervention == options.intervention) & (df.outcome == options.outcome)].drop_duplicates("study_id")
    engine_result = exact.posterior(cell.yi.to_numpy(float), cell.vi.to_numpy(float),
                                    tau_prior=tau_prior_for("percentage_points"))
    assert s.result.mu.mean == pytest.approx(engine_result.mu.mean, rel=1e-12)
    data = render(s, fmt_)
    if fmt_ in ("md", "html"):
        assert fmt(engine_result.mu.mean, "percentage_points") in data.decode()
    elif fmt_ == "pdf":  # every reference prints as written (non-ASCII names need a Unicode font)
        from pypdf import PdfReader

        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        text = " ".join(text.split())
        for ref in s.references:
            assert ref["text"].split(" (")[0] in text, ref["text"]
    elif fmt_ == "csv":
        head = dict(line[2:].split(": ", 1) for line in data.decode().splitlines() if line.startswith("# "))
        assert float(head["mu_mean"]) == pytest.approx(engine_result.mu.mean, rel=1e-12)
    out = tmp_path / f"summary.{fmt_}"
    out.write_bytes(data)
    assert out.stat().st_size > 1000
