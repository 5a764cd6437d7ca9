"""Page 5 — Analyse your own data: upload a CSV of effect sizes (or load an example), choose a model,
and get the same views as What works, with the result to download."""

import hashlib
import json

import streamlit as st

from evidence import synthesis
from evidence.errors import EvidenceError
from evidence.ingest import effect_table as uploads
from evidence.meta import exact, frequentist
from evidence.synthesis.labels import MISSING, readable
from evidence.synthesis.metrics import measure_scale
from evidence.views.components import kept, md, result_views
from evidence.views.state import SHADOW_PREFIX


# The upload is decoded and read once per file (keyed on its SHA-256), not on every rerun.
@st.cache_data(show_spinner=False, max_entries=8)
def _read(digest: str, _raw: bytes):
    return uploads.read_table(_raw)


@st.cache_data(show_spinner=False, max_entries=16)
def _parse(digest: str, measure: str | None, name: str, _table):
    return uploads.parse_table(_table, measure=measure, name=name)


st.title("Analyse your own data")
st.markdown("Upload a CSV with columns `yi` and `vi` (effect sizes and sampling variances; or `yi` and `sei`), or raw "
            "columns with metafor's names (`ai, bi, ci, di`; `m1i, sd1i, n1i, m2i, sd2i, n2i`; `xi, ni`; `ri, ni`). "
            "An optional `study` or `label` column names the rows. Columns separated by commas, semicolons or tabs "
            "(with semicolons or tabs, decimal commas are read as points); every row must have the header's number of "
            "fields. Limit 5 MB and 5,000 rows; the file is only read as text (`evidence meta --csv` reads it the same way).")
source = st.radio("Data", ["Example", "Upload a CSV"], horizontal=True, key="yd_source")
data = None
try:
    if source == "Example":
        title = st.selectbox("Example data set", list(uploads.EXAMPLES), key="yd_example")
        data = uploads.load_example(title)
    else:
        up = st.file_uploader("CSV file", type=["csv", "txt"], key="yd_file", max_upload_size=5)
        if up is not None:
            raw = up.getvalue()
            digest = hashlib.sha256(raw).hexdigest()
            head = _read(digest, raw)
            choices = uploads.compatible_measures(head.columns)
            measure = None
            if choices and not ({"yi", "vi"} <= set(head.columns) or {"yi", "sei"} <= set(head.columns)):
                measure = st.selectbox("Effect-size measure for the raw columns", choices, key="yd_measure")
            data = _parse(digest, measure, up.name, head)
except EvidenceError as exc:
    st.error(md(exc))
if data is None:
    st.stop()

st.caption(md(f"{len(data.yi)} effect sizes. {data.note}"))
with st.expander("The data as read"):
    st.dataframe(readable(data.table, measure_scale(data.measure)), hide_index=True, placeholder=MISSING)

# Every model control keeps its value through runs that do not draw it (no file yet, the other engine's
# controls), so what the controls show is what produced the numbers below them.
ENGINES = ["Exact Bayesian random effects", "Frequentist random effects"]
METHODS = ["REML", "DL", "PM", "ML", "HE", "SJ", "EB", "HS", "FE"]
engine = st.radio("Model", ENGINES, horizontal=True, **kept("yd_engine", ENGINES[0]))
c1, c2 = st.columns(2)
try:
    if engine == ENGINES[0]:
        family = c1.selectbox("Prior on tau", synthesis.TAU_FAMILIES, **kept("yd_tau", synthesis.TAU_FAMILIES[0]))
        scale = c2.number_input("Prior scale", min_value=0.01, step=0.1, **kept("yd_scale", 0.5))
        if st.session_state.get(SHADOW_PREFIX + "yd_knha"):
            st.info("Knapp-Hartung is an adjustment of the frequentist confidence interval; it does not apply to the "
                    "Bayesian model and is not used here (it applies again under Frequentist).")
        result = exact.posterior(data.yi, data.vi, tau_prior=synthesis.tau_prior_for(None, family, scale),
                                 labels=data.labels, measure=data.measure)
        summary = (f"Pooled effect {synthesis.fmt(result.mu.mean)} (95% credible interval {synthesis.fmt(result.mu.q025)} to "
                   f"{synthesis.fmt(result.mu.q975)}); a new study's true effect is expected between "
                   f"{synthesis.fmt(result.theta_new.q025)} and {synthesis.fmt(result.theta_new.q975)}.")
    else:
        method = c1.selectbox("Estimator of tau²", METHODS, **kept("yd_method", METHODS[0]))
        knha = c2.toggle("Knapp-Hartung adjustment", **kept("yd_knha", False))
        fit = frequentist.rma(data.yi, data.vi, method=method, knha=knha)
        result = frequentist.to_meta_result(fit, labels=data.labels, measure=data.measure)
        summary = (f"Pooled estimate {synthesis.fmt(fit.estimate)} (95% confidence interval {synthesis.fmt(fit.ci_lb)} to "
                   f"{synthesis.fmt(fit.ci_ub)}); 95% prediction interval {synthesis.fmt(fit.pi_lb)} to {synthesis.fmt(fit.pi_ub)}; "
                   f"tau² = {fit.tau2:.4f}, Q = {fit.QE:.2f} (p = {fit.QEp:.3g}).")
except EvidenceError as exc:
    st.error(md(exc))
    st.stop()
except (ArithmeticError, ValueError) as exc:  # an estimator failing on extreme data: say so, as the command does
    st.error(md(f"The model could not be fitted to these data ({type(exc).__name__}: {exc}); try another estimator or "
                "check the values."))
    st.stop()

st.header(md(summary))
result_views(result, None, measure_scale(data.measure), "yd")
st.header("Download")
st.download_button("Result (JSON)", json.dumps(result.to_dict(), indent=2), file_name="meta-analysis-result.json",
                   mime="application/json", key="yd_json")
table = data.table.assign(label=data.labels)
table["shrunken_mean"] = [s.shrunken_mean for s in result.studies]
table["weight_percent"] = [s.weight for s in result.studies]
st.download_button("Studies with their estimates (CSV)", table.to_csv(index=False), file_name="meta-analysis-studies.csv",
                   mime="text/csv", key="yd_csv")
