"""``evidence new`` reads references with bibtexparser (``@string`` macros, ``#`` concatenation,
LaTeX accents) and rispy (RIS tags, several authors, working-paper series), not a hand-written scanner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from evidence.cli.main import app
from evidence.errors import EvidenceError
from evidence.ingest.loader import load
from evidence.ingest.scaffold import parse_bibtex, parse_ris

runner = CliRunner()

MACROS = r"""
@string{jtf = "Journal of " # "Test Fixtures"}
@STRING{Fam = {Fixture}}
@comment{ the macros above are expanded before the entry is read }
@article{fixture2018,
  author  = Fam # ", Ada and " # {Ben Example} # " and Jos{\'e} Pe{\~n}a",
  title   = "Transfers " # {and {Child} Work} # ": " # "{\"U}ber Evidence",
  journal = jtf,
  month   = mar,
  year    = 2018,
  doi     = {10.0000/fixture.macro.2018},
  url     = {https://example.org/fixture-macro},
}
@article{second2019, title = {Not read}, year = 2019}
"""

RIS_TWO = """TY  - JOUR
TI  - Fixture cash and child work
AU  - Fixture, Ada
AU  - Example, Ben
A1  - Peña, José
PY  - 2015/06/01/
JO  - Journal of Test Fixtures
DO  - 10.0000/fixture.ris.2015
UR  - https://example.org/fixture-ris
ER  - 

TY  - RPRT
TI  - A second record, not read
PY  - 2001
ER  - 
"""


def test_bibtex_string_macros_and_concatenation():
    rec = parse_bibtex(MACROS)
    assert rec.venue == "Journal of Test Fixtures"
    assert rec.authors == ["Fixture, Ada", "Example, Ben", "Peña, José"]
    assert rec.title == "Transfers and Child Work: Über Evidence"
    assert (rec.year, rec.doi, rec.url, rec.type) == (2018, "10.0000/fixture.macro.2018",
                                                       "https://example.org/fixture-macro", "journal_article")


def test_bibtex_working_paper_series_and_en_dash():
    rec = parse_bibtex("@techreport{k, title = {Work -- and School}, author = {Y, X}, year = {2003},"
                       " institution = {Fixture Institute}, type = {Working Paper}, number = 12}")
    assert (rec.title, rec.type, rec.venue) == ("Work \u2013 and School", "working_paper", "Fixture Institute")


def test_bibtex_without_an_entry_is_a_clear_error():
    with pytest.raises(EvidenceError, match="no BibTeX entry found"):
        parse_bibtex("just some text, no @entry")


def test_ris_file_with_two_records_reads_the_first():
    rec = parse_ris(RIS_TWO)
    assert rec.title == "Fixture cash and child work"
    assert rec.authors == ["Fixture, Ada", "Example, Ben", "Peña, José"]
    assert (rec.year, rec.venue, rec.doi, rec.url, rec.type) == (
        2015, "Journal of Test Fixtures", "10.0000/fixture.ris.2015", "https://example.org/fixture-ris", "journal_article")


def test_ris_without_a_record_is_a_clear_error():
    with pytest.raises(EvidenceError, match="no RIS record found"):
        parse_ris("AU  - Someone\n")


def test_new_from_a_bib_file_with_macros_writes_a_skeleton_that_parses(tmp_path):
    bib = tmp_path / "ref.bib"
    bib.write_text(MACROS, encoding="utf-8")
    result = runner.invoke(app, ["new", "--bib", str(bib), "--programme", "Programa Macro (PMC)",
                                 "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    path = tmp_path / "s" / "fixture-2018-pmc.yaml"
    data = load(path).data
    assert data["venue"] == "Journal of Test Fixtures" and data["authors"][2] == "Peña, José"


def test_new_from_a_ris_file(tmp_path):
    ris = tmp_path / "ref.ris"
    ris.write_text(RIS_TWO, encoding="utf-8")
    result = runner.invoke(app, ["new", "--ris", str(ris), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "s").glob("*.yaml")
    assert load(path).data["doi"] == "10.0000/fixture.ris.2015"
