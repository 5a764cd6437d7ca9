"""Start here: what this repository is and for whom, how much evidence there is (honestly), the
best-supported findings as answer cards, and a question that opens What works. Every number comes
from the catalogue (:mod:`evidence.synthesis.landing`); the cards are the answer cards of
``evidence answer`` for the same cells, on the whole catalogue."""

import streamlit as st

from evidence import synthesis
from evidence.synthesis import landing
from evidence.taxonomy import taxonomy
from evidence.views import state
from evidence.views.cards import card_summary
from evidence.views.components import AGES, catalogue_ready, choose_filters, md
from evidence.views.loaders import catalogue_stamp, load_card, load_effects, load_gap_map, load_studies

t = taxonomy()
st.title("What works to reduce child labour?")
catalogue_ready()
st.markdown("An open, living synthesis of impact evaluations of cash transfers, schooling and child-protection "
            "programmes and what they do to child labour and schooling. It is meant for ministries, funders and "
            "researchers who need to know **which programmes reduce child labour, by how much, for whom, and how "
            "sure we are**, with every number traceable to the page of the study it came from.")

stamp = catalogue_stamp()
effects = load_effects(stamp, ())
cells = load_gap_map(stamp, (), "halfnormal")
facts = landing.evidence_state(load_studies(stamp, ()), effects, cells)

st.header("How much evidence there is")
m1, m2, m3, m4 = st.columns(4)
m1.metric("Studies", facts.n_studies)
m2.metric("Studies with numbers", facts.studies_with_estimate, help="At least one effect with an estimate entered.")
m3.metric("Studies a meta-analysis can use", facts.studies_with_variance, help="At least one effect with a standard error.")
m4.metric("Cells that pool", f"{facts.cells_pooled} of {facts.cells_with_studies}",
          help="Programme x outcome cells with two or more studies pooled, of the cells with at least one study.")
st.write(md(facts.paragraph))
with st.expander("What the coding statuses mean"):
    for status, meaning in facts.status_meaning.items():
        st.write(md(f"• {status} ({facts.by_status[status]} studies): {meaning}."))

st.header("Best-supported findings so far")
st.caption("The pooled cells with the highest certainty, then the most studies pooled (one per programme first); "
           "whole catalogue, default model choices.")
findings = landing.best_findings(cells)
if not findings:
    st.info("No cell can be pooled yet: no two studies report the same outcome with a standard error.")
for i, (iv, oc) in enumerate(findings):
    card = load_card(stamp, (), synthesis.WhatWorksOptions(iv, oc))
    with st.container(border=True, key=f"home_card_{i}"):
        card_summary(card)
        if st.button("Open in What works", key=f"home_open_{i}"):
            st.session_state[state.WW_INTERVENTION], st.session_state[state.WW_OUTCOME] = iv, oc
            st.switch_page("app_pages/what_works.py")

st.header("Start with a question")
with_studies = cells[cells["n_studies"] > 0]
q1, q2 = st.columns(2)
programme = q1.selectbox("Which programme?", list(dict.fromkeys(with_studies["intervention"])), key="home_iv",
                         format_func=lambda k: t.interventions[k]["label"])
outcome = q2.selectbox("On what outcome?", list(with_studies.loc[with_studies["intervention"] == programme, "outcome"]),
                       key="home_oc", format_func=lambda k: t.outcomes[k]["label"])
q3, q4, q5 = st.columns(3)
regions = sorted({r for v in effects["regions"] for r in synthesis.as_list(v)})
region = q3.selectbox("Where?", ["Anywhere", *regions], key="home_region")
sex = q4.selectbox("For whom?", ["any", "girls", "boys"], key="home_sex",
                   format_func={"any": "All children", "girls": "Girls", "boys": "Boys"}.get)
ages = q5.slider("Children's ages", *AGES, value=AGES, key="home_ages")
if st.button("See what works", type="primary", key="home_ask"):
    choose_filters({"regions": [] if region == "Anywhere" else [region], "sex": sex, "ages": tuple(ages)})
    st.session_state[state.WW_INTERVENTION], st.session_state[state.WW_OUTCOME] = programme, outcome
    st.switch_page("app_pages/what_works.py")
st.caption("Or browse everything on the Evidence gap map, one click away in the menu.")
if st.button("Open the evidence gap map", key="home_map"):
    st.switch_page("app_pages/gap_map.py")
