"""Every page of the explorer in a real browser (Debian chromium via Playwright) at 1400, 800 and 390 px: it
runs without a Python exception or a page error, shows its title, does not scroll sideways as a whole,
asks nothing of the network, and does the one thing it is for (an answer on What works, a study on
Studies, a drawn map on Where, a pooled estimate of the example on Your data, the forms of Code a study
and Reconcile...). One server and one browser serve the whole module, so the eighteen page visits
take well under a minute of browser time. Full-page screenshots: test-output/browser/<page>_<width>.png.
The gap map's own behaviours (a click opens a cell, links round-trip, the empty state resets) are in
tests/test_browser_gap_map.py; accessibility (axe-core) is in tests/test_browser_a11y.py."""

from __future__ import annotations

import re

import pytest
from app_catalogue import require_chromium
from browser_ux import (
    OUT,
    PAGE_WIDTHS,
    PAGES,
    exceptions_shown,
    explorer,
    horizontal_overflow,
    offline_browser,
    open_page,
    screenshot,
    streamlit_dialogs,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """The explorer and one offline browser context for every page of this module."""
    require_chromium()
    OUT.mkdir(parents=True, exist_ok=True)
    with explorer(tmp_path_factory.mktemp("browser_pages")) as url, offline_browser() as (context, refused):
        yield url, context, refused


def _visible(locator) -> None:
    from playwright.sync_api import expect

    expect(locator.first).to_be_visible(timeout=30_000)


def _home(page) -> None:
    _visible(page.get_by_role("heading", name="Best-supported findings so far"))
    _visible(page.locator("[data-testid='stMetricValue']"))
    _visible(page.get_by_role("button", name="See what works"))


def _gap_map(page) -> None:
    from evidence.synthesis.charts import DIRECTION_SIGNS

    _visible(page.locator("[data-testid='stVegaLiteChart'] svg g.mark-symbol path[aria-label*='Intervention: ']"))
    signs = page.locator("[data-testid='stVegaLiteChart'] svg g.mark-text.role-mark text").all_text_contents()
    assert set(signs) & set(DIRECTION_SIGNS.values()), signs  # direction has a sign besides its colour


def _what_works(page) -> None:
    _visible(page.get_by_text("Certainty of the evidence"))
    _visible(page.get_by_text("Vote count by direction of effect (SWiM):"))
    _visible(page.locator("[data-testid='stVegaLiteChart'] svg, [data-testid='stVegaLiteChart'] canvas"))


def _studies(page) -> None:
    from playwright.sync_api import expect

    picker = page.get_by_role("combobox", name="Study", exact=True)
    _visible(picker)
    expect(picker).not_to_have_value("")
    _visible(page.get_by_role("heading", name="Effects, with the passage each number was coded from"))


def _where(page) -> None:
    _visible(page.locator("[data-testid='stVegaLiteChart'] svg path[aria-label*='Country: ']"))
    _visible(page.get_by_role("heading", name="Countries ranked by number of studies"))


def _your_data(page) -> None:
    _visible(page.get_by_role("heading", name=re.compile(r"^Pooled effect")))


def _code_study(page) -> None:
    _visible(page.get_by_role("textbox", name="DOI, entry or id"))
    _visible(page.get_by_role("button", name="Start coding"))


def _reconcile(page) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("combobox", name="Second coding", exact=True)).to_have_value("omega-2015-cct.ben.yaml")
    _visible(page.get_by_role("textbox", name="Resolved by"))


def _method(page) -> None:
    _visible(page.get_by_role("heading", name="How to cite"))
    _visible(page.locator("[data-testid='stCode']").filter(has_text="Child labour evidence synthesis"))


#: url path -> what the page is for, checked in the browser.
KEY_BEHAVIOUR = {"home": _home, "gap-map": _gap_map, "what-works": _what_works, "studies": _studies, "where": _where,
                 "your-data": _your_data, "code-study": _code_study, "reconcile": _reconcile, "method": _method}


def test_every_page_has_its_key_behaviour():
    assert set(KEY_BEHAVIOUR) == set(PAGES)


@pytest.mark.parametrize("width", PAGE_WIDTHS)
@pytest.mark.parametrize("path", list(PAGES))
def test_page_in_a_real_browser(browser, path, width):
    url, context, refused = browser
    before = len(refused)
    page, errors = open_page(context, url, path, width)
    try:
        _visible(page.get_by_role("heading", level=1, name=PAGES[path], exact=True))
        KEY_BEHAVIOUR[path](page)
        assert exceptions_shown(page) == []
        assert streamlit_dialogs(page) == [], "Streamlit showed a dialog (a wrong URL path?)"
        assert errors == []
        assert horizontal_overflow(page) <= 1, "the page itself scrolls sideways"
        assert refused[before:] == [], "the page asked for something off this machine"
        screenshot(page, OUT / f"{path}_{width}.png")
    finally:
        page.close()
