"""Code a study: start from a DOI, a BibTeX/RIS entry or a study id; fill the forms; see the derived
effect sizes and every validation problem next to its field; save studies/<id>.yaml or download it.
Layout only: the logic is in evidence.coding (form state, checks, risk of bias, saving)."""

import datetime as dt

import streamlit as st

from evidence import config, rob
from evidence.coding import draft, form, robplot
from evidence.errors import EvidenceError

S = st.session_state
K = form.key
ANSWERS = ("", "Y", "PY", "PN", "N", "NI", "NA")
START_LABELS = {"doi": "DOI", "bibtex": "BibTeX entry", "ris": "RIS record", "id": "Existing study id"}

st.title("Code a study")

with st.expander("Start", expanded=form.STATE_BASE not in S):
    kind = st.radio("Start from", list(START_LABELS), format_func=START_LABELS.get, horizontal=True, key=form.START_KIND)
    source = st.text_area("DOI, entry or id", key=form.START_TEXT, height=90)
    coder = st.text_input("Coder", key=form.START_CODER)
    st.checkbox("Independent second coding: saved to studies/second-coding/<id>.<coder>.yaml; opening a "
                "study by its id then shows only its identity and sources", key=form.SECOND_CODER)
    if st.button("Start coding", key=form.START_BUTTON):
        try:
            begun = draft.start(kind, source, coder, independent=bool(S.get(form.SECOND_CODER)))
        except EvidenceError as exc:
            st.error(str(exc))
        else:
            for k in [k for k in S.keys() if str(k).startswith(form.PREFIX) or str(k).startswith("n:")]:
                del S[k]
            S.update(form.to_state(begun.study))
            S[form.STATE_BASE], S[form.STATE_ORIGINAL] = begun.study, begun.original
            S[form.STATE_DUPLICATES] = begun.duplicates
            st.rerun()

if form.STATE_BASE not in S:
    st.info("Start from a DOI, a BibTeX or RIS entry, or the id of a study already coded.")
    st.stop()

for c in S.get(form.STATE_DUPLICATES) or []:
    st.warning(f"Likely duplicate: **{c.b}** (score {c.score:g}: {'; '.join(c.reasons)}). Open it by its id "
               "instead, or list it in not_duplicates.")

second = bool(S.get(form.SECOND_CODER))
if second:
    st.info("Independent second coding: this file goes to studies/second-coding/ and is reconciled later.")
study, input_errors = form.from_state(S, S[form.STATE_BASE])
second_coder = (study.get("coding") or {}).get("coder") if second else None
result = draft.check(study, S[form.STATE_ORIGINAL], config.STUDIES_DIR, second_coder)


def problems(name: str) -> None:
    if name in input_errors:
        st.error(input_errors[name])
    for p in result.at(name):
        (st.error if p.severity == "error" else st.warning)(p.message + (f" ({p.hint})" if p.hint else ""))


def widget(f: form.Field, name: str) -> None:
    k = K(name)
    if f.kind == "choice" or f.kind.startswith("ref:"):
        choices = list(f.choices) if f.kind == "choice" else [""] + form.ids(S, f.kind[4:])
        st.selectbox(f.label, choices + ([S[k]] if S.get(k) and S.get(k) not in choices else []), key=k, help=f.help)
    elif f.kind == "tristate":
        st.selectbox(f.label, list(f.choices), key=k)
    elif f.kind == "bool":
        st.checkbox(f.label, key=k)
    elif f.kind == "date":
        if not S.get(k):
            S[k] = dt.date.today()
        st.date_input(f.label, key=k)
    elif f.kind in ("long", "lines"):
        st.text_area(f.label, key=k, height=80, help=f.help)
    else:
        st.text_input(f.label, key=k, help=f.help)
    problems(name)


def fields(specs, base: str, cols: int = 3) -> None:
    grid = st.columns(cols)
    for i, f in enumerate(specs):
        with grid[i % cols]:
            widget(f, form.full(base, f.name))


def add(name: str) -> None:
    S.update(form.new_item(name, S))


def remove(name: str) -> None:
    S[form.COUNT[name]] -= 1


def add_remove(name: str, title: str) -> None:
    a, b = st.columns(2)
    a.button(f"Add {title.lower()}", key=form.add_button(name), on_click=add, args=(name,))
    if S.get(form.COUNT[name], 0):
        b.button(f"Remove last {title.lower()}", key=form.remove_button(name), on_click=remove, args=(name,))


def items(name: str, title: str, specs) -> None:
    for i in range(int(S.get(form.COUNT[name], 0))):
        with st.expander(f"{title} {i + 1}: {S.get(K(f'{name}[{i}].id'), '')}", expanded=True):
            fields(specs, f"{name}[{i}]")
    add_remove(name, title)


identity, programme, arms, design, rob_tab, effects, save = st.tabs(
    ["Identity", "Programme", "Arms", "Design & population", "Risk of bias", "Effects", "Save"])
with identity:
    fields(form.IDENTITY, "")
    st.header("Sources")
    items("sources", "Source", form.SOURCE)
    st.header("Coding")
    fields(form.CODING, "coding")
with programme:
    fields(form.PROGRAMME, "programme")
with arms:
    items("interventions", "Arm", form.ARM)
with design:
    fields(form.DESIGN, "design")
    st.header("Population")
    fields(form.POPULATION, "population")

with effects:
    for i in range(int(S.get(form.COUNT["effects"], 0))):
        base = f"effects[{i}]"
        with st.expander(f"Effect {i + 1}: {S.get(K(base + '.id'), '')}", expanded=True):
            fields(form.EFFECT, base)
            chosen = st.selectbox("Reported form", list(form.FORMS), key=K(base + ".reported.form"))
            problems(base + ".reported.form")
            fields([form.REPORTED[k] for k in form.reported_fields(chosen, S, base)], base, cols=4)
            fields(form.PROVENANCE, base)
            eff = (study.get("effects") or [{}] * (i + 1))[i]
            pv = draft.preview(eff.get("reported") or {}, study.get("design"))
            if pv.error:
                st.error(f"Effect size: {pv.error}")
            elif pv.effect is not None:
                e = pv.effect
                vi = "no variance (headline)" if e.vi is None else f"vi = {e.vi:.6g} (SE {e.se:.4g})"
                st.success(f"Derived: yi = {e.yi:.6g} {e.metric} ({e.measure}), {vi}"
                           + (" - variance imputed" if e.variance_imputed else ""))
                st.caption(" · ".join(e.notes))
    add_remove("effects", "Effect")

with rob_tab:
    suggested = rob.tool_for_design((study.get("design") or {}).get("type"))
    st.caption(f"For this design the guided tool is **{rob.tool_spec(suggested)['label']}**.")
    widget(form.Field("risk_of_bias.tool", "Tool", "choice", ("", *rob.TOOLS)), "risk_of_bias.tool")
    tool = S.get(K("risk_of_bias.tool"))
    if tool in rob.TOOLS:
        spec, judged = rob.tool_spec(tool), {}
        for d in spec["domains"]:
            dom = d["id"]
            with st.expander(d["label"], expanded=True):
                answers = {q["id"]: S.get(K(f"risk_of_bias.answers.{dom}.{q['id']}")) for q in d["questions"]}
                for q in rob.open_questions(tool, dom, {k: v for k, v in answers.items() if v}):
                    st.selectbox(f"{q['id']} {q['text']}", ANSWERS, key=K(f"risk_of_bias.answers.{dom}.{q['id']}"))
                p = rob.propose_domain(tool, dom, {k: v for k, v in answers.items() if v})
                st.caption(f"Algorithm: **{p.judgement or '-'}** ({p.why})")
                st.selectbox("Judgement (empty: the algorithm's)", ("",) + tuple(spec["judgements"]),
                             key=K(f"risk_of_bias.domains.{dom}"))
                st.text_input("Reason, if you judge otherwise", key=K(f"risk_of_bias.overrides.{dom}"))
                problems(f"risk_of_bias.domains.{dom}")
        judged = (study.get("risk_of_bias") or {}).get("domains") or {}
        p = rob.propose_overall(tool, judged)
        st.caption(f"Overall, the algorithm proposes **{p.judgement or '-'}** ({p.why})")
        st.selectbox("Overall (empty: the algorithm's)", ("",) + tuple(spec["judgements"]), key=K("risk_of_bias.overall"))
        st.text_input("Reason, if you judge otherwise", key=K("risk_of_bias.overrides.overall"))
        problems("risk_of_bias.overall")
    elif tool:
        widget(form.Field("risk_of_bias.overall", "Overall (as the source rates it)"), "risk_of_bias.overall")
    if tool:
        for k in form.ROB_TEXT:
            widget(form.Field(f"risk_of_bias.{k}", k.capitalize()), f"risk_of_bias.{k}")
    st.header("Evidence quality (a clearinghouse's rating, not a risk of bias)")
    st.caption("E.g. US DOL CLEAR's high / moderate / low quality of causal evidence, in the rater's words.")
    fields(form.QUALITY, "evidence_quality")
    if tool in robplot.STYLE:
        st.header("Across the studies")
        others = [s for s in draft.coded_studies(config.STUDIES_DIR) if s.get("id") != study.get("id")]
        assessed = sorted(robplot.assessments(others + [study], tool).study.unique())
        chosen = set(st.multiselect("Studies in the plots", assessed, default=assessed, key=form.ROB_SELECTION))
        others = [s for s in others if s.get("id") in chosen]
        df = robplot.assessments(others + ([study] if (study.get("id") or robplot.DRAFT) in chosen else []), tool)
        if not df.empty:
            st.altair_chart(robplot.traffic_light(df, tool), theme=None, width="content")
            if st.checkbox("Weight the summary by sample size", key=form.ROB_WEIGHTED):
                pairs = [(s, robplot.sample_size(s)) for s in others + [study]]
                weighted = robplot.assessments([(s, w) for s, w in pairs if w], tool)
                left_out = df.study.nunique() - weighted.study.nunique()
                if left_out:
                    st.caption(f"{left_out} study(ies) without a sample size left out of the weighted summary.")
                if not weighted.empty:
                    st.altair_chart(robplot.summary(weighted, tool, weighted=True), theme=None, width="content")
            else:
                st.altair_chart(robplot.summary(df, tool, weighted=False), theme=None, width="content")
            with st.expander("Table of these plots"):
                st.dataframe(robplot.judgement_table(df, tool), hide_index=True)

with save:
    st.code(result.text, language="yaml")
    rest = result.elsewhere(form.visible_fields(S))
    for p in rest:
        (st.error if p.severity == "error" else st.warning)(f"{p.field}: {p.message}" + (f" ({p.hint})" if p.hint else ""))
    n_err = len(result.errors) + len(input_errors)
    st.metric("Problems to fix", n_err)
    target = draft.target_path(study, config.STUDIES_DIR, second_coder)
    if draft.writable(config.STUDIES_DIR):
        if st.button(f"Save {target.relative_to(config.STUDIES_DIR.parent)}", key=form.SAVE_BUTTON, disabled=bool(n_err)):
            try:
                S[form.STATE_SAVED] = str(draft.save(study, S[form.STATE_ORIGINAL], config.STUDIES_DIR, second_coder))
                S[form.STATE_ORIGINAL] = result.text
                S[form.STATE_BASE] = study
            except EvidenceError as exc:
                st.error(str(exc))
    else:
        st.info("The studies folder is not writable here: download the file and commit it.")
    if S.get(form.STATE_SAVED):
        st.success(f"Saved {S[form.STATE_SAVED]}")
    st.download_button("Download the study file", result.text, file_name=target.name, mime="application/x-yaml",
                       key="coding:download")
