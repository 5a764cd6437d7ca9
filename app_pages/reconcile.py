"""Reconcile two independent codings: every disagreement field by field with both values and quotes,
percent agreement and Cohen's kappa over the categorical fields, and the reconciled file.
Layout only: the logic is in evidence.coding.reconcile."""

import pandas as pd
import streamlit as st

from evidence import config
from evidence.coding import draft, reconcile, yamlio
from evidence.config import SECOND_CODING_DIR
from evidence.errors import EvidenceError
from evidence.synthesis import labels

PICK = "reconcile:file"
BY = "reconcile:by"
NOTE = "reconcile:note"
CHOICE = "reconcile:choice:"  # + field
WRITTEN = "reconcile:written"
WRITE = "reconcile:write"

st.title("Reconcile two codings")
folder = config.STUDIES_DIR / SECOND_CODING_DIR
files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
if not files:
    st.info(f"No second coding yet: a second coder saves to studies/{SECOND_CODING_DIR}/<id>.<coder>.yaml.")
    st.stop()
pick = st.selectbox("Second coding", files, format_func=lambda p: p.name, key=PICK)
first_path = config.STUDIES_DIR / f"{pick.name.split('.')[0]}.yaml"
if not first_path.is_file():
    st.error(f"No study file {first_path.name} for this second coding.")
    st.stop()
try:
    text = first_path.read_text(encoding="utf-8")
    first = yamlio.plain(yamlio.parse(text))
    second = yamlio.plain(yamlio.parse(pick.read_text(encoding="utf-8")))
    cmp = reconcile.compare(first, second)
except EvidenceError as exc:
    st.error(str(exc))
    st.stop()

a, b, c = st.columns(3)
a.metric("Disagreements", len(cmp.disagreements))
b.metric("Agreement (categorical)", "n/a" if cmp.percent_agreement is None else f"{cmp.percent_agreement:.1f}%")
c.metric("Cohen's kappa", "n/a" if cmp.kappa is None else f"{cmp.kappa:.3f}")
st.caption(f"First coder: {cmp.first_coder} ({first_path.name}); second coder: {cmp.second_coder} ({pick.name}); "
           f"{len(cmp.paired)} categorical field(s) coded by both.")
show = lambda v: "" if v is None else str(v)  # noqa: E731
st.dataframe(pd.DataFrame([{"Field": d.field, cmp.first_coder: show(d.first), cmp.second_coder: show(d.second),
                            f"Quote ({cmp.first_coder})": show(d.first_quote),
                            f"Quote ({cmp.second_coder})": show(d.second_quote),
                            "Categorical": labels.cell_text(d.categorical)} for d in cmp.disagreements]),
             hide_index=True, width="stretch")

with st.expander(f"The {len(cmp.paired)} categorical fields behind the agreement and kappa"):
    st.dataframe(pd.DataFrame([{"Field": f, cmp.first_coder: show(x), cmp.second_coder: show(y), "Agree": labels.cell_text(x == y)}
                               for f, x, y in cmp.paired]), hide_index=True, width="stretch")

choices = {}
for d in cmp.disagreements:
    choices[d.field] = st.radio(f"{d.field}: keep", ["first", "second"], horizontal=True, key=CHOICE + d.field,
                                format_func=lambda s: f"{s} ({cmp.first_coder if s == 'first' else cmp.second_coder})")
by = st.text_input("Resolved by", key=BY)
note = st.text_input("Note", key=NOTE)
if not by:
    st.info("Say who resolves the disagreements to get the reconciled file.")
    st.stop()
try:
    merged = reconcile.reconcile(first, second, choices, by, note or None)
except EvidenceError as exc:
    st.error(str(exc))
    st.stop()
result = draft.check(merged, text, config.STUDIES_DIR)
for p in result.errors:
    st.error(f"{p.field}: {p.message}" + (f" ({p.hint})" if p.hint else ""))
if draft.writable(config.STUDIES_DIR) and st.button(f"Write {first_path.name}", disabled=bool(result.errors),
                                                     key=WRITE):
    first_path.write_text(result.text, encoding="utf-8")
    st.session_state[WRITTEN] = str(first_path)
if st.session_state.get(WRITTEN):
    st.success(f"Wrote {st.session_state[WRITTEN]}")
st.download_button("Download the reconciled file", result.text, file_name=first_path.name, key="reconcile:download")
