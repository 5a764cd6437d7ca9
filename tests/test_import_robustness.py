"""``evidence import`` and ``evidence new`` on hostile input: any encoding or file type gives one
clear line, archives are bounded, formulas in cells are refused, and nothing is written unless
every row is valid (and then all files or none)."""

from __future__ import annotations

import csv
import sys
import zipfile
from pathlib import Path

import pytest
from test_scaffold_import import GOOD, HEADER, _csv, _xlsx

from evidence.cli import main as cli_main
from evidence.errors import EvidenceError, ValidationFailed
from evidence.ingest import sheet_columns
from evidence.ingest.scaffold import parse_bibtex, parse_ris, read_reference
from evidence.ingest.sheet import import_sheet, sheet_to_studies


def _one_problem(sheet: Path, out: Path):
    with pytest.raises(ValidationFailed) as exc:
        import_sheet(sheet, out)
    assert not out.exists() or not any(out.iterdir()), "something was written"
    (p,) = exc.value.problems
    assert "\n" not in str(p) and p.severity == "error"
    return p


def _good_csv_text() -> str:
    import io
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *GOOD])
    return buf.getvalue()


@pytest.mark.parametrize("name,make,message", [
    ("latin1.csv", lambda p: p.write_bytes(_good_csv_text().replace("Programa A", "Niñez").replace("\u2212", "-").encode("latin-1")),
     "is not UTF-8 (byte 0xf1"),
    ("utf16.csv", lambda p: p.write_bytes(_good_csv_text().encode("utf-16")), "is UTF-16 text"),
    ("old.xls", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), "not a coding-sheet type"),
    ("old-renamed.xlsx", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), "old Excel .xls workbook"),
    ("renamed.xlsx", lambda p: p.write_text(_good_csv_text(), encoding="utf-8"), "not an XLSX workbook: it looks like text"),
    ("zipped.csv", lambda p: zipfile.ZipFile(p, "w").writestr("a.csv", "x"), "is a zip archive"),
    ("binary.csv", lambda p: p.write_bytes(b"study_id\0title\n\0\0\0"), "not a text file"),
    ("damaged.xlsx", lambda p: p.write_bytes(b"PK\x03\x04" + b"garbage" * 50), "damaged XLSX workbook"),
    ("sheet.ods", lambda p: p.write_bytes(b"PK\x03\x04"), "not a coding-sheet type"),
    ("empty.xlsx", lambda p: zipfile.ZipFile(p, "w").writestr("hello.txt", "not a workbook"), "cannot be read as an XLSX"),
])
def test_foreign_files_and_encodings_give_one_clear_line(tmp_path, name, make, message):
    sheet = tmp_path / name
    make(sheet)
    p = _one_problem(sheet, tmp_path / "out")
    assert (p.rule, p.line, p.field) == ("sheet-readable", 1, "(sheet)") and message in p.message, str(p)
    assert p.hint


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    sheet = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(sheet, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * 30_000_000)  # 30 MB of zeros -> ~30 KB
    assert sheet.stat().st_size < 100_000
    p = _one_problem(sheet, tmp_path / "out")
    assert "possible zip bomb" in p.message and "compression ratio" in p.message


def test_the_unpacked_size_is_bounded_too(tmp_path, monkeypatch):
    sheet = _xlsx(tmp_path / "s.xlsx", GOOD)
    monkeypatch.setattr(sheet_columns, "MAX_UNZIPPED_BYTES", 1_000)
    assert "possible zip bomb" in _one_problem(sheet, tmp_path / "out").message


def test_too_many_rows_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sheet_columns, "MAX_ROWS", 2)
    p = _one_problem(_csv(tmp_path / "s.csv", GOOD), tmp_path / "out")
    assert "more than 2 rows" in p.message


@pytest.mark.parametrize("cell", ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "=HYPERLINK(\"http://x\")",
                                  "\t=1", " =1", "\uff1d1"])
def test_formulas_in_cells_are_refused(tmp_path, cell):
    rows = [list(r) for r in GOOD]
    rows[0][HEADER.index("location")] = cell
    p = _one_problem(_csv(tmp_path / "s.csv", rows), tmp_path / "out")
    assert (p.rule, p.line, p.field) == ("sheet-formulas", 2, "location") and "spreadsheet formula" in p.message


def test_formula_cells_in_an_xlsx_are_refused(tmp_path):
    from openpyxl import load_workbook

    sheet = _xlsx(tmp_path / "s.xlsx", GOOD)
    wb = load_workbook(sheet)
    wb.active.cell(row=2, column=HEADER.index("se") + 1, value="=0.01*2")
    wb.save(sheet)
    p = _one_problem(sheet, tmp_path / "out")
    assert (p.rule, p.field) == ("sheet-formulas", "se")


def test_signed_numbers_are_not_formulas(tmp_path):
    rows = [list(r) for r in GOOD]
    rows[0][HEADER.index("estimate")] = "-0.05"
    rows[1][HEADER.index("estimate")] = "+0.04"
    studies, problems = sheet_to_studies(_csv(tmp_path / "s.csv", rows))
    assert [p for p in problems if p.severity == "error"] == [] and len(studies) == 2


def test_one_bad_row_writes_nothing_at_all(tmp_path):
    rows = [list(r) for r in GOOD]
    rows[2][HEADER.index("countries")] = "Narnia"
    out = tmp_path / "out"
    with pytest.raises(ValidationFailed):
        import_sheet(_csv(tmp_path / "s.csv", rows), out)
    assert not out.exists()


def test_an_unwritable_target_writes_nothing_and_says_so(tmp_path):
    out = tmp_path / "out"
    out.write_text("a file where the directory should be", encoding="utf-8")
    with pytest.raises(EvidenceError, match="cannot create"):
        import_sheet(_csv(tmp_path / "s.csv", GOOD), out)


def _cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["evidence", *args])
    with pytest.raises(SystemExit) as exc:
        cli_main.main()
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_cli_import_of_a_foreign_file_prints_one_problem_line(tmp_path, monkeypatch, capsys):
    sheet = tmp_path / "renamed.xlsx"
    sheet.write_text(_good_csv_text(), encoding="utf-8")
    code, out, err = _cli(monkeypatch, capsys, "import", str(sheet), "--out", str(tmp_path / "out"))
    lines = [x for x in out.splitlines() if x.strip()]
    assert code == 1 and "Traceback" not in out + err and len(lines) == 2
    assert lines[0].startswith(f"{sheet}:1: (sheet): ") and lines[1] == "1 error(s); nothing written"


# --- evidence new -----------------------------------------------------------------------------------

@pytest.mark.parametrize("data,message", [
    ("@article{k, title={Niñez}, year=2001}".encode("latin-1"), "is not UTF-8 (byte 0xf1"),
    (b"PK\x03\x04zipped", "not a text file"),
    (b"\x00\x01\x02binary", "not a text file"),
])
def test_new_refuses_unreadable_reference_files(tmp_path, data, message):
    path = tmp_path / "ref.bib"
    path.write_bytes(data)
    with pytest.raises(EvidenceError, match=message.replace("(", r"\(")):
        read_reference(path)


def test_new_reads_utf16_exports_with_a_bom(tmp_path):
    path = tmp_path / "ref.ris"
    path.write_bytes("TY  - JOUR\nTI  - Niñez y trabajo\nAU  - Peña, José\nPY  - 2012\nER  - \n".encode("utf-16"))
    rec = parse_ris(read_reference(path))
    assert (rec.title, rec.authors, rec.year) == ("Niñez y trabajo", ["Peña, José"], 2012)


@pytest.mark.parametrize("text", ["@article{k, title = {unclosed", "@@@", "@article{k, title = {A}, year = 2001,,,,}"])
def test_malformed_bibtex_is_an_error_or_a_record_never_a_traceback(text):
    try:
        parse_bibtex(text)
    except EvidenceError as exc:
        assert "\n" not in str(exc)


def test_cli_new_with_a_latin1_file_prints_one_error_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "ref.bib"
    path.write_bytes("@article{k, title={Niñez}, year=2001}".encode("latin-1"))
    code, out, err = _cli(monkeypatch, capsys, "new", "--bib", str(path), "--out", str(tmp_path / "s"))
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: ref.bib is not UTF-8")
    assert not (tmp_path / "s").exists()
