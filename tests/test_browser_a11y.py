"""axe-core (vendored, tests/vendor/axe-core) on every page of the explorer in Debian chromium: at 1400
and 390 px on the test catalogue, at 1400 px on the shipped one, and on each tab of the Code a study
form opened on an existing study. No serious or critical violation anywhere, and every chart on a page
named for screen readers (its description). Every finding of every impact goes to
test-output/browser/axe.json, and a table page x impact with the rule ids to test-output/browser/axe.md
(copied to docs/screenshots/axe.md for the closing note). Each page is checked once it has settled
(browser_ux.settle), so what axe measures is what a reader sees, not an element fading in after a rerun."""

from __future__ import annotations

import contextlib
import json

import pytest
from app_catalogue import free_port, require_chromium, serve_app
from browser_ux import OUT, PAGES, REPO, WIDTHS, axe_violations, explorer, offline_browser, open_page, serious, settle
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
IMPACTS = ("critical", "serious", "moderate", "minor")
#: Code a study opened on a study of the test studies folder, one axe run per tab of its form.
CODED_STUDY = "omega-2015-cct"
#: The catalogue and studies the explorer ships with: states the small test catalogue does not reach
#: (a filter with nothing to choose is disabled, and its label is what axe measures).
SHIPPED = {"EVIDENCE_CATALOG_PATH": str(REPO / "evidence" / "catalog.db"), "EVIDENCE_STUDIES_DIR": str(REPO / "studies")}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """The explorer, one offline browser context, and the findings of every check, written out at the end."""
    require_chromium()
    OUT.mkdir(parents=True, exist_ok=True)
    findings: dict[str, list[dict]] = {}
    with explorer(tmp_path_factory.mktemp("browser_a11y")) as url, offline_browser() as (context, refused):
        yield url, context, findings
    write_report(findings)


@pytest.fixture(scope="module")
def shipped(browser):
    """The explorer on the shipped catalogue, in the same browser, its findings in the same report."""
    _, context, findings = browser
    with serve_app(SHIPPED, free_port()) as url:
        yield url, context, findings


def write_report(findings: dict[str, list[dict]]) -> None:
    """axe.json (every violation with its nodes) and axe.md (one row per page and width: counts of
    violations by impact, each count a number of rules, and the rule ids with their node counts)."""
    (OUT / "axe.json").write_text(json.dumps(findings, indent=1, ensure_ascii=False), encoding="utf-8")
    rows = ["| Page | " + " | ".join(IMPACTS) + " | Rules (impact, nodes) |", "|---" * (len(IMPACTS) + 2) + "|"]
    for name, found in findings.items():
        counts = [str(sum(v["impact"] == i for v in found)) for i in IMPACTS]
        rules = "; ".join(f"{v['id']} ({v['impact']}, {v['count']})" for v in found) or "none"
        rows.append(f"| {name} | " + " | ".join(counts) + f" | {rules} |")
    (OUT / "axe.md").write_text(
        "# axe-core on every page of the explorer (Chromium)\n\n"
        f"axe-core {_axe_version()}, WCAG 2.x A/AA rules and best practices; counts are rules violated, by impact. "
        "Written by tests/test_browser_a11y.py.\n\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _axe_version() -> str:
    import re

    from browser_ux import AXE

    found = re.search(r"axe v([0-9.]+)", AXE.read_text(encoding="utf-8")[:400])
    return found.group(1) if found else "(version not stated)"


def _check(findings: dict, name: str, page) -> list[str]:
    """Run axe on the page as it is now, record every finding under ``name``; the serious and critical ones, in words."""
    found = axe_violations(page)
    findings[name] = found
    return [f"{name}: {v['id']} ({v['impact']}): {v['nodes'][0]}" for v in serious(found)]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", list(PAGES))
def test_axe_finds_nothing_serious(browser, path, width):
    url, context, findings = browser
    page, _ = open_page(context, url, path, width)
    try:
        bad = _check(findings, f"{path} ({width} px)", page)
        assert not bad, "\n".join(bad)
        # Vega names a chart once it has drawn it, which can come just after the run has settled: give
        # every chart a moment to get its name, then read the names (a chart never named still fails)
        charts = "[...document.querySelectorAll(\"[data-testid='stVegaLiteChart']\")]"
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(f"() => {charts}.every(c => c.getAttribute('aria-label'))", timeout=10_000)
        named = page.evaluate(f"() => {charts}.map(c => c.getAttribute('aria-label') || '')")
        assert all(named), f"a chart without a name for screen readers: {named}"
    finally:
        page.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_axe_finds_nothing_serious_on_the_shipped_catalogue(shipped, path):
    url, context, findings = shipped
    page, _ = open_page(context, url, path, 1400)
    try:
        bad = _check(findings, f"{path} (1400 px, shipped catalogue)", page)
        assert not bad, "\n".join(bad)
    finally:
        page.close()


def _widest_harvest_cell() -> tuple[str, str]:
    """The shipped catalogue's cell that What works shows as a harvest plot (nothing pooled) with the most
    bars: on a phone, and often at 1400 px, it is wider than its column and scrolls in its own frame."""
    from evidence import synthesis
    from evidence.catalog import queries

    effects = queries.effects(queries.Filters(), engine=queries.connect(REPO / "evidence" / "catalog.db"))
    sizes = sorted(((len(synthesis.harvest_table(cell)), iv, oc) for (iv, oc), cell in effects.groupby(["intervention", "outcome"])),
                   reverse=True)
    for _, iv, oc in sizes:
        if synthesis.what_works(effects, synthesis.WhatWorksOptions(iv, oc)).result is None:
            return iv, oc
    raise AssertionError("no cell of the shipped catalogue is shown as a harvest plot")


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_on_a_wide_harvest_plot(shipped, width):
    from playwright.sync_api import expect

    url, context, findings = shipped
    iv, oc = _widest_harvest_cell()
    page, _ = open_page(context, url, f"what-works?intervention={iv}&outcome={oc}", width)
    try:
        expect(page.get_by_role("heading", name="Harvest plot: what each study reports")).to_be_visible()
        bad = _check(findings, f"what-works, harvest plot of {iv} x {oc} ({width} px, shipped catalogue)", page)
        assert not bad, "\n".join(bad)
    finally:
        page.close()


def test_axe_on_every_tab_of_the_coding_form(browser):
    from playwright.sync_api import expect

    url, context, findings = browser
    page, _ = open_page(context, url, "code-study", 1400)
    try:
        page.get_by_text("Existing study id", exact=True).click()
        settle(page)
        box = page.get_by_role("textbox", name="DOI, entry or id")
        box.fill(CODED_STUDY)
        box.press("Tab")
        settle(page)
        page.get_by_role("button", name="Start coding").click()
        tabs = page.get_by_role("tab")
        tabs.first.wait_for(timeout=60_000)
        settle(page)
        names = tabs.all_inner_texts()
        assert "Identity" in names and "Effects" in names
        bad = []
        for tab in names:
            page.get_by_role("tab", name=tab, exact=True).click()
            expect(page.get_by_role("tab", name=tab, exact=True)).to_have_attribute("aria-selected", "true")
            settle(page)
            bad += _check(findings, f"code-study, {tab} tab (1400 px)", page)
        assert not bad, "\n".join(bad)
    finally:
        page.close()
