"""Cached access to the catalogue for the explorer's pages (the one cache layer in front of the
catalogue's queries).

Every loader takes the catalogue's stamp as its first argument, so ``evidence build`` (which rewrites
the catalogue) makes a running app read the new catalogue instead of serving cached old data.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from evidence import synthesis
from evidence.catalog import bulk, queries, target

FILTER_FIELDS = {f.name for f in dataclasses.fields(queries.Filters)}


def make_filters(items: tuple = ()) -> queries.Filters:
    return queries.Filters(**{k: v for k, v in items if k in FILTER_FIELDS})


def catalogue_stamp() -> tuple:
    """The catalogue's one stamp (:func:`evidence.catalog.target.stamp`: the SQLite file's identity, or a
    server's studies hash). Every cached loader takes it as its first argument, so ``evidence build``
    makes a running app -- on a file or on PostgreSQL -- read the new catalogue, never cached old data."""
    return target.stamp()


def load_effects(stamp: tuple, items: tuple = ()) -> pd.DataFrame:
    """The catalogue's effects under these filters. Not cached here: the query layer caches its rows
    on the same stamp (one cache per thing; the loaders below cache what is computed from them)."""
    return queries.effects(make_filters(items))


def load_studies(stamp: tuple, items: tuple = ()) -> pd.DataFrame:
    """The catalogue's studies under these filters (cached by the query layer, as ``load_effects``)."""
    return queries.studies(make_filters(items))


@st.cache_data(show_spinner=False, max_entries=8)
def load_programmes(stamp: tuple) -> dict[str, str]:
    """Study id -> programme name, for every study: from the effects table, else (studies mapped
    without numbers) from the study record."""
    return bulk.programme_names()


@st.cache_data(show_spinner=False, max_entries=8)
def load_info(stamp: tuple) -> dict:
    return queries.catalog_info()


@st.cache_resource(show_spinner=False, max_entries=4)
def _gap_map_memo(stamp: tuple) -> dict:
    """The gap map's cell answers for one catalogue stamp, shared by every session of this process: a
    filter change recomputes only the cells whose rows it changed (see ``gap_map_cells``' ``memo``)."""
    return {}


@st.cache_data(show_spinner=False, max_entries=64)
def load_gap_map(stamp: tuple, items: tuple, tau_family: str = "halfnormal") -> pd.DataFrame:
    return synthesis.gap_map_cells(load_effects(stamp, items), tau_family, memo=_gap_map_memo(stamp))


@st.cache_data(show_spinner=False, max_entries=64)
def load_card(stamp: tuple, items: tuple, options: synthesis.WhatWorksOptions) -> synthesis.AnswerCard:
    """The answer card of a cell (the same card the gap map, the summaries and ``evidence answer`` show)."""
    return synthesis.card_from(load_what_works(stamp, items, options))


@st.cache_data(show_spinner=False, max_entries=64)
def load_what_works(stamp: tuple, items: tuple, options: synthesis.WhatWorksOptions) -> synthesis.WhatWorks:
    return synthesis.what_works(load_effects(stamp, items), options)




@st.cache_data(show_spinner=False, max_entries=64)
def load_study(stamp: tuple, study_id: str) -> dict:
    """One study's whole record (the Studies page's detail view)."""
    return queries.study(study_id)


@st.cache_data(show_spinner=False, max_entries=8)
def load_coding_queue(stamp: tuple) -> pd.DataFrame:
    """The coding queue (what ``evidence todo`` prints) as a table, for the Studies page's "What to code next"."""
    from evidence.synthesis.queue import load_queue, queue_frame

    return queue_frame(load_queue())
