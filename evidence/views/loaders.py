"""Cached access to the catalogue for the explorer's pages (the one cache layer in front of the
catalogue's queries).

Every loader takes the catalogue's stamp as its first argument, so ``evidence build`` (which rewrites
the catalogue) makes a running app read the new catalogue instead of serving cached old data.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy.engine import make_url

from evidence import config, synthesis
from evidence.catalog import queries

FILTER_FIELDS = {f.name for f in dataclasses.fields(queries.Filters)}


def make_filters(items: tuple = ()) -> queries.Filters:
    return queries.Filters(**{k: v for k, v in items if k in FILTER_FIELDS})


def catalogue_stamp() -> tuple:
    """Identifies the catalogue the app reads *as it is now*: (SQLite file, mtime_ns, size, inode), or the
    URL of a server database (password hidden). Every cached loader takes it as its first argument, so ``evidence build`` (which
    rewrites the file) makes a running app read the new catalogue instead of serving cached old data."""
    url = str(config.CATALOG_URL or config.CATALOG_PATH)
    if "://" in url:
        u = make_url(url)
        if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
            return (u.render_as_string(hide_password=True),)
        url = u.database
    path = Path(url).resolve()
    try:
        st_ = path.stat()
    except OSError:
        return (str(path), None, None, None)
    return (str(path), st_.st_mtime_ns, st_.st_size, st_.st_ino)


@st.cache_data(show_spinner=False, max_entries=64)
def load_effects(stamp: tuple, items: tuple = ()) -> pd.DataFrame:
    return queries.effects(make_filters(items))


@st.cache_data(show_spinner=False, max_entries=64)
def load_studies(stamp: tuple, items: tuple = ()) -> pd.DataFrame:
    return queries.studies(make_filters(items))


@st.cache_data(show_spinner=False, max_entries=8)
def load_programmes(stamp: tuple) -> dict[str, str]:
    """Study id -> programme name, for every study: from the effects table, else (studies mapped
    without numbers) from the study record."""
    return queries.programme_names()


@st.cache_data(show_spinner=False, max_entries=8)
def load_info(stamp: tuple) -> dict:
    return queries.catalog_info()


@st.cache_data(show_spinner=False, max_entries=64)
def load_gap_map(stamp: tuple, items: tuple, tau_family: str = "halfnormal") -> pd.DataFrame:
    return synthesis.gap_map_cells(load_effects(stamp, items), tau_family)


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
