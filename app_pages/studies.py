"""Page 3 — Studies: a searchable table of every coded study, and one study's record with every
effect and the source passage it was coded from."""

import pandas as pd
import streamlit as st

from evidence.synthesis.labels import MISSING, readable
from evidence.synthesis.studies import effect_card, effect_rows, record_parts, search_studies, study_labels, study_table
from evidence.taxonomy import taxonomy
from evidence.views import state
from evidence.views.components import catalogue_ready, doi_link, is_web_link, md, record_table, sidebar_filters, text_header
from evidence.views.loaders import catalogue_stamp, load_effects, load_programmes, load_studies, load_study

t = taxonomy()
st.title("Studies")
catalogue_ready()
stamp = catalogue_stamp()
filters = sidebar_filters()  # the sidebar's filters (a country clicked on the Where map among them) apply here too
studies = load_studies(stamp, filters)
studies = studies.assign(programme=studies["id"].map(load_programmes(stamp)).fillna(""))
query = st.text_input("Search title, authors, programme, country", key="st_query")
c1, c2, c3 = st.columns(3)
designs = c1.multiselect("Design", sorted(studies["design"].dropna().unique()), key="st_design",
                         format_func=lambda d: t.designs.get(d, {}).get("label", d))
status = c2.multiselect("Coding status", sorted(studies["coding_status"].dropna().unique()), key="st_status")
rob = c3.multiselect("Risk of bias", sorted(studies["risk_of_bias"].dropna().unique()), key="st_rob")

shown = search_studies(studies, query, design=designs, coding_status=status, risk_of_bias=rob)
st.caption(md(f"{len(shown)} of {len(studies)} studies"))
labels = study_labels(studies)  # one distinct name per study (two studies may share a citation)
event = st.dataframe(study_table(shown, labels), hide_index=True, on_select="rerun", selection_mode="single-row", key="st_table",
                     placeholder=MISSING)
rows = event.selection.rows if event is not None else []
options = list(shown["id"])
if rows:
    st.session_state[state.ST_STUDY] = options[rows[0]]
if not options:
    st.stop()
if st.session_state.get(state.ST_STUDY) not in options:
    st.session_state[state.ST_STUDY] = options[0]
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
    st.header("Programme")
    record_table(parts["programme"])
    st.header("Interventions")
    for arm in parts["arms"]:
        record_table(arm)
with cols[1]:
    st.header("Design and population")
    record_table(parts["design_population"])
    st.header("Risk of bias (RoB 2 / ROBINS-I)")
    rob = parts["risk_of_bias"]
    if rob:
        record_table({k: v for k, v in rob.items() if k != "domains"})
        if rob.get("domains"):
            st.dataframe(readable(pd.DataFrame(rob["domains"]), headers={"domain": "Domain", "judgement": "Judgement",
                                                                         "level": "Risk level"}),
                         hide_index=True, placeholder=MISSING)
    else:
        st.write("Not assessed yet.")
    st.header("Evidence quality (clearinghouse rating)")
    if parts["evidence_quality"]:
        record_table(parts["evidence_quality"])
    else:
        st.write("Not rated.")
st.header("Effects, with the passage each number was coded from")
eff = load_effects(stamp, ())
effects_shown = effect_rows(eff[eff["study_id"] == sid])
if effects_shown.empty:
    st.write("No effect coded yet (the study is mapped without numbers).")
for card in (effect_card(r) for r in effects_shown.to_dict("records")):
    with st.container(border=True):
        st.markdown(f"**{md(card['heading'])}**" + (f"  \n{md(card['tags'])}" if card["tags"] else ""))
        st.markdown(md(f"As reported: {card['reported']}") + "  \n" + md(f"As analysed: {card['analysed']}"))
        if card["quote"]:
            st.markdown("> " + md(card["quote"]).replace("\n", "\n> "))
        st.caption(md(f"{card['location'] or 'Location not recorded'}" + (f" — {card['source']}" if card["source"] else "")
                      + (f". Conversion: {card['notes']}" if card["notes"] else "")))
        if card["link"]:
            st.link_button("Open the source", card["link"])
with st.expander("All effects of this study as a table"):
    st.dataframe(readable(effects_shown), hide_index=True, placeholder=MISSING,
                 column_config={"Source link": st.column_config.LinkColumn("Source link")})
if rec.get("versions"):
    st.header("Other versions")
    st.dataframe(readable(pd.DataFrame(rec["versions"]).drop(columns="seq", errors="ignore"),
                          headers={"kind": "Kind of publication", "title": "Title", "venue": "Venue", "doi": "DOI", "url": "Link"}),
                 hide_index=True, placeholder=MISSING, column_config={"Link": st.column_config.LinkColumn("Link")})

from evidence.views.loaders import load_coding_queue

with st.expander("What to code next"):
    todo = load_coding_queue(stamp)
    st.caption(md(f"{len(todo)} studies mapped, headline only or missing parts, ranked by how much coding them from the full "
                  "text would change the answers: cells one study short of pooling first, then national or large programmes, "
                  "then the rest (`evidence todo` prints the same queue)."))
    st.dataframe(readable(todo[["rank", "citation", "status", "reason", "missing", "where", "link"]],
                          headers={"rank": "Rank", "citation": "Study", "status": "Coding status", "reason": "Why next",
                                   "missing": "Missing", "where": "Where to find it", "link": "Link"}),
                 hide_index=True, key="st_todo", placeholder=MISSING, column_config={"Link": st.column_config.LinkColumn("Link")})
