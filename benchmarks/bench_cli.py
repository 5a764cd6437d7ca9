"""Whole-process wall time of the quick commands, as a person at a shell feels it.

``evidence meta --csv`` on the BCG data (k = 13, REML) is timed against the floor (``python -c
"import numpy"``) and, when ``Rscript`` with metafor is installed, against metafor on the same file,
so the ratio is measured in the same run on the same machine. Also times ``validate``, ``list`` and
``answer``. Usage: ``bench_cli.py [N]`` (median of N runs, default 7; ``BENCH_REPEAT`` overrides).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CSV = REPO / "tests" / "fixtures" / "bcg_effects.csv"  # equal to ../shared/reference/metafor/dat.bcg.csv
PY = sys.executable
ENV = dict(os.environ, PYTHONPATH=str(REPO))
R_CODE = f'library(metafor); d<-read.csv("{CSV}"); print(rma(yi,vi,data=d,method="REML"))'


def _study() -> str:
    return str(sorted((REPO / "studies").glob("*.yaml"))[0])


def commands() -> dict[str, list[str]]:
    ev = [PY, "-m", "evidence"]
    cmds = {
        "python -c 'import numpy'": [PY, "-c", "import numpy"],
        "evidence meta --csv bcg": [*ev, "meta", "--csv", str(CSV)],
        "evidence validate <one study>": [*ev, "validate", _study()],
        "evidence list": [*ev, "list"],
        "evidence answer cct/child_labour": [*ev, "answer", "--intervention", "conditional_cash_transfer",
                                             "--outcome", "child_labour"],
    }
    if shutil.which("Rscript") and _run(["Rscript", "-e", "library(metafor)"]) == 0:
        cmds["Rscript metafor rma REML"] = ["Rscript", "-e", R_CODE]
    return cmds


def _run(cmd: list[str]) -> int:
    return subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True, timeout=600).returncode


def time_median(cmd: list[str], n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        rc = _run(cmd)
        times.append(time.perf_counter() - t0)
        if rc != 0:
            raise SystemExit(f"failed ({rc}): {' '.join(cmd)}")
    return statistics.median(times)


def main() -> None:
    n = int(os.environ.get("BENCH_REPEAT") or (sys.argv[1] if len(sys.argv) > 1 else 7))
    cmds = commands()
    res = {name: time_median(cmd, n) for name, cmd in cmds.items()}
    print(f"whole-process wall time, median of {n} runs")
    print(f"{'command':40s} {'median s':>9s}")
    for name, t in res.items():
        print(f"{name:40s} {t:9.3f}")
    meta = res["evidence meta --csv bcg"]
    print(f"ratio meta --csv / python+numpy: {meta / res[next(iter(res))]:.2f}x")
    r = res.get("Rscript metafor rma REML")
    if r is None:
        print("Rscript with metafor not installed: no R comparison")
    else:
        print(f"ratio meta --csv / Rscript+metafor: {meta / r:.2f}x (target <= 0.6x)")


if __name__ == "__main__":
    main()
