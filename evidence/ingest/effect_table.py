"""Reading a user's CSV of effect sizes, safely.

The file is parsed as text by the csv module and nothing else: never executed, never unpickled, never
evaluated (no Excel, no formulas), and strictly: every row must have the header's number of fields, every
number cell must be a finite number, and each refusal names the line and column. The delimiter (comma,
semicolon, tab) is sniffed; with a semicolon or tab, decimal commas are read as points (and noted).
Limits for an upload: 5 MB, 5,000 rows (the command line allows more: :data:`CLI_MAX_BYTES`). Accepted layouts:

- ``yi`` and ``vi`` (effect sizes and sampling variances), or ``yi`` and ``sei`` (standard errors);
- raw columns with metafor's names, turned into ``yi``/``vi`` by :func:`evidence.effectsize.escalc`
  for a chosen measure: 2x2 tables (ai, bi, ci, di or n1i, n2i) -> RR, OR, RD; means and SDs (m1i, m2i,
  sd1i, sd2i, n1i, n2i) -> SMD, MD; a proportion (xi, ni) -> PR, PLO; a correlation (ri, ni) -> ZCOR.

An optional ``study`` (or label, author, trial, name) column labels the rows.

The reader returns a :class:`~evidence.ingest.table.Table` of plain columns, not a DataFrame:
``evidence meta --csv`` reads, checks and pools a file without importing pandas (a quarter of its
whole-process time). The app's :class:`Dataset` carries a DataFrame, built at that edge by
:meth:`~evidence.ingest.table.Table.to_frame`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from evidence.effectsize import MEASURES, escalc
from evidence.errors import EffectSizeError, EvidenceError
from evidence.ingest.table import Table

if TYPE_CHECKING:  # pandas only where a DataFrame is asked for (Table.to_frame, parse_table)
    import pandas as pd

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
CLI_MAX_BYTES, CLI_MAX_ROWS = 200 * 1024 * 1024, 2_000_000  # `evidence meta --csv`: memory grows with rows only
UPLOAD_MEASURES = ("RR", "OR", "RD", "SMD", "MD", "PLO", "PR", "ZCOR")
LABEL_COLUMNS = ("label", "author", "source", "name", "trial", "study")
EXAMPLES = {
    "BCG vaccine trials (dat.bcg, 13 trials, log risk ratio)": {
        "file": "dat.bcg.csv", "measure": "RR", "mapping": {"tpos": "ai", "tneg": "bi", "cpos": "ci", "cneg": "di"},
        "note": "Colditz et al. (1994) via the metadat R package; log risk ratios of tuberculosis, BCG vaccine vs. control."},
    "Stroke care length of stay (dat.normand1999, 9 studies, SMD)": {
        "file": "dat.normand1999.csv", "measure": "SMD", "mapping": {},
        "note": "Normand (1999) via the metadat R package; standardised mean difference in length of hospital stay."},
}


class UploadError(EvidenceError):
    """The uploaded file cannot be used; the message says why and what to change."""


@dataclass
class Dataset:
    name: str
    labels: list[str]
    yi: np.ndarray
    vi: np.ndarray
    measure: str | None
    table: pd.DataFrame  # the rows as read (normalised column names), with yi and vi
    note: str = ""


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _is_number(s: str) -> bool:
    try:
        return bool(np.isfinite(float(s)))
    except ValueError:
        return False


def _safe_cell(x) -> str:
    """Text that cannot act as a spreadsheet formula when the table is downloaded as CSV and opened in
    Excel/LibreOffice: a leading = + - @ tab or line break gets a ``'`` in front (a leading minus only
    when the cell is not a number, so -0.5 stays -0.5). Nothing else is changed."""
    s = str(x)
    if s[:1] in FORMULA_STARTS and not (s[:1] in "+-" and _is_number(s)):
        return "'" + s
    return s


def _safe_label(x) -> str:
    """A row label: whitespace collapsed, at most 80 characters, and safe as a spreadsheet cell."""
    return _safe_cell(" ".join(str(x).split())[:80])


def compatible_measures(columns) -> list[str]:
    """Measures whose raw columns are all present (metafor names)."""
    cols = set(columns)
    return [m for m in UPLOAD_MEASURES if all(any(a in cols for a in req.split("|")) for req in MEASURES[m])]


def read_table(data: bytes, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> Table:
    """Bytes -> :class:`Table` of text cells (``None`` when blank), lower-case column names, and the
    CSV line each row starts on, so every later message can name the line. Read strictly with the csv
    module (pandas would guess: a row with one field more than the header silently turned the first
    column into the index). The delimiter used is kept: it decides whether a number cell may have a
    decimal comma (:func:`numbers`; text columns are never changed)."""
    if len(data) > max_bytes:
        raise UploadError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB (split it"
                          f"{', or use `evidence meta --csv` for large tables' if max_bytes < CLI_MAX_BYTES else ''}).")
    if not data.strip():
        raise UploadError("The file is empty: expected a header row (e.g. study,yi,vi) and one effect per row.")
    if b"\x00" in data[:4096]:
        raise UploadError("This is not a text CSV file (it contains binary data). Save it as CSV (comma-separated) first.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    delimiter = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True)
    header, columns, lines, start = None, [], [], 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in row):
                continue  # blank lines are not rows
            if header is None:
                header = _header(row, line)
                columns = [[] for _ in header]
                continue
            if len(row) != len(header):
                raise UploadError(f"line {line}: {len(row)} field{'s' if len(row) != 1 else ''}, but the header has "
                                  f"{len(header)} ({', '.join(header)[:120]}): a value is missing, or a {_name(delimiter)} inside "
                                  "a value (a decimal comma, a name) split it; put such values in double quotes.")
            if len(lines) >= max_rows:
                raise UploadError(f"The file has more than {max_rows:,} rows (the limit); split it"
                                  f"{' or use `evidence meta --csv`' if max_rows < CLI_MAX_ROWS else ''}.")
            lines.append(line)
            for cells, cell in zip(columns, row):
                cells.append(cell.strip() or None)
    except csv.Error as exc:
        why = _csv_problem(exc)
        if header is None:
            raise UploadError(f"line {reader.line_num}: the header is not readable as CSV ({why}); separate the columns "
                              "with commas, semicolons or tabs, and check the quotes.") from None
        raise UploadError(f"line {reader.line_num}: not readable as CSV with the {_name(delimiter)} as delimiter ({why}); "
                          "check the quotes.") from None
    if not lines:
        raise UploadError("The file has only a header row and no effects: expected one effect per row.")
    return Table(dict(zip(header, columns)), np.asarray(lines, dtype=np.int64), delimiter)


def _csv_problem(exc: Exception) -> str:
    """The csv module's complaint in a coder's words (its own wording, e.g. "unexpected end of data", reads
    like a crash)."""
    text = str(exc)
    if "end of data" in text:
        return "a double quote is opened and never closed"
    if "new-line character seen in unquoted field" in text:
        return "a line break inside a value that is not in double quotes"
    return text.replace("unexpected", "misplaced")


DELIMITERS = (",", ";", "\t")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?$")


def _name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]


def _sniff(text: str) -> str:
    """The delimiter (comma, semicolon or tab) that splits the header into most fields while the first
    rows agree with it; a comma when nothing splits the header (the column check then says what is missing)."""
    sample = text[:64_000].splitlines(keepends=True)[:50]
    best, score = ",", (-1.0, 0)
    for d in DELIMITERS:
        try:
            rows = [r for r in csv.reader(sample, delimiter=d, skipinitialspace=True) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        body = rows[1:-1] if len(rows) > 2 else rows[1:]  # the sample's last line may be cut
        agree = sum(len(r) == len(rows[0]) for r in body) / len(body) if body else 1.0
        if (agree, len(rows[0])) > score:
            best, score = d, (agree, len(rows[0]))
    return best


def _header(row: list[str], line: int) -> list[str]:
    names = [c.strip().lower() for c in row]
    for i, n in enumerate(names):
        if not n:
            raise UploadError(f"line {line}: column {i + 1} of the header has no name; name every column.")
    if len(names) == 1:
        raise UploadError(f"line {line}: the header has one column ({names[0][:60]!r}); a table of effects needs at least "
                          "yi and vi, separated by commas, semicolons or tabs.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UploadError(f"line {line}: two columns are called {dup[0]!r} (names are compared without case); rename one.")
    return names


MISSING = ("", "na", "n/a", "null", ".")
#: Beyond these the estimators overflow or fail to converge (1e100 made ML loop and DL overflow); rescale instead.
LIMIT_Y, LIMIT_V = 1e12, (1e-24, 1e24)


def numbers(df: Table, col: str) -> np.ndarray:
    """A column as finite floats, or an :class:`UploadError` naming the first bad cell's line and column
    (missing, text, NaN or infinity) and what to do."""
    out = np.empty(len(df))
    comma = df.delimiter != ","
    for i, (line, cell) in enumerate(zip(df.lines, df[col])):
        text = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell).strip()
        if comma and _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        where = f"line {line}, column {col!r}"
        if text.lower() in MISSING:
            raise UploadError(f"{where}: the value is missing; fill it in or remove the row.")
        try:
            x = float(text)
        except ValueError:
            hint = (" (a decimal comma? write 0.5, or save the file with ';' as the delimiter)" if "," in text
                    else " (write it as a plain number, e.g. -0.25 or 1e-3)")
            raise UploadError(f"{where}: {text[:40]!r} is not a number{hint}.") from None
        if not np.isfinite(x):
            raise UploadError(f"{where}: {text[:40]!r} is not a finite number; give the value or remove the row.")
        out[i] = x
    return out


def decimal_commas(df: Table, cols) -> int:
    """How many number cells of ``cols`` :func:`numbers` reads with a decimal comma (for the note)."""
    if df.delimiter == ",":
        return 0
    return sum(bool(_DECIMAL_COMMA.match(str(v).strip())) for c in cols for v in df[c] if v is not None)


def typed(df: Table) -> Table:
    """Columns whose every filled cell is a finite number become float arrays (blank -> NaN); the rest
    stay text. For moderators, which are coded as numbers or as categories by their type."""
    out = {}
    comma = df.delimiter != ","
    for c in df.columns:
        cells = [None if v is None or str(v).strip().lower() in MISSING else str(v).strip() for v in df[c]]
        cells = [v.replace(",", ".") if comma and v is not None and _DECIMAL_COMMA.match(v) else v for v in cells]
        try:
            values = np.array([np.nan if v is None else float(v) for v in cells], dtype=float)
            out[c] = values if np.isfinite(values[~np.isnan(values)]).all() else df[c]
        except ValueError:
            out[c] = df[c]
    return Table(out, df.lines, df.delimiter)


def effects(df: Table, yi: str = "yi", vi: str = "vi") -> tuple[np.ndarray, np.ndarray]:
    """The effect sizes and variances of a table read by :func:`read_table`, checked for what every
    engine needs: numbers, positive variances within range, at least two effects."""
    for c in (yi, vi):
        if c not in df.columns:
            raise UploadError(f"no column {c!r} (the columns are {', '.join(map(str, df.columns))}).")
    return check_effects(numbers(df, yi), numbers(df, vi), df.lines, vi)


def check_effects(y: np.ndarray, v: np.ndarray, lines, vi: str = "vi") -> tuple[np.ndarray, np.ndarray]:
    """Refuse (with the line) what no estimator can use: a non-finite value, a variance <= 0, values so
    large or small that the weights overflow; and fewer than two effects."""
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    lines = list(lines)
    for mask, what in ((~np.isfinite(y) | ~np.isfinite(v), "the effect size could not be computed (a missing or invalid count?)"),
                       (v <= 0, f"the sampling variance ({vi}) must be positive"),
                       (np.abs(y) > LIMIT_Y, f"|effect size| above {LIMIT_Y:g} cannot be pooled; rescale the effects"),
                       ((v < LIMIT_V[0]) | (v > LIMIT_V[1]),
                        f"variances outside [{LIMIT_V[0]:g}, {LIMIT_V[1]:g}] overflow the weights; rescale the effects")):
        bad = np.flatnonzero(mask)
        if len(bad):
            shown = ", ".join(str(lines[i]) for i in bad[:5]) + (f" (and {len(bad) - 5} more)" if len(bad) > 5 else "")
            raise UploadError(f"line{'s' if len(bad) > 1 else ''} {shown}: {what}.")
    if len(y) < 2:
        raise UploadError("only one effect size: a meta-analysis needs at least two (the pooled estimate of one "
                          "effect is the effect itself).")
    return y, v


def parse_csv(data: bytes, measure: str | None = None, mapping: dict[str, str] | None = None, name: str = "upload") -> Dataset:
    """Parse an uploaded CSV into effect sizes. ``measure`` is needed only for raw columns."""
    return parse_table(read_table(data), measure=measure, mapping=mapping, name=name)


def parse_table(df: Table, measure: str | None = None, mapping: dict[str, str] | None = None,
                name: str = "upload") -> Dataset:
    """Effect sizes from a table already read by :func:`read_table` (so a page reads the bytes once).
    The :class:`Dataset`'s table is a DataFrame: the app shows and downloads it."""
    if mapping:
        df = df.rename({k.lower(): v for k, v in mapping.items()})
    cols = set(df.columns)
    note = ""
    if measure:
        measure = measure.upper()
        if measure not in UPLOAD_MEASURES:
            raise UploadError(f"Unknown measure {measure}; choose one of {', '.join(UPLOAD_MEASURES)}.")
        if measure not in compatible_measures(cols):
            need = ", ".join(r.replace("|", " or ") for r in MEASURES[measure])
            raise UploadError(f"Measure {measure} needs the columns {need}; the file has {', '.join(sorted(cols))}.")
        args = sorted({a for req in MEASURES[measure] for a in req.split("|") if a in cols})
        try:
            yi, vi = escalc(measure, **{a: numbers(df, a) for a in args})
        except EffectSizeError as exc:  # escalc names 0-based rows: say the file's line
            lines = df.lines
            msg = re.sub(r"row (\d+) \(0-based\) has (\w+)=", lambda m: f"line {lines[int(m[1])]}, column {m[2]!r}: ", str(exc))
            raise UploadError(f"The effect sizes could not be computed: {msg}") from None
        note = f"Effect sizes computed from the raw columns ({', '.join(args)}) as {measure} (metafor conventions)."
    elif {"yi", "vi"} <= cols or {"yi", "sei"} <= cols:
        yi = numbers(df, "yi")
        if "vi" in cols:
            vi, note = numbers(df, "vi"), "Effect sizes and variances as given in the file."
        else:
            sei = numbers(df, "sei")
            if (sei <= 0).any():
                rows = df.lines[sei <= 0].tolist()[:5]
                raise UploadError(f"Standard errors (sei) must be positive (CSV line{'s' if len(rows) > 1 else ''} "
                                  f"{', '.join(map(str, rows))}).")
            vi, note = sei ** 2, "Variances are the squared standard errors (sei)."
    else:
        options = compatible_measures(cols)
        hint = f" The raw columns fit the measures {', '.join(options)}: choose one." if options else ""
        raise UploadError("The file needs columns yi and vi (or yi and sei), or raw columns with metafor's names "
                          f"(e.g. ai, bi, ci, di; m1i, sd1i, n1i, m2i, sd2i, n2i; xi, ni; ri, ni); it has "
                          f"{', '.join(map(str, df.columns))[:200]}.{hint}")
    yi, vi = check_effects(yi, vi, df.lines, "vi" if "vi" in cols or measure else "sei")
    commas = decimal_commas(df, args if measure else ["yi", "vi" if "vi" in cols else "sei"])
    if commas:
        note += f" Decimal commas read as decimal points ({commas} cell{'s' if commas != 1 else ''})."
    label_col = next((c for c in LABEL_COLUMNS if c in cols), None)
    if label_col:
        years = df["year"] if "year" in cols else [None] * len(df)
        names = ["?" if v is None else v for v in df[label_col]]
        labels = [_safe_label(v if y is None else f"{v} ({y})") for v, y in zip(names, years)]
    else:
        labels = [f"line {line}" for line in df.lines]
    if len(set(labels)) != len(labels):
        labels = [f"{lab} [{i + 1}]" for i, lab in enumerate(labels)]
    table = df.to_frame().assign(yi=yi, vi=vi)
    for c in table.columns:
        if c not in ("yi", "vi"):  # text cells (pandas 3 reads them as ``str``, not ``object``)
            safe = _safe_label if c == label_col else _safe_cell
            table[c] = table[c].map(lambda v, safe=safe: safe(v) if isinstance(v, str) else v)
    return Dataset(name, labels, yi, vi, measure, table, note)


def load_example(title: str) -> Dataset:
    """One of the shipped example data sets (see ``evidence/data/examples/README.md``)."""
    spec = EXAMPLES[title]
    data = (resources.files("evidence") / "data" / "examples" / spec["file"]).read_bytes()
    ds = parse_csv(data, measure=spec["measure"], mapping=spec["mapping"], name=spec["file"])
    ds.note = spec["note"] + " " + ds.note
    return ds
