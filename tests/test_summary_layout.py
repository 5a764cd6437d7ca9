"""The evidence summary as a meeting reads it, on the shipped catalogue: page one is the GRADE summary of
findings, the harvest plot is in the document when it is the synthesis, no page is an orphan, and the
workbook reads like a table rather than a dump of machine keys.

Two cells: conditional cash transfers x child labour (nothing pools: the synthesis is the SWiM vote count
and the harvest plot; one row per measure of child labour with studies) and unconditional cash transfers
x any economic activity (pools: effect, intervals, absolute effect and certainty in the row).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest

from evidence import synthesis
from evidence.catalog import queries
from evidence.summary import render, summarise
from evidence.summary.render import HARVEST, _labelled
from evidence.summary.sof import COLUMNS, SYMBOLS
from evidence.synthesis import WhatWorksOptions
from evidence.taxonomy import taxonomy

DATE = dt.date(2026, 11, 26)
CCT_CL = WhatWorksOptions(intervention="conditional_cash_transfer", outcome="child_labour")
UCT_EA = WhatWorksOptions(intervention="unconditional_cash_transfer", outcome="economic_activity")
#: A page other than the last with fewer words than this is an orphan (a heading, a line or two).
MIN_WORDS = 80


@pytest.fixture(scope="module")
def cct():
    return summarise(CCT_CL, queries.Filters(), date=DATE)


@pytest.fixture(scope="module")
def uct():
    return summarise(UCT_EA, queries.Filters(), date=DATE)


@pytest.fixture(scope="module")
def pdfs(cct, uct):
    from pypdf import PdfReader

    return {name: PdfReader(io.BytesIO(render(s, "pdf"))) for name, s in (("cct", cct), ("uct", uct))}


def _text(page) -> str:
    return " ".join(page.extract_text().split())


def test_the_cells_are_what_the_tests_say(cct, uct):
    assert cct.result is None and cct.harvest is not None and len(cct.harvest) >= 10
    assert uct.result is not None and uct.card.certainty in SYMBOLS


def test_one_row_per_outcome_of_the_question_with_studies(cct, uct):
    """Child labour, then each of its measures that has a study of the intervention (taxonomy order)."""
    df = queries.effects(queries.Filters())
    have = set(df.loc[df["intervention"] == CCT_CL.intervention, "outcome"])
    t = taxonomy()
    expected = ["child_labour"] + [o for o, term in t.outcomes.items()
                                   if term["group"] == "child_labour" and o != "child_labour" and o in have]
    assert [c.outcome for c in cct.cards] == expected and len(expected) >= 5
    assert [c.outcome for c in uct.cards] == ["economic_activity"]  # not an umbrella outcome: its own row only
    for c in cct.cards:  # the card each row renders is the one `evidence answer` prints for that cell
        same = synthesis.answer_card(df, WhatWorksOptions(intervention=CCT_CL.intervention, outcome=c.outcome))
        assert (c.n_studies, c.n_effects, c.vote_statement) == (same.n_studies, same.n_effects, same.vote_statement)


@pytest.mark.parametrize("name", ["cct", "uct"])
def test_pdf_page_one_is_the_summary_of_findings(name, pdfs, cct, uct):
    s = {"cct": cct, "uct": uct}[name]
    first = pdfs[name].pages[0]
    assert float(first.mediabox.width) > float(first.mediabox.height)  # landscape, as GRADEpro prints it
    text = _text(first)
    for words in ("Summary of findings", "Population", "Intervention", "Comparison", "Setting", s.catalog_version,
                  DATE.isoformat(), *(c.split()[0] for c in COLUMNS)):
        assert words in text, words
    for card in s.cards:
        assert card.outcome_label.split(" (")[0] in text, card.outcome_label
    assert "Provenance" not in text and "Results as reported" not in text


def test_pooled_row_carries_the_cards_numbers_and_certainty(pdfs, uct):
    text = _text(pdfs["uct"].pages[0])
    p, m = uct.card.pooled, uct.card.metric
    for x in (p.mean, p.q025, p.q975, p.pi_low, p.pi_high):
        assert synthesis.fmt(x, m) in text, x
    assert f"{SYMBOLS[uct.card.certainty]} {uct.card.certainty.upper()}" in text
    assert uct.card.absolute is not None and uct.card.absolute.text.split(" (")[0] in text
    for d in uct.card.assessment.downgrades:  # each downgrade reason is a lettered footnote on page one
        assert re.search(r"\[[a-z]\] [^\[]*" + re.escape(d.domain), text), d.domain


def test_not_pooled_rows_carry_the_vote_count_and_the_reason(pdfs, cct):
    text = _text(pdfs["cct"].pages[0]) + " " + _text(pdfs["cct"].pages[1])
    assert "Not rated (nothing pooled)" in text
    assert cct.cards[0].vote_statement.split(" (")[0] in text
    assert "[a] Not pooled:" in text


@pytest.mark.parametrize("name", ["cct", "uct"])
def test_no_orphan_pages(name, pdfs, cct, uct):
    """Every page but the last carries real content; the last is the provenance with the package versions."""
    pages = pdfs[name].pages
    words = [len(_text(p).split()) for p in pages]
    print(name, "pages", len(pages), "words per page", words)
    assert len(pages) >= 3
    assert all(w >= MIN_WORDS for w in words[:-1]), words
    last = _text(pages[-1])
    versions = {"cct": cct, "uct": uct}[name].versions
    assert "Provenance" in last and all(f"{k} {v}" in last for k, v in versions.items()) and "numpy" in versions


def test_harvest_plot_is_in_the_documents_when_nothing_pools(cct, uct, pdfs):
    import docx

    pages = [p for p in pdfs["cct"].pages if HARVEST in _text(p)]
    assert len(pages) == 1 and len(pages[0].images) == 1
    assert not any(HARVEST in _text(p) for p in pdfs["uct"].pages)  # pooled: forest plot and posterior instead
    doc = docx.Document(io.BytesIO(render(cct, "docx")))
    assert HARVEST in [p.text for p in doc.paragraphs] and len(doc.inline_shapes) == 1


def test_harvest_bars_are_named_by_their_study_and_not_clipped(cct):
    """The plot as rendered (SVG from the same spec as the PNG): every study's citation is printed in
    full under its bar, none is cut short with an ellipsis."""
    import vl_convert as vlc

    from evidence.synthesis.charts import harvest_chart

    svg = html.unescape(vlc.vegalite_to_svg(_labelled(harvest_chart(cct.harvest)).to_dict()))
    labels = re.findall(r"<text[^>]*>([^<]+)</text>", svg)
    for citation in set(cct.effects["citation"]):
        assert citation in labels, citation
    assert not any("…" in lab for lab in labels)


def test_word_layout(cct):
    """Page one landscape with the question and the summary-of-findings table (header repeats, rows never
    split); the rest portrait; headings keep with the next paragraph."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn

    doc = docx.Document(io.BytesIO(render(cct, "docx")))
    first, rest = doc.sections[0], doc.sections[1]
    assert first.orientation == WD_ORIENT.LANDSCAPE and first.page_width > first.page_height
    assert rest.orientation == WD_ORIENT.PORTRAIT and rest.page_height > rest.page_width
    question, sof = doc.tables[0], doc.tables[1]
    assert [question.cell(i, 0).text for i in range(2)] == ["Population", "Comparison"]
    assert [c.text for c in sof.rows[0].cells] == list(COLUMNS)
    assert len(sof.rows) == len(cct.cards) + 1
    assert sof.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in sof.rows)
    assert doc.styles["Heading 1"].paragraph_format.keep_with_next
    assert [p.text for p in doc.paragraphs][-1] == "Provenance" and doc.tables[-1].cell(0, 0).text == "Catalogue version"


SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


@pytest.mark.parametrize("name", ["cct", "uct"])
def test_excel_reads_like_a_table(name, cct, uct):
    import openpyxl

    s = {"cct": cct, "uct": uct}[name]
    wb = openpyxl.load_workbook(io.BytesIO(render(s, "xlsx")))
    assert wb.sheetnames[0] == "Summary of findings" and "Provenance" in wb.sheetnames
    for ws in wb.worksheets:
        assert ws.freeze_panes in ("A2", "B2"), ws.title
        headers = [c.value for c in ws[1] if c.value is not None]
        assert headers and not any(SNAKE.search(str(h)) for h in headers), (ws.title, headers)
        assert ws[1][0].font.bold
        assert all(ws.column_dimensions[c.column_letter].width for c in ws[1])
        for row in ws.iter_rows(min_row=2):
            for c in row:
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    assert c.number_format != "General", (ws.title, c.coordinate, c.value)
    sof = wb["Summary of findings"]
    outcomes = [sof.cell(row=i, column=1).value for i in range(2, len(s.cards) + 2)]
    assert outcomes == [c.outcome_label for c in s.cards]
    result = {r[0]: r[1] for r in wb["Result"].iter_rows(min_row=2, values_only=True)}
    assert result["Intervention"] == s.intervention_label and result["Outcome"] == s.outcome_label
    effects = wb["Effects"]
    col = [c.value for c in effects[1]].index("Intervention") + 1
    assert {effects.cell(row=i, column=col).value for i in range(2, effects.max_row + 1)} == {s.intervention_label}
    if s.result is not None:  # the number is stored in full; the format rounds it as the app does
        mean = sof.cell(row=2, column=3)
        assert mean.value == pytest.approx(s.card.pooled.mean, rel=1e-12) and mean.number_format == "0.0"


def test_secondary_sources_and_downgrades_get_their_own_letters(uct):
    """A pooled number taken from a review's table is footnoted on the effect; each downgrade on the
    certainty; one text, one letter (rows that share a reason share its letter)."""
    from dataclasses import replace

    from evidence.summary.sof import sof_table

    card = replace(uct.card, secondary=1)
    rows, notes = sof_table([card, card])
    texts = [t for _, t in notes]
    assert len(texts) == len(set(texts)) == len(card.assessment.downgrades) + 1
    secondary = next(letter for letter, t in notes if "review's table" in t)
    assert rows[0].effect.endswith(f"[{secondary}]") and rows[1].effect == rows[0].effect
    marked = rows[0].certainty.rsplit("[", 1)[-1].rstrip("]").split(",")
    assert sorted(marked + [secondary]) == [letter for letter, _ in notes]
    assert sof_table([uct.card])[0][0].effect.count("[") == 0  # no secondary source: no letter on the effect
