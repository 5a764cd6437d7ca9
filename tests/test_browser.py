"""A real browser (Debian chromium via Playwright) on the running explorer: What works, change a filter,
check the headline and the forest plot. Screenshots go to test-output/browser/."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_catalogue import CHROMIUM, CHROMIUM_ARGS, served_test_catalogue

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "test-output" / "browser"
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_test_catalogue(tmp_path_factory.mktemp("browser")) as (url, db):
        yield url, db


def _expected(db, regions=()) -> str:
    from evidence import synthesis
    from evidence.catalog import queries
    from evidence.meta import exact

    eff = queries.effects(queries.Filters(regions=regions), engine=queries.connect(db))  # no global state
    c = eff[(eff.intervention == "conditional_cash_transfer") & (eff.outcome == "economic_activity") & eff.primary.astype(bool)
            & eff.vi.notna()]
    r = exact.posterior(c.yi.to_numpy(float), c.vi.to_numpy(float), tau_prior=synthesis.tau_prior_for("percentage_points"))
    return synthesis.headline(r, "economic_activity", "conditional_cash_transfer", "percentage_points").split(";")[0]


def test_what_works_in_a_real_browser(server):
    from playwright.sync_api import sync_playwright

    url, db = server
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(f"{url}/what-works?intervention=conditional_cash_transfer&outcome=economic_activity")
        page.get_by_text(_expected(db)).wait_for(timeout=60_000)
        page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for(timeout=30_000)
        page.screenshot(path=str(OUT / "what_works_before.png"), full_page=True)

        region = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
        region.click()
        page.keyboard.type("Latin America")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        expected = _expected(db, ("Latin America & Caribbean",))
        page.get_by_text(expected).wait_for(timeout=60_000)
        charts = page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")
        charts.first.wait_for(timeout=30_000)
        assert charts.count() >= 1
        page.screenshot(path=str(OUT / "what_works_filtered.png"), full_page=True)
        browser.close()
