"""The landing page and the gap map in a real browser (Debian chromium via Playwright), at 1400 and
390 px: landing -> question -> What works; one click on a cell -> its answer and studies, cell
highlighted; filters in the URL reopen the same view in a new session; an empty filter result offers a
reset; on a phone the map scrolls in its own frame, not the page. Screenshots: test-output/browser/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app_catalogue import CHROMIUM, CHROMIUM_ARGS, served_test_catalogue

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "test-output" / "browser"
CELL = ("conditional_cash_transfer", "economic_activity", "Conditional cash transfer", "Any economic activity")
LATIN = "Latin America & Caribbean"
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_test_catalogue(tmp_path_factory.mktemp("browser_gap_map")) as (url, db):
        yield url, db


def _card(db, **filters):
    from evidence import synthesis
    from evidence.catalog import queries

    effects = queries.effects(queries.Filters(**filters), engine=queries.connect(db))
    return synthesis.answer_card(effects, synthesis.WhatWorksOptions(CELL[0], CELL[1]))


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``, and wait until it shows it."""
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.keyboard.type(option)  # typing filters the list (a phone-width list may not open on a click alone)
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option, timeout=30_000)
    page.wait_for_timeout(500)  # the rerun the change starts


def _bubble(page, intervention: str, outcome: str):
    """The gap map's mark for one cell (Vega labels each mark with its tooltip fields)."""
    return page.locator(f"[data-testid='stVegaLiteChart'] svg g.mark-symbol path[aria-label*='Intervention: {intervention}; "
                        f"Outcome: {outcome};']").first


@pytest.mark.parametrize("width", [1400, 390])
def test_landing_and_gap_map_in_a_real_browser(server, width):
    from playwright.sync_api import expect, sync_playwright

    url, db = server
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 2400})

        # -- landing -> a question -> What works with those choices --------------------------------
        page.goto(url + "/")
        page.get_by_role("heading", name="What works to reduce child labour?").wait_for(timeout=60_000)
        page.get_by_text("Best-supported findings so far").wait_for(timeout=60_000)
        expect(page.get_by_text(_card(db).statement).first).to_be_visible(timeout=60_000)  # its card is a finding
        page.get_by_role("button", name="See what works").wait_for(timeout=60_000)  # the page has run to its end
        expect(page.locator("[data-testid='stMetricValue']").first).to_be_visible()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / f"landing_{width}.png"))
        _choose(page, "Which programme?", CELL[2])
        _choose(page, "On what outcome?", CELL[3])
        _choose(page, "Where?", LATIN)
        page.get_by_role("button", name="See what works").click()
        page.get_by_role("heading", name="What works", exact=True).wait_for(timeout=60_000)
        expect(page.get_by_text(_card(db, regions=(LATIN,)).statement).first).to_be_visible(timeout=60_000)
        expect(page).to_have_url(re.compile(r"/what-works\?.*regions=Latin"), timeout=30_000)

        # -- one click on a cell: its answer and its studies below, and the cell highlighted --------
        page.goto(url + "/gap-map")
        bubble = _bubble(page, CELL[2], CELL[3])
        bubble.wait_for(timeout=60_000)
        bubble.click()
        card = _card(db)
        expect(page.get_by_text(f"Studies in this cell ({card.n_studies})")).to_be_visible(timeout=60_000)
        expect(page.get_by_text(card.statement).first).to_be_visible()
        expect(_bubble(page, CELL[2], CELL[3])).to_have_attribute("stroke", "#000000", timeout=30_000)
        others = page.locator("[data-testid='stVegaLiteChart'] svg g.mark-symbol path[opacity='0.3']")
        assert others.count() >= 1  # the other cells fade
        expect(page).to_have_url(re.compile(rf"intervention={CELL[0]}&outcome={CELL[1]}"))
        if width < 600:  # a phone: the map scrolls sideways inside its own frame; the page does not
            sizes = page.evaluate("""() => { const s = document.querySelector("[data-testid='stVegaLiteChart'] svg");
                let f = s.parentElement;  // the nearest frame that scrolls sideways (the chart's own, or its block)
                while (f && !(f.scrollWidth > f.clientWidth + 1 && ["auto", "scroll"].includes(getComputedStyle(f).overflowX)))
                    f = f.parentElement;
                return [f ? f.clientWidth : 0, f ? f.scrollWidth : 0, document.querySelector("[data-testid='stMain']").scrollWidth]; }""")
            assert sizes[1] > sizes[0] and sizes[2] <= width, sizes
        page.get_by_role("button", name="Open the full answer in What works").wait_for(timeout=60_000)
        page.mouse.move(1, 1)  # the tooltip of the clicked cell closes
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / (f"gap_map_cell_{width}.png" if width >= 600 else f"gap_map_{width}.png")))
        if width >= 600:  # a cell picked below the map is highlighted on the map too
            _choose(page, "Outcome", "Enrolment")
            expect(page.get_by_text(f"{CELL[2]} → Enrolment")).to_be_visible(timeout=60_000)
            expect(_bubble(page, CELL[2], "Enrolment")).to_have_attribute("stroke", "#000000", timeout=30_000)
            expect(_bubble(page, CELL[2], CELL[3])).to_have_attribute("opacity", "0.3")
        page.get_by_role("button", name="Open the full answer in What works").click()
        page.get_by_role("heading", name="What works", exact=True).wait_for(timeout=60_000)

        # -- an empty filter result says so and resets --------------------------------------------
        page.goto(url + "/gap-map?regions=Sub-Saharan+Africa&countries=BRA")
        page.get_by_text("No study matches these filters").wait_for(timeout=60_000)
        page.get_by_role("button", name="Reset filters").click()
        page.locator("[data-testid='stVegaLiteChart'] svg").first.wait_for(timeout=60_000)
        expect(page).not_to_have_url(re.compile("regions="), timeout=30_000)
        browser.close()


def test_filters_set_in_the_sidebar_reopen_from_a_copied_link(server):
    from playwright.sync_api import expect, sync_playwright

    url, db = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(url + "/gap-map")
        page.locator("[data-testid='stVegaLiteChart'] svg").first.wait_for(timeout=60_000)
        region = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
        region.click()
        page.keyboard.type("Sub-Saharan")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        _choose(page, "Sex (effect's subgroup)", "all")
        expect(page).to_have_url(re.compile(r"regions=Sub-Saharan\+Africa.*sex=all|sex=all.*regions=Sub-Saharan\+Africa"),
                                 timeout=60_000)
        page.wait_for_timeout(1500)  # the rerun after the last change has settled
        metrics = page.locator("[data-testid='stMetricValue']").all_inner_texts()
        link = page.url

        other = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()  # a new session
        other.goto(link)
        other.locator("[data-testid='stVegaLiteChart'] svg").first.wait_for(timeout=60_000)
        sidebar = other.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_text("Sub-Saharan Africa")).to_be_visible()
        expect(sidebar.get_by_role("combobox", name="Sex (effect's subgroup)", exact=True)).to_have_value("all")
        expect(other.locator("[data-testid='stMetricValue']")).to_have_text(metrics, timeout=30_000)
        browser.close()
