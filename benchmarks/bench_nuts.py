"""Exact engine vs NUTS (nutpie and PyMC) on the same normal-normal model and data.

Why: the exact engine is the default because it is both exact and fast; this shows by how much, and
that the samplers agree with it. For each k (13 = dat.bcg, then synthetic data with a fixed seed)
every method runs twice and the *second* (warm) run is timed, so compilation (numba for nutpie,
C for PyMC) is excluded. Agreement: |mu mean - exact| and |tau median - exact|. Then the robust and
selection models are timed warm (target <= 5 s).

    .venv/bin/python benchmarks/bench_nuts.py [k ...]      # default: 13 100 1000
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
import timeit
from pathlib import Path

import numpy as np
import pandas as pd

from evidence.meta.pymc.settings import SamplerSettings

REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
PRIOR = "halfnormal:0.5"
SETTINGS = SamplerSettings()  # the defaults every sampled fit uses


def dataset(k: int):
    if k == 13 and (REF / "metafor" / "dat.bcg.csv").exists():
        d = pd.read_csv(REF / "metafor" / "dat.bcg.csv")
        return "dat.bcg", d.yi.to_numpy(float), d.vi.to_numpy(float)
    rng = np.random.default_rng(k)
    vi = rng.uniform(0.01, 0.2, k)
    yi = rng.normal(0.3 + rng.normal(0.0, 0.2, k), np.sqrt(vi))
    return f"synthetic k={k}", yi, vi


def warm(fn):
    """Run twice; return (result of the second run, its wall time in s)."""
    fn()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def mu_tau(idata):
    post = idata.posterior
    return float(post["mu"].mean()), float(post["tau"].median())


def main(ks):
    from evidence.meta.exact import posterior
    from evidence.meta.pymc import sampling
    from evidence.meta.pymc.models import build

    rows = []
    for k in ks:
        name, yi, vi = dataset(k)
        ex, _ = warm(lambda: posterior(yi, vi, tau_prior=PRIOR))
        # milliseconds: one call is noise-dominated, so take the median of 50 (the samplers: one warm run)
        t_ex = statistics.median(timeit.repeat(lambda: posterior(yi, vi, tau_prior=PRIOR), number=1, repeat=int(os.environ.get("BENCH_REPEAT", 0)) or 50))
        model = build("normal", yi, vi, tau_prior=PRIOR)
        row = {"data": name, "k": len(yi), "exact s": t_ex}
        for sampler in ("nutpie", "pymc"):
            idata, t = warm(lambda: sampling.sample(model, dataclasses.replace(SETTINGS, sampler=sampler)))
            m, tau_med = mu_tau(idata)
            row[f"{sampler} s"] = t
            row[f"{sampler}/exact"] = t / t_ex
            row[f"|dmu| {sampler}"] = abs(m - ex.mu.mean)
            row[f"|dtau50| {sampler}"] = abs(tau_med - ex.tau.q50)
            row[f"ess {sampler}"] = sampling.diagnose(idata, ["mu", "tau"]).min_ess_bulk
        row["pymc/nutpie"] = row["pymc s"] / row["nutpie s"]
        rows.append(row)
        print(f"done {name}", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows).set_index("data")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        print(f"\nnormal-normal, tau ~ {PRIOR}, mu flat; NUTS {SETTINGS.chains} chains x {SETTINGS.draws} draws "
              f"(+{SETTINGS.tune} warm-up); warm timings in seconds\n")
        print(table.to_string())

    name, yi, vi = dataset(13)
    print(f"\nother models on {name}, nutpie, warm (target <= 5 s):")
    for kind, extra in (("robust", {}), ("selection", {"alternative": "less"})):
        model = build(kind, yi, vi, tau_prior=PRIOR, **extra)
        idata, t = warm(lambda: sampling.sample(model, SETTINGS))
        d = sampling.diagnose(idata, ["mu", "tau"])
        print(f"  {kind:<10} {t:6.2f} s  ({idata.attrs['sampler']}, mu mean {float(idata.posterior['mu'].mean()):+.3f}, "
              f"divergences {d.divergences}, max R-hat {d.max_rhat:.3f}) {'OK' if t <= 5 else 'SLOW'}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [13, 100, 1000])
