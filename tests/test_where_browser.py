"""The Where page's world map in a real browser (Debian chromium via Playwright, no network): a click
on a country sets the sidebar's Country filter, the URL carries it, and it holds on What works, whose
study count becomes that country's. Screenshot: test-output/browser/where_country_clicked.png (copied
to docs/screenshots/ by hand)."""

from __future__ import annotations

import re

import pytest
from app_catalogue import served_test_catalogue
from browser_ux import OUT, exceptions_shown, offline_browser, settle

COUNTRY = ("MEX", "Mexico")
CELL = ("conditional_cash_transfer", "economic_activity", "Conditional cash transfer", "Any economic activity")
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

#: A point inside a country's shape (the centre of its box may be sea), in viewport pixels: Vega names
#: each shape by its tooltip ("Country: Mexico; ..."), and the search walks its box from the centre out.
INSIDE = """(name) => {
    const shape = [...document.querySelectorAll("[data-testid='stVegaLiteChart'] svg path[aria-label]")]
        .find(p => p.getAttribute("aria-label").includes("Country: " + name + ";"));
    if (!shape) return null;
    const box = shape.getBBox(), svg = shape.ownerSVGElement, ctm = shape.getScreenCTM();
    const steps = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9];
    for (const fx of steps) for (const fy of steps) {
        const pt = svg.createSVGPoint();
        pt.x = box.x + box.width * fx; pt.y = box.y + box.height * fy;
        if (shape.isPointInFill(pt)) { const s = pt.matrixTransform(ctm); return [s.x, s.y]; }
    }
    return null;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_test_catalogue(tmp_path_factory.mktemp("browser_where")) as (url, db):
        yield url, db


def _studies_metric(db, **filters) -> str:
    """What What works shows as "Studies (pooled / in this cell)" for CELL, from the answer card."""
    from evidence import synthesis
    from evidence.catalog import queries

    effects = queries.effects(queries.Filters(**filters), engine=queries.connect(db))
    card = synthesis.answer_card(effects, synthesis.WhatWorksOptions(CELL[0], CELL[1]))
    return f"{len(card.pooled_ids)} / {card.n_studies}"


def _choose(page, label: str, option: str) -> None:
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option, timeout=30_000)
    settle(page)


def test_click_a_country_on_the_map_filters_every_page(server):
    from playwright.sync_api import expect

    url, db = server
    code, name = COUNTRY
    everywhere, there = _studies_metric(db), _studies_metric(db, countries=(code,))
    assert everywhere != there  # the filter must change What works' count, or the last check proves nothing
    OUT.mkdir(parents=True, exist_ok=True)
    with offline_browser() as (context, refused):
        page = context.new_page()
        page.set_viewport_size({"width": 1400, "height": 1100})
        page.goto(f"{url}/where")
        settle(page)
        chart = page.locator("[data-testid='stVegaLiteChart'] svg").first
        chart.wait_for(timeout=60_000)
        chart.scroll_into_view_if_needed()
        country_filter = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").filter(has_text="Country")
        expect(country_filter).not_to_contain_text(name)
        assert "countries=" not in page.url

        point = page.evaluate(INSIDE, name)
        assert point, f"no shape named {name} on the map"
        page.mouse.click(*point)
        expect(page.get_by_text(f"Country filter: {name}.")).to_be_visible(timeout=60_000)
        settle(page)
        expect(country_filter).to_contain_text(name)  # the sidebar's Country filter shows it
        expect(page).to_have_url(re.compile(rf"[?&]countries={code}\b"), timeout=30_000)  # the URL carries it
        # the chosen country is drawn with a thick outline
        assert page.locator(f"[data-testid='stVegaLiteChart'] svg path[aria-label*='Country: {name};']"
                            "[stroke-width='2.5']").count() == 1
        page.screenshot(path=str(OUT / "where_country_clicked.png"), full_page=True)

        # -- it holds on What works (same session, through the menu) --------------------------------
        page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="What works", exact=True).click()
        page.get_by_role("heading", name="What works", exact=True).wait_for(timeout=60_000)
        settle(page)
        expect(country_filter).to_contain_text(name)
        expect(page).to_have_url(re.compile(rf"/what-works\?.*countries={code}\b"), timeout=30_000)
        _choose(page, "Intervention", CELL[2])
        _choose(page, "Outcome", CELL[3])
        metric = page.locator("[data-testid='stMetric']").filter(has_text="Studies (pooled / in this cell)")
        expect(metric.locator("[data-testid='stMetricValue']")).to_have_text(there, timeout=60_000)
        assert not exceptions_shown(page)
    assert refused == []
