"""The What-works page's download of the evidence summary (same content as ``evidence summary``)."""

from __future__ import annotations

import streamlit as st

from evidence import synthesis
from evidence.summary import render, summarise
from evidence.synthesis.certainty import LEVELS, Override
from evidence.views.components import md
from evidence.views.loaders import make_filters

MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf", "md": "text/markdown", "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv",
}
#: The download's formats as offered: a document for a meeting first (PDF, then Word), data files after.
APP_FORMATS = ("pdf", "docx", "xlsx", "html", "md", "csv")
LABELS = {"docx": "Word (.docx)", "pdf": "PDF", "md": "Markdown", "html": "HTML", "xlsx": "Excel (.xlsx)", "csv": "CSV"}


@st.cache_data(show_spinner=False, max_entries=32)
def summary_file(stamp: tuple, items: tuple, options: synthesis.WhatWorksOptions, rating: str | None, reason: str,
                 fmt: str) -> bytes:
    """The rendered summary for this selection of the catalogue ``stamp`` (``loaders.catalogue_stamp()``;
    cached: the same selection of the same catalogue is rendered once)."""
    override = Override(rating, reason) if rating else None
    return render(summarise(options, make_filters(items), override=override), fmt)


def summary_downloads(stamp: tuple, items: tuple, options: synthesis.WhatWorksOptions) -> None:
    """Format choice, an optional certainty override with its reason, and the download button."""
    c1, c2 = st.columns(2)
    fmt = c1.selectbox("Format", APP_FORMATS, format_func=LABELS.get, key="dl_format")
    with c2.expander("Override the certainty rating"):
        rating = st.selectbox("Rating", [None, *reversed(LEVELS)], key="dl_rating",
                              format_func=lambda r: "keep the drafted rating" if r is None else r)
        reason = st.text_input("Reason (shown in the summary)", key="dl_reason")
    if rating and not reason.strip():
        st.warning("An override needs a stated reason.")
        return
    if st.button("Prepare the evidence summary", key="dl_prepare"):
        with st.spinner("Rendering the summary…"):
            st.session_state["dl_ready"] = (items, options, rating, reason, fmt)
    if st.session_state.get("dl_ready") == (items, options, rating, reason, fmt):
        data = summary_file(stamp, items, options, rating, reason.strip(), fmt)
        name = f"evidence-summary-{options.intervention}-{options.outcome}.{fmt}"
        st.download_button(f"Download {LABELS[fmt]}", data, file_name=name, mime=MIME[fmt], key="dl_button")
        st.caption(md(f"{name}: {len(data):,} bytes; the same file `evidence summary --format {fmt}` writes."))
