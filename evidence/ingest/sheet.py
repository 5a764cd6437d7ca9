"""``evidence import``: a coding sheet (CSV or XLSX, one row per effect) -> study files.

Rows are grouped by ``study_id``. Study-, intervention- and source-level cells may be repeated on
every row of a study or given once; cells that disagree are errors. Every problem is reported as
``sheet.csv:ROW: column: message (hint)`` (ROW as a spreadsheet shows it: the header is row 1),
all at once; nothing is written when any row has an error. The full column list, with the study
field each one fills, is ``COLUMNS`` below and ``docs/coding-sheet.md``.

Required columns: study_id, title, authors, year, publication_type, programme, countries,
intervention_id, intervention_type, design, coding_status, coder, coding_date, source_id,
source_kind. Optional: venue, doi, url, language, setting, implementer, design_unit, clusters,
rob_tool, rob_overall, rob_reason; intervention_label, conditionality, recipient; source_url,
source_doi, source_title; per effect: effect_id, outcome, outcome_definition, sdg871, sex, age_min,
age_max, subgroup_label (the effect's subgroup), follow_up_months, primary, comparison, form,
estimate, unit, unit_note, se, t, p, ci_low, ci_high, ci_level, df, significance, n1, n2, m1, sd1,
m2, sd2, p1, p2, se_clustered, location, quote. Lists (authors, countries) are separated by ';'.
A row with no effect cells describes the study only (e.g. a ``mapped`` study without effects).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import yaml
from pydantic import BaseModel

from evidence.errors import ValidationFailed
from evidence.ingest.problems import Problem, field_name
from evidence.ingest.rules import Context, run_rules
from evidence.ingest.scaffold import slugify
from evidence.ingest.structure import annotation_at

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


def _convert(value, kind: str):
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


def _put(target: dict, path: tuple, value) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _get(target: dict, path: tuple):
    for part in path:
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target


class _Study:
    """One study being assembled from rows, remembering which row and column filled each path."""

    def __init__(self, first_row: int):
        self.data: dict = {}
        self.first_row = first_row
        self.origin: dict[tuple, tuple[int, str]] = {}  # path -> (row, column)
        self.interventions: dict[str, dict] = {}
        self.sources: dict[str, dict] = {}
        self.effects: list[dict] = []

    def line_of(self, loc: tuple) -> int:
        loc = tuple(loc)
        while loc:
            if loc in self.origin:
                return self.origin[loc][0]
            loc = loc[:-1]
        return self.first_row

    def field_of(self, loc: tuple) -> str:
        loc = tuple(loc)
        if loc in self.origin:
            return self.origin[loc][1]
        pattern = tuple("*" if isinstance(x, int) else x for x in loc)
        return _COLUMN_OF.get(pattern, field_name(loc))


_PREFIX = {S: (), I: ("interventions", "*"), O: ("sources", "*"), E: ("effects", "*")}
_COLUMN_OF = {_PREFIX[level] + path: col for col, (level, path, _) in COLUMNS.items()}
_COLUMN_OF.update({("effects", "*", "intervention"): "intervention_id",
                   ("effects", "*", "provenance", "source"): "source_id", ("interventions",): "intervention_id",
                   ("sources",): "source_id", ("effects", "*", "provenance"): "quote"})


def _assemble(rows, sheet: Path) -> tuple[dict[str, _Study], list[Problem]]:
    problems: list[Problem] = []
    studies: dict[str, _Study] = {}
    for n, row in rows:
        cells: dict[str, dict] = {S: {}, I: {}, O: {}, E: {}}
        for col, value in row.items():
            level, path, kind = COLUMNS[col]
            try:
                cells[level][path] = (_convert(value, kind), col)
            except ValueError as exc:
                problems.append(Problem(sheet, n, col, str(exc), None, "sheet"))
        sid = cells[S].get(("id",), (None,))[0]
        if not sid:
            problems.append(Problem(sheet, n, "study_id", "study_id is empty", "every row names its study", "sheet"))
            continue
        st = studies.setdefault(sid, _Study(n))
        parts = [(S, st.data, ())]
        for level, store, key, base in ((I, st.interventions, ("id",), "interventions"),
                                        (O, st.sources, ("id",), "sources")):
            item_id = cells[level].get(key, (None,))[0]
            if item_id:
                idx = list(store).index(item_id) if item_id in store else len(store)
                parts.append((level, store.setdefault(item_id, {}), (base, idx)))
        if cells[E]:
            st.effects.append({})
            parts.append((E, st.effects[-1], ("effects", len(st.effects) - 1)))
            st.origin[("effects", len(st.effects) - 1)] = (n, "outcome")
            k = len(st.effects) - 1
            for level, ref, col in ((I, ("intervention",), "intervention_id"), (O, ("provenance", "source"), "source_id")):
                if ("id",) in cells[level]:  # an effect refers to the intervention and source of its row
                    _put(st.effects[-1], ref, cells[level][("id",)][0])
                    st.origin[("effects", k) + ref] = (n, col)
        for level, target, prefix in parts:
            for path, (value, col) in cells[level].items():
                old = _get(target, path)
                if old is not None and old != value:
                    first = st.origin.get(prefix + path, (st.first_row, col))[0]
                    problems.append(Problem(sheet, n, col, f"{value!r} differs from row {first} ({old!r})",
                                            "cells of one study, intervention or source must agree", "sheet"))
                    continue
                _put(target, path, value)
                st.origin.setdefault(prefix + path, (n, col))
    return studies, problems


def _finish(st: _Study) -> dict:
    data = st.data
    if st.interventions:
        data["interventions"] = list(st.interventions.values())
    if st.sources:
        data["sources"] = list(st.sources.values())
    taken: set[str] = set()
    for k, e in enumerate(st.effects):
        if "id" not in e:
            base = slugify(f"{e.get('outcome', 'effect')} {e.get('subgroup', {}).get('sex', '')}", 3) or "effect"
            eid, i = base.replace("_", "-"), 2
            while eid in taken:
                eid, i = f"{base}-{i}", i + 1
            e["id"] = eid
        taken.add(e["id"])
        st.effects[k] = {"id": e.pop("id"), **e}
    data["effects"] = st.effects
    return _schema_order(data, ())


def _schema_order(value, loc: tuple):
    """Keys in the schema's field order, so imported files read like hand-written ones."""
    if isinstance(value, list):
        return [_schema_order(v, loc + (i,)) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    model = annotation_at(loc)
    order = list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []
    keys = [k for k in order if k in value] + [k for k in value if k not in order]
    return {k: _schema_order(value[k], loc + (k,)) for k in keys}


def sheet_to_studies(sheet: Path) -> tuple[dict[str, dict], list[Problem]]:
    """Study dicts by id and every problem (column, type, consistency and all validation rules)."""
    sheet = Path(sheet)
    rows = read_rows(sheet)
    if not rows:
        return {}, [Problem(sheet, 1, "(sheet)", "the sheet is empty", "a header row and one row per effect", "sheet")]
    header = rows[0][1]
    problems = []
    for col in header:
        if col not in COLUMNS:
            from evidence.taxonomy import suggest
            near = suggest(col, COLUMNS)
            problems.append(Problem(sheet, 1, col or "(blank)", f"unknown column '{col}'",
                                    f"did you mean '{near}'?" if near else "see docs/coding-sheet.md", "sheet"))
    for col in REQUIRED:
        if col not in header:
            problems.append(Problem(sheet, 1, col, "required column is missing", "see docs/coding-sheet.md", "sheet"))
    if problems:
        return {}, problems
    studies, problems = _assemble(rows[1:], sheet)
    out = {}
    for sid, st in studies.items():
        data = _finish(st)
        ctx = Context(sheet, st.line_of, st.field_of, file_stem=None)
        problems += run_rules(data, ctx)
        out[sid] = data
    return out, sorted(problems, key=Problem.sort_key)


def import_sheet(sheet: Path, out_dir: Path, force: bool = False) -> tuple[list[Path], list[Problem]]:
    """Write one file per study into ``out_dir``; raises ValidationFailed (writing nothing) on any error.
    Returns the written paths and the warnings."""
    studies, problems = sheet_to_studies(Path(sheet))
    out_dir = Path(out_dir)
    for sid in studies:
        target = out_dir / f"{sid}.yaml"
        if target.exists() and not force:
            problems.append(Problem(sheet, studies_first_row(sheet, sid), "study_id", f"{target} already exists",
                                    "use --force to overwrite", "sheet"))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ValidationFailed(sorted(problems, key=Problem.sort_key))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for sid, data in studies.items():
        target = out_dir / f"{sid}.yaml"
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        target.write_text("# yaml-language-server: $schema=../schema/study.schema.json\n"
                          f"# Imported from {Path(sheet).name} by `evidence import`.\n" + text, encoding="utf-8")
        written.append(target)
    return written, problems


def studies_first_row(sheet: Path, sid: str) -> int:
    for n, row in read_rows(Path(sheet))[1:]:
        if str(row.get("study_id", "")).strip() == sid:
            return n
    return 1
