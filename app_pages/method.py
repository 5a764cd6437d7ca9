"""Page 6 — Method: the models and priors behind every number, the software versions, the catalogue
version, and how to cite."""

from importlib import metadata

import pandas as pd
import streamlit as st

from evidence import synthesis
from evidence.provenance import RECORDED_PACKAGES
from evidence.synthesis.labels import readable
from evidence.views.components import catalogue_ready, md

st.title("Method")
info = catalogue_ready()
st.markdown("""
**Effect sizes.** Each study's reported estimate is kept as reported; effect sizes `yi` and sampling variances
`vi` are derived at build time (standard error, t, exact p, confidence interval, or a stated significance
threshold — the last imputed conservatively and flagged). Effects are pooled only within one metric.

**Pooled effect (interactive).** A normal-normal random-effects model, yᵢ ~ N(θᵢ, vᵢ), θᵢ ~ N(μ, τ²), with a
flat prior on μ and the chosen prior on τ, computed exactly by numerical integration over τ (no sampling).
The gap map and What works use each study's primary effect for the outcome (one effect per study).
A *new programme's* effect is the predictive distribution of θ for an unseen study (it includes τ).

**Direction and certainty (gap map).** The posterior probability that the pooled effect goes in the desirable
direction of the outcome: ≥ 95% "improves", 80–95% "probably improves", and symmetrically for worsening;
otherwise "unclear". Cells with fewer than two poolable studies show their design mix instead.

**On request.** All effects per study with a three-level model, sampled with NUTS (PyMC); sampler diagnostics
are shown with the result. "For my context" pools the coded girls'/boys' and age-band effects (as the answer card
does) and adds an exact Bayesian meta-regression on the region, design or transfer size where they vary enough,
reported with the credible and predictive intervals; each characteristic that cannot be separated gets one line.

**Your own data.** The same exact model, or frequentist estimators (REML, DL, PM, … with optional Knapp-Hartung)
checked against metafor.
""")
st.header("Default priors on the between-study SD (τ)")
st.dataframe(readable(pd.DataFrame([{"metric": synthesis.metric_label(m), "default prior": synthesis.tau_prior_for(m)}
                                    for m in synthesis.POOLABLE_METRICS])), hide_index=True)
st.header("Versions")
versions = []
for name in RECORDED_PACKAGES:
    try:
        versions.append({"package": name, "version": metadata.version(name)})
    except metadata.PackageNotFoundError:
        versions.append({"package": name, "version": "not installed"})
st.dataframe(readable(pd.DataFrame(versions)), hide_index=True)
counts = info.get("counts", {})
st.write(md(f"Catalogue version {info.get('catalog_version', '?')}: {counts.get('studies', '?')} studies, "
            f"{counts.get('effects', '?')} effects."))
st.header("How to cite")
try:
    version = metadata.version("evidence")
except metadata.PackageNotFoundError:
    version = "?"
st.code(f"Child labour evidence synthesis (software version {version}, catalogue version "
        f"{info.get('catalog_version', '?')}). Open evidence repository on programmes that reduce child labour.",
        language=None)
st.caption("Cite the individual studies too: each study page lists its DOI or link.")
