"""Page 3 — Studies: a searchable table of every coded study, and one study's record with every
effect and the source passage it was coded from."""

import streamlit as st

from evidence.synthesis.studies import record_parts, search_studies
from evidence.taxonomy import taxonomy
from evidence.views import state
from evidence.views.components import catalogue_ready, doi_link, is_web_link, md, record_table, text_header
from evidence.views.loaders import catalogue_stamp, load_effects, load_programmes, load_studies, load_study

t = taxonomy()
st.title("Studies")
catalogue_ready()
stamp = catalogue_stamp()
studies = load_studies(stamp, ())
studies = studies.assign(programme=studies["id"].map(load_programmes(stamp)).fillna(""))
query = st.text_input("Search title, authors, programme, country", key="st_query")
c1, c2, c3 = st.columns(3)
designs = c1.multiselect("Design", sorted(studies["design"].dropna().unique()), key="st_design",
                         format_func=lambda d: t.designs.get(d, {}).get("label", d))
status = c2.multiselect("Coding status", sorted(studies["coding_status"].dropna().unique()), key="st_status")
rob = c3.multiselect("Risk of bias", sorted(studies["risk_of_bias"].dropna().unique()), key="st_rob")

shown = search_studies(studies, query, design=designs, coding_status=status, risk_of_bias=rob)
st.caption(md(f"{len(shown)} of {len(studies)} studies"))
event = st.dataframe(shown[["citation", "title", "programme", "year", "country_names", "design", "interventions", "outcomes", "risk_of_bias",
                            "quality_rating", "coding_status", "n_effects"]], hide_index=True, on_select="rerun", selection_mode="single-row",
                     column_config={"risk_of_bias": "risk of bias (RoB 2 / ROBINS-I)",
                                    "quality_rating": "evidence quality (CLEAR)"}, key="st_table")
rows = event.selection.rows if event is not None else []
options = list(shown["id"])
if rows:
    st.session_state[state.ST_STUDY] = options[rows[0]]
if not options:
    st.stop()
if st.session_state.get(state.ST_STUDY) not in options:
    st.session_state[state.ST_STUDY] = options[0]
labels = dict(zip(shown["id"], shown["citation"]))
sid = st.selectbox("Study", options, key=state.ST_STUDY, format_func=lambda s: labels.get(s, s))

rec = load_study(stamp, sid)
parts = record_parts(rec)
text_header(rec.get("title", sid))
st.write(md(parts["byline"]))
st.caption(md(f"Coding status: {rec.get('coding_status')}; coded by {rec.get('coder')} on {rec.get('coding_date')}."))
for label, key in (("DOI", "doi"), ("Link", "url")):
    value = rec.get(key)
    if value:
        href = str(value) if is_web_link(value) else doi_link(value) if key == "doi" else None
        if href:
            st.link_button(md(f"{label}: {value}"[:90]), href)  # the label is Markdown: escaped
cols = st.columns(2)
with cols[0]:
    st.subheader("Programme")
    record_table(parts["programme"])
    st.subheader("Interventions")
    for arm in parts["arms"]:
        record_table(arm)
with cols[1]:
    st.subheader("Design and population")
    record_table(parts["design_population"])
    st.subheader("Risk of bias (RoB 2 / ROBINS-I)")
    rob = parts["risk_of_bias"]
    if rob:
        record_table({k: v for k, v in rob.items() if k != "domains"})
        if rob.get("domains"):
            st.dataframe(rob["domains"], hide_index=True)
    else:
        st.write("Not assessed yet.")
    st.subheader("Evidence quality (clearinghouse rating)")
    if parts["evidence_quality"]:
        record_table(parts["evidence_quality"])
    else:
        st.write("Not rated.")
st.subheader("Effects, with the passage each number was coded from")
eff = load_effects(stamp, ())
eff = eff[eff["study_id"] == sid]
web = eff["source_url"].map(is_web_link)
eff = eff.assign(source_link=eff["source_url"].where(web), source=eff["source_url"].where(~web))  # links only for http(s)
st.dataframe(eff[["effect_id", "intervention_label", "outcome_label", "subgroup_label", "primary", "estimate", "unit", "se",
                  "significance", "reported_direction", "metric", "yi", "vi", "variance_imputed", "secondary", "harmful", "location",
                  "quote", "source_link",
                  "source", "conversion_notes"]], hide_index=True,
             column_config={"source_link": st.column_config.LinkColumn("source link"),
                            "source": st.column_config.TextColumn("source (not a web address)")})
if rec.get("versions"):
    st.subheader("Other versions")
    st.dataframe(rec["versions"], hide_index=True)

from evidence.views.loaders import load_coding_queue

with st.expander("What to code next"):
    todo = load_coding_queue(stamp)
    st.caption(md(f"{len(todo)} studies mapped, headline only or missing parts, ranked by how much coding them from the full "
                  "text would change the answers: cells one study short of pooling first, then national or large programmes, "
                  "then the rest (`evidence todo` prints the same queue)."))
    st.dataframe(todo[["rank", "citation", "status", "reason", "missing", "where", "link"]], hide_index=True,
                 column_config={"link": st.column_config.LinkColumn("link")}, key="st_todo")
