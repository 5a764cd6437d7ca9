"""Evidence summaries for programme designers: one intervention x outcome, in six formats.

``summarise`` (catalogue -> :class:`EvidenceSummary`) is what both the CLI (``evidence summary``) and
the app's download buttons call; ``render`` lays the summary out as md, html, docx, pdf, xlsx or csv.
"""

from evidence.summary.content import EvidenceSummary, build_summary
from evidence.summary.render import FORMATS, render, write
from evidence.summary.selection import filters_text, summarise

__all__ = ["EvidenceSummary", "FORMATS", "build_summary", "filters_text", "render", "summarise", "write"]
