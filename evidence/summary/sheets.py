"""The evidence summary as an Excel workbook a programme designer can read and an analyst can reuse.

The first sheet is the summary of findings (one row per outcome, the numbers as numbers with a number
format suited to the metric, so nothing is truncated); then the pooled result, the effects (metafor's
``yi``/``vi`` kept, every other heading in words with its unit, taxonomy labels instead of machine
keys), risk of bias, references, certainty footnotes, the question and the provenance. Every sheet has
a frozen, bold header row, wrapped text and set column widths. The CSV keeps the machine keys.
"""

from __future__ import annotations

import io
import math

import pandas as pd

from evidence import synthesis
from evidence.summary.content import EvidenceSummary
from evidence.summary.document import provenance_rows
from evidence.summary.render import effects_table, result_rows
from evidence.summary.sof import LEGEND, sof_table
from evidence.synthesis.metrics import metric_unit
from evidence.taxonomy import taxonomy

#: The pooled result's quantities in words (the CSV's ``# key: value`` lines keep the keys).
RESULT_LABELS = {
    "intervention": "Intervention", "outcome": "Outcome", "metric": "Metric", "studies": "Studies",
    "effects": "Effects", "pooled": "Pooled", "k_pooled": "Studies pooled", "model": "Model",
    "tau_prior": "Prior on tau", "mu_mean": "Pooled effect (posterior mean)", "mu_sd": "Posterior SD of the pooled effect",
    "mu_q025": "Pooled effect, 95% CrI lower", "mu_q50": "Pooled effect (posterior median)",
    "mu_q975": "Pooled effect, 95% CrI upper", "p_mu_below_0": "Probability the pooled effect is below 0",
    "tau_q025": "Heterogeneity tau, 95% CrI lower", "tau_q50": "Heterogeneity tau (median)",
    "tau_q975": "Heterogeneity tau, 95% CrI upper", "theta_new_q025": "New programme, 95% prediction interval lower",
    "theta_new_q50": "New programme (median)", "theta_new_q975": "New programme, 95% prediction interval upper",
    "i2_percent": "I² (%)", "certainty": "Certainty of the evidence", "certainty_drafted": "Certainty drafted by the rules",
    "result_hash": "Result hash", "catalog_version": "Catalogue version", "generated": "Generated",
}
#: Quantities in the metric's unit (number format of the metric); the rest are counts or probabilities.
IN_UNIT = {"mu_mean", "mu_sd", "mu_q025", "mu_q50", "mu_q975", "tau_q025", "tau_q50", "tau_q975",
           "theta_new_q025", "theta_new_q50", "theta_new_q975"}
#: Columns of whole numbers.
COUNTS = {"Studies", "Effects", "Studies pooled", "Year"}
FORMATS = {"p_mu_below_0": "0.000", "i2_percent": "0.0", "k_pooled": "0", "studies": "0", "effects": "0"}


def number_format(metric: str | None) -> str:
    """Excel's format with the app's decimals for ``metric`` (``synthesis.fmt``: one place decides)."""
    shown = synthesis.fmt(1.0, metric)
    return "0." + "0" * len(shown.split(".")[1]) if "." in shown else "0"


def sof_frame(summary: EvidenceSummary) -> tuple[pd.DataFrame, list[str]]:
    rows, notes = sof_table(summary.cards)
    out = []
    for card, row in zip(summary.cards, rows):
        p, unit = card.pooled, metric_unit(card.metric, card.unit)
        out.append({
            "Outcome": card.outcome_label, "Unit": unit or "as reported",
            "Pooled effect (posterior mean)": p.mean if p else None,
            "95% CrI lower": p.q025 if p else None, "95% CrI upper": p.q975 if p else None,
            "95% prediction interval lower": p.pi_low if p else None,
            "95% prediction interval upper": p.pi_high if p else None,
            "Absolute effect per 100 children": card.absolute.text if card.absolute else "",
            "Studies": card.n_studies, "Effects": card.n_effects, "Studies pooled": p.k if p else 0,
            "Certainty of the evidence": row.certainty, "What happens": row.what_happens,
        })
    return pd.DataFrame(out), [f"[{letter}] {text}" for letter, text in notes]


def effects_sheet(summary: EvidenceSummary) -> pd.DataFrame:
    """The effects with taxonomy labels and headings in words (units in the headings)."""
    t = taxonomy()
    df = effects_table(summary)
    unit = metric_unit(summary.metric, "analysis metric")
    yes = {True: "yes", False: "no"}
    df["intervention"] = df["intervention"].map(lambda k: t.interventions.get(k, {}).get("label", k))
    df["outcome"] = df["outcome"].map(lambda k: t.outcomes.get(k, {}).get("label", k))
    df["design"] = df["design"].map(lambda k: t.designs.get(k, {}).get("label", k))
    df["measure"] = df["measure"].map(lambda k: t.measures.get(k, k) if isinstance(k, str) else k)
    for col in ("variance_imputed", "secondary", "primary", "pooled"):
        df[col] = df[col].map(lambda v: yes.get(bool(v)) if pd.notna(v) else "")
    return df.rename(columns={
        "study_id": "Study ID", "effect_id": "Effect ID", "citation": "Study", "intervention": "Intervention",
        "outcome": "Outcome", "subgroup": "Subgroup", "measure": "Effect measure", "yi": f"Effect yi ({unit})",
        "vi": f"Sampling variance vi ({unit} squared)", "variance_imputed": "Variance imputed",
        "secondary": "From a review's table", "risk_of_bias": "Risk of bias",
        "quality_rating": "Evidence quality (CLEAR rating)", "design": "Design",
        "countries": "Countries", "year": "Year", "primary": "Primary effect", "pooled": "Pooled",
        "source": "Source (URL)", "location": "Location in the source", "quote": "Quote"})


def to_xlsx(summary: EvidenceSummary) -> bytes:
    sof, notes = sof_frame(summary)
    t = taxonomy()
    words = {"intervention": summary.intervention_label, "outcome": summary.outcome_label,
             "metric": t.metrics.get(summary.metric or "", {}).get("label", summary.metric or "as reported")}
    result = pd.DataFrame([(RESULT_LABELS.get(k, k.replace("version_", "Package: ")), words.get(k, v))
                           for k, v in result_rows(summary)], columns=["Quantity", "Value"])
    certainty = summary.certainty.footnotes() if summary.certainty else [summary.insufficient_reason or ""]
    sheets = {
        "Summary of findings": sof,
        "Result": result,
        "Effects": effects_sheet(summary),
        "Risk of bias": summary.rob_table,
        "References": pd.DataFrame({"Reference": [r["text"] for r in summary.references]}),
        "Certainty": pd.DataFrame({"Certainty of the evidence: footnotes": [*certainty, *notes]}),
        "Question": pd.DataFrame(summary.question, columns=["Question", "In this summary"]),
        "Provenance": pd.DataFrame(provenance_rows(summary), columns=["Item", "Value"]),
    }
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        for name, df in sheets.items():
            df.to_excel(xl, sheet_name=name, index=False)
        _style(xl.book, summary, notes)
    return buf.getvalue()


def _shown(value) -> str:
    """About what a cell shows: a number in its format, not its 16 stored digits."""
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _style(book, summary: EvidenceSummary, notes: list[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    metric_fmt = number_format(summary.metric)
    keys = [k for k, _ in result_rows(summary)]
    for ws in book.worksheets:
        ws.freeze_panes = "B2" if ws.title in ("Summary of findings", "Effects") else "A2"
        # printed (or converted to PDF) landscape, as wide as one page, the header row on every page
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.print_title_rows = "1:1"
        for cell in ws[1]:
            cell.font = Font(name="Calibri", bold=True)
            cell.fill = PatternFill("solid", fgColor="D9E2EC")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for j, col in enumerate(ws.iter_cols(min_row=1), 1):
            body = max((len(_shown(c.value)) for c in col[1:] if c.value is not None), default=0)
            header_words = max((len(w) for w in str(col[0].value).split()), default=8)  # headers wrap
            ws.column_dimensions[get_column_letter(j)].width = min(max(12, header_words + 2, body + 2), 60)
            header = str(col[0].value)
            fmt = "0.0000" if header.startswith("Sampling variance") else ("0" if header in COUNTS else metric_fmt)
            for c in col[1:]:
                c.alignment = Alignment(wrap_text=True, vertical="top")
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    c.number_format = fmt
    book["Effects"].column_dimensions[get_column_letter(book["Effects"].max_column)].width = 80
    for ws in book.worksheets:  # openpyxl does not size rows: as many lines as the longest wrapped cell needs
        widths = [ws.column_dimensions[get_column_letter(j)].width or 10 for j in range(1, ws.max_column + 1)]
        for r, row in enumerate(ws.iter_rows(), 1):
            lines = max((math.ceil(len(_shown(c.value)) / max(w - 1, 1)) for c, w in zip(row, widths) if c.value is not None),
                        default=1)
            ws.row_dimensions[r].height = 13 * max(1, min(lines + (r == 1), 30)) + 2  # headers wrap by words
    sof = book["Summary of findings"]
    width = sum(sof.column_dimensions[get_column_letter(j)].width for j in range(1, sof.max_column + 1))
    last = sof.max_column
    for i, text in enumerate([*notes, LEGEND], sof.max_row + 2):  # footnotes under the table, as on paper
        sof.cell(row=i, column=1, value=text).alignment = Alignment(wrap_text=True, vertical="top")
        sof.merge_cells(start_row=i, start_column=1, end_row=i, end_column=last)
        sof.row_dimensions[i].height = 13 * math.ceil(len(text) / width) + 2
    for row, card in zip(sof.iter_rows(min_row=2, min_col=3, max_col=7), summary.cards):
        for c in row:
            c.number_format = number_format(card.metric)
    for row, key in zip(book["Result"].iter_rows(min_row=2, min_col=2, max_col=2), keys):
        c = row[0]
        if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
            c.number_format = metric_fmt if key in IN_UNIT else FORMATS.get(key, "0.000")
