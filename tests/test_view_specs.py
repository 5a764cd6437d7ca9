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
    from evidence.views.loaders import vega_lite_spec

    cells = synthesis.gap_map_cells(queries.effects(queries.Filters(sex="girls")))
    chosen = tuple(cells.loc[cells["n_studies"] > 0, ["intervention", "outcome"]].iloc[-1])
    st.altair_chart(charts.gap_map_chart(cells, chosen=chosen), key="a", on_select="rerun", selection_mode="cell",
                    width="content", height="content", theme=None)
    st.vega_lite_chart(vega_lite_spec(charts.gap_map_chart(cells, chosen=chosen)), key="b", on_select="rerun",
                       selection_mode="cell", width="content", height="content", theme=None)


def test_cached_spec_is_the_chart_altair_chart_sends():
    at = AppTest.from_function(_two_charts, default_timeout=120).run()
    assert not at.exception, at.exception
    a, b = (el.proto for el in at.get("vega_lite_chart"))
    assert a.spec == b.spec and '"cell"' in a.spec  # same spec, the selection included
    assert [(d.name, d.data.data) for d in a.datasets] == [(d.name, d.data.data) for d in b.datasets]
    assert len(a.datasets) >= 2 and all(len(d.data.data) > 100 for d in a.datasets)  # grid, bubbles (and signs), as Arrow
    assert list(a.selection_mode) == list(b.selection_mode) == ["cell"]


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
