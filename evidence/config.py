"""Where things live and the few thresholds users may want to change.

Every path can be overridden by an environment variable so tests, benchmarks and other deployments
(e.g. PostgreSQL by URL) need no code change.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Study files (one YAML file per study).
STUDIES_DIR = Path(os.environ.get("EVIDENCE_STUDIES_DIR", REPO_ROOT / "studies"))

#: The embedded catalogue shipped with the repository (rebuilt by ``evidence build``).
CATALOG_PATH = Path(os.environ.get("EVIDENCE_CATALOG_PATH", Path(__file__).resolve().parent / "catalog.db"))

#: SQLAlchemy URL of the catalogue; defaults to the embedded SQLite file (opened read-only by the app).
#: Point it at PostgreSQL with e.g. ``postgresql+psycopg://user@host/evidence``.
CATALOG_URL = os.environ.get("EVIDENCE_CATALOG_URL")



def fit_cache_dir() -> Path:
    """Where sampled (NUTS) fits are cached on disk: ``$EVIDENCE_FIT_CACHE`` -- point every app
    replica at one shared directory and one replica's fit serves them all (entries are written to a
    temp file and renamed, so a reader never sees half of one) -- else ``$EVIDENCE_CACHE_DIR`` (the
    older name), else ``~/.cache/evidence/fits``. Read at each call, so tests can set it."""
    env = os.environ.get("EVIDENCE_FIT_CACHE") or os.environ.get("EVIDENCE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "evidence" / "fits"


#: Duplicate detection: pairs scoring at least this (0-100, rapidfuzz token_set_ratio on normalised
#: titles, combined with author and year agreement) are reported as likely duplicates.
DEDUP_THRESHOLD = float(os.environ.get("EVIDENCE_DEDUP_THRESHOLD", 88))

#: Years apart within which two records can still be versions of one study.
DEDUP_YEAR_WINDOW = 1

#: Where a second coder's independent file lives, inside the studies directory:
#: ``second-coding/<id>.<coder>.yaml``. Not a study file: the build and validation read only
#: ``studies/*.yaml``, and validation refuses a study with a second coding until it is reconciled.
SECOND_CODING_DIR = "second-coding"

#: Default random seed for every sampler and every export.
SEED = 2026
