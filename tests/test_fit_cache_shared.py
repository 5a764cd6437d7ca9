"""One replica's sampled fit serves the others: ``EVIDENCE_FIT_CACHE`` names a shared directory and
entries appear there atomically (temp file + rename), readable by every replica. No sampling here:
the fitting process stubs ``models.fit``; the reading process would fail if it had to fit."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WRITER = """
from evidence.meta.pymc import cache, models
from evidence.meta.pymc.settings import SamplerSettings
from evidence.meta.result import MetaResult, Summary
models.fit = lambda *a, **k: MetaResult(model="normal", k=2, measure=None, spec={"seed": k["settings"].seed}, data={},
                                        mu=Summary(0.25, 0.1, 0.05, 0.25, 0.45), warnings=[])
r = cache.cached_fit("normal", [0.1, 0.3], [0.01, 0.02], settings=SamplerSettings(seed=11))
print(r.mu.mean)
"""


def test_a_fit_made_by_one_replica_serves_another(tmp_path, monkeypatch):
    from evidence.meta.pymc import cache, models
    from evidence.meta.pymc.settings import SamplerSettings

    shared = tmp_path / "shared-fits"
    env = {**os.environ, "EVIDENCE_FIT_CACHE": str(shared)}
    env.pop("EVIDENCE_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-c", WRITER], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    entries = sorted(p.name for p in shared.iterdir())
    assert len(entries) == 1 and entries[0].endswith(".json")  # no temp file left behind
    assert stat.S_IMODE((shared / entries[0]).stat().st_mode) == 0o644  # other users' replicas can read it

    def must_not_fit(*a, **k):
        raise AssertionError("the shared cache should have served this fit")

    monkeypatch.setattr(models, "fit", must_not_fit)
    monkeypatch.setenv("EVIDENCE_FIT_CACHE", str(shared))
    monkeypatch.setenv("EVIDENCE_CACHE_DIR", str(tmp_path / "elsewhere"))  # the new name wins
    cache.clear_memory()
    try:
        got = cache.cached_fit("normal", [0.1, 0.3], [0.01, 0.02], settings=SamplerSettings(seed=11))
    finally:
        cache.clear_memory()
    assert got.mu.mean == 0.25 and float(done.stdout) == 0.25
