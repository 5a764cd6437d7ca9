"""The view layer's cached chart specs draw the same chart as the Altair chart they come from, and the
heap freeze that keeps Streamlit's post-run collection cheap happens only when something new is imported."""

from __future__ import annotations

import gc

from streamlit.testing.v1 import AppTest


def _two_charts():
    import streamlit as st

    from evidence import synthesis
    from evidence.catalog import queries
    from evidence.synthesis import charts
    from evidence.views import loaders

    cells = synthesis.gap_map_cells(queries.effects(queries.Filters()))
    chosen = tuple(cells.loc[cells["n_studies"] > 0, ["intervention", "outcome"]].iloc[-1])
    st.altair_chart(charts.gap_map_chart(cells, chosen=chosen), key="a", on_select="rerun", selection_mode="cell",
                    width="content", height="content", theme=None)
    # what the gap-map page sends: the cached drawing of the map's shape with this filter set's tables
    # (the test patches load_gap_map to return these cells)
    st.vega_lite_chart(loaders.load_gap_map_spec(("test",), (), "halfnormal", chosen), key="b",
                       on_select="rerun", selection_mode="cell", width="content", height="content", theme=None)


def _tables(proto) -> dict:
    import pyarrow as pa

    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in proto.datasets}


def test_cached_spec_is_the_chart_altair_chart_sends(monkeypatch):
    from evidence import synthesis
    from evidence.catalog import queries
    from evidence.views import loaders

    cells = synthesis.gap_map_cells(queries.effects(queries.Filters()))
    monkeypatch.setattr(loaders, "load_gap_map", lambda stamp, items, tau_family: cells)
    at = AppTest.from_function(_two_charts, default_timeout=120).run()
    assert not at.exception, at.exception
    a, b = (el.proto for el in at.get("vega_lite_chart"))
    assert a.spec == b.spec and '"cell"' in a.spec  # same spec, the selection included
    ta, tb = _tables(a), _tables(b)
    assert list(ta) == list(tb) == ["gap_map_grid", "gap_map_bubbles", "gap_map_signs"]
    for name in ta:  # the same rows, as Arrow
        assert ta[name].to_dict("records") == tb[name].to_dict("records"), name
    assert len(ta["gap_map_grid"]) > 50 and len(ta["gap_map_bubbles"]) > 5 and len(ta["gap_map_signs"]) > 0
    assert list(a.selection_mode) == list(b.selection_mode) == ["cell"]


def test_one_drawing_serves_every_filter_set_of_the_same_shape():
    """Every filter set's map has the taxonomy's rows and columns, so one drawing (built and validated
    once per chosen cell) serves them all: restated for another shape it is the spec built for that
    shape (size legend and description), and the maps differ otherwise only in their data."""
    from evidence import synthesis
    from evidence.catalog import queries
    from evidence.synthesis import charts

    shapes = {}
    for sex in ("girls", "boys", None):
        shape, tables = charts.gap_map_tables(synthesis.gap_map_cells(queries.effects(queries.Filters(sex=sex))))
        shapes[sex] = shape
        assert shape.n_filled == len(tables["gap_map_bubbles"])
    assert shapes["girls"].rows == shapes[None].rows and shapes["girls"].columns == shapes[None].columns
    assert shapes["girls"].most < shapes[None].most  # fewer studies in the fullest cell: another legend
    girls, whole = (charts.gap_map_layout(shapes[k], chosen=("a", "b")).to_dict() for k in ("girls", None))
    assert girls != whole
    assert charts.gap_map_restate(girls, shapes[None]) == whole and charts.gap_map_restate(whole, shapes["girls"]) == girls


def test_heap_freezes_only_after_new_imports(monkeypatch):
    import sys

    from evidence.views import loaders

    try:
        monkeypatch.setattr(loaders, "_modules_frozen", 0)
        loaders.freeze_long_lived()
        assert gc.get_freeze_count() > 10_000  # the imported libraries are out of the collector's sight
        calls = []
        monkeypatch.setattr(gc, "freeze", lambda: calls.append(1))
        loaders.freeze_long_lived()
        assert calls == []  # nothing new imported: no collection, no freeze
        monkeypatch.setitem(sys.modules, "evidence_test_new_module", type(sys)("evidence_test_new_module"))
        loaders.freeze_long_lived()
        assert calls == [1]
    finally:
        gc.unfreeze()  # the rest of the test process collects as usual
