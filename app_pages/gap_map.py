"""Evidence gap map: which interventions have been evaluated on which outcomes, and what the pooled
evidence says (colour) or, where nothing can be pooled, which designs exist. One click on a cell
opens its answer and its studies below the map; the cell is in the URL, as are the filters."""

import streamlit as st

from evidence import synthesis
from evidence.synthesis.labels import MISSING
from evidence.taxonomy import taxonomy
from evidence.views import state
from evidence.views.cards import card_summary
from evidence.views.components import catalogue_ready, no_match_notice, sidebar_filters
from evidence.views.loaders import (
    catalogue_stamp,
    load_card,
    load_cell_studies,
    load_effects,
    load_gap_map_spec,
    load_gap_map_view,
)

t = taxonomy()


def picked() -> None:
    """A cell picked below the map: the next run draws a fresh chart with that cell selected."""
    st.session_state[state.GM_PICKS] = st.session_state.get(state.GM_PICKS, 0) + 1


st.title("Evidence gap map")
catalogue_ready()
st.caption("Rows: programmes, grouped by family. Columns: outcomes, grouped as child labour and schooling. Bubble size: "
           "number of studies. Colour: what the pooled evidence says, or the mix of designs where fewer than two studies "
           "can be pooled. Shape: certainty. Empty cells are evidence gaps. Click a bubble to open its answer below.")

filters = sidebar_filters()
if "gm_tau" not in st.session_state and st.query_params.get("tau") in synthesis.TAU_FAMILIES:
    st.session_state["gm_tau"] = st.query_params["tau"]  # a shared link's prior
tau_family = st.sidebar.selectbox("Prior on between-study SD (tau)", synthesis.TAU_FAMILIES, key="gm_tau",
                                  help="Scaled to each cell's metric; see the Method page.")
if tau_family == synthesis.TAU_FAMILIES[0]:
    st.query_params.pop("tau", None)
else:
    st.query_params["tau"] = tau_family
stamp = catalogue_stamp()
effects = load_effects(stamp, filters)
if effects.empty:
    no_match_notice("gm_reset")
    st.stop()
view = load_gap_map_view(stamp, filters, tau_family)  # counts, pickers and table, prepared once for every session
c1, c2, c3 = st.columns(3)
c1.metric("Cells with evidence", view.cells_with_evidence)
c2.metric("Cells with a pooled effect", view.cells_pooled)
c3.metric("Studies", view.n_studies, help="Studies with at least one coded outcome under these filters")

# -- the chosen cell: a click on the map, a shared link (?intervention=&outcome=), or the pickers -----
link = (st.query_params.get("intervention"), st.query_params.get("outcome"))
if state.GM_INTERVENTION not in st.session_state and view.has(*link):
    st.session_state[state.GM_INTERVENTION], st.session_state[state.GM_OUTCOME] = link
# A click on the map is the chart's selection; a pick below starts a fresh chart (a new key) drawn with
# the picked cell selected, so the highlight always shows the cell this page opens.
chart_key = f"gap_chart_{st.session_state.get(state.GM_PICKS, 0)}"
clicked = [(p.get("intervention"), p.get("outcome")) for p in ((st.session_state.get(chart_key) or {}).get("selection") or {}).get("cell", [])]
if clicked and view.has(*clicked[0]):
    st.session_state[state.GM_INTERVENTION], st.session_state[state.GM_OUTCOME] = clicked[0]
iv_options = view.interventions
if st.session_state.get(state.GM_INTERVENTION) not in iv_options:
    st.session_state[state.GM_INTERVENTION] = iv_options[0]
oc_options = view.outcomes[st.session_state[state.GM_INTERVENTION]]
if st.session_state.get(state.GM_OUTCOME) not in oc_options:
    st.session_state[state.GM_OUTCOME] = oc_options[0]

chosen = (st.session_state[state.GM_INTERVENTION], st.session_state[state.GM_OUTCOME])
# The chart's spec is built once per catalogue, filters, prior and chosen cell (charts.gap_map_chart, cached).
spec = load_gap_map_spec(stamp, filters, tau_family, chosen)
# The map scrolls in its own frame on a narrow screen (a container of fixed height scrolls; the page does not).
with st.container(height=view.height, border=False, key="gm_frame"):
    st.vega_lite_chart(spec, key=chart_key, on_select="rerun", selection_mode="cell",
                       width="content", height="content", theme=None)
with st.expander("Table of this chart (cells with evidence)"):
    st.dataframe(view.table, hide_index=True, placeholder=MISSING)

st.header("The chosen cell")
col_a, col_b = st.columns(2)
iv = col_a.selectbox("Intervention", iv_options, key=state.GM_INTERVENTION, format_func=lambda k: t.interventions[k]["label"],
                     on_change=picked)
oc_options = view.outcomes[iv]
oc = col_b.selectbox("Outcome", oc_options, key=state.GM_OUTCOME, format_func=lambda k: t.outcomes[k]["label"], on_change=picked)
st.query_params.update({"intervention": iv, "outcome": oc})

card = load_card(stamp, filters, synthesis.WhatWorksOptions(iv, oc, tau_family=tau_family))
with st.container(border=True, key="gm_answer"):
    card_summary(card)
    if st.button("Open the full answer in What works", type="primary", key="gm_open"):
        st.session_state[state.WW_INTERVENTION] = iv
        st.session_state[state.WW_OUTCOME] = oc
        st.session_state["ww_tau"] = tau_family
        st.switch_page("app_pages/what_works.py")
studies = load_cell_studies(stamp, filters, iv, oc, tuple(card.pooled_ids))
st.markdown(f"**Studies in this cell ({studies.num_rows})**")
st.dataframe(studies, hide_index=True, key="gm_studies", placeholder=MISSING)
