"""Cached access to the catalogue for the explorer's pages (the one cache layer in front of the
catalogue's queries).

Every loader takes the catalogue's stamp as its first argument, so ``evidence build`` (which rewrites
the catalogue) makes a running app read the new catalogue instead of serving cached old data.
"""

from __future__ import annotations

import dataclasses
import gc
import sys

import pandas as pd
import pyarrow as pa
import streamlit as st

from evidence import synthesis
from evidence.catalog import bulk, queries, target
from evidence.synthesis import charts, context, landing
from evidence.views import prepared

FILTER_FIELDS = {f.name for f in dataclasses.fields(queries.Filters)}


def make_filters(items: tuple = ()) -> queries.Filters:
    return queries.Filters(**{k: v for k, v in items if k in FILTER_FIELDS})


def catalogue_stamp() -> tuple:
    """The catalogue's one stamp (:func:`evidence.catalog.target.stamp`: the SQLite file's identity, or a
    server's studies hash). Every cached loader takes it as its first argument, so ``evidence build``
    makes a running app -- on a file or on PostgreSQL -- read the new catalogue, never cached old data."""
    return target.stamp()


_modules_frozen = 0  # len(sys.modules) when the heap was last frozen


def freeze_long_lived() -> None:
    """Move what the process has built so far (imported modules: pandas, Altair's schema classes,
    jsonschema's validators, the catalogue's rows) out of the garbage collector's sight, whenever a
    page run has imported something new (a few times in a process's life: each page's first run).
    ``app.py`` calls it at the start of every run.

    Why: Streamlit runs a full collection (``gc.collect(2)``, option ``runner.postScriptGC``) after
    every script run. It traverses every live container object, some 200,000 once the explorer's
    libraries are imported, which took about 0.1-0.2 s per run -- two thirds of the server's CPU on
    the adviser's path (profiled with py-spy, ``--gil``), held under the GIL, so concurrent sessions
    queue behind it. Frozen objects (:func:`gc.freeze`) are never traversed, so the collection after a
    run only looks at what runs created since, and still frees the cycles a run leaves. The objects
    frozen live as long as the process anyway; a collection first keeps garbage out of the freeze."""
    global _modules_frozen
    if len(sys.modules) != _modules_frozen:
        _modules_frozen = len(sys.modules)
        gc.collect()
        gc.freeze()


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
def load_filter_options(stamp: tuple) -> dict:
    """What the sidebar's filters offer, from the whole catalogue: computed once per catalogue (every
    run of every page draws the sidebar, and these scans of every effect were ~10% of a run's CPU)."""
    effects = load_effects(stamp, ())

    def values(column: str) -> list[str]:
        return sorted({x for v in effects[column] for x in synthesis.as_list(v)})

    names: dict[str, str] = {}
    for codes, labels in zip(effects["countries"], effects["country_names"]):
        names.update(zip(synthesis.as_list(codes), synthesis.as_list(labels)))
    years = pd.to_numeric(effects["year"], errors="coerce").dropna()
    present_rob = set(effects["risk_of_bias"].dropna())
    return {"regions": values("regions"), "countries": values("countries"), "country_names": names,
            "designs": sorted(set(effects["design"].dropna())),
            "rob_levels": [x for x in ("low", "moderate", "high", "unclear") if x in present_rob],
            "coding_status": sorted(set(effects["coding_status"].dropna())),
            "years": (int(years.min()), int(years.max())) if len(years) else None}


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
def load_gap_map_drawing(rows: tuple, columns: tuple, chosen: tuple[str, str] | None,
                         _shape: charts.GapMapShape) -> dict:
    """The gap map's drawing (:func:`evidence.synthesis.charts.gap_map_layout`) as a Vega-Lite spec without
    its data, once per rows, columns (the taxonomy's: the same for every filter set) and chosen cell, built
    for the first shape that asks (``_shape`` is not part of the key; :func:`load_gap_map_spec` restates
    the drawing for its own shape). Why: building the Altair objects and Altair's validation of them were
    a third of a new filter set's run; now a new filter set pays neither."""
    return prepared.vega_lite_spec(charts.gap_map_layout(_shape, chosen=chosen))


@st.cache_data(show_spinner=False, max_entries=64)
def load_gap_map_spec(stamp: tuple, items: tuple, tau_family: str, chosen: tuple[str, str] | None) -> dict:
    """The gap map's chart (:func:`evidence.synthesis.charts.gap_map_chart`, ``chosen`` selected) as a
    Vega-Lite spec, once per catalogue stamp, filters, prior and chosen cell: the drawing
    (:func:`load_gap_map_drawing`) restated for this map's shape, with this filter set's tables as Arrow
    bytes (what ``st.altair_chart`` sends for a chart's data)."""
    from streamlit.dataframe_util import convert_anything_to_arrow_bytes

    shape, tables = charts.gap_map_tables(load_gap_map(stamp, items, tau_family))
    spec = charts.gap_map_restate(load_gap_map_drawing(shape.rows, shape.columns, chosen, shape), shape)
    return {**spec, "datasets": {**spec.get("datasets", {}),
                                 **{name: convert_anything_to_arrow_bytes(t) for name, t in tables.items()}}}


@st.cache_resource(show_spinner=False, max_entries=64)
def load_gap_map_view(stamp: tuple, items: tuple, tau_family: str) -> prepared.GapMapView:
    """The gap map page's counts, pickers and table (:func:`evidence.views.prepared.gap_map_view`), once per
    catalogue stamp, filters and prior for every session (``cache_resource``: one shared copy, never changed)."""
    return prepared.gap_map_view(load_gap_map(stamp, items, tau_family), load_effects(stamp, items))


@st.cache_resource(show_spinner=False, max_entries=64)
def load_cell_studies(stamp: tuple, items: tuple, intervention: str, outcome: str, pooled_ids: tuple) -> pa.Table:
    """The studies listed under the gap map's chosen cell (:func:`evidence.synthesis.landing.cell_studies`),
    in words, once per catalogue stamp, filters and cell instead of on every rerun of every session."""
    studies = landing.cell_studies(load_effects(stamp, items), intervention, outcome, pooled_ids)
    return prepared.readable_table(studies.drop(columns="study_id"))


@st.cache_resource(show_spinner=False, max_entries=64)
def load_choices(stamp: tuple, items: tuple) -> prepared.Choices:
    """What works' intervention and outcome pickers under these filters."""
    return prepared.choices(load_effects(stamp, items))


@st.cache_resource(show_spinner=False, max_entries=64)
def load_cell_choices(stamp: tuple, items: tuple, intervention: str, outcome: str) -> prepared.CellChoices:
    """A cell's study names, poolable metrics and main metric (What works' sensitivity pickers)."""
    return prepared.cell_choices(load_effects(stamp, items), intervention, outcome)


@st.cache_resource(show_spinner=False, max_entries=64)
def load_what_works_view(stamp: tuple, items: tuple, options: synthesis.WhatWorksOptions) -> prepared.WhatWorksView:
    """What the What works page draws of this answer (:func:`evidence.views.prepared.what_works_view`)."""
    return prepared.what_works_view(load_what_works(stamp, items, options), load_card(stamp, items, options))


@st.cache_data(show_spinner=False, max_entries=256)
def load_context_answer(stamp: tuple, items: tuple, options: synthesis.WhatWorksOptions,
                        stated: context.Context) -> context.ContextAnswer:
    """"For my context": the answer for a stated context (:func:`evidence.synthesis.context.context_answer`)."""
    return context.context_answer(load_what_works(stamp, items, options), stated)


@st.cache_data(show_spinner=False, max_entries=64)
def load_card(stamp: tuple, items: tuple, options: synthesis.WhatWorksOptions) -> synthesis.AnswerCard:
    """The answer card of a cell (the same card the gap map, the summaries and ``evidence answer`` show)."""
    return synthesis.card_from(load_what_works(stamp, items, options))


@st.cache_resource(show_spinner=False, max_entries=64)
def load_what_works(stamp: tuple, items: tuple, options: synthesis.WhatWorksOptions) -> synthesis.WhatWorks:
    """One cell's answer (:func:`evidence.synthesis.what_works`), one copy shared by every session
    (``cache_resource``: unpickling its frames on every run was a tenth of a warm What works run's
    server CPU); the pages read it and never change it (``tests/test_prepared.py``)."""
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
