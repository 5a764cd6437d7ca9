"""The adviser's pages draw prepared objects (``evidence.views.prepared``), cached once for every session:
a prepared figure sends what ``st.altair_chart`` sent, its table is the chart's table in words, and a
page run leaves the shared objects exactly as built (nothing a session does reaches another session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from app_catalogue import use_catalogue
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
pytestmark = pytest.mark.xdist_group("app")


def _tables(proto) -> dict:
    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in proto.datasets}


def _rows(frame) -> list[dict]:
    """A frame's rows with every missing cell as None (NaN is not equal to itself)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _altair_and_prepared():
    """Each chart of a pooled cell and of a cell that does not pool, drawn as the pages drew them before
    (``st.altair_chart`` and the table through ``readable``) and as they draw them now (``show_figure``)."""
    import streamlit as st

    from evidence import synthesis
    from evidence.catalog import queries
    from evidence.synthesis import charts
    from evidence.synthesis.labels import readable
    from evidence.views import prepared
    from evidence.views.components import show_figure

    effects = queries.effects(queries.Filters())
    cells = synthesis.gap_map_cells(effects)
    pooled = cells[cells["n_pooled"] >= 2].iloc[0]
    ww = synthesis.what_works(effects, synthesis.WhatWorksOptions(pooled["intervention"], pooled["outcome"]))
    unit = synthesis.metric_label(ww.metric)
    r = ww.result
    yi, vi = [s.yi for s in r.studies], [s.vi for s in r.studies]
    pts, _ = charts.funnel_data(yi, vi, r.mu.mean)
    unpooled = cells[(cells["n_studies"] >= 2) & (cells["n_pooled"] == 0)].iloc[0]
    harvest = synthesis.harvest_table(synthesis.what_works(
        effects, synthesis.WhatWorksOptions(unpooled["intervention"], unpooled["outcome"])).cell)
    before = [(charts.forest_chart(r, unit), charts.forest_data(r), unit),
              (charts.posterior_chart(r, unit), charts.posterior_data(r), unit),
              (charts.funnel_chart(yi, vi, r.mu.mean, unit), pts.assign(label=[s.label for s in r.studies]), unit),
              (charts.harvest_chart(harvest), harvest, "reported unit")]
    now = [*prepared.result_figures(r, unit), prepared.harvest_figure(harvest)]
    for i, ((chart, table, u), fig) in enumerate(zip(before, now)):
        st.altair_chart(chart, key=f"a{i}", height=chart.height + 110 if isinstance(chart.height, int) else "content")
        st.dataframe(readable(table, u), hide_index=True)
        show_figure(fig, f"b{i}")


def test_a_prepared_figure_sends_what_altair_chart_sent():
    at = AppTest.from_function(_altair_and_prepared, default_timeout=120).run()
    assert not at.exception, at.exception
    charts_sent = [el.proto for el in at.get("vega_lite_chart")]
    tables = [el.value for el in at.dataframe]
    assert len(charts_sent) == 8 and len(tables) == 8
    for i in range(4):
        a, b = charts_sent[2 * i], charts_sent[2 * i + 1]
        assert a.spec == b.spec, i
        ta, tb = _tables(a), _tables(b)
        assert list(ta) == list(tb) and ta, i
        for name in ta:
            assert _rows(ta[name]) == _rows(tb[name]), (i, name)
        before, now = tables[2 * i], tables[2 * i + 1]
        assert list(before.columns) == list(now.columns) and len(before) == len(now) > 0, i
        assert _rows(before) == _rows(now), i


@pytest.fixture(scope="module")
def shipped():
    with use_catalogue(REPO / "evidence" / "catalog.db") as db:
        yield db


def test_a_page_run_leaves_the_shared_views_as_built(shipped, monkeypatch):
    """The gap map and What works (the adviser's path: open the map, open its cell in What works) run on
    the objects the loaders share between sessions; afterwards those objects equal a fresh build from
    the catalogue, and the page showed them."""
    from evidence import synthesis
    from evidence.catalog import queries, target
    from evidence.views import loaders, prepared

    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/gap_map.py").run()
    assert not at.exception, at.exception
    at.button(key="gm_open").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="ww_intervention").value  # on What works

    built = []
    for module, name in ((prepared, "gap_map_view"), (prepared, "what_works_view"), (synthesis, "what_works")):
        real = getattr(module, name)  # a call below that had to build would be a cache miss
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name: built.append(_name) or _real(*a))
    stamp = target.stamp()
    effects = queries.effects(queries.Filters())
    shared = loaders.load_gap_map_view(stamp, (), "halfnormal")
    iv, oc = at.selectbox(key="ww_intervention").value, at.selectbox(key="ww_outcome").value
    options = synthesis.WhatWorksOptions(iv, oc)
    shared_ww = loaders.load_what_works_view(stamp, (), options)
    shared_answer = loaders.load_what_works(stamp, (), options)
    assert built == []  # the very objects the pages used
    monkeypatch.undo()

    cells = synthesis.gap_map_cells(effects)
    assert shared == prepared.gap_map_view(cells, effects)
    ww = synthesis.what_works(effects, options)
    assert shared_ww == prepared.what_works_view(ww, synthesis.card_from(ww))
    assert (shared_answer.headline, shared_answer.reason, shared_answer.metric) == (ww.headline, ww.reason, ww.metric)
    for frame in ("cell", "selected", "excluded"):
        pd.testing.assert_frame_equal(getattr(shared_answer, frame), getattr(ww, frame))
    assert (iv, oc) == (shared.interventions[0], shared.outcomes[shared.interventions[0]][0])  # the map's first cell
    assert shared.cells_with_evidence == int((cells["n_studies"] > 0).sum()) > 10
