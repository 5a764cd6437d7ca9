"""Smoke run of the load benchmark (``benchmarks/bench_load.py --quick``: N = 1, one server), with each
client: the adviser's path really completes in a browser and over the websocket protocol (the page
switch included), and every figure the full run prints is there; the realistic load model (staggered
starts, exponential think times) runs too, and its pauses are seeded and shaped as stated."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("client,model", [("chromium", "worst"), ("protocol", "worst"), ("protocol", "realistic")])
def test_bench_load_quick(client, model):
    if client == "chromium" and not Path("/usr/bin/chromium").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("/usr/bin/chromium is missing: bash dev.sh test installs it")
        pytest.skip("chromium not installed")
    run = subprocess.run([sys.executable, "benchmarks/bench_load.py", "--quick", "--client", client, "--model", model,
                          "--think-mean", "0.3", "--ramp", "1"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = re.findall(r"^\s+1 (gap map|filter|what works)\s+(\d+)\s+(\d+)\s+1\.00x$", run.stdout, re.M)
    assert [r[0] for r in rows] == ["gap map", "filter", "what works"], run.stdout
    assert all(0 < int(p50) <= int(p95) for _, p50, p95 in rows)
    assert re.search(r"^\s+1 memory: -?\d+\.\d MB per session \(server RSS \d+ MB\); server CPU \d+\.\d\d s per session$", run.stdout, re.M), run.stdout
    label = "starts uniform over a 1 s ramp, think time exponential with mean 0.3 s" if model == "realistic" else \
        "all sessions start at once, no think time"
    assert re.search(rf"^one server: .*; {model}[^:]*: {label}", run.stdout, re.M), run.stdout


def test_bench_load_on_a_throwaway_postgres():
    """``--postgres``: the benchmark starts its own PostgreSQL, builds the catalogue into it as the owner
    role and serves it with the read-only role (the team path), then prints the same table."""
    from pgserver import available

    why = available()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why)
        pytest.skip(why)
    run = subprocess.run([sys.executable, "benchmarks/bench_load.py", "--quick", "--postgres", "--client", "protocol"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^catalogue: postgresql\+psycopg://evidence_reader:\*\*\*@127\.0\.0\.1:\d+/evidence_load;", run.stdout, re.M), run.stdout
    rows = re.findall(r"^\s+1 (gap map|filter|what works)\s+(\d+)\s+(\d+)\s+1\.00x$", run.stdout, re.M)
    assert [r[0] for r in rows] == ["gap map", "filter", "what works"], run.stdout


def test_realistic_pauses_are_seeded_and_shaped():
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_load import WORST, Load

    load = Load("realistic", ramp=20, think_mean=5, seed=1)
    pauses = load.pauses(2000)
    assert pauses == load.pauses(2000) and pauses != Load("realistic", ramp=20, think_mean=5, seed=2).pauses(2000)
    starts = [p[0] for p in pauses]
    thinks = [t for p in pauses for t in p[1:]]
    assert min(starts) == 0 and max(starts) <= 20 and 9 < sum(starts) / len(starts) < 11  # uniform over the ramp
    assert min(thinks) >= 0 and 4.6 < sum(thinks) / len(thinks) < 5.4  # exponential, mean 5 s
    assert 0.9 < statistics.pstdev(thinks) / (sum(thinks) / len(thinks)) < 1.1  # its sd equals its mean
    assert load.pauses(1) == [(0.0, load.pauses(1)[0][1], load.pauses(1)[0][2])]
    assert WORST.pauses(3) == [(0.0, 0.0, 0.0)] * 3
