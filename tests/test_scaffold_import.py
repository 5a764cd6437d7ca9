"""``evidence new`` (BibTeX/RIS, duplicate refusal) and ``evidence import`` (CSV/XLSX, row errors
all at once, nothing written on error)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence.cli.main import app
from evidence.errors import ValidationFailed
from evidence.ingest import validate_paths
from evidence.ingest.scaffold import BibRecord, DuplicateFound, make_id, new_study, parse_bibtex, parse_ris
from evidence.ingest.sheet import import_sheet, sheet_to_studies

VALID = Path(__file__).parent / "valid"
runner = CliRunner()

BIB = r"""% a comment before the entry
@article{fixture2017,
  author  = {Fixture, Ada and Ben Example and Jos{\'e} Pe{\~n}a},
  title   = {Fixture Transfers and {Child} Work: Evidence from an Invented Country},
  journal = {Journal of Test Fixtures},
  year    = 2017,
  volume  = {3}, pages = {1--20},
  doi     = {10.0000/fixture.bib.2017},
}
"""
RIS = """TY  - RPRT
AU  - Fixture, Ada
AU  - Example, Ben
TI  - Fixture transfers and child work in an invented country
PY  - 2016///
T3  - Fixture Working Paper 7
UR  - https://example.org/fixture-wp
ER  -
"""


def test_parse_bibtex():
    rec = parse_bibtex(BIB)
    assert rec.title == "Fixture Transfers and Child Work: Evidence from an Invented Country"
    assert rec.authors == ["Fixture, Ada", "Example, Ben", "Peña, José"]
    assert (rec.year, rec.venue, rec.doi, rec.type) == (2017, "Journal of Test Fixtures", "10.0000/fixture.bib.2017",
                                                          "journal_article")
    wp = parse_bibtex('@techreport{k, title="A", author="X, Y", year="2001", type={Working Paper}, number={12}}')
    assert wp.type == "working_paper" and wp.title == "A" and wp.year == 2001


def test_parse_ris():
    rec = parse_ris(RIS)
    assert rec.title == "Fixture transfers and child work in an invented country"
    assert rec.authors == ["Fixture, Ada", "Example, Ben"]
    assert (rec.year, rec.url, rec.type, rec.doi) == (2016, "https://example.org/fixture-wp", "working_paper", None)


def test_make_id():
    rec = BibRecord(title="x", authors=["de Hoop, Jacobus"], year=2014)
    assert make_id(rec, "Red de Protección Social (RPS)") == "de-hoop-2014-rps"
    assert make_id(rec, "Progresa") == "de-hoop-2014-progresa"
    assert make_id(BibRecord(title="Cash transfers and child labour", authors=["Gee, K"], year=2010)) == "gee-2010-cash-transfers"


def _only_todo_problems(path: Path):
    report = validate_paths([path])
    assert not any(p.rule == "schema" for p in report.problems), [str(p) for p in report.problems]
    return {p.rule for p in report.problems}


def test_new_from_bibtex_cli(tmp_path):
    bib = tmp_path / "ref.bib"
    bib.write_text(BIB, encoding="utf-8")
    out = tmp_path / "studies"
    result = runner.invoke(app, ["new", "--bib", str(bib), "--programme", "Programa Ficticio (PF)",
                                 "--coder", "tester", "--out", str(out)])
    assert result.exit_code == 0, result.output
    path = out / "fixture-2017-pf.yaml"
    text = path.read_text(encoding="utf-8")
    assert "status: mapped" in text and "doi: \"10.0000/fixture.bib.2017\"" in text and "# " in text
    # structurally valid; only what the researcher must fill is reported
    assert _only_todo_problems(path) == {"country-code", "intervention-type", "design"}


def test_new_from_ris(tmp_path):
    path = new_study(parse_ris(RIS), studies_dir=tmp_path, coder="tester", today=dt.date(2026, 11, 26))
    assert path.name == "fixture-2016-fixture-transfers.yaml"
    assert "publication_type: working_paper" in path.read_text(encoding="utf-8")
    assert "date: 2026-11-26" in path.read_text(encoding="utf-8")
    assert _only_todo_problems(path) == {"country-code", "intervention-type", "design"}


def test_new_refuses_likely_duplicate(tmp_path):
    shutil.copy(VALID / "fixture-cct-coded.yaml", tmp_path)
    rec = BibRecord(title="Conditional cash transfers and child work in an invented country (fixture working paper)",
                    authors=["Fixture, Ada"], year=2018, type="working_paper")
    with pytest.raises(DuplicateFound) as exc:
        new_study(rec, studies_dir=tmp_path)
    assert [c.b for c in exc.value.candidates] == ["fixture-cct-coded"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixture-cct-coded.yaml"]
    ris = tmp_path / "wp.ris"
    ris.write_text(f"TY  - UNPB\nAU  - Fixture, Ada\nTI  - {rec.title}\nPY  - 2018\nER  -\n", encoding="utf-8")
    result = runner.invoke(app, ["new", "--ris", str(ris), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "fixture-cct-coded" in result.output  # the app prints the error (no traceback)
    result = runner.invoke(app, ["new", "--ris", str(ris), "--out", str(tmp_path), "--force", "--id", "fixture-2018-wp"])
    assert result.exit_code == 0 and (tmp_path / "fixture-2018-wp.yaml").is_file()


def test_new_refuses_same_doi_and_existing_file(tmp_path):
    shutil.copy(VALID / "fixture-cct-coded.yaml", tmp_path)
    with pytest.raises(DuplicateFound):
        new_study(BibRecord(title="Something else entirely", authors=["Z, Z"], year=2001,
                            doi="https://doi.org/10.0000/FIXTURE.cct.2019"), studies_dir=tmp_path)
    with pytest.raises(Exception, match="already exists"):
        new_study(BibRecord(title="Unrelated", authors=["Q, R"], year=2000), study_id="fixture-cct-coded",
                  studies_dir=tmp_path)


# --- import -----------------------------------------------------------------------------------------

HEADER = ["study_id", "title", "authors", "year", "publication_type", "doi", "programme", "countries",
          "intervention_id", "intervention_type", "design", "outcome", "sdg871", "sex", "age_min", "age_max",
          "primary", "form", "estimate", "unit", "se", "p", "source_id", "source_kind", "source_url", "location",
          "quote", "coder", "coding_date", "coding_status"]
GOOD = [
    ["fixture-sheet-a", "Fixture sheet study A", "Fixture, Ada; Example, Ben", "2018", "journal_article",
     "10.0000/fx.a", "Programa A", "NIC; HND", "cct", "conditional_cash_transfer", "cluster_rct",
     "economic_activity", "economic_only", "", "", "", "yes", "coefficient", "-0.05", "proportion", "0.02", "",
     "paper", "journal_article", "https://example.org/a", "Table 2", "reduced work by −0.05 (0.02)", "tester",
     "2026-11-26", "coded"],
    ["fixture-sheet-a", "", "", "", "", "", "", "", "cct", "", "", "enrolment", "not_applicable", "girls", "6", "12",
     "no", "coefficient", "0.04", "proportion", "0.01", "", "paper", "", "", "Table 3", "enrolment rose by 0.04",
     "", "", ""],
    ["fixture-sheet-b", "Fixture sheet study B", "Other, Person", "2020", "working_paper", "", "Programa B", "PER",
     "uct", "unconditional_cash_transfer", "did", "", "", "", "", "", "", "", "", "", "", "", "wp",
     "working_paper", "https://example.org/b", "", "", "tester", "2026-11-26", "mapped"],
]


def _csv(path: Path, rows, header=HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def _xlsx(path: Path, rows) -> Path:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:  # typed cells, as a spreadsheet holds them
        ws.append([float(c) if c and c.lstrip("-").replace(".", "", 1).isdigit() and h not in ("study_id",) else
                   (dt.date.fromisoformat(c) if h == "coding_date" and c else (c or None))
                   for h, c in zip(HEADER, row)])
    wb.save(path)
    return path


@pytest.mark.parametrize("make", [_csv, _xlsx], ids=["csv", "xlsx"])
def test_import_writes_valid_studies(tmp_path, make):
    sheet = make(tmp_path / f"sheet.{'csv' if make is _csv else 'xlsx'}", GOOD)
    written, warnings = import_sheet(sheet, tmp_path / "out")
    assert sorted(p.name for p in written) == ["fixture-sheet-a.yaml", "fixture-sheet-b.yaml"] and warnings == []
    report = validate_paths([tmp_path / "out"])
    assert report.ok and report.problems == [], [str(p) for p in report.problems]
    a = next(s for s in report.studies if s.id == "fixture-sheet-a")
    assert a.authors == ["Fixture, Ada", "Example, Ben"] and a.programme.countries == ["NIC", "HND"]
    assert [(e.id, e.outcome, e.primary, e.reported.estimate) for e in a.effects] == [
        ("economic-activity", "economic_activity", True, -0.05), ("enrolment-girls", "enrolment", False, 0.04)]
    assert a.effects[1].subgroup.sex == "girls" and a.effects[1].subgroup.age_max == 12
    assert a.coding.date == dt.date(2026, 11, 26)


def test_import_reports_all_row_errors_and_writes_nothing(tmp_path):
    rows = [list(r) for r in GOOD]
    rows[0][HEADER.index("outcome")] = "economic_activty"   # row 2: unknown term
    rows[1][HEADER.index("se")] = "n/a"                     # row 3: not a number
    rows[2][HEADER.index("year")] = "2021"                  # row 4: fine (study b's only row)
    rows.append(list(GOOD[1]))
    rows[3][HEADER.index("title")] = "Another title"        # row 5: disagrees with row 2
    rows[3][HEADER.index("p")] = "1.5"                      # row 5: p out of range
    sheet = _csv(tmp_path / "sheet.csv", rows)
    out = tmp_path / "out"
    with pytest.raises(ValidationFailed) as exc:
        import_sheet(sheet, out)
    shown = [str(p) for p in exc.value.problems]
    assert f"{sheet}:2: outcome: unknown outcome 'economic_activty' (did you mean 'economic_activity'?)" in shown
    assert f"{sheet}:3: se: not a number: 'n/a'" in shown
    assert any(s.startswith(f"{sheet}:5: title: 'Another title' differs from row 2") for s in shown)
    assert f"{sheet}:5: p: p 1.5 is outside (0, 1] (a p value is in (0, 1])" in shown
    assert len([p for p in exc.value.problems if p.severity == "error"]) == 4, shown
    assert not out.exists()
    result = runner.invoke(app, ["import", str(sheet), "--out", str(out)])
    assert result.exit_code == 1 and "4 error(s); nothing written" in result.output and not out.exists()


def test_import_header_problems(tmp_path):
    header = [h for h in HEADER if h != "coder"] + ["estmate"]
    sheet = _csv(tmp_path / "s.csv", [r[:HEADER.index("coder")] + r[HEADER.index("coder") + 1:] + [""] for r in GOOD],
                 header)
    studies, problems = sheet_to_studies(sheet)
    assert studies == {}
    assert {str(p) for p in problems} == {f"{sheet}:1: estmate: unknown column 'estmate' (did you mean 'estimate'?)",
                                          f"{sheet}:1: coder: required column is missing (see docs/coding-sheet.md)"}


def test_import_refuses_to_overwrite(tmp_path):
    sheet = _csv(tmp_path / "sheet.csv", GOOD)
    out = tmp_path / "out"
    out.mkdir()
    (out / "fixture-sheet-b.yaml").write_text("keep me", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="already exists"):
        import_sheet(sheet, out)
    assert sorted(p.name for p in out.iterdir()) == ["fixture-sheet-b.yaml"]
    assert (out / "fixture-sheet-b.yaml").read_text(encoding="utf-8") == "keep me"
    result = runner.invoke(app, ["import", str(sheet), "--out", str(out), "--force"])
    assert result.exit_code == 0 and "2 study file(s) written" in result.output
