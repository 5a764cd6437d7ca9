"""Streamlit components shared by the explorer's pages: escaped text, the sidebar filters, a chart with
its table alternative, and the result views (posterior, forest, heterogeneity, funnel) used by "What
works" and "Your data".

Text from the catalogue or an upload is shown through ``st.dataframe``/Altair or escaped with
:func:`md` before it reaches Markdown; no page passes ``unsafe_allow_html``.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from evidence import synthesis
from evidence.meta.result import MetaResult
from evidence.synthesis import charts
from evidence.taxonomy import taxonomy
from evidence.views import state
from evidence.views.loaders import catalogue_stamp, load_effects, load_info

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~$:])")


def md(text) -> str:
    """Escape Markdown (and the HTML Streamlit's Markdown would render) in text from data."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def is_web_link(value) -> bool:
    """Only http(s) addresses become clickable links (no javascript:, file: or relative paths)."""
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


# Small screens and contrast: Streamlit's own layout keeps a 300 px sidebar down to 768 px, never wraps
# columns above 640 px, truncates metric and widget labels with an ellipsis and greys captions below
# WCAG AA contrast (3.9:1). A fixed style sheet (no data in it) corrects that for every page.
_LAYOUT_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { color: #57564f !important; }
[data-testid="stMetricLabel"] *, [data-testid="stWidgetLabel"] *, [data-testid="stMetricValue"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMetricValue"] { overflow-wrap: anywhere; }
[data-testid="stVegaLiteChart"], .stVegaLiteChart { max-width: 100%; overflow-x: auto; }
[data-testid="stMain"] { overflow-x: hidden; }
@media (max-width: 1000px) {
  section[data-testid="stSidebar"] { width: 230px !important; min-width: 230px !important; }
  [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] { min-width: min(200px, 100%); flex: 1 1 200px !important; }
  [data-testid="stMainBlockContainer"] { padding-left: 1.2rem; padding-right: 1.2rem; }
}
@media (max-width: 640px) {
  [data-testid="stMain"] h1 { font-size: 2rem; }
}
</style>"""


def layout_css() -> None:
    """The explorer's fixed style sheet (small screens, wrapped labels, caption contrast); app.py calls it once."""
    st.html(_LAYOUT_CSS)


def catalogue_ready() -> dict:
    """The catalogue's info, or an explanation and a stop when it cannot be opened."""
    try:
        return load_info(catalogue_stamp())
    except Exception as exc:  # noqa: BLE001 - any failure to open the catalogue is shown, not raised
        st.error(f"The catalogue could not be opened: {md(exc)}. Build it with `evidence build`.")
        st.stop()


def _options(effects: pd.DataFrame, column: str) -> list[str]:
    return sorted({x for v in effects[column] for x in synthesis.as_list(v)})


def _persist(key: str, default):
    """Filters survive page switches: widget keys are restored from a shadow copy."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(state.SHADOW_PREFIX + key, default)


def _save(key: str):
    st.session_state[state.SHADOW_PREFIX + key] = st.session_state[key]


def sidebar_filters() -> tuple:
    """The catalogue filters shared by the gap map and What works; returns hashable Filters items."""
    everything = load_effects(catalogue_stamp(), ())
    t = taxonomy()
    sb = st.sidebar
    sb.header("Filters")
    items = []
    specs = [
        ("regions", "Region", _options(everything, "regions"), str),
        ("countries", "Country", _options(everything, "countries"), _country_name(everything)),
        ("designs", "Design", sorted(set(everything["design"].dropna())), lambda d: t.designs.get(d, {}).get("label", d)),
        ("rob_levels", "Risk of bias", [x for x in ("low", "moderate", "high", "unclear") if x in set(everything["risk_of_bias"].dropna())], str),
        ("coding_status", "Coding status", sorted(set(everything["coding_status"].dropna())), str),
    ]
    for name, label, options, fmt in specs:
        key = f"f_{name}"
        _persist(key, [])
        st.session_state[key] = [v for v in st.session_state[key] if v in options]
        chosen = sb.multiselect(label, options, key=key, format_func=fmt, on_change=_save, args=(key,))
        if chosen:
            items.append((name, tuple(chosen)))
    _persist("f_sex", "any")
    sex = sb.selectbox("Sex (effect's subgroup)", ["any", "all", "girls", "boys"], key="f_sex", on_change=_save, args=("f_sex",))
    if sex != "any":
        items.append(("sex", sex))
    years = pd.to_numeric(everything["year"], errors="coerce").dropna()
    if len(years) and years.min() < years.max():
        lo, hi = int(years.min()), int(years.max())
        _persist("f_years", (lo, hi))
        y = sb.slider("Publication year", lo, hi, key="f_years", on_change=_save, args=("f_years",))
        if y[0] > lo:
            items.append(("year_min", int(y[0])))
        if y[1] < hi:
            items.append(("year_max", int(y[1])))
    _persist("f_ages", AGES)
    a = sb.slider("Children's ages (overlapping); 0-18 = all", *AGES, key="f_ages", on_change=_save, args=("f_ages",),
                  help="Keeps effects whose age band overlaps the range; the full range 0-18 applies no restriction.")
    items.extend(age_items(a))
    return tuple(items)


AGES = (0, 18)  # the age slider's range; the full range means "no restriction"


def age_items(ages) -> list[tuple]:
    """Filter items for the age slider: each end the user moved inwards restricts (overlap rule)."""
    lo, hi = (float(x) for x in ages)
    return ([("age_min", lo)] if lo > AGES[0] else []) + ([("age_max", hi)] if hi < AGES[1] else [])


def _country_name(effects: pd.DataFrame):
    names = {}
    for codes, labels in zip(effects["countries"], effects["country_names"]):
        for c, n in zip(synthesis.as_list(codes), synthesis.as_list(labels)):
            names[c] = n
    return lambda c: names.get(c, c)


# -- result views -------------------------------------------------------------------------------
def record_table(record: dict) -> None:
    """A record as a two-column table of its filled fields (labels from the field names)."""
    rows = [{"field": str(k).replace("_", " "), "value": str(v)} for k, v in record.items()
            if v not in (None, "", [], {}) and k not in ("seq", "study_id")]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.write("Not coded.")


def chart_and_table(chart, table: pd.DataFrame, caption: str, key: str) -> None:
    """A chart with its table alternative (same numbers) in an expander."""
    # Streamlit fits the whole chart (axes and legend included) into ``height``: give the plot its
    # own height plus room for the axis title and the legend below it.
    plot = chart.height if isinstance(getattr(chart, "height", None), int) else None
    st.altair_chart(chart, key=key, height=plot + 110 if plot else "content")
    st.caption(md(caption))
    with st.expander("Table of this chart"):
        st.dataframe(table, hide_index=True)


def heterogeneity(result: MetaResult, metric: str | None) -> None:
    cols = st.columns(4)
    tau = result.tau
    cols[0].metric("Studies (k)", result.k)
    if tau is not None:
        txt = synthesis.fmt(tau.mean, metric) if tau.q025 is None else f"{synthesis.fmt(tau.q50 if tau.q50 is not None else tau.mean, metric)}"
        cols[1].metric("Between-study SD (tau)", txt, help="Posterior median (Bayes) or estimate (frequentist)")
        if tau.q025 is not None:
            cols[2].metric("tau 95% interval", f"{synthesis.fmt(tau.q025, metric)} to {synthesis.fmt(tau.q975, metric)}")
    if result.i2 is not None:
        cols[3].metric("I²", f"{result.i2:.0f}%", help="Share of the variation in estimates beyond chance")


def result_views(result: MetaResult, metric: str | None, unit_label: str, key: str) -> None:
    """Posterior, forest plot, heterogeneity, funnel plot and warnings of one result."""
    if result.warnings:
        for w in result.warnings:
            st.warning(md(w))
    if result.diagnostics is not None:
        d = result.diagnostics
        st.caption(md(f"Sampler {d.sampler}: {d.chains} chains x {d.draws} draws, {d.divergences} divergences, "
                      f"max R-hat {d.max_rhat:.3f}, min bulk ESS {d.min_ess_bulk:.0f}."))
    st.subheader("Forest plot")
    chart_and_table(charts.forest_chart(result, unit_label), charts.forest_data(result),
                    "Each study's own estimate (95% CI) and its shrunken estimate (95% CrI), the pooled effect and the "
                    "interval where a new programme's effect is expected (prediction).", f"{key}_forest")
    st.subheader("Heterogeneity")
    heterogeneity(result, metric)
    st.subheader("Pooled effect" if result.densities else "Estimate")
    chart_and_table(charts.posterior_chart(result, unit_label), charts.posterior_data(result),
                    "Posterior density of the pooled effect and of a new programme's effect; the bar is the 95% interval.",
                    f"{key}_posterior")
    st.subheader("Funnel plot")
    yi = [s.yi for s in result.studies]
    vi = [s.vi for s in result.studies]
    pts, _ = charts.funnel_data(yi, vi, result.mu.mean)
    chart_and_table(charts.funnel_chart(yi, vi, result.mu.mean, unit_label), pts.assign(label=[s.label for s in result.studies]),
                    "Asymmetry (small studies on one side only) can signal publication bias; with few studies it is hard to judge.",
                    f"{key}_funnel")
