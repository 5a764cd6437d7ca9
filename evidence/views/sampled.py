"""Sampled (PyMC) models run on request from the pages; imported lazily so the app never loads PyMC at start."""

import dataclasses

import streamlit as st


@st.cache_resource(show_spinner=False, max_entries=16)
def _three_level(yi: tuple, vi: tuple, cluster: tuple, labels: tuple, tau_prior: str, measure: str | None):
    from evidence.meta.pymc.settings import SamplerSettings

    try:
        from evidence.meta.pymc.cache import cached_fit as run
    except ImportError:
        from evidence.meta.pymc.models import fit as run
    res = run("three-level", list(yi), list(vi), cluster=list(cluster), labels=list(labels), tau_prior=tau_prior,
              measure=measure, settings=SamplerSettings())
    # keep this cache small, without touching the object ``cached_fit`` may share with its own cache
    return dataclasses.replace(res, idata=None)


def three_level(ww):
    """Three-level model (effects within studies) on the What-works selection."""
    s = ww.selected
    return _three_level(tuple(s["yi"].astype(float)), tuple(s["vi"].astype(float)), tuple(s["study_id"]),
                        tuple(s["label"]), ww.tau_prior, ww.metric)
