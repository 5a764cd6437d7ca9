"""Lay an :class:`EvidenceSummary` out as Markdown, HTML, Word, PDF, Excel or CSV.

Every format carries the same content: the summary-of-findings table with the certainty rating and
its footnotes, the plain-language text, sub-groups, harms, the figures (Altair specs rendered offline
with vl-convert), references, the risk-of-bias table, methods, caveats and the versions. Nothing here
computes a number; it only formats what ``build_summary`` gathered.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import pandas as pd

from evidence.errors import ExportError
from evidence.summary.content import EvidenceSummary

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
    return {"md": to_markdown, "html": to_html, "docx": to_docx, "pdf": to_pdf,
            "xlsx": to_xlsx, "csv": to_csv}[fmt](summary)


def write(summary: EvidenceSummary, fmt: str, path: Path) -> Path:
    path = Path(path)
    path.write_bytes(render(summary, fmt))
    return path


# -- shared pieces -----------------------------------------------------------------------------

def figures(summary: EvidenceSummary) -> dict[str, bytes]:
    """PNG bytes of the forest plot and the posterior, from the same Altair specs as the app."""
    if summary.result is None:
        return {}
    import vl_convert as vlc

    from evidence.synthesis.charts import forest_chart, posterior_chart

    unit = summary.unit_label
    charts = {"Forest plot": forest_chart(summary.result, unit), "Posterior of the pooled effect": posterior_chart(summary.result, unit)}
    # The app's charts fill their container; a document needs a fixed width.
    return {name: vlc.vegalite_to_png(chart.properties(width=520).to_dict(), scale=2) for name, chart in charts.items()}


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
    out = [f"# {summary.title}", "", f"*Selection:* {'; '.join(summary.filters) or 'all coded studies'}", ""]
    out += ["## Summary of findings", "", "| | |", "|---|---|"]
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
             f"<h1>{e(summary.title)}</h1>",
             f"<p><em>Selection:</em> {e('; '.join(summary.filters) or 'all coded studies')}</p>",
             "<h2>Summary of findings</h2><table>"]
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


# -- Word and PDF ------------------------------------------------------------------------------

def to_docx(summary: EvidenceSummary) -> bytes:
    from docx import Document
    from docx.shared import Inches

    doc = Document()
    doc.add_heading(summary.title, level=0)
    doc.add_paragraph(f"Selection: {'; '.join(summary.filters) or 'all coded studies'}")
    doc.add_heading("Summary of findings", level=1)
    rows = summary.sof_rows()
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for i, (a, b) in enumerate(rows):
        table.cell(i, 0).text, table.cell(i, 1).text = a, b
    for heading, paras in _sections(summary):
        doc.add_heading(heading, level=1)
        for p in paras:
            doc.add_paragraph(p, style="List Bullet" if len(paras) > 1 else None)
    for name, png in figures(summary).items():
        doc.add_heading(name, level=1)
        doc.add_picture(io.BytesIO(png), width=Inches(6))
    doc.add_heading("Studies", level=1)
    for r in summary.references:
        doc.add_paragraph(r["text"], style="List Number")
    if len(summary.rob_table):
        doc.add_heading("Risk of bias", level=1)
        rob = summary.rob_table
        t = doc.add_table(rows=len(rob) + 1, cols=len(rob.columns))
        t.style = "Table Grid"
        for j, c in enumerate(rob.columns):
            t.cell(0, j).text = str(c)
        for i, row in enumerate(rob.itertuples(index=False), 1):
            for j, v in enumerate(row):
                t.cell(i, j).text = "" if pd.isna(v) else str(v)
    doc.add_paragraph(_provenance_line(summary))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


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


def to_pdf(summary: EvidenceSummary) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = _unicode_styles(getSampleStyleSheet())
    e = html.escape
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=summary.title, author="Child-labour evidence",
                            leftMargin=2 * cm, rightMargin=2 * cm, invariant=1)
    story = [Paragraph(e(summary.title), styles["Title"]),
             Paragraph(e(f"Selection: {'; '.join(summary.filters) or 'all coded studies'}"), styles["Normal"]),
             Paragraph("Summary of findings", styles["Heading2"])]
    sof = Table([[Paragraph(e(a), styles["Normal"]), Paragraph(e(b), styles["Normal"])] for a, b in summary.sof_rows()],
                colWidths=[6 * cm, 11 * cm])
    sof.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(sof)
    for heading, paras in _sections(summary):
        story.append(Paragraph(e(heading), styles["Heading2"]))
        story += [Paragraph(e(p), styles["Normal"]) for p in paras]
    for name, png in figures(summary).items():
        story.append(Paragraph(e(name), styles["Heading2"]))
        img = Image(io.BytesIO(png))
        scale = min(1.0, 17 * cm / img.drawWidth)
        img.drawWidth, img.drawHeight = img.drawWidth * scale, img.drawHeight * scale
        story.append(img)
    story.append(Paragraph("Studies", styles["Heading2"]))
    story += [Paragraph(e(f"{i}. {r['text']}"), styles["Normal"]) for i, r in enumerate(summary.references, 1)]
    if len(summary.rob_table):
        story.append(Paragraph("Risk of bias", styles["Heading2"]))
        data = [list(map(str, summary.rob_table.columns))] + [
            ["" if pd.isna(v) else str(v) for v in row] for row in summary.rob_table.itertuples(index=False)]
        t = Table(data, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 7),
                               ("FONTNAME", (0, 0), (-1, -1), "DejaVu")]))
        story.append(t)
    story += [Spacer(1, 12), Paragraph(e(_provenance_line(summary)), styles["Italic"])]
    doc.build(story)
    return buf.getvalue()


# -- Excel and CSV -----------------------------------------------------------------------------

def to_xlsx(summary: EvidenceSummary) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        pd.DataFrame(result_rows(summary), columns=["quantity", "value"]).to_excel(xl, sheet_name="Result", index=False)
        effects_table(summary).to_excel(xl, sheet_name="Effects", index=False)
        summary.rob_table.to_excel(xl, sheet_name="Risk of bias", index=False)
        pd.DataFrame({"reference": [r["text"] for r in summary.references]}).to_excel(xl, sheet_name="References", index=False)
        notes = summary.certainty.footnotes() if summary.certainty else [summary.insufficient_reason or ""]
        pd.DataFrame({"certainty footnotes": notes}).to_excel(xl, sheet_name="Certainty", index=False)
    return buf.getvalue()


def to_csv(summary: EvidenceSummary) -> bytes:
    """The effects used (metafor-ready), preceded by the result numbers as ``# key: value`` lines."""
    head = "".join(f"# {k}: {'' if v is None else v}\n" for k, v in result_rows(summary))
    return (head + effects_table(summary).to_csv(index=False)).encode("utf-8")
