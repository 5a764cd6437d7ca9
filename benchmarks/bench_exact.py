"""Time the exact Bayesian engine (``evidence.meta.exact.posterior``) at k = 13, 100, 1000.

Synthetic data with a fixed seed (true mu 0.3, tau 0.25, v_i ~ U(0.01, 0.2)); each time is the
median of repeated full ``posterior()`` calls (grid, summaries, shrunken estimates, densities and
the MetaResult). Targets: <= 2 ms at k=100 and <= 20 ms at k=1000. ``time_exact(k)`` is importable
for the NUTS comparison. Exits 0 (timings are reported, not asserted: machines differ).

    python benchmarks/bench_exact.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

from evidence.meta.exact import posterior

TARGET_MS = {100: 2.0, 1000: 20.0}


def synthetic(k: int, seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, k)
    yi = rng.normal(0.3, 0.25, k) + rng.normal(0.0, np.sqrt(vi))
    return yi, vi


def time_exact(k: int, repeats: int | None = None, tau_prior: str = "halfnormal:0.5") -> float:
    """Median wall time (seconds) of ``posterior()`` on synthetic data with k studies."""
    yi, vi = synthetic(k)
    posterior(yi, vi, tau_prior)  # warm-up (imports, caches)
    repeats = repeats or (200 if k <= 100 else 40)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        posterior(yi, vi, tau_prior)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    print(f"{'k':>6} {'median ms':>10} {'target ms':>10} {'grid pts':>9} {'accuracy':>10}")
    repeats = int(os.environ.get("BENCH_REPEAT", 0)) or None  # the suite's smoke run sets 1
    for k in (13, 100, 1000):
        seconds = time_exact(k, repeats)
        spec = posterior(*synthetic(k)).spec["grid"]
        target = TARGET_MS.get(k)
        print(f"{k:>6} {seconds * 1e3:>10.3f} {target if target else '-':>10} {spec['points']:>9} {spec['accuracy']:>10.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
