"""Time REML and the Q-profile CI of tau^2 (``evidence.meta.frequentist``) at k = 13, 100, 1,000, 10,000.

Why: both used to build k x k matrices (REML at k = 1,000 cost 190x its cost at k = 100). They now
need O(k) work per iteration, so the k = 10,000 / k = 1,000 ratio printed at the end should be
about 10 (linear growth). Synthetic data with a fixed seed (true mu 0.3, tau 0.25, v_i ~ U(0.01,
0.2)); k = 13 is dat.bcg when ../shared/reference is present. Each figure is the median of
``--repeat`` runs after one warm-up. When R with metafor is installed (``Rscript -e
'library(metafor)'`` succeeds), metafor's ``rma(method="REML")`` and ``confint()`` run on the same
data in the same run and their times and our/metafor ratios are printed; otherwise the script says so.
Timings are reported, not asserted (machines differ); the exit status is 0.

    python benchmarks/bench_frequentist.py [--repeat N] [--max-k K]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evidence.meta.frequentist import rma, tau2_ci_qprofile

KS = (13, 100, 1000, 10000)
BCG = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "metafor" / "dat.bcg.csv"
R_CODE = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); n <- as.integer(args[2])
med <- function(f) { f(); t <- replicate(n, system.time(f())[["elapsed"]]); median(t) }
fit <- rma(d$yi, d$vi, method = "REML")
cat(sprintf('{"reml": %.9f, "qprofile": %.9f, "tau2": %.12g}\n',
            med(function() rma(d$yi, d$vi, method = "REML")),
            med(function() confint(rma(d$yi, d$vi, method = "REML"))), fit$tau2))
"""


def synthetic(k: int, seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    if k == 13 and BCG.exists():
        d = pd.read_csv(BCG)
        return d["yi"].to_numpy(float), d["vi"].to_numpy(float)
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, k)
    return rng.normal(0.3, 0.25, k) + rng.normal(0.0, np.sqrt(vi)), vi


def median_time(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def metafor_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    res = subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True, text=True)
    return res.returncode == 0


def time_metafor(yi, vi, repeat: int) -> dict:
    """metafor's REML and Q-profile times (seconds, median of ``repeat``; R's timer resolution is 1 ms)."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        pd.DataFrame({"yi": yi, "vi": vi}).to_csv(csv, index=False)
        res = subprocess.run(["Rscript", "-e", R_CODE, str(csv), str(repeat)], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"metafor failed: {res.stderr.strip()[-300:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median; default 5)")
    ap.add_argument("--max-k", type=int, default=max(KS), help="largest k to run (default 10000)")
    ap.add_argument("--r-max-k", type=int, default=1000,
                    help="largest k metafor runs at (default 1000: metafor builds k x k matrices, so k = 10,000 "
                         "needs about 1 GB per matrix and many minutes)")
    args = ap.parse_args(argv)
    ks = [k for k in KS if k <= args.max_k]
    use_r = metafor_available()
    rows = []
    for k in ks:
        yi, vi = synthetic(k)
        row = {"k": k, "REML ms": 1e3 * median_time(lambda: rma(yi, vi, method="REML"), args.repeat),
               "Q-profile ms": 1e3 * median_time(lambda: tau2_ci_qprofile(yi, vi), args.repeat),
               "tau2": rma(yi, vi, method="REML").tau2}
        if use_r and k <= args.r_max_k:
            m = time_metafor(yi, vi, args.repeat)
            row.update({"metafor REML ms": 1e3 * m["reml"], "metafor Q-profile ms": 1e3 * m["qprofile"],
                        "metafor tau2": m["tau2"]})
            row["REML: x faster than metafor"] = row["metafor REML ms"] / row["REML ms"]
            row["Q-profile: x faster than metafor"] = row["metafor Q-profile ms"] / row["Q-profile ms"]
        rows.append(row)
    table = pd.DataFrame(rows).set_index("k")
    print(f"REML and Q-profile CI of tau^2, median of {args.repeat} run(s) after a warm-up\n")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        print(table.to_string())
    print()
    for a, b in ((100, 13), (1000, 100), (10000, 1000)):
        if a in table.index and b in table.index:
            print(f"cost ratio k={a:,} / k={b:,}: REML {table.loc[a, 'REML ms'] / table.loc[b, 'REML ms']:.1f}x, "
                  f"Q-profile {table.loc[a, 'Q-profile ms'] / table.loc[b, 'Q-profile ms']:.1f}x"
                  + ("   (linear growth: ~10x)" if a == 10 * b else ""))
    if use_r and args.max_k > args.r_max_k:
        print(f"metafor: timed up to k = {args.r_max_k:,} only (--r-max-k); larger k shows our cost alone")
    if not use_r:
        print("metafor: not installed (Rscript with library(metafor) not found), so no metafor timings in this run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
