"""Smoke test of benchmarks/bench_frequentist.py: it runs and prints its table (no timing asserted)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_frequentist_prints_its_table():
    res = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_frequentist.py"), "--repeat", "1",
                          "--max-k", "100"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "REML ms" in out and "Q-profile ms" in out
    rows = [line.split()[0] for line in out.splitlines() if line.split() and line.split()[0].isdigit()]
    assert rows == ["13", "100"], out  # --max-k stops before 1,000
    assert "cost ratio k=100 / k=13" in out
    assert "metafor:" in out or "metafor REML ms" in out  # says whether metafor ran
