"""Page 1 — Evidence gap map: which interventions have been evaluated on which outcomes, and what the
pooled evidence says (colour) or, where nothing can be pooled, which designs exist."""

import streamlit as st

from evidence import synthesis
from evidence.synthesis import charts
from evidence.taxonomy import taxonomy
from evidence.views import state
from evidence.views.components import catalogue_ready, md, sidebar_filters
from evidence.views.loaders import catalogue_stamp, load_effects, load_gap_map

st.title("Evidence gap map")
info = catalogue_ready()
st.caption(md(f"Catalogue version {info.get('catalog_version', '?')}. Rows: interventions grouped by family; "
              "columns: outcomes grouped as child labour / schooling. Bubble size = number of studies; colour = direction "
              "and certainty of the pooled effect (exact Bayesian random-effects model, primary effect per study), "
              "or the design mix where fewer than two studies can be pooled. Empty cells are evidence gaps."))

filters = sidebar_filters()
tau_family = st.sidebar.selectbox("Prior on between-study SD (tau)", synthesis.TAU_FAMILIES, key="gm_tau",
                                  help="Scaled to each cell's metric; see the Method page.")
stamp = catalogue_stamp()
cells = load_gap_map(stamp, filters, tau_family)
filled = cells[cells["n_studies"] > 0]
c1, c2, c3 = st.columns(3)
c1.metric("Cells with evidence", len(filled))
c2.metric("Cells with a pooled effect", int((filled["n_pooled"] > 0).sum()))
c3.metric("Studies", load_effects(stamp, filters)["study_id"].nunique(), help="Studies with at least one coded outcome under these filters")

chart = charts.gap_map_chart(cells)
event = st.altair_chart(chart, key="gap_chart", on_select="rerun", selection_mode="cell", width="content",
                        height="content", theme=None)
points = (event or {}).get("selection", {}).get("cell", []) if isinstance(event, dict) or hasattr(event, "get") else []
if points:
    st.session_state[state.GM_INTERVENTION] = points[0].get("intervention")
    st.session_state[state.GM_OUTCOME] = points[0].get("outcome")
st.caption("Click a bubble, or pick a cell below, to open it on the What-works page.")
with st.expander("Table of this chart (cells with evidence)"):
    st.dataframe(filled[["family_label", "intervention_label", "outcome_group_label", "outcome_label", "n_studies", "n_effects",
                         "n_pooled", "metric", "mean", "q025", "q975", "category", "designs", "any_harm"]], hide_index=True)

@st.fragment  # picking a cell reruns only this section, not the whole page and its chart
def open_a_cell() -> None:
    t = taxonomy()
    st.subheader("Open a cell")
    with_evidence = filled[["intervention", "outcome"]].drop_duplicates()
    iv_options = list(dict.fromkeys(with_evidence["intervention"])) or list(t.interventions)
    if st.session_state.get(state.GM_INTERVENTION) not in iv_options:
        st.session_state[state.GM_INTERVENTION] = iv_options[0]
    col_a, col_b = st.columns(2)
    iv = col_a.selectbox("Intervention", iv_options, key=state.GM_INTERVENTION, format_func=lambda k: t.interventions[k]["label"])
    oc_options = list(with_evidence.loc[with_evidence["intervention"] == iv, "outcome"]) or list(t.outcomes)
    if st.session_state.get(state.GM_OUTCOME) not in oc_options:
        st.session_state[state.GM_OUTCOME] = oc_options[0]
    oc = col_b.selectbox("Outcome", oc_options, key=state.GM_OUTCOME, format_func=lambda k: t.outcomes[k]["label"])
    if st.button("Open in What works", type="primary"):
        st.session_state[state.WW_INTERVENTION] = iv
        st.session_state[state.WW_OUTCOME] = oc
        st.switch_page("app_pages/what_works.py")


open_a_cell()
