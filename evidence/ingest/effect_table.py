"""Reading a user's CSV of effect sizes, safely.

The file is parsed as text by pandas and nothing else: never executed, never unpickled, never
evaluated (no Excel, no formulas). Limits: 5 MB, 5,000 rows. Accepted layouts:

- ``yi`` and ``vi`` (effect sizes and sampling variances), or ``yi`` and ``sei`` (standard errors);
- raw columns with metafor's names, turned into ``yi``/``vi`` by :func:`evidence.effectsize.escalc`
  for a chosen measure: 2x2 tables (ai, bi, ci, di or n1i, n2i) -> RR, OR, RD; means and SDs (m1i, m2i,
  sd1i, sd2i, n1i, n2i) -> SMD, MD; a proportion (xi, ni) -> PR, PLO; a correlation (ri, ni) -> ZCOR.

An optional ``study`` (or label, author, trial, name) column labels the rows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from evidence.effectsize import MEASURES, escalc
from evidence.errors import EffectSizeError, EvidenceError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
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


def read_table(data: bytes) -> pd.DataFrame:
    """Bytes -> DataFrame of text cells with lower-case column names (size, encoding and shape checked)."""
    if len(data) > MAX_BYTES:
        raise UploadError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB.")
    if not data.strip():
        raise UploadError("The file is empty.")
    if b"\x00" in data[:4096]:
        raise UploadError("This is not a text CSV file (it contains binary data). Save it as CSV (comma-separated) first.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        df = pd.read_csv(io.StringIO(text), sep=None, engine="python", dtype=str, nrows=MAX_ROWS + 1,
                         skipinitialspace=True, on_bad_lines="error")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, TypeError) as exc:
        raise UploadError(f"The file could not be read as CSV: {str(exc)[:200]}") from None
    if len(df) > MAX_ROWS:
        raise UploadError(f"The file has more than {MAX_ROWS} rows.")
    df.columns = [str(c).strip().lower() for c in df.columns]
    if len(set(df.columns)) != len(df.columns):
        raise UploadError("Two columns have the same name (names are compared without case).")
    return df.dropna(how="all").reset_index(drop=True)


def _numeric(df: pd.DataFrame, cols) -> pd.DataFrame:
    out = {}
    for c in cols:
        values = pd.to_numeric(df[c].astype(str).str.strip().replace({"": None, "NA": None, "nan": None}), errors="coerce")
        bad = values.isna() & df[c].notna() & ~df[c].astype(str).str.strip().isin(["", "NA", "nan"])
        if bad.any():
            rows = (np.flatnonzero(bad.to_numpy()) + 2).tolist()[:5]
            raise UploadError(f"Column '{c}' has values that are not numbers (CSV line{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}).")
        out[c] = values
    return pd.DataFrame(out, index=df.index)


def parse_csv(data: bytes, measure: str | None = None, mapping: dict[str, str] | None = None, name: str = "upload") -> Dataset:
    """Parse an uploaded CSV into effect sizes. ``measure`` is needed only for raw columns."""
    return parse_table(read_table(data), measure=measure, mapping=mapping, name=name)


def parse_table(df: pd.DataFrame, measure: str | None = None, mapping: dict[str, str] | None = None,
                name: str = "upload") -> Dataset:
    """Effect sizes from a table already read by :func:`read_table` (so a page reads the bytes once)."""
    if mapping:
        df = df.rename(columns={k.lower(): v for k, v in mapping.items()})
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
        num = _numeric(df, args)
        try:
            yi, vi = escalc(measure, **{a: num[a].to_numpy() for a in args})
        except EffectSizeError as exc:
            raise UploadError(f"The effect sizes could not be computed: {exc}") from None
        note = f"Effect sizes computed from the raw columns ({', '.join(args)}) as {measure} (metafor conventions)."
    elif {"yi", "vi"} <= cols or {"yi", "sei"} <= cols:
        num = _numeric(df, ["yi", "vi" if "vi" in cols else "sei"])
        yi = num["yi"].to_numpy()
        if "vi" not in cols:
            sei = num["sei"].to_numpy(dtype=float)
            if (sei <= 0).any():
                rows = (np.flatnonzero(sei <= 0) + 2).tolist()[:5]
                raise UploadError(f"Standard errors (sei) must be positive (CSV line{'s' if len(rows) > 1 else ''} "
                                  f"{', '.join(map(str, rows))}).")
        vi = num["vi"].to_numpy() if "vi" in cols else sei ** 2
        note = "Effect sizes and variances as given in the file." if "vi" in cols else "Variances are the squared standard errors (sei)."
    else:
        options = compatible_measures(cols)
        hint = f" The raw columns fit the measures {', '.join(options)}: choose one." if options else ""
        raise UploadError("The file needs columns yi and vi (or yi and sei), or raw columns with metafor's names "
                          f"(e.g. ai, bi, ci, di; m1i, sd1i, n1i, m2i, sd2i, n2i; xi, ni; ri, ni).{hint}")
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    bad = ~np.isfinite(yi) | ~np.isfinite(vi)
    if bad.any():
        rows = (np.flatnonzero(bad) + 2).tolist()[:5]
        raise UploadError(f"Missing or non-computable effect sizes on CSV line(s) {', '.join(map(str, rows))}; fill or remove them.")
    if (vi <= 0).any():
        rows = (np.flatnonzero(vi <= 0) + 2).tolist()[:5]
        raise UploadError(f"Sampling variances must be positive (CSV line(s) {', '.join(map(str, rows))}).")
    if len(yi) < 2:
        raise UploadError("At least two effect sizes are needed for a meta-analysis.")
    label_col = next((c for c in LABEL_COLUMNS if c in cols), None)
    if label_col:
        year = df["year"].astype(str) if "year" in cols else None
        labels = [_safe_label(v if year is None else f"{v} ({y})") for v, y in zip(df[label_col].fillna("?"), year if year is not None else df[label_col])]
    else:
        labels = [f"row {i + 1}" for i in range(len(yi))]
    if len(set(labels)) != len(labels):
        labels = [f"{lab} [{i + 1}]" for i, lab in enumerate(labels)]
    table = df.assign(yi=yi, vi=vi)
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
