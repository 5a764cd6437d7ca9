"""Page 4 — Where: which countries the evidence comes from, and for which interventions."""

import streamlit as st

from evidence.synthesis.where import evidence_by_country
from evidence.views.components import catalogue_ready, md
from evidence.views.loaders import catalogue_stamp, load_studies

st.title("Where the evidence comes from")
catalogue_ready()
where = evidence_by_country(load_studies(catalogue_stamp(), ()))
if where.ranked.empty:
    st.info("No study in the catalogue names a country yet.")
    st.stop()
st.caption(md(f"{len(where.ranked)} countries, every coded study (including those mapped without numbers yet). "
              "A multi-country study counts once for each of its countries."))
st.subheader("Countries ranked by number of studies")
st.dataframe(where.ranked, hide_index=True)
st.subheader("Countries × interventions (number of studies)")
st.dataframe(where.matrix)
st.subheader("By region")
st.dataframe(where.by_region, hide_index=True)
