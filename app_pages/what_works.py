"""Page 2 — What works: one intervention on one outcome. Headline, pooled effect, forest plot,
heterogeneity, funnel plot, sensitivity switches, harms, "for my context" and effect per $100.
Interactive numbers come from the exact Bayesian engine; sampled models run only on request."""

import json

import pandas as pd
import streamlit as st

from evidence import synthesis
from evidence.synthesis import context
from evidence.synthesis.answer import prior_sensitivity
from evidence.synthesis.labels import MISSING, readable
from evidence.synthesis.metrics import default_tau_scale, metric_unit
from evidence.taxonomy import taxonomy
from evidence.views import state
from evidence.views.cards import DIRECTION_SHORT
from evidence.views.components import catalogue_ready, md, result_views, show_figure, sidebar_filters
from evidence.views.downloads import summary_downloads
from evidence.views.loaders import (
    catalogue_stamp,
    load_card,
    load_cell_choices,
    load_choices,
    load_context_answer,
    load_gap_map,
    load_what_works,
    load_what_works_view,
)
from evidence.views.prepared import SUBGROUP_COLUMNS

t = taxonomy()
st.title("What works")
catalogue_ready()
filters = sidebar_filters()
stamp = catalogue_stamp()

# -- which intervention and outcome (from the gap map, a shared link, or chosen here) ------------
qp = st.query_params
for key, param in ((state.WW_INTERVENTION, "intervention"), (state.WW_OUTCOME, "outcome")):
    if key not in st.session_state and qp.get(param):
        st.session_state[key] = qp.get(param)
if state.WW_INTERVENTION not in st.session_state:  # first visit: open the cell with the most pooled studies
    best = synthesis.best_cell(load_gap_map(stamp, filters))
    if best:
        st.session_state[state.WW_INTERVENTION], st.session_state[state.WW_OUTCOME] = best
picks = load_choices(stamp, filters)
iv_options = list(picks.interventions) or list(t.interventions)
if st.session_state.get(state.WW_INTERVENTION) in t.interventions and st.session_state[state.WW_INTERVENTION] not in iv_options:
    iv_options.append(st.session_state[state.WW_INTERVENTION])
if st.session_state.get(state.WW_INTERVENTION) not in iv_options:
    st.session_state[state.WW_INTERVENTION] = iv_options[0]
c1, c2 = st.columns(2)
iv = c1.selectbox("Intervention", iv_options, key=state.WW_INTERVENTION, format_func=lambda k: t.interventions.get(k, {}).get("label", k))
oc_options = list(picks.outcomes.get(iv, ())) or list(t.outcomes)
if st.session_state.get(state.WW_OUTCOME) in t.outcomes and st.session_state[state.WW_OUTCOME] not in oc_options:
    oc_options.append(st.session_state[state.WW_OUTCOME])  # a filter that empties the cell says so; it never switches outcome
if st.session_state.get(state.WW_OUTCOME) not in oc_options:
    st.session_state[state.WW_OUTCOME] = oc_options[0]
oc = c2.selectbox("Outcome", oc_options, key=state.WW_OUTCOME, format_func=lambda k: t.outcomes.get(k, {}).get("label", k))
st.query_params.update({"intervention": iv, "outcome": oc})

# -- sensitivity switches ------------------------------------------------------------------------
with st.expander("Sensitivity: which effects are pooled, and how", expanded=True):
    s1, s2, s3 = st.columns(3)
    excl_rob = s1.toggle("Exclude high risk of bias", key="ww_rob")
    excl_imp = s1.toggle("Exclude imputed variances", key="ww_imp")
    excl_sec = s1.toggle("Exclude secondary sources", key="ww_sec", help="Numbers taken from a published review's table.")
    dependence = s2.radio("Several effects per study", ["primary", "all"], key="ww_dep",
                          format_func={"primary": "Primary effect per study", "all": "All effects (three-level model)"}.get)
    tau_family = s3.selectbox("Prior on tau", synthesis.TAU_FAMILIES, key="ww_tau")
    in_cell = load_cell_choices(stamp, filters, iv, oc)  # one distinct name per study, as on the Studies page
    study_labels = in_cell.study_labels
    leave_out = s2.multiselect("Leave studies out", list(study_labels), key="ww_leave", format_func=lambda s: study_labels.get(s, s))
    metric_choice = None
    if len(in_cell.metrics) > 1:
        metric_choice = s3.selectbox("Metric", in_cell.metrics, key="ww_metric", format_func=synthesis.metric_label)
    metric_now = metric_choice or in_cell.main_metric
    default_scale = default_tau_scale(metric_now)
    scale_key = f"ww_scale_{metric_now}"  # one value per metric: a scale in pp never carries over to log odds
    scale = s3.number_input(f"Prior scale on tau ({metric_unit(metric_now, 'metric units')})", min_value=default_scale / 100,
                            value=default_scale, step=default_scale / 10, key=scale_key, format="%.3g",
                            help=f"Default for this metric: {default_scale:g}.")

options = synthesis.WhatWorksOptions(iv, oc, metric_choice, excl_rob, excl_imp, tau_family,
                                     None if scale == default_scale else scale, dependence, tuple(leave_out),
                                     exclude_secondary=excl_sec)
ww = load_what_works(stamp, filters, options)
view = load_what_works_view(stamp, filters, options)  # its charts and tables, prepared once for every session
unit = synthesis.metric_label(ww.metric)
st.caption(md(f"Prior in force on the between-study SD (tau): {ww.tau_prior}"
              + (" (the default for this metric)." if options.tau_scale is None and tau_family == "halfnormal" else ".")))
note = prior_sensitivity(ww)
if note:
    st.warning(md(note))

# -- headline ------------------------------------------------------------------------------------
result, headline = ww.result, ww.headline  # ww is shared by every session: read, never changed
if dependence == "all" and ww.reason and ww.metric and ww.selected["study_id"].nunique() >= 2:
    st.info(md(ww.reason))
    if st.button("Run the three-level model (NUTS sampler, may take a minute)", key="ww_run3"):
        with st.spinner("Sampling the three-level model…"):
            from evidence.views.sampled import three_level  # lazy: PyMC is imported only here
            st.session_state[state.WW_THREE_LEVEL] = (options, filters, three_level(ww))
    stored = st.session_state.get(state.WW_THREE_LEVEL)
    if stored and stored[0] == options and stored[1] == filters:
        result = stored[2]
        headline = synthesis.headline_for(ww, result)
card = load_card(stamp, filters, options)
st.header(md(card.statement))
m1, m2, m3 = st.columns(3)
verb, meaning = context.CERTAINTY_MEANING.get(card.certainty or "", ("", ""))
m1.metric("Certainty of the evidence", (card.certainty.capitalize() + (f" (“{verb}”)" if verb else "")) if card.certainty
          else "not rated",
          help="GRADE-style rules (start, risk of bias, inconsistency, imprecision, publication bias, indirectness); "
               "the reasons are listed below.")
m2.metric("Studies (pooled / in this cell)", f"{len(card.pooled_ids)} / {card.n_studies}")
m3.metric("Direction", DIRECTION_SHORT.get(card.category, "Not pooled"), help=card.category)
if meaning:
    st.caption(md(f"How sure we are: {card.certainty} certainty. {meaning}"))
if result is not None:
    st.header(md(headline))
    if card.absolute is not None and result is ww.result:
        st.info(md(card.absolute.text))
    st.caption(md(synthesis.pooled_caption(ww, result)))
    if card.secondary:
        st.caption(md(f"{card.secondary} pooled number(s) come from a published review's table (a secondary source); "
                      "switch 'Exclude secondary sources' to leave them out."))
    with st.expander("Why this certainty rating"):
        for line in card.certainty_reasons:
            st.write(md("• " + line))
else:
    st.warning(md(ww.reason or "Nothing to pool."))
st.markdown("**Vote count by direction of effect (SWiM):** " + md(card.vote_statement))
if view.subgroups:
    st.header("Girls, boys and age bands")
    st.table(pd.DataFrame(view.subgroups, columns=SUBGROUP_COLUMNS).set_index("Subgroup"))  # a table: the text wraps
if result is None and view.harvest is not None:
    st.header("Harvest plot: what each study reports")
    show_figure(view.harvest, "ww_harvest")

if card.harms:  # the card's harms, as the summaries and `evidence answer` list them
    st.error(md(f"Harm flagged: {len(card.harms)} effect(s) in this cell were coded as harmful "
                "(the study reports the outcome got worse)."))
    for h in card.harms:
        st.markdown(f"**{md(h['citation'])}** ({md(h['effect_id'])}): “{md(h['quote'] or 'no quote coded')}”")

if result is not None:
    result_views(result, ww.metric, unit, "ww", view.result_figures if result is ww.result else ())
    if st.toggle("Leave-one-out (each study left out in turn)", key="ww_loo"):
        st.dataframe(readable(synthesis.leave_one_out(ww), unit), hide_index=True, placeholder=MISSING)

    st.header("Effect per US$100 of transfer a year")
    st.write(md(view.per_100_message))
    if view.per_100_table is not None:
        st.dataframe(view.per_100_table, hide_index=True, placeholder=MISSING)

@st.fragment
def for_my_context(ww: synthesis.WhatWorks, levels: dict, question: tuple) -> None:
    """"For my context": its six controls change only the answer below them, so a change reruns this
    fragment, not the page (the pooled result, charts and tables above are not rebuilt and resent).
    ``levels``: the values each control offers; ``question``: the loaders' key of this answer (catalogue
    stamp, filters, options), with which the answer for a stated context is looked up."""
    if not len(ww.cell):
        st.info("For my context: no study in this cell under the current filters; widen the filters to compare contexts.")
        return
    st.header("For my context")
    st.caption("State what you know of your programme; the answer separates what the coded studies allow and says "
               "in one line for each other characteristic why not, and what would be needed.")
    NOT_STATED = "(not stated)"
    cols = st.columns(5)
    chosen = {}
    for col, (c, label) in zip(cols, context.CHARACTERISTICS.items()):
        if c == "usd_per_year":
            usd = col.number_input(label, min_value=0.0, value=0.0, step=50.0, key="ww_ctx_usd",
                                   disabled=not levels[c], help="0 = not stated." if levels[c] else
                                   "No study in this cell states the transfer's value in US$ a year.")
            chosen[c] = usd or None
        else:
            v = col.selectbox(label, [NOT_STATED, *levels[c]], key=f"ww_ctx_{c}", format_func=lambda x, c=c: (
                t.designs.get(x, {}).get("label", x) if c == "design" else x))
            chosen[c] = None if v == NOT_STATED else v
    ctx = load_context_answer(*question, context.Context(**chosen))
    if ctx.text and ctx.context.stated():
        st.success(md(ctx.text) + (("\n\n" + md(ctx.per_100)) if ctx.per_100 else ""))
    for line in ctx.reasons:
        st.info(md(line))


for_my_context(ww, view.context_levels, (stamp, filters, options))

if view.excluded is not None:
    with st.expander(f"Effects not pooled ({view.excluded.num_rows}) and why"):
        st.dataframe(view.excluded, hide_index=True, placeholder=MISSING)

# -- evidence summary: the same document `evidence summary` writes ------------------------------
st.header("Download the evidence summary")
summary_downloads(stamp, filters, options)
if result is not None:
    st.download_button("Result (JSON)", json.dumps(result.to_dict(), indent=2), file_name="what-works-result.json",
                       mime="application/json", key="ww_json")
