"""``evidence import``: a coding sheet (CSV or XLSX, one row per effect) -> study files.

Rows are grouped by ``study_id``. Study-, intervention- and source-level cells may be repeated on
every row of a study or given once; cells that disagree are errors. Every problem is reported as
``sheet.csv:ROW: column: message (hint)`` (ROW as a spreadsheet shows it: the header is row 1),
all at once; nothing is written when any row has an error. The full column list, with the study
field each one fills, is ``COLUMNS`` in ``evidence.ingest.sheet_columns`` and ``docs/coding-sheet.md``.
Problems come from the sheet rules (``evidence.ingest.rules.sheet``) and then every study rule.

Required columns: study_id, title, authors, year, publication_type, programme, countries,
intervention_id, intervention_type, design, coding_status, coder, coding_date, source_id,
source_kind. Optional: venue, doi, url, language, setting, implementer, design_unit, clusters,
rob_tool, rob_overall, rob_reason (RoB 2 / ROBINS-I), quality_rater, quality_rating, quality_source,
quality_reason (a clearinghouse's rating, e.g. CLEAR's); intervention_label, conditionality, recipient; source_url,
source_doi, source_title; per effect: effect_id, outcome, outcome_definition, sdg871, sex, age_min,
age_max, subgroup_label (the effect's subgroup), follow_up_months, primary, comparison, form,
estimate, unit, unit_note, se, t, p, ci_low, ci_high, ci_level, df, significance, n1, n2, m1, sd1,
m2, sd2, p1, p2, se_clustered, location, quote. Lists (authors, countries) are separated by ';'.
A row with no effect cells describes the study only (e.g. a ``mapped`` study without effects).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel

from evidence.errors import EvidenceError, ValidationFailed
from evidence.ingest.problems import Problem, field_name
from evidence.ingest.rules import REGISTRY, Context, run_rules
from evidence.ingest.rules.sheet import SHEET_READ_RULES, SHEET_ROW_RULES
from evidence.ingest.scaffold import slugify
from evidence.ingest.sheet_columns import COLUMNS, E, I, O, S, SheetData, SheetUnreadable, convert, is_formula, read_rows
from evidence.ingest.structure import annotation_at


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


def _assemble(sheet: SheetData) -> dict[str, _Study]:
    """Group rows into studies; cells that do not convert are left out (the ``sheet-cells`` rule
    reports them) and every value set on a shared field is recorded in ``sheet.seen``."""
    studies: dict[str, _Study] = {}
    for n, row in sheet.rows[1:]:
        cells: dict[str, dict] = {S: {}, I: {}, O: {}, E: {}}
        for col, value in row.items():
            level, path, kind = COLUMNS[col]
            if is_formula(value):
                continue  # the sheet-formulas rule reports it
            try:
                cells[level][path] = (convert(value, kind), col)
            except ValueError:
                pass
        sid = cells[S].get(("id",), (None,))[0]
        if not sid:
            continue  # the sheet-study-id rule reports it
        st = studies.setdefault(sid, _Study(n))
        parts = [(S, st.data, (), None)]
        for level, store, key, base in ((I, st.interventions, ("id",), "interventions"),
                                        (O, st.sources, ("id",), "sources")):
            item_id = cells[level].get(key, (None,))[0]
            if item_id:
                idx = list(store).index(item_id) if item_id in store else len(store)
                parts.append((level, store.setdefault(item_id, {}), (base, idx), item_id))
        if cells[E]:
            st.effects.append({})
            parts.append((E, st.effects[-1], ("effects", len(st.effects) - 1), None))
            st.origin[("effects", len(st.effects) - 1)] = (n, "outcome")
            k = len(st.effects) - 1
            for level, ref, col in ((I, ("intervention",), "intervention_id"), (O, ("provenance", "source"), "source_id")):
                if ("id",) in cells[level]:  # an effect refers to the intervention and source of its row
                    _put(st.effects[-1], ref, cells[level][("id",)][0])
                    st.origin[("effects", k) + ref] = (n, col)
        for level, target, prefix, item_id in parts:
            for path, (value, col) in cells[level].items():
                if level != E:
                    sheet.seen.setdefault((sid, level, item_id, path), []).append((n, col, value))
                if _get(target, path) is None:  # the first value stays; the rules report any other
                    _put(target, path, value)
                    st.origin.setdefault(prefix + path, (n, col))
    return studies


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


def _read(sheet: Path) -> SheetData:
    data = SheetData(Path(sheet))
    try:
        data.rows = read_rows(data.path)
    except SheetUnreadable as exc:
        data.read_error = (exc.message, exc.hint)
    return data


def _sheet_studies(sheet: Path) -> tuple[dict[str, _Study], dict[str, dict], list[Problem]]:
    data = _read(sheet)
    ctx = Context(data.path, file_stem=None)
    problems = REGISTRY.run([REGISTRY[n] for n in SHEET_READ_RULES], data, ctx)
    if problems or not data.rows:
        return {}, {}, sorted(problems, key=Problem.sort_key)
    assembled = _assemble(data)
    problems = REGISTRY.run([REGISTRY[n] for n in SHEET_ROW_RULES], data, ctx)
    out = {}
    for sid, st in assembled.items():
        study = _finish(st)
        problems += run_rules(study, Context(data.path, st.line_of, st.field_of, file_stem=None))
        out[sid] = study
    return assembled, out, sorted(problems, key=Problem.sort_key)


def sheet_to_studies(sheet: Path) -> tuple[dict[str, dict], list[Problem]]:
    """Study dicts by id and every problem (reading, columns, cells, consistency and all study rules)."""
    _, studies, problems = _sheet_studies(sheet)
    return studies, problems


def import_sheet(sheet: Path, out_dir: Path, force: bool = False) -> tuple[list[Path], list[Problem]]:
    """Write one file per study into ``out_dir``; raises ValidationFailed (writing nothing) on any error.
    Returns the written paths and the warnings."""
    assembled, studies, problems = _sheet_studies(Path(sheet))
    out_dir = Path(out_dir)
    data = SheetData(Path(sheet), force=force)
    data.targets = [(sid, assembled[sid].first_row, out_dir / f"{sid}.yaml") for sid in studies]
    problems += REGISTRY.run([REGISTRY["sheet-target"]], data, Context(data.path, file_stem=None))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ValidationFailed(sorted(problems, key=Problem.sort_key))
    return _write_all(studies, out_dir, Path(sheet).name), problems


def _write_all(studies: dict[str, dict], out_dir: Path, sheet_name: str) -> list[Path]:
    """Write every study or none: each goes to a temporary file first, and only when all are written
    are they moved into place (a full disk or a permission error leaves ``out_dir`` as it was)."""
    import os
    import tempfile

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EvidenceError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    staged: list[tuple[Path, Path]] = []
    try:
        for sid, study in studies.items():
            text = yaml.safe_dump(study, sort_keys=False, allow_unicode=True, width=100)
            fd, tmp = tempfile.mkstemp(prefix=f".{sid}.", suffix=".import", dir=out_dir)
            staged.append((Path(tmp), out_dir / f"{sid}.yaml"))
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("# yaml-language-server: $schema=../schema/study.schema.json\n"
                         f"# Imported from {sheet_name} by `evidence import`.\n" + text)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise EvidenceError(f"cannot write to {out_dir}: {exc.strerror or exc}; nothing written") from None
    for tmp, target in staged:
        os.replace(tmp, target)
    return [target for _, target in staged]
