"""The policy adviser's walk in a real browser (Debian chromium via Playwright) on the shipped
catalogue: What works for conditional cash transfers x child labour (how sure we are, the plain reason
nothing pools, the vote count, girls' results, "for my context" for girls aged 12-14 in sub-Saharan
Africa), then unconditional cash transfers x any economic activity filtered to sub-Saharan Africa (the
pooled answer per 100 children and the context answer). Every text is the card's (``evidence answer``)
or ``context_answer``'s. Screenshots: test-output/browser/what_works_cct_child_labour_1400.png and
what_works_adviser_filtered.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_catalogue import CHROMIUM, CHROMIUM_ARGS, require_chromium, serve_app

from evidence import synthesis
from evidence.synthesis import context

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "evidence" / "catalog.db"
OUT = REPO / "test-output" / "browser"
SSA = "Sub-Saharan Africa"
PORT = 8591  # this suite's port (8590-8599)
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server():
    require_chromium()
    with serve_app({"EVIDENCE_CATALOG_PATH": str(SHIPPED)}, PORT) as url:
        yield url


def _card_and_context(intervention, outcome, ctx, **filters):
    from evidence.catalog import queries

    eff = queries.effects(queries.Filters(**filters), engine=queries.connect(SHIPPED))
    ww = synthesis.what_works(eff, synthesis.WhatWorksOptions(intervention, outcome))
    return synthesis.card_from(ww), context.context_answer(ww, ctx)


def _choose(page, label: str, value: str) -> None:
    """Pick ``value`` in the main area's selectbox ``label`` (a combobox) and wait for the rerun."""
    from playwright.sync_api import expect

    box = page.locator("[data-testid='stMain']").get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(value)
    page.keyboard.press("Enter")
    expect(box).to_have_value(value, timeout=60_000)
    page.wait_for_timeout(500)  # the rerun starts; wait until the app is idle again
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)


def _see(page, text: str, where: str = "[data-testid='stMarkdownContainer']") -> None:
    """Wait until ``text`` is visible in a text block (headings, alerts, captions; ``where`` for others)."""
    page.locator(where).filter(has_text=text).first.wait_for(timeout=60_000)


def test_adviser_walk_in_a_real_browser(server):
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    ctx = context.Context(region=SSA, sex="girls", age_band="Children 12–14")
    card, want = _card_and_context("conditional_cash_transfer", "child_labour", ctx)
    assert card.pooled is None and want.text is None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(f"{server}/what-works?intervention=conditional_cash_transfer&outcome=child_labour")
        _see(page, card.vote_statement)  # the vote count; the statement starts with the plain reason
        _see(page, card.reason)
        _see(page, "not rated", "[data-testid='stMetricValue']")
        girls = next(g for g in card.subgroups if g.label == "Girls")
        _see(page, girls.text, "[data-testid='stTable'] td")  # the girls' row of the subgroup table
        page.set_viewport_size({"width": 1400, "height": 4000})
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "what_works_cct_child_labour_1400.png"), full_page=True)
        page.set_viewport_size({"width": 1400, "height": 1800})

        _choose(page, "Sex", "girls")
        _choose(page, "Age band", "Children 12–14")
        _choose(page, "Region", SSA)
        try:
            for line in want.reasons:
                _see(page, line[:70])
        finally:
            page.screenshot(path=str(OUT / "what_works_cct_child_labour_context.png"), full_page=True)

        # unconditional transfers, a child-labour outcome that pools, in sub-Saharan Africa
        card, want = _card_and_context("unconditional_cash_transfer", "economic_activity",
                                       context.Context(sex="girls", age_band="Children 12–14"), regions=(SSA,))
        assert card.absolute is not None and want.per_100 is not None
        page.goto(f"{server}/what-works?intervention=unconditional_cash_transfer&outcome=economic_activity")
        _see(page, card.statement[:60])
        region = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
        region.click()
        page.keyboard.type("Sub-Saharan")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        _see(page, card.absolute.text)  # per 100 children, from the card of the filtered catalogue
        _see(page, f"{card.certainty.capitalize()} (“{context.CERTAINTY_MEANING[card.certainty][0]}”)",
             "[data-testid='stMetricValue']")
        _choose(page, "Sex", "girls")
        _choose(page, "Age band", "Children 12–14")
        _see(page, want.per_100.split(" A new programme")[0])
        for line in want.reasons:
            _see(page, line[:70])
        page.set_viewport_size({"width": 1400, "height": 6000})  # the app scrolls inside: a tall window shows it all
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "what_works_adviser_filtered.png"), full_page=True)
        browser.close()
