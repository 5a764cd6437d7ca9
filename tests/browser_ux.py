"""Shared steps of the explorer's page and accessibility tests in a real browser (Debian chromium via
Playwright): the pages, a browser that refuses every request off this machine (the app must not use
the network at run time), waiting for a Streamlit run to settle, and axe-core (vendored under
``tests/vendor/axe-core``, see its README) for accessibility."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from urllib.parse import urlparse

from app_catalogue import CHROMIUM, CHROMIUM_ARGS, build_test_catalogue, free_port, serve_app

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "test-output" / "browser"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
#: url path -> the page's title (its h1), every page the explorer has (app.py).
PAGES = {
    "home": "What works to reduce child labour?",
    "gap-map": "Evidence gap map",
    "what-works": "What works",
    "studies": "Studies",
    "where": "Where the evidence comes from",
    "your-data": "Analyse your own data",
    "code-study": "Code a study",
    "reconcile": "Reconcile two codings",
    "method": "Method",
}
#: The landing page is the default page: it lives at the root URL ("/home" would be "Page not found").
URL_PATHS = {"home": ""}
WIDTHS = (1400, 390)
#: The page test also checks a small laptop / tablet width (the issue's 800 px), where the sidebar stays open.
PAGE_WIDTHS = (1400, 800, 390)
SERIOUS = ("serious", "critical")


FIXTURES = Path(__file__).resolve().parent / "fixtures"


@contextlib.contextmanager
def explorer(workdir: Path):
    """The explorer on the test catalogue (``app_catalogue``), with a studies folder of the fixture studies
    and one independent second coding, so that Code a study and Reconcile show their forms, not only
    their empty states; yields the app's URL and stops the server afterwards."""
    studies = workdir / "studies"
    (studies / "second-coding").mkdir(parents=True)
    for f in (FIXTURES / "studies").glob("*.yaml"):
        shutil.copy(f, studies / f.name)
    shutil.copy(FIXTURES / "coding" / "omega-2015-cct.yaml", studies / "omega-2015-cct.yaml")
    shutil.copy(FIXTURES / "coding" / "omega-2015-cct.ben.yaml", studies / "second-coding" / "omega-2015-cct.ben.yaml")
    db = build_test_catalogue(workdir / "catalogue")
    with serve_app({"EVIDENCE_CATALOG_PATH": str(db), "EVIDENCE_STUDIES_DIR": str(studies)}, free_port()) as url:
        yield url


@contextlib.contextmanager
def offline_browser():
    """A chromium whose pages may only talk to localhost; ``refused`` lists every other request."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.route("**/*", guard)
        try:
            yield context, refused
        finally:
            browser.close()


def settle(page, timeout: float = 60_000) -> None:
    """Wait until the Streamlit script has run and the page has stopped changing: the main block and its
    h1 exist, the explorer's style sheet is in (``layout_css``: Streamlit loads its HTML element lazily,
    after the text around it, so for a moment captions show in Streamlit's own faint grey), no run,
    spinner or skeleton is showing, no element is still marked stale from the last run (Streamlit fades
    those) and no CSS transition is playing (a faded element coming back to full opacity), for five polls
    in a row. Without the last three, a check right after a load or a rerun measures text below its real
    contrast and axe reports colour-contrast failures that no reader sees once the page has settled."""
    page.locator("[data-testid='stMain']").wait_for(timeout=timeout)
    page.wait_for_function(
        """() => {
            const busy = document.querySelector("[data-testid='stStatusWidget'], [data-testid='stSpinner'], "
                                                + ".stSkeleton, [data-stale='true']");
            const fading = document.getAnimations().some(a => a instanceof CSSTransition && a.playState === "running");
            const h1 = document.querySelector("[data-testid='stMain'] h1");
            const styled = document.querySelector("[data-testid='stHtml'] style");
            if (busy || fading || !h1 || !styled) { window.__calm = 0; return false; }
            window.__calm = (window.__calm || 0) + 1;
            return window.__calm > 4;
        }""",
        polling=200, timeout=timeout)


def open_page(context, url: str, path: str, width: int):
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/{URL_PATHS.get(path, path)}")
    settle(page)
    return page, errors


def streamlit_dialogs(page) -> list[str]:
    """Texts of Streamlit's own dialogs (e.g. "Page not found" for a URL path the app does not have)."""
    return page.locator("[role='dialog']").all_inner_texts()


def screenshot(page, path: Path) -> None:
    """A screenshot of the whole page. Streamlit scrolls its main block, not the document, so Playwright's
    ``full_page`` sees one window only: the window is made as tall as the main block's content (at most
    12000 px), the page settles again (charts redraw to the new size), and the window gets its height back."""
    size = page.viewport_size
    tall = int(page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight"))
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(tall, 12_000))})
    settle(page)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def exceptions_shown(page) -> list[str]:
    """Python exceptions Streamlit shows on the page (st.exception / an uncaught error)."""
    return page.locator("[data-testid='stException']").all_inner_texts()


def horizontal_overflow(page) -> int:
    """How many pixels the page itself is wider than the window (0 when nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page (WCAG 2.x A/AA rules and best practices), each with its impact,
    the number of nodes and every node (its selector and axe's summary of what fails there)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
                                       nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary)}));
    }""")


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v.get("impact") in SERIOUS]
