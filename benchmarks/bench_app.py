"""Time the explorer's interactive path on the shipped catalogue (or EVIDENCE_CATALOG_PATH):
a filter change = query + gap-map cells + What works for the largest poolable cell. Prints medians (ms).

"gap map cells" computes every cell afresh (a filter set no session has asked for, on a cold process);
"gap map, memo" is what the app does (:func:`evidence.views.loaders.load_gap_map`): cell answers shared
per catalogue stamp, so cells whose rows a filter does not change are reused (warm after the first pass
over the filter sets)."""

from __future__ import annotations

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


if __name__ == "__main__":
    main()
