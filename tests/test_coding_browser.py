"""A real browser (Debian chromium via Playwright) codes a study from a DOI with two effects, one with a
wrong quote that validation flags next to its field; then the risk-of-bias traffic light and the
reconcile page. Screenshots go to test-output/coding/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from app_catalogue import CHROMIUM, CHROMIUM_ARGS, free_port, require_chromium, serve_app

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "test-output" / "coding"
FIX = REPO / "tests" / "fixtures"
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def css(key: str) -> str:
    """The class Streamlit gives a keyed widget's container."""
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    studies = tmp_path_factory.mktemp("coding") / "studies"
    (studies / "second-coding").mkdir(parents=True)
    for f in (FIX / "studies").glob("*.yaml"):
        shutil.copy(f, studies / f.name)
    shutil.copy(FIX / "coding" / "omega-2015-cct.yaml", studies / "omega-2015-cct.yaml")
    shutil.copy(FIX / "coding" / "omega-2015-cct.ben.yaml", studies / "second-coding" / "omega-2015-cct.ben.yaml")
    with serve_app({"EVIDENCE_STUDIES_DIR": str(studies)}, free_port()) as url:
        yield url, studies


def _type(page, key: str, value: str) -> None:
    box = page.locator(f"{css(key)} input, {css(key)} textarea").first
    box.fill(value, timeout=60_000)
    box.press("Tab")
    page.wait_for_timeout(400)


def _choose(page, key: str, value: str) -> None:
    box = page.locator(f"{css(key)} [data-testid='stSelectbox'] input").first
    box.click(timeout=60_000)
    page.keyboard.type(value)
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)


def test_code_a_study_in_a_real_browser(server):
    from playwright.sync_api import sync_playwright

    url, studies = server
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/code-study")
        _type(page, "coding:start_text", "10.5555/fixture.browser")
        _type(page, "coding:coder", "browser-coder")
        page.get_by_role("button", name="Start coding").click()
        page.get_by_role("tab", name="Identity").wait_for(timeout=60_000)
        _type(page, "f:id", "rho-2021-cct")
        _type(page, "f:title", "Fixture: coded in a real browser")
        _type(page, "f:authors", "Rho, Rita")
        _type(page, "f:year", "2021")
        _choose(page, "f:publication_type", "journal_article")
        _choose(page, "f:coding.status", "coded")
        page.get_by_role("tab", name="Effects").click()
        for n in range(2):
            page.get_by_role("button", name="Add effect").click()
            page.locator(f"{css(f'f:effects[{n}].outcome')} [data-testid='stSelectbox']").wait_for(timeout=60_000)
        for i, (est, quote) in enumerate((("-4.4", "-4.4 (1.1)"), ("-1.8", "reduced hours by 2.9 (0.7)"))):
            _choose(page, f"f:effects[{i}].outcome", "economic_activity" if i == 0 else "hours_economic")
            _type(page, f"f:effects[{i}].reported.estimate", est)
            _type(page, f"f:effects[{i}].reported.se", "1.1" if i == 0 else "0.7")
            _choose(page, f"f:effects[{i}].reported.unit", "percentage_points" if i == 0 else "hours_per_week")
            _type(page, f"f:effects[{i}].provenance.quote", quote)
        flagged = page.locator(f"xpath=//div[contains(@class, '{css('f:effects[1].provenance.quote')[1:]}')]"
                               "/following-sibling::div[1]")
        flagged.get_by_text("estimate -1.8 does not appear in the quote").wait_for(timeout=30_000)
        first_ok = page.locator(f"xpath=//div[contains(@class, '{css('f:effects[0].provenance.quote')[1:]}')]"
                                "/following-sibling::div[1]")
        assert "does not appear" not in (first_ok.inner_text() if first_ok.count() else "")
        page.get_by_text("Derived: yi = -4.4 percentage_points").wait_for(timeout=30_000)
        flagged.scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "form_validation_message.png"), full_page=True)

        page.get_by_role("tab", name="Risk of bias").click()
        _choose(page, "f:risk_of_bias.tool", "rob2")
        chart = page.locator("[data-testid='stVegaLiteChart']").first
        chart.wait_for(timeout=30_000)
        chart.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        chart.screenshot(path=str(OUT / "traffic_light.png"))

        page.goto(f"{url}/reconcile")
        page.get_by_text("Cohen's kappa").wait_for(timeout=60_000)
        page.get_by_text("0.615").wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / "reconcile.png"), full_page=True)
        browser.close()
    assert not (studies / "rho-2021-cct.yaml").exists()  # nothing is saved while validation refuses it
