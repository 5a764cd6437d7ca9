"""Rules on a coding sheet (``evidence import``): it can be read, its columns are known and
complete, every cell has its column's type, cells of one study agree, and an import overwrites
nothing unasked. The studies a sheet describes then go through every study rule.

The subject of these rules is a ``SheetData`` (``evidence.ingest.sheet_columns``); a problem's line
is the row number a spreadsheet shows (the header is row 1) and its field the column.
"""

from __future__ import annotations

from evidence.ingest.rules.base import rule
from evidence.ingest.sheet_columns import COLUMNS, REQUIRED, convert, is_formula

SHEET_READ_RULES = ("sheet-readable", "sheet-columns")
SHEET_ROW_RULES = ("sheet-formulas", "sheet-cells", "sheet-study-id", "sheet-consistent")


@rule("sheet-readable", "The sheet is a CSV or XLSX file that can be read and is not empty.")
def _readable(sheet, ctx):
    if sheet.read_error:
        message, hint = sheet.read_error
        yield ctx.at_line(1, "(sheet)", message, hint)
    elif not sheet.rows:
        yield ctx.at_line(1, "(sheet)", "the sheet is empty", "a header row and one row per effect")


@rule("sheet-columns", "Every column is a known one and the required columns are present.")
def _columns(sheet, ctx):
    from evidence.taxonomy import suggest

    header = sheet.header
    for col in header:
        if col not in COLUMNS:
            near = suggest(col, COLUMNS)
            yield ctx.at_line(1, col or "(blank)", f"unknown column '{col}'",
                              f"did you mean '{near}'?" if near else "see docs/coding-sheet.md")
    if header:
        for col in REQUIRED:
            if col not in header:
                yield ctx.at_line(1, col, "required column is missing", "see docs/coding-sheet.md")


@rule("sheet-formulas", "No cell is a spreadsheet formula (text starting with =, +, -, @ that is not a number).")
def _formulas(sheet, ctx):
    for n, row in sheet.rows[1:]:
        for col, value in row.items():
            if is_formula(value):
                shown = value.strip()[:40] + ("..." if len(value.strip()) > 40 else "")
                yield ctx.at_line(n, col, f"{shown!r} is a spreadsheet formula, not a value",
                                  "type the value itself; a leading =, +, - or @ runs as a formula when the sheet is opened")


@rule("sheet-cells", "Every cell holds a value of its column's type (number, yes/no, date, list).")
def _cells(sheet, ctx):
    for n, row in sheet.rows[1:]:
        for col, value in row.items():
            if is_formula(value):
                continue  # sheet-formulas reports it
            try:
                convert(value, COLUMNS[col][2])
            except ValueError as exc:
                yield ctx.at_line(n, col, str(exc))


@rule("sheet-study-id", "Every row names its study (study_id).")
def _study_id(sheet, ctx):
    for n, row in sheet.rows[1:]:
        if not str(row.get("study_id", "")).strip():
            yield ctx.at_line(n, "study_id", "study_id is empty", "every row names its study")


@rule("sheet-consistent", "Cells repeated for one study, intervention or source agree.")
def _consistent(sheet, ctx):
    for (_sid, _level, _item, _path), cells in sheet.seen.items():
        first_row, _, first = cells[0]
        for n, col, value in cells[1:]:
            if value != first:
                yield ctx.at_line(n, col, f"{value!r} differs from row {first_row} ({first!r})",
                                  "cells of one study, intervention or source must agree")


@rule("sheet-target", "An import does not overwrite an existing study file (unless --force).")
def _target(sheet, ctx):
    for _sid, row, target in sheet.targets:
        if target.exists() and not sheet.force:
            yield ctx.at_line(row, "study_id", f"{target} already exists", "use --force to overwrite")
