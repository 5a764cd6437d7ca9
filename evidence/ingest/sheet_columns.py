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


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(spreadsheet row number, {column: cell}) for non-blank rows; header names are normalised."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook
        wb = load_workbook(path, read_only=True, data_only=True)
        raw = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
    else:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            raw = list(csv.reader(fh))
    if not raw:
        return []
    header = [re.sub(r"\s+", "_", str(h or "").strip().lower()) for h in raw[0]]
    rows = [(1, dict(zip(header, header)))]
    for n, cells in enumerate(raw[1:], start=2):
        row = {h: c for h, c in zip(header, cells) if h and c is not None and str(c).strip() != ""}
        if row:
            rows.append((n, row))
    return rows


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
