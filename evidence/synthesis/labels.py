"""Readers' words for every table the explorer shows: one rule for headers and cells.

Readers of a table are ministries and funders, not the catalogue's code: a header says what the
column is and in which unit ("Pooled effect (percentage points)", "Standard error", "Studies"), a
cell says a term's taxonomy label ("Conditional cash transfer", not ``conditional_cash_transfer``),
a flag says "yes" or "no" (not ``True``), and a missing value shows as :data:`MISSING` (the pages
pass it as ``st.dataframe(placeholder=...)``), never as "None" or "nan". Numbers stay numbers, so a
column still sorts as numbers.

The rule lives here, not in the pages, so the Studies, Where, What works, gap-map and own-data
tables (and the "Table of this chart" under every chart) word the same column the same way.
Pure functions on data frames; no Streamlit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache

import pandas as pd

from evidence.taxonomy import taxonomy

#: What a table shows for a missing value (``st.dataframe(placeholder=MISSING)``; text cells get it directly).
MISSING = "—"

#: Headers of the columns the catalogue, the synthesis and the chart tables use. ``{unit}`` is the
#: table's unit (the metric's label, e.g. "percentage points"); without one, the brackets are dropped.
COLUMN_LABELS = {
    # taxonomy terms and cells
    "family": "Family", "family_label": "Family", "intervention": "Intervention", "intervention_label": "Intervention",
    "outcome": "Outcome", "outcome_label": "Outcome", "outcome_group": "Outcome group", "outcome_group_label": "Outcome group",
    "design": "Design", "designs": "Designs", "metric": "Metric", "metric_label": "Metric", "unit": "Reported unit",
    "n_studies": "Studies", "n_effects": "Effects", "n_pooled": "Studies pooled", "k": "Studies",
    "mean": "Pooled effect ({unit})", "q025": "Lower 95% limit ({unit})", "q975": "Upper 95% limit ({unit})",
    "2.5%": "Lower 95% limit ({unit})", "97.5%": "Upper 95% limit ({unit})", "tau": "Between-study SD, tau ({unit})",
    "category": "Direction", "any_harm": "Harm coded", "certainty": "Certainty",
    # studies and effects
    "citation": "Study", "study": "Study", "study_id": "Study ID", "label": "Study", "left out": "Study left out",
    "effect": "Effect", "effect_id": "Effect", "subgroup_label": "Subgroup", "reason": "Reason",
    "estimate": "Estimate ({unit})", "se": "Standard error ({unit})", "p": "p-value",
    "risk_of_bias": "Risk of bias", "coding_status": "Coding status", "primary": "Primary effect",
    # forest plot, posterior plot, harvest plot, funnel plot
    "row": "Row", "kind": "What the row shows", "lower": "Lower 95% limit ({unit})", "upper": "Upper 95% limit ({unit})",
    "weight": "Weight (%)", "x": "Effect ({unit})", "density": "Density (per unit of effect)", "curve": "Curve",
    "direction": "Direction", "leaning": "Leaning", "evidence": "Evidence", "numbers": "Numbers",
    "height": "Bar height (3 = low risk of bias)",
    # effect per US$100
    "usd_per_year": "Transfer (US$ a year)", "per_100_usd": "Effect per US$100 a year ({unit})",
    "se_per_100_usd": "Standard error per US$100 a year ({unit})",
    # where
    "country": "Country", "iso3": "ISO3 code", "region": "Region", "studies": "Studies", "countries": "Countries",
    "interventions": "Interventions evaluated",
    # a user's own table: metafor's column names, kept in brackets so the reader finds their columns
    "yi": "Effect size, yi ({unit})", "vi": "Sampling variance, vi", "sei": "Standard error, sei ({unit})",
    "ai": "Events, treated (ai)", "bi": "Non-events, treated (bi)", "ci": "Events, control (ci)", "di": "Non-events, control (di)",
    "n1i": "Size, group 1 (n1i)", "n2i": "Size, group 2 (n2i)", "m1i": "Mean, group 1 (m1i)", "m2i": "Mean, group 2 (m2i)",
    "sd1i": "SD, group 1 (sd1i)", "sd2i": "SD, group 2 (sd2i)", "xi": "Events (xi)", "ni": "Sample size (ni)",
    "ri": "Correlation (ri)", "line": "Line in the file",
    # method
    "package": "Package", "version": "Version", "p-value": "p-value", "default prior": "Default prior on tau (in the metric's units)",
}

#: Labels of a study record's fields (the Studies page's record tables), where the key alone says too little.
FIELD_LABELS = {
    "id": "Arm", "arm_id": "Arm", "type": "Type", "label": "Name in the study", "name": "Name", "value": "Transfer value",
    "usd_per_year": "US$ a year", "start_year": "Start year", "end_year": "End year",
    "age_min": "Youngest age (years)", "age_max": "Oldest age (years)", "follow_up_months": "Follow-up (months)",
    "n_treatment": "Sample, treatment group", "n_control": "Sample, control group", "n_clusters": "Clusters",
    "icc": "Intra-cluster correlation", "sex": "Sex", "randomised": "Randomised",
}

_SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


def is_machine_key(text: str) -> bool:
    """A snake_case key (``percentage_points``, ``family_label``): what a reader must never have to read."""
    return bool(_SNAKE.match(text))


def header(key, unit: str | None = None, headers: Mapping[str, str] | None = None) -> str:
    """A column's header in words, with ``unit`` where the column has one (``{unit}`` in its label).
    A key with no label reads as words ("start_year" -> "Start year"); a header already in words stays."""
    text = str(key)
    label = (headers or {}).get(text) or COLUMN_LABELS.get(text)
    if label is None:  # a key of no table's vocabulary (a user's own column): its words, capitalised
        text = text.replace("_", " ").capitalize() if is_machine_key(text) else text
        return text[:1].upper() + text[1:]
    return label.format(unit=unit) if unit else label.replace(" ({unit})", "").replace("{unit}", "")


#: Columns (and record fields) whose values are terms of one taxonomy section.
TERM_COLUMNS = {"intervention": "interventions", "interventions": "interventions", "outcome": "outcomes",
                "outcomes": "outcomes", "design": "designs", "metric": "metrics", "unit": "metrics",
                "family": "families", "outcome_group": "outcome_groups"}


@lru_cache(maxsize=1)
def _term_labels() -> dict[str, dict[str, str]]:
    """Taxonomy section -> key -> label, and under ``""`` every snake_case key of any section (such a key
    cannot be free text, so it is labelled in any column; earlier sections win where a key repeats)."""
    t = taxonomy()
    out: dict[str, dict[str, str]] = {"": {}}
    for name in ("interventions", "outcomes", "designs", "metrics", "families", "outcome_groups"):
        out[name] = {k: str(v["label"]) for k, v in getattr(t, name).items() if isinstance(v, dict) and v.get("label")}
        for key, label in out[name].items():
            if is_machine_key(key):
                out[""].setdefault(key, label)
    return out


def is_missing(value) -> bool:
    """None, NaN, NA or NaT: a cell with nothing in it."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def cell_text(value, kind: str | None = None):
    """A cell in words: a taxonomy key as its label (of section ``kind`` where the column says which,
    see :data:`TERM_COLUMNS`), any other snake_case key as words ("some_concerns" -> "some concerns"),
    a flag as yes/no, a list joined, a mapping as "field: value" pairs, a missing value as
    :data:`MISSING`; numbers and free text unchanged."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, str):
        text = value.strip()
        if text in ("None", "nan", "NaN", "<NA>", "NaT"):
            return MISSING
        terms = _term_labels()
        label = terms.get(kind or "", {}).get(text) or terms[""].get(text)
        return label or (text.replace("_", " ") if is_machine_key(text) else value)
    if isinstance(value, Mapping):
        return "; ".join(f"{field_label(k)}: {cell_text(v, TERM_COLUMNS.get(str(k)))}"
                         for k, v in value.items() if not is_missing(v))
    if isinstance(value, (list, tuple)):
        return "; ".join(str(cell_text(v, kind)) for v in value if not is_missing(v)) or MISSING
    return value


def field_label(key) -> str:
    """A record field's label (:data:`FIELD_LABELS`, else its words capitalised)."""
    text = str(key)
    return FIELD_LABELS.get(text) or text.replace("_", " ").capitalize()


def record_rows(record: Mapping) -> list[dict[str, str]]:
    """A study record's filled fields as two columns, "Field" and "Value", both in words (the Studies
    page's programme, arm, design and risk-of-bias tables)."""
    rows = []
    for key, value in record.items():
        if key in ("seq", "study_id") or is_missing(value) or value in ("", [], {}):
            continue
        rows.append({"Field": field_label(key), "Value": str(cell_text(value, TERM_COLUMNS.get(str(key))))})
    return rows


def _cell(value, kind: str | None):
    """A table cell in words; a missing one stays missing, so the table's placeholder draws it (and a
    link column gets no link to a dash)."""
    text = cell_text(value, kind)
    return None if text == MISSING else text


def readable(table: pd.DataFrame, unit: str | None = None, headers: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``table`` as readers see it: every header in words with ``unit`` (``headers`` overrides
    :data:`COLUMN_LABELS` for this one table), every text or flag cell through :func:`cell_text`.
    Numeric columns stay numeric; a missing cell stays missing, drawn as the dataframe's placeholder
    (``st.dataframe(..., placeholder=MISSING)``);
    a named index (e.g. "line" of an uploaded file) is labelled like a column."""
    out = table.copy()
    for col in out.columns:
        s = out[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):  # text, flags, categories
            filled = s.dropna()
            if len(filled) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in filled):
                out[col] = pd.to_numeric(s)  # numbers in an object column (a None among them) sort as numbers
            else:
                out[col] = s.astype(object).map(lambda v, k=TERM_COLUMNS.get(str(col)): _cell(v, k))
    out.columns = [header(c, unit, headers) for c in out.columns]
    if out.index.name is not None:
        out.index = out.index.rename(header(out.index.name, unit, headers))
    return out
