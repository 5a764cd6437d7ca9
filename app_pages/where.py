"""Page 4 — Where: which countries the evidence comes from (a world map and its tables), for which
interventions. Clicking a country sets the sidebar's country filter, which every page applies."""

import streamlit as st

from evidence.synthesis.labels import MISSING, readable
from evidence.synthesis.where import clicked_country, evidence_by_country, world_map_chart
from evidence.views import state
from evidence.views.components import catalogue_ready, md, sidebar_filters
from evidence.views.loaders import catalogue_stamp, load_studies


def _pick_country():
    """Map click -> the sidebar's country filter (runs before the page, so the widget takes it)."""
    code = clicked_country(st.session_state.get(state.WH_MAP))
    if code:
        st.session_state[state.COUNTRY_FILTER] = [code]
        st.session_state[state.SHADOW_PREFIX + state.COUNTRY_FILTER] = [code]


st.title("Where the evidence comes from")
catalogue_ready()
filters = sidebar_filters()
chosen = dict(filters).get("countries", ())
# The map shows every country the other filters allow, so another country can still be clicked.
where = evidence_by_country(load_studies(catalogue_stamp(), tuple(i for i in filters if i[0] != "countries")))
if where.ranked.empty:
    st.info("No study under these filters names a country.")
    st.stop()
st.caption(md(f"{len(where.ranked)} countries under the sidebar's filters (country aside), every coded study "
              "(including those mapped without numbers yet). A multi-country study counts once for each of its countries."))
st.altair_chart(world_map_chart(where.ranked, chosen), key=state.WH_MAP, on_select=_pick_country,
                selection_mode="country", width="stretch", theme=None)
names = dict(zip(where.ranked["iso3"], where.ranked["country"]))
if chosen:
    st.success(md(f"Country filter: {', '.join(names.get(c, c) for c in chosen)}. The gap map, What works and Studies "
                  "now show only its evidence; clear it in the sidebar."))
else:
    st.caption("Click a country to filter the other pages to its evidence (the sidebar's Country filter); countries with "
               "studies have a dark outline, the chosen one a thick one. The tables below are the map's text alternative.")
st.header("Countries ranked by number of studies")
st.dataframe(readable(where.ranked), hide_index=True, placeholder=MISSING)
st.header("Countries × interventions (number of studies)")
st.dataframe(readable(where.matrix.rename_axis("Country")), placeholder=MISSING)
st.header("By region")
st.dataframe(readable(where.by_region), hide_index=True, placeholder=MISSING)
