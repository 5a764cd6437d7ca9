"""The Studies page's "What to code next" panel, run headless with AppTest on the explorer's test catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_catalogue import app_catalogue
from streamlit.testing.v1 import AppTest

from evidence.catalog import queries

APP = str(Path(__file__).resolve().parents[1] / "app.py")
pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    with app_catalogue(tmp_path_factory.mktemp("app_queue")) as db:
        yield db


def test_studies_page_shows_what_to_code_next(catalogue):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/studies.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    panel = next(e for e in at.expander if e.label == "What to code next")
    table = next(d.value for d in panel.dataframe if "Why next" in d.value.columns)  # headers in words
    studies = queries.studies()
    uncoded = set(studies.loc[studies["coding_status"] != "coded", "citation"])
    assert uncoded and uncoded <= set(table["Study"])  # every mapped or headline study is listed
    assert list(table["Rank"]) == list(range(1, len(table) + 1))
    assert table["Why next"].str.len().gt(0).all() and table["Link"].str.startswith("https://").all()
    assert any(f"{len(table)} studies mapped, headline only or missing parts" in str(c.value) for c in panel.caption)
