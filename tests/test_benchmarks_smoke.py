"""Every benchmark script still runs (one repeat, smallest sizes) and prints its table: a renamed
function can never break a benchmark silently. No timing is asserted (figures are the scripts' job)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUNS = {
    "bench_app.py": (["1"], "median"),
    "bench_browser.py": (["1"], "filter change until settled"),
    "bench_catalog.py": (["--n", "20"], "build"),
    "bench_cli.py": (["1"], "meta --csv"),
    "bench_exact.py": ([], "median ms"),
    "bench_coding.py": ([], "kappa"),
    "bench_nuts.py": (["13"], "nutpie"),
}


@pytest.mark.parametrize("script", sorted(RUNS))
def test_benchmark_smoke_run(script):
    args, expect = RUNS[script]
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args], cwd=REPO, capture_output=True,
                         text=True, timeout=600, env=dict(os.environ, BENCH_REPEAT="1"))
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert expect in out.stdout, out.stdout[-2000:]
