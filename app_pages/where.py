"""Page 4 — Where: which countries the evidence comes from, and for which interventions."""

import pandas as pd
import streamlit as st

from evidence.views.analysis import _as_list
from evidence.views.widgets import catalogue_ready, load_effects, md

st.title("Where the evidence comes from")
catalogue_ready()
effects = load_effects(())
rows = []
for _, e in effects.iterrows():
    codes, names, regions = _as_list(e["countries"]), _as_list(e["country_names"]), _as_list(e["regions"])
    for i, code in enumerate(codes):
        rows.append({"country": names[i] if i < len(names) else code, "iso3": code,
                     "region": regions[i] if i < len(regions) else (regions[0] if regions else ""),
                     "intervention": e["intervention_label"], "study_id": e["study_id"]})
long = pd.DataFrame(rows, columns=["country", "iso3", "region", "intervention", "study_id"])
if long.empty:
    st.info("No study in the catalogue names a country yet.")
    st.stop()
ranked = (long.groupby(["country", "iso3", "region"])
          .agg(studies=("study_id", "nunique"), effects=("study_id", "size"),
               interventions=("intervention", lambda s: "; ".join(sorted(set(s)))))
          .reset_index().sort_values(["studies", "effects"], ascending=False))
st.caption(md(f"{ranked['iso3'].nunique()} countries. A multi-country study counts once for each of its countries."))
st.subheader("Countries ranked by number of studies")
st.dataframe(ranked, hide_index=True)
st.subheader("Countries × interventions (number of studies)")
matrix = long.pivot_table(index="country", columns="intervention", values="study_id", aggfunc="nunique", fill_value=0)
matrix = matrix.loc[ranked["country"].drop_duplicates()]
st.dataframe(matrix)
by_region = long.groupby("region")["study_id"].nunique().rename("studies").reset_index().sort_values("studies", ascending=False)
st.subheader("By region")
st.dataframe(by_region, hide_index=True)
