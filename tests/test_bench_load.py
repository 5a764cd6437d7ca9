"""Smoke run of the load benchmark (``benchmarks/bench_load.py --quick``: N = 1, one server), with each
client: the adviser's path really completes in a browser and over the websocket protocol (the page
switch included), and every figure the full run prints is there."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("client", ["chromium", "protocol"])
def test_bench_load_quick(client):
    if client == "chromium" and not Path("/usr/bin/chromium").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("/usr/bin/chromium is missing: bash dev.sh test installs it")
        pytest.skip("chromium not installed")
    run = subprocess.run([sys.executable, "benchmarks/bench_load.py", "--quick", "--client", client], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = re.findall(r"^\s+1 (gap map|filter|what works)\s+(\d+)\s+(\d+)\s+1\.00x$", run.stdout, re.M)
    assert [r[0] for r in rows] == ["gap map", "filter", "what works"], run.stdout
    assert all(0 < int(p50) <= int(p95) for _, p50, p95 in rows)
    assert re.search(r"^\s+1 memory: -?\d+\.\d MB per session \(server RSS \d+ MB\); server CPU \d+\.\d\d s per session$", run.stdout, re.M), run.stdout
