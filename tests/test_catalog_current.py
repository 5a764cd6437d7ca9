"""The shipped catalogue must match the study files: the app reads ``evidence/catalog.db`` as is."""

from __future__ import annotations

import sqlite3

from evidence.catalog.build import studies_hash
from evidence.config import CATALOG_PATH, STUDIES_DIR

FIX = "run `evidence build` (or `python -m evidence build`) and commit evidence/catalog.db"


def test_catalog_matches_studies():
    assert CATALOG_PATH.is_file(), f"{CATALOG_PATH} is missing: {FIX}"
    with sqlite3.connect(f"{CATALOG_PATH.resolve().as_uri()}?mode=ro", uri=True) as conn:
        row = conn.execute("select value from catalog_meta where key = 'studies_hash'").fetchone()
    assert row is not None, f"{CATALOG_PATH} has no studies_hash: {FIX}"
    assert row[0] == studies_hash(STUDIES_DIR), (
        f"{CATALOG_PATH} is out of date with {STUDIES_DIR} (a study file was added, changed or removed): {FIX}")
