"""Time the explorer's interactive path on the shipped catalogue (or EVIDENCE_CATALOG_PATH):
a filter change = query + gap-map cells + What works for the largest poolable cell. Prints medians (ms).

"gap map cells" computes every cell afresh (a filter set no session has asked for, on a cold process);
"gap map, memo" is what the app does (:func:`evidence.views.loaders.load_gap_map`): cell answers shared
per catalogue stamp, so cells whose rows a filter does not change are reused (warm after the first pass
over the filter sets).

The view layer's cuts, each with its counterpart measured in the same run:

* "chart spec, built": the gap map's Altair chart and Streamlit's conversion to a Vega-Lite spec (Altair's
  schema validation included) -- what every gap-map run paid before; "chart spec, cached": reading it back
  from ``st.cache_data`` (an unpickle of the stored spec), what a run pays now (``load_gap_map_spec``);
* "post-run gc": the full collection Streamlit runs after every script run (``runner.postScriptGC``), with
  this process's heap as imported (the explorer's libraries, as in a server), then after
  :func:`evidence.views.loaders.freeze_long_lived`."""

from __future__ import annotations

import gc
import logging
import pickle
import statistics
import sys
import time

from evidence import config, synthesis
from evidence.catalog import queries

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def main() -> None:
    print(f"catalogue: {config.CATALOG_URL or config.CATALOG_PATH}")
    everything = queries.effects()
    regions = sorted({r for v in everything["regions"] for r in synthesis.as_list(v)})
    filter_sets = [queries.Filters()] + [queries.Filters(regions=(r,)) for r in regions]
    cells = synthesis.gap_map_cells(everything)
    pooled = cells[cells["n_pooled"] > 0].sort_values("n_pooled", ascending=False)
    cell = (pooled.iloc[0]["intervention"], pooled.iloc[0]["outcome"]) if len(pooled) else tuple(everything[["intervention", "outcome"]].iloc[0])
    print(f"{len(everything)} effects; {len(filter_sets)} filter sets; What-works cell {cell[0]} x {cell[1]}")
    times = {"query": [], "gap map cells": [], "what works": [], "total": [], "gap map, memo": []}
    memo: dict = {}
    for i in range(REPEATS):
        f = filter_sets[i % len(filter_sets)]
        t0 = time.perf_counter()
        eff = queries.effects(f)
        t1 = time.perf_counter()
        synthesis.gap_map_cells(eff)
        t2 = time.perf_counter()
        synthesis.what_works(eff, synthesis.WhatWorksOptions(*cell, exclude_high_rob=bool(i % 2)))
        t3 = time.perf_counter()
        synthesis.gap_map_cells(eff, memo=memo)
        t4 = time.perf_counter()
        for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2, t3 - t0, t4 - t3)):
            times[k].append(1000 * v)
    for k, v in times.items():
        print(f"{k:>14}: median {statistics.median(v):7.1f} ms   max {max(v):7.1f} ms   (n={len(v)})")
    view_layer(filter_sets, cell, memo)


def view_layer(filter_sets: list, cell: tuple, memo: dict) -> None:
    from streamlit.logger import get_logger

    # st.cache_data outside a server warns once per loader that it uses memory storage: true and expected here
    get_logger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    from evidence.synthesis import charts
    from evidence.views.loaders import freeze_long_lived
    from evidence.views.prepared import vega_lite_spec

    times: dict[str, list[float]] = {"chart spec, built": [], "chart spec, cached": [], "post-run gc": [],
                                     "post-run gc, frozen": []}
    for i in range(REPEATS):
        cells = synthesis.gap_map_cells(queries.effects(filter_sets[i % len(filter_sets)]), memo=memo)
        t0 = time.perf_counter()
        spec = vega_lite_spec(charts.gap_map_chart(cells, chosen=cell))
        t1 = time.perf_counter()
        stored = pickle.dumps(spec)
        t2 = time.perf_counter()
        pickle.loads(stored)
        t3 = time.perf_counter()
        times["chart spec, built"].append(1000 * (t1 - t0))
        times["chart spec, cached"].append(1000 * (t3 - t2))
    for key in ("post-run gc", "post-run gc, frozen"):
        if key.endswith("frozen"):
            freeze_long_lived()
        for _ in range(5):
            t0 = time.perf_counter()
            gc.collect(2)
            times[key].append(1000 * (time.perf_counter() - t0))
    for k, v in times.items():
        print(f"{k:>19}: median {statistics.median(v):7.1f} ms   max {max(v):7.1f} ms   (n={len(v)})")
    for slow, fast in (("chart spec, built", "chart spec, cached"), ("post-run gc", "post-run gc, frozen")):
        print(f"{fast} / {slow}: {statistics.median(times[fast]) / statistics.median(times[slow]):.3f}")


if __name__ == "__main__":
    main()
