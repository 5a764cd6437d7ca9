"""Lay an :class:`EvidenceSummary` out as Markdown, HTML, Word, PDF, Excel or CSV.

Every format carries the same content: the GRADE summary-of-findings table (``evidence.summary.sof``)
with its lettered footnotes, the plain-language text, sub-groups, harms, the figures (Altair specs
rendered offline with vl-convert: forest plot and posterior, or the harvest plot when nothing pools),
references, the risk-of-bias table, methods, caveats and the versions. This module holds the pieces
every format shares, Markdown, HTML and CSV; the meeting documents (PDF, Word) are laid out in
``evidence.summary.document`` and the workbook in ``evidence.summary.sheets``. Nothing here computes a
number; it only formats what ``build_summary`` gathered.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from evidence.errors import ExportError
from evidence.summary.content import EvidenceSummary
from evidence.summary.sof import COLUMNS, LEGEND, sof_table

FORMATS = ("md", "html", "docx", "pdf", "xlsx", "csv")

#: metafor-ready columns of the effects sheet / CSV.
EFFECT_COLUMNS = [
    "study_id", "effect_id", "citation", "intervention", "outcome", "subgroup", "measure", "yi", "vi",
    "variance_imputed", "secondary", "risk_of_bias", "quality_rating", "design", "countries", "year", "primary", "pooled",
    "source", "location", "quote",
]


def render(summary: EvidenceSummary, fmt: str) -> bytes:
    """The summary as the bytes of a file in ``fmt``."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    from evidence.summary import document, sheets

    return {"md": to_markdown, "html": to_html, "docx": document.to_docx, "pdf": document.to_pdf,
            "xlsx": sheets.to_xlsx, "csv": to_csv}[fmt](summary)


def write(summary: EvidenceSummary, fmt: str, path: Path) -> Path:
    path = Path(path)
    path.write_bytes(render(summary, fmt))
    return path


# -- shared pieces -----------------------------------------------------------------------------

def figures(summary: EvidenceSummary) -> dict[str, bytes]:
    """PNG bytes of the synthesis' figures, from the same Altair specs as the app: the forest plot and the
    posterior when the cell pools, else the harvest plot (the SWiM synthesis) with each bar named."""
    import vl_convert as vlc

    from evidence.synthesis.charts import forest_chart, harvest_chart, posterior_chart

    if summary.result is None:
        if summary.harvest is None or summary.harvest.empty:
            return {}
        return {HARVEST: vlc.vegalite_to_png(_labelled(harvest_chart(summary.harvest)).to_dict(), scale=2)}
    unit = summary.unit_label
    charts = {"Forest plot": forest_chart(summary.result, unit), "Posterior of the pooled effect": posterior_chart(summary.result, unit)}
    # The app's charts fill their container; a document needs a fixed width.
    return {name: vlc.vegalite_to_png(chart.properties(width=520).to_dict(), scale=2) for name, chart in charts.items()}


HARVEST = "Harvest plot: what each study reports"


def _labelled(chart):
    """The app's harvest plot for paper: larger type, the legend on top (bars are named by study in both)."""
    import altair as alt

    from evidence.synthesis.charts import HARVEST_BAR_LABEL

    chart.encoding.x = alt.X("effect:N", title=None, sort=None, axis=alt.Axis(
        labelAngle=-60, labelLimit=400, labelFontSize=15, ticks=False, labelExpr=HARVEST_BAR_LABEL))
    chart.encoding.y.axis = alt.Axis(title=["Risk of bias", "(3 = low, 2 = moderate,", "1 = high or unclear)"],
                                     titleFontSize=14, labelFontSize=14, tickCount=3)
    return (chart.properties(width=alt.Step(22), height=170).resolve_scale(x="independent")
            .configure_header(labelFontSize=17).configure_legend(labelFontSize=14, titleFontSize=14, orient="top"))


#: What a figure shows, printed under it (the app's caption for the same chart).
CAPTIONS = {HARVEST: "Each bar is one effect, named by its study and placed by the direction the study reports (with or "
                     "without a number), the direction the vote count counts; taller bars = lower risk of bias; colour = design; "
                     "solid = statistically clear, pale = not statistically clear, significance not "
                     "stated, or no change/mixed as reported."}


def effects_table(summary: EvidenceSummary) -> pd.DataFrame:
    df = summary.effects.copy()
    pooled_ids = set(zip(summary.pooled["study_id"], summary.pooled["effect_id"])) if len(summary.pooled) else set()
    df["pooled"] = [(s, e) in pooled_ids for s, e in zip(df["study_id"], df["effect_id"])]
    df["subgroup"] = [_subgroup(r) for r in df.itertuples()]
    df["source"] = df.get("source_url")
    return df.reindex(columns=EFFECT_COLUMNS)


def _subgroup(r) -> str:
    parts = []
    if getattr(r, "subgroup_sex", None) and r.subgroup_sex != "all":
        parts.append(r.subgroup_sex)
    lo, hi = getattr(r, "subgroup_age_min", None), getattr(r, "subgroup_age_max", None)
    if pd.notna(lo) or pd.notna(hi):
        parts.append(f"ages {'' if pd.isna(lo) else int(lo)}-{'' if pd.isna(hi) else int(hi)}")
    if getattr(r, "subgroup_label", None) and pd.notna(r.subgroup_label):
        parts.append(str(r.subgroup_label))
    return ", ".join(parts) or "all"


def result_rows(summary: EvidenceSummary) -> list[tuple[str, object]]:
    """The result numbers, unformatted, for the spreadsheet and CSV."""
    rows: list[tuple[str, object]] = [
        ("intervention", summary.intervention), ("outcome", summary.outcome), ("metric", summary.metric),
        ("studies", summary.effects["study_id"].nunique() if len(summary.effects) else 0),
        ("effects", len(summary.effects)),
    ]
    r = summary.result
    if r is None:
        rows.append(("pooled", f"not pooled: {summary.insufficient_reason}"))
    else:
        rows += [
            ("k_pooled", r.k), ("model", r.model), ("tau_prior", r.spec.get("tau_prior")),
            ("mu_mean", r.mu.mean), ("mu_sd", r.mu.sd), ("mu_q025", r.mu.q025), ("mu_q50", r.mu.q50),
            ("mu_q975", r.mu.q975), ("p_mu_below_0", r.p_below_0),
            ("tau_q025", r.tau.q025), ("tau_q50", r.tau.q50), ("tau_q975", r.tau.q975),
            ("theta_new_q025", r.theta_new.q025), ("theta_new_q50", r.theta_new.q50),
            ("theta_new_q975", r.theta_new.q975), ("i2_percent", r.i2),
            ("certainty", summary.certainty.rating), ("certainty_drafted", summary.certainty.drafted),
            ("result_hash", r.hash),
        ]
    rows += [("catalog_version", summary.catalog_version), ("generated", summary.generated.isoformat())]
    rows += [(f"version_{k}", v) for k, v in summary.versions.items()]
    return rows


def _sections(summary: EvidenceSummary) -> list[tuple[str, list[str]]]:
    """Text sections shared by all document formats (heading, paragraphs)."""
    sections = [("What the evidence says", summary.plain_language)]
    if summary.subgroups:
        sections.append(("Girls, boys and age groups", [
            f"{g['label']}: {g['text']}" for g in summary.subgroups]))
    if summary.as_reported:
        sections.append(("Results as reported by each study", summary.as_reported))
    sections.append(("Harms", summary.harms or [
        f"No coded effect in this selection worsens {summary.outcome_label.lower()} (a statistically clear change in "
        "the unwanted direction, in numbers or in the source's own words)."]))
    if summary.certainty:
        sections.append(("Certainty of the evidence: footnotes", summary.certainty.footnotes()))
    sections.append(("Methods", [summary.methods]))
    sections.append(("Caveats", summary.caveats))
    return sections


def _provenance_line(summary: EvidenceSummary) -> str:
    v = summary.versions
    return (f"Generated {summary.generated.isoformat()} from catalogue version {summary.catalog_version}; "
            f"evidence {v.get('evidence')}, numpy {v.get('numpy')}, scipy {v.get('scipy')}.")


# -- Markdown and HTML -------------------------------------------------------------------------

def to_markdown(summary: EvidenceSummary) -> bytes:
    out = [f"# {summary.title}", ""] + [f"**{a}:** {_md(b)}  " for a, b in summary.question] + [""]
    rows, notes = sof_table(summary.cards)
    out += ["## Summary of findings", "", _md_table(pd.DataFrame([r.cells() for r in rows], columns=list(COLUMNS))), ""]
    out += [f"[{letter}] {_md(text)}  " for letter, text in notes] + ["", LEGEND, ""]
    out += [f"## {summary.outcome_label}: the result in detail", "", "| | |", "|---|---|"]
    out += [f"| {_md(a)} | {_md(b)} |" for a, b in summary.sof_rows()]
    out.append("")
    for heading, paras in _sections(summary):
        out += [f"## {heading}", ""] + [f"- {_md(p)}" if len(paras) > 1 else _md(p) for p in paras] + [""]
    for name, png in figures(summary).items():
        out += [f"## {name}", "", f"![{name}](data:image/png;base64,{base64.b64encode(png).decode()})", ""]
    out += ["## Studies", ""] + [f"{i}. {_md(r['text'])}" for i, r in enumerate(summary.references, 1)] + [""]
    if len(summary.rob_table):
        out += ["## Risk of bias", "", _md_table(summary.rob_table), ""]
    out += ["---", _provenance_line(summary), ""]
    return "\n".join(out).encode("utf-8")


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "---|" * len(df.columns)
    rows = ["| " + " | ".join(_md("" if pd.isna(v) else v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *rows])


def to_html(summary: EvidenceSummary) -> bytes:
    e = html.escape
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>{e(summary.title)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:.3em .6em;text-align:left}</style></head><body>",
             f"<h1>{e(summary.title)}</h1><table>"]
    parts += [f"<tr><th>{e(a)}</th><td>{e(b)}</td></tr>" for a, b in summary.question]
    rows, notes = sof_table(summary.cards)
    parts.append("</table><h2>Summary of findings</h2><table><tr>" + "".join(f"<th>{e(c)}</th>" for c in COLUMNS) + "</tr>")
    parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r.cells()) + "</tr>" for r in rows]
    parts.append("</table>" + "".join(f"<p><small>[{letter}] {e(text)}</small></p>" for letter, text in notes))
    parts.append(f"<p><small>{e(LEGEND)}</small></p><h2>{e(summary.outcome_label)}: the result in detail</h2><table>")
    parts += [f"<tr><th>{e(a)}</th><td>{e(b)}</td></tr>" for a, b in summary.sof_rows()]
    parts.append("</table>")
    for heading, paras in _sections(summary):
        parts.append(f"<h2>{e(heading)}</h2>")
        parts += [f"<p>{e(p)}</p>" for p in paras]
    for name, png in figures(summary).items():
        parts.append(f"<h2>{e(name)}</h2><img alt='{e(name)}' src='data:image/png;base64,{base64.b64encode(png).decode()}' style='max-width:100%'>")
    parts.append("<h2>Studies</h2><ol>" + "".join(f"<li>{e(r['text'])}</li>" for r in summary.references) + "</ol>")
    if len(summary.rob_table):
        parts.append("<h2>Risk of bias</h2>" + summary.rob_table.to_html(index=False, na_rep="", escape=True))
    parts.append(f"<hr><p>{e(_provenance_line(summary))}</p></body></html>")
    return "\n".join(parts).encode("utf-8")


# -- fonts for the PDF (its layout is in evidence.summary.document) ----------------------------

def _unicode_styles(styles):
    """Styles in DejaVu Sans (shipped with matplotlib): the PDF base fonts have no glyphs for names
    such as Hızıroğlu or Frölich, and references must print as written."""
    import os

    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")
    faces = {"DejaVu": "DejaVuSans.ttf", "DejaVu-Bold": "DejaVuSans-Bold.ttf",
             "DejaVu-Oblique": "DejaVuSans-Oblique.ttf", "DejaVu-BoldOblique": "DejaVuSans-BoldOblique.ttf"}
    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        for name, file in faces.items():
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))
        addMapping("DejaVu", 0, 0, "DejaVu")
        addMapping("DejaVu", 1, 0, "DejaVu-Bold")
        addMapping("DejaVu", 0, 1, "DejaVu-Oblique")
        addMapping("DejaVu", 1, 1, "DejaVu-BoldOblique")
    for style in styles.byName.values():
        bold = "Bold" in getattr(style, "fontName", "")
        italic = "Italic" in getattr(style, "fontName", "") or "Oblique" in getattr(style, "fontName", "")
        style.fontName = {(False, False): "DejaVu", (True, False): "DejaVu-Bold", (False, True): "DejaVu-Oblique",
                          (True, True): "DejaVu-BoldOblique"}[(bold, italic)]
    return styles


# -- CSV (the spreadsheet is in evidence.summary.sheets) ---------------------------------------

def to_csv(summary: EvidenceSummary) -> bytes:
    """The effects used (metafor-ready), preceded by the result numbers as ``# key: value`` lines."""
    head = "".join(f"# {k}: {'' if v is None else v}\n" for k, v in result_rows(summary))
    return (head + effects_table(summary).to_csv(index=False)).encode("utf-8")
