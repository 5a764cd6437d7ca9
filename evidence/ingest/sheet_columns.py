"""The coding sheet's columns, how a cell becomes a typed value, and reading a sheet's rows.

Shared by the importer (``evidence.ingest.sheet``) and the sheet rules
(``evidence.ingest.rules.sheet``), which is why it lives apart from both.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

S, I, O, E = "study", "intervention", "source", "effect"
# column -> (level, path inside the study / intervention / source / effect, type)
COLUMNS: dict[str, tuple[str, tuple, str]] = {
    "study_id": (S, ("id",), "str"), "title": (S, ("title",), "str"), "authors": (S, ("authors",), "list"),
    "year": (S, ("year",), "int"), "publication_type": (S, ("publication_type",), "str"),
    "venue": (S, ("venue",), "str"), "doi": (S, ("doi",), "str"), "url": (S, ("url",), "str"),
    "language": (S, ("language",), "str"), "programme": (S, ("programme", "name"), "str"),
    "countries": (S, ("programme", "countries"), "list"), "setting": (S, ("programme", "setting"), "str"),
    "implementer": (S, ("programme", "implementer"), "str"), "design": (S, ("design", "type"), "str"),
    "design_unit": (S, ("design", "unit"), "str"), "clusters": (S, ("design", "clusters"), "int"),
    "coding_status": (S, ("coding", "status"), "str"), "coder": (S, ("coding", "coder"), "str"),
    "coding_date": (S, ("coding", "date"), "date"), "rob_tool": (S, ("risk_of_bias", "tool"), "str"),
    "rob_overall": (S, ("risk_of_bias", "overall"), "str"), "rob_reason": (S, ("risk_of_bias", "reason"), "str"),
    # a clearinghouse's quality rating (e.g. CLEAR high / moderate / low): never in the rob_* columns
    "quality_rater": (S, ("evidence_quality", "rater"), "str"), "quality_rating": (S, ("evidence_quality", "rating"), "str"),
    "quality_source": (S, ("evidence_quality", "source"), "str"), "quality_reason": (S, ("evidence_quality", "reason"), "str"),
    "intervention_id": (I, ("id",), "str"), "intervention_type": (I, ("type",), "str"),
    "intervention_label": (I, ("label",), "str"), "conditionality": (I, ("conditionality",), "str"),
    "recipient": (I, ("recipient",), "str"),
    "source_id": (O, ("id",), "str"), "source_kind": (O, ("kind",), "str"), "source_url": (O, ("url",), "str"),
    "source_doi": (O, ("doi",), "str"), "source_title": (O, ("title",), "str"),
    "effect_id": (E, ("id",), "str"), "outcome": (E, ("outcome",), "str"),
    "outcome_definition": (E, ("outcome_definition",), "str"), "sdg871": (E, ("sdg871",), "str"),
    "sex": (E, ("subgroup", "sex"), "str"), "age_min": (E, ("subgroup", "age_min"), "float"),
    "age_max": (E, ("subgroup", "age_max"), "float"), "subgroup_label": (E, ("subgroup", "label"), "str"),
    "follow_up_months": (E, ("follow_up_months",), "float"), "primary": (E, ("primary",), "bool"),
    "comparison": (E, ("comparison",), "str"),
    **{c: (E, ("reported", c), "float") for c in ("estimate", "se", "t", "p", "ci_low", "ci_high", "ci_level",
                                                   "df", "n1", "n2", "m1", "sd1", "m2", "sd2", "p1", "p2")},
    "form": (E, ("reported", "form"), "str"), "unit": (E, ("reported", "unit"), "str"),
    "unit_note": (E, ("reported", "unit_note"), "str"), "significance": (E, ("reported", "significance"), "str"),
    "se_clustered": (E, ("reported", "se_clustered"), "bool"),
    "location": (E, ("provenance", "location"), "str"), "quote": (E, ("provenance", "quote"), "str"),
}
REQUIRED = ["study_id", "title", "authors", "year", "publication_type", "programme", "countries",
            "intervention_id", "intervention_type", "design", "coding_status", "coder", "coding_date",
            "source_id", "source_kind"]
_TRUE, _FALSE = {"true", "yes", "y", "1", "x"}, {"false", "no", "n", "0"}


class SheetUnreadable(Exception):
    """The sheet cannot be read at all (wrong type, encoding, damaged); reported by ``sheet-readable``."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


#: Bounds on what ``evidence import`` reads (a coding sheet is a few hundred rows).
MAX_SHEET_BYTES = 20_000_000
MAX_ROWS, MAX_COLUMNS = 50_000, 300
MAX_UNZIPPED_BYTES, MAX_ZIP_RATIO, MAX_ZIP_MEMBERS = 200_000_000, 200, 1_000
SHEET_SUFFIXES = (".csv", ".xlsx", ".xlsm")


def _sniff(path: Path, head: bytes) -> str:
    """What the file really is, from its first bytes: 'zip', 'ole2' (old .xls), 'utf16', 'binary' or 'text'."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole2"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    return "binary" if b"\x00" in head else "text"


def _check_zip(path: Path) -> None:
    """Refuse an XLSX whose members would unpack to more than the bounds (a zip bomb) or that is damaged."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SheetUnreadable(f"{path.name} is a damaged XLSX workbook ({exc})", "save it again from the spreadsheet") from None
    total = sum(i.file_size for i in infos)
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos), default=0)
    if len(infos) > MAX_ZIP_MEMBERS or total > MAX_UNZIPPED_BYTES or worst > MAX_ZIP_RATIO:
        raise SheetUnreadable(f"{path.name} would unpack to {total:,} bytes in {len(infos):,} parts "
                              f"(compression ratio up to {worst:,.0f}:1): refused as a possible zip bomb",
                              "a coding sheet is small; export the sheet again")


def _raw_rows(path: Path) -> list[list]:
    suffix = path.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise SheetUnreadable(f"{path.name}: '{path.suffix}' is not a coding-sheet type", "save the sheet as .csv (UTF-8) or .xlsx")
    size = path.stat().st_size
    if size > MAX_SHEET_BYTES:
        raise SheetUnreadable(f"{path.name} is {size:,} bytes (more than {MAX_SHEET_BYTES:,})", "a coding sheet is small; is this the right file?")
    with path.open("rb") as fh:
        kind = _sniff(path, fh.read(4096))
    if kind == "ole2":
        raise SheetUnreadable(f"{path.name} is an old Excel .xls workbook", "save it as .xlsx or as CSV UTF-8")
    if suffix in (".xlsx", ".xlsm"):
        if kind != "zip":
            looks = "text (a CSV?)" if kind == "text" else kind
            raise SheetUnreadable(f"{path.name} is not an XLSX workbook: it looks like {looks}",
                                  "rename it to .csv if it is a CSV, or save it again as .xlsx")
        _check_zip(path)
        from openpyxl import load_workbook

        try:  # data_only=False: a formula is read as its text ('=...'), which the sheet-formulas rule refuses
            wb = load_workbook(path, read_only=True, data_only=False)
            try:
                return [list(r) for r, _ in zip(wb.worksheets[0].iter_rows(values_only=True), range(MAX_ROWS + 2))]
            finally:
                wb.close()
        except SheetUnreadable:
            raise
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on damaged or foreign files
            raise SheetUnreadable(f"{path.name} cannot be read as an XLSX workbook: {type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0][:120] if str(exc) else ''}",
                                  "save it again from the spreadsheet as .xlsx") from None
    if kind == "zip":
        raise SheetUnreadable(f"{path.name} is a zip archive (an XLSX workbook?), not a CSV", "rename it to .xlsx")
    if kind == "utf16":
        raise SheetUnreadable(f"{path.name} is UTF-16 text", "save it as 'CSV UTF-8'")
    if kind == "binary":
        raise SheetUnreadable(f"{path.name} is not a text file (it holds NUL bytes)", "save the sheet as CSV UTF-8")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetUnreadable(f"{path.name} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start:,})",
                              "save it as 'CSV UTF-8'") from None
    try:
        rows = []
        for row in csv.reader(text.splitlines(True)):
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except csv.Error as exc:
        raise SheetUnreadable(f"{path.name} is not a readable CSV: {exc}", "save it as 'CSV UTF-8'") from None


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(spreadsheet row number, {column: cell}) for non-blank rows; header names are normalised.
    Raises ``SheetUnreadable`` (one line: what the file is and what to do) for anything else."""
    path = Path(path)
    if not path.is_file():
        raise SheetUnreadable(f"{path} does not exist or is not a file")
    raw = _raw_rows(path)
    if len(raw) > MAX_ROWS + 1:
        raise SheetUnreadable(f"{path.name} has more than {MAX_ROWS:,} rows", "split the sheet")
    if raw and len(raw[0]) > MAX_COLUMNS:
        raise SheetUnreadable(f"{path.name} has {len(raw[0]):,} columns (more than {MAX_COLUMNS})", "see docs/coding-sheet.md")
    if not raw:
        return []
    header = [re.sub(r"\s+", "_", str(h or "").strip().lower()) for h in raw[0][:MAX_COLUMNS]]
    rows = [(1, dict(zip(header, header)))]
    for n, cells in enumerate(raw[1:], start=2):
        row = {h: c for h, c in zip(header, cells) if h and c is not None and str(c).strip() != ""}
        if row:
            rows.append((n, row))
    return rows


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def is_formula(value) -> bool:
    """Whether a cell reads as a spreadsheet formula: text starting with '=', '+', '-', '@' (or a tab or
    carriage return, or their full-width forms) that is not simply a signed number such as -0.05.
    Such cells run as formulas when a sheet is opened (CSV injection) and are never data."""
    if not isinstance(value, str):
        return False
    text = value.lstrip(" ")
    if not text.startswith(_FORMULA_START):
        return False
    try:
        float(text.strip().replace("\u2212", "-"))
        return False
    except ValueError:
        return True


def convert(value, kind: str):
    """Cell -> typed value; raises ValueError with a message for the researcher."""
    if kind == "str":
        return str(value).strip() if not isinstance(value, float) or not value.is_integer() else str(int(value))
    if kind == "list":
        return [x.strip() for x in re.split(r"[;\n]", str(value)) if x.strip()]
    if kind in ("float", "int"):
        if isinstance(value, bool):
            raise ValueError(f"not a number: {value!r}")
        try:
            x = float(value) if isinstance(value, (int, float)) else float(str(value).strip().replace("−", "-"))
        except ValueError:
            raise ValueError(f"not a number: {str(value)!r}") from None
        if kind == "int":
            if not x.is_integer():
                raise ValueError(f"not a whole number: {value!r}")
            return int(x)
        return int(x) if x.is_integer() and abs(x) < 1e15 else x  # 6 not 6.0 in the written YAML
    if kind == "bool":
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in _TRUE | _FALSE:
            return s in _TRUE
        raise ValueError(f"not yes/no: {str(value)!r}")
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"not a date (YYYY-MM-DD): {str(value)!r}") from None
    raise AssertionError(kind)




@dataclass
class SheetData:
    """What the sheet rules check: the rows as read, and what assembling them into studies saw.

    ``seen`` maps (study id, level, item id, field path) to every (row, column, value) that set it,
    so the consistency rule can tell cells that disagree; ``targets`` are the files an import would
    write, as (study id, first row, path).
    """

    path: Path
    rows: list[tuple[int, dict]] = field(default_factory=list)  # header first, as (1, {column: column})
    read_error: tuple[str, str | None] | None = None
    seen: dict[tuple, list[tuple[int, str, object]]] = field(default_factory=dict)
    targets: list[tuple[str, int, Path]] = field(default_factory=list)
    force: bool = False

    @property
    def header(self) -> list[str]:
        return list(self.rows[0][1]) if self.rows else []
