"""Streamlit components shared by the explorer's pages: escaped text, the sidebar filters, a chart with
its table alternative, and the result views (posterior, forest, heterogeneity, funnel) used by "What
works" and "Your data".

Text from the catalogue or an upload is shown through ``st.dataframe``/Altair or escaped with
:func:`md` before it reaches Markdown; no page passes ``unsafe_allow_html``.
"""

from __future__ import annotations

import re

import streamlit as st

from evidence import synthesis
from evidence.meta.result import MetaResult
from evidence.synthesis.labels import MISSING, record_rows
from evidence.synthesis.studies import is_web_link  # noqa: F401  (pages import it from here)
from evidence.taxonomy import taxonomy
from evidence.views import prepared, state
from evidence.views.loaders import catalogue_stamp, load_filter_options, load_info

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~$:@])")
_AUTOLINK = re.compile(r"(?i)\bhttps?(?=\\?:)|\bwww(?=\\?\.)|@")
WORD_JOINER = "\u2060"
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def md(text) -> str:
    """Escape Markdown (and the HTML Streamlit's Markdown would render) in text from data: every
    Markdown character, and what GitHub-flavoured Markdown would turn into a link by itself (``http://``,
    ``www.``, ``name@host``: see below). Bidirectional-control characters are dropped: they would make the text
    display differently from what it says (validation refuses them in study files too)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", _BIDI.sub("", str(text)))
    # Streamlit links bare addresses after parsing (escapes do not stop it): an invisible word joiner
    # after "http", "www" and "@" breaks the pattern without changing what the reader sees.
    return _AUTOLINK.sub(lambda m: m.group(0) + WORD_JOINER, escaped)


def text_header(text) -> None:
    """A header showing data as text: escaped, and without the "#slug" anchor Streamlit would derive from it."""
    st.header(md(text), anchor=False)


def doi_link(value) -> str | None:
    """The doi.org address of a bare DOI (percent-encoded), or None for anything else (such a value is
    shown as text only; validation refuses it in study files, a hand-edited catalogue may still hold it)."""
    from urllib.parse import quote

    from evidence.ingest.rules.links import BARE_DOI

    text = str(value or "").strip()
    return f"https://doi.org/{quote(text, safe='/')}" if re.match(BARE_DOI, text) else None


# Small screens, contrast and keyboard reach: Streamlit's own layout keeps a 300 px sidebar down to 768 px,
# never wraps columns above 640 px, truncates metric and widget labels with an ellipsis and draws captions
# at 60% opacity, so even a dark caption colour falls below WCAG AA (#57564f: 7.4:1 on white, 2.8:1 at 60%;
# AA asks 4.5:1); its code highlighting colours are 2.5-3.5:1 on the code background, so they get the same
# hues darkened to 5.5:1 or more; a disabled widget's label (2.3:1) stays dimmer than the others but
# readable (#6b6a66: 5.1:1 on the sidebar), since its markup does not tie it to the disabled input.
# A region that scrolls must be reachable by keyboard, and Streamlit gives a code block or a chart's box
# no tabindex: code blocks wrap their lines instead of scrolling, and a chart wider than its column (the
# gap map or a long harvest plot on a phone) scrolls in the frame that holds it and its toolbar (whose
# buttons take keyboard focus, the toolbar moved inside so it is not cut off), not in the chart's own box,
# which holds only the SVG. A fixed style sheet (no data in it) corrects that for every page;
# tests/test_browser_a11y.py checks it with axe-core.
_LAYOUT_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { color: #57564f !important; opacity: 1 !important; }
[data-testid="stCode"] pre, [data-testid="stCode"] code { white-space: pre-wrap !important; overflow-wrap: anywhere; }
[data-testid="stCode"] .token.comment, [data-testid="stCode"] .token.prolog, [data-testid="stCode"] .token.doctype,
[data-testid="stCode"] .token.cdata, [data-testid="stCode"] .token.punctuation { color: #5c5f6b !important; }
[data-testid="stCode"] .token.attr-name, [data-testid="stCode"] .token.property, [data-testid="stCode"] .token.variable { color: #0b5c8a !important; }
[data-testid="stCode"] .token.boolean, [data-testid="stCode"] .token.constant, [data-testid="stCode"] .token.symbol { color: #17702f !important; }
[data-testid="stCode"] .token.number, [data-testid="stCode"] .token.regex, [data-testid="stCode"] .token .datetime,
[data-testid="stCode"] .token.datetime { color: #0f6b5f !important; }
[data-testid="stCode"] .token.string, [data-testid="stCode"] .token.char, [data-testid="stCode"] .token.attr-value { color: #146b2e !important; }
[data-testid="stCode"] .token.operator, [data-testid="stCode"] .token.entity, [data-testid="stCode"] .token.decorator,
[data-testid="stCode"] .token.atrule { color: #a04000 !important; }
[data-testid="stCode"] .token.url { color: #6a3fb0 !important; }
[data-testid="stCode"] .token.keyword, [data-testid="stCode"] .token.tag, [data-testid="stCode"] .token.function,
[data-testid="stCode"] .token.class-name, [data-testid="stCode"] .token.selector { color: #1d4fbf !important; }
[data-testid="stCode"] .token.important, [data-testid="stCode"] .token.deleted { color: #b3261e !important; }
[data-testid="stElementContainer"]:has(input:disabled, textarea:disabled) [data-testid="stWidgetLabel"] p {
  color: #6b6a66 !important; }
[data-testid="stMetricLabel"] *, [data-testid="stWidgetLabel"] *, [data-testid="stMetricValue"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMetricValue"] { overflow-wrap: anywhere; }
[data-testid="stFullScreenFrame"] > div:has(> [data-testid="stVegaLiteChart"]) { max-width: 100%; overflow-x: auto; }
[data-testid="stFullScreenFrame"] > div:has(> [data-testid="stVegaLiteChart"]) > [data-testid="stElementToolbar"] { top: 0; }
[data-testid="stMain"] { overflow-x: hidden; }
[data-testid="stMain"] h2 { font-size: 1.75rem; } [data-testid="stMain"] h3 { font-size: 1.35rem; }
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


def _persist(key: str, default, from_link=None):
    """Filters survive page switches (a shadow copy restores the widget key) and shared links (on a
    session's first run, the value comes from the URL's query parameters, ``from_link``)."""
    if key not in st.session_state:
        shadow = st.session_state.get(state.SHADOW_PREFIX + key)
        st.session_state[key] = shadow if shadow is not None else (default if from_link is None else from_link)


def _save(key: str):
    st.session_state[state.SHADOW_PREFIX + key] = st.session_state[key]


def _link_range(param: str, lo: int, hi: int) -> tuple[int, int] | None:
    """A ``lo-hi`` range from the URL (``years=2005-2015``), clipped to the slider; None if absent or malformed."""
    raw = st.query_params.get(param)
    try:
        a, b = (int(x) for x in str(raw).split("-"))
    except (TypeError, ValueError):
        return None
    a, b = max(lo, min(a, b)), min(hi, max(a, b))
    return (a, b) if a <= b else None


def _to_link(values: dict) -> None:
    """Write the filters into the URL (only those that restrict), so a copied link reopens the same view."""
    for param, value in values.items():
        if value in (None, [], ()):
            st.query_params.pop(param, None)
        elif isinstance(value, list):
            st.query_params[param] = value
        else:
            st.query_params[param] = str(value)


def reset_filters() -> None:
    """Clear every sidebar filter (widgets, shadows and URL): the "Reset filters" of an empty view."""
    for name in (*state.FILTER_PARAMS, "sex", "years", "ages"):
        for key in (f"f_{name}", state.SHADOW_PREFIX + f"f_{name}"):
            st.session_state.pop(key, None)
        st.query_params.pop(name, None)


def choose_filters(values: dict) -> None:
    """Set sidebar filters from another widget (the landing page's question): ``{"regions": [...],
    "sex": "girls", "ages": (10, 14)}``; the next page's sidebar opens with them."""
    for name, value in values.items():
        st.session_state[f"f_{name}"] = st.session_state[state.SHADOW_PREFIX + f"f_{name}"] = value


def no_match_notice(key: str) -> None:
    """An empty filter result says so and offers the way back (instead of a blank chart with zeros)."""
    st.warning("No study matches these filters. Widen them in the sidebar, or reset them all.")
    st.button("Reset filters", key=key, type="primary", on_click=reset_filters)


def kept(key: str, default) -> dict:
    """Keyword arguments for a control whose value outlives runs that do not draw it. When a run does not
    draw a widget (the own-data page's model controls while no file is uploaded, the other engine's
    controls), the browser forgets it and draws it again at its default while the server keeps the old
    value -- the numbers then disagree with the control, and clicking the shown option does nothing. So
    the value lives in a shadow copy, saved on every change and set explicitly on every run (which makes
    Streamlit send it to the browser)."""
    shadow = state.SHADOW_PREFIX + key
    value = st.session_state.get(shadow, st.session_state.get(key, default))
    st.session_state[key] = st.session_state[shadow] = value
    return {"key": key, "on_change": _save, "args": (key,)}


def sidebar_filters() -> tuple:
    """The catalogue filters shared by every page; returns hashable Filters items. Each filter is also a
    query parameter (``?regions=...&sex=girls&years=2005-2015&ages=10-14``): set from a shared link on a
    session's first run, and written back on every run."""
    opts = load_filter_options(catalogue_stamp())
    t = taxonomy()
    sb = st.sidebar
    sb.header("Filters")
    items = []
    link: dict = {}
    fresh = "f_sex" not in st.session_state and state.SHADOW_PREFIX + "f_sex" not in st.session_state  # first run: read the link
    ignored = []  # values of the link the catalogue does not have: said in one line, not silently dropped
    names = opts["country_names"]
    specs = [
        ("regions", "Region", opts["regions"], str),
        ("countries", "Country", opts["countries"], lambda c: names.get(c, c)),
        ("designs", "Design", opts["designs"], lambda d: t.designs.get(d, {}).get("label", d)),
        ("rob_levels", "Risk of bias", opts["rob_levels"], str),
        ("coding_status", "Coding status", opts["coding_status"], str),
    ]
    for name, label, options, fmt in specs:
        key = f"f_{name}"
        _persist(key, [], st.query_params.get_all(name) or None)
        if fresh:
            ignored += [f"{name}={v}" for v in st.query_params.get_all(name) if v not in options]
        st.session_state[key] = [v for v in st.session_state[key] if v in options]
        chosen = sb.multiselect(label, options, key=key, format_func=fmt, on_change=_save, args=(key,))
        link[name] = list(chosen)
        if chosen:
            items.append((name, tuple(chosen)))
    sexes = ["any", "all", "girls", "boys"]
    if fresh and st.query_params.get("sex", "any") not in sexes:
        ignored.append(f"sex={st.query_params['sex']}")
    _persist("f_sex", "any", st.query_params.get("sex") if st.query_params.get("sex") in sexes else None)
    sex = sb.selectbox("Sex (effect's subgroup)", sexes, key="f_sex", on_change=_save, args=("f_sex",))
    link["sex"] = None if sex == "any" else sex
    if sex != "any":
        items.append(("sex", sex))
    if opts["years"] and opts["years"][0] < opts["years"][1]:
        lo, hi = opts["years"]
        _persist("f_years", (lo, hi), _link_range("years", lo, hi))
        if fresh and "years" in st.query_params and _link_range("years", lo, hi) is None:
            ignored.append(f"years={st.query_params['years']}")
        y = sb.slider("Publication year", lo, hi, key="f_years", on_change=_save, args=("f_years",))
        link["years"] = None if tuple(y) == (lo, hi) else f"{y[0]}-{y[1]}"
        if y[0] > lo:
            items.append(("year_min", int(y[0])))
        if y[1] < hi:
            items.append(("year_max", int(y[1])))
    _persist("f_ages", AGES, _link_range("ages", *AGES))
    if fresh and "ages" in st.query_params and _link_range("ages", *AGES) is None:
        ignored.append(f"ages={st.query_params['ages']}")
    a = sb.slider("Children's ages (overlapping); 0-18 = all", *AGES, key="f_ages", on_change=_save, args=("f_ages",),
                  help="Keeps effects whose age band overlaps the range; the full range 0-18 applies no restriction.")
    link["ages"] = None if tuple(a) == AGES else f"{a[0]}-{a[1]}"
    items.extend(age_items(a))
    if ignored:
        sb.warning(md(f"Ignored from the link (not in the catalogue, or not a range like 2005-2015): {'; '.join(ignored)}."))
    _to_link(link)
    return tuple(items)


AGES = (0, 18)  # the age slider's range; the full range means "no restriction"


def age_items(ages) -> list[tuple]:
    """Filter items for the age slider: each end the user moved inwards restricts (overlap rule)."""
    lo, hi = (float(x) for x in ages)
    return ([("age_min", lo)] if lo > AGES[0] else []) + ([("age_max", hi)] if hi < AGES[1] else [])


# -- result views -------------------------------------------------------------------------------
def record_table(record: dict) -> None:
    """A record as a two-column table of its filled fields, in words (:func:`record_rows`)."""
    rows = record_rows(record)
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.write("Not coded.")


def show_figure(fig: prepared.Figure, key: str) -> None:
    """A prepared chart (:class:`evidence.views.prepared.Figure`) with its caption and its table
    alternative (same numbers, headers in words) in an expander."""
    st.vega_lite_chart(fig.spec, key=key, height=fig.height, theme="streamlit")
    st.caption(md(fig.caption))
    with st.expander("Table of this chart"):
        st.dataframe(fig.table, hide_index=True, placeholder=MISSING)


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


def result_views(result: MetaResult, metric: str | None, unit_label: str, key: str,
                 figures: tuple[prepared.Figure, ...] = ()) -> None:
    """Posterior, forest plot, heterogeneity, funnel plot and warnings of one result; ``figures``: its
    three charts already prepared (a cached answer's), else they are built here."""
    if result.warnings:
        for w in result.warnings:
            st.warning(md(w))
    if result.diagnostics is not None:
        d = result.diagnostics
        st.caption(md(f"Sampler {d.sampler}: {d.chains} chains x {d.draws} draws, {d.divergences} divergences, "
                      f"max R-hat {d.max_rhat:.3f}, min bulk ESS {d.min_ess_bulk:.0f}."))
    forest, posterior, funnel = figures or prepared.result_figures(result, unit_label)
    st.subheader("Forest plot")
    show_figure(forest, f"{key}_forest")
    st.subheader("Heterogeneity")
    heterogeneity(result, metric)
    st.subheader("Pooled effect" if result.densities else "Estimate")
    show_figure(posterior, f"{key}_posterior")
    st.subheader("Funnel plot")
    show_figure(funnel, f"{key}_funnel")
