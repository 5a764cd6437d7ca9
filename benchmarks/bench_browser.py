"""What a person feels in a real browser: the explorer's gap map against the floor, a minimal Streamlit page
with one Altair chart, both served the same way (``streamlit run``, headless, one server each, with the
replicas' serving flags ``tests/replicas.py:SERVED``) and measured in headless Chromium.

* cold first chart: a fresh browser context navigates to the page until the chart's canvas/svg is drawn (the
  first run after the server starts is printed separately: it also pays the server's first computation);
* filter change: pick another value in a sidebar selectbox ("Sex (effect's subgroup)" on the explorer, the
  same kind of widget on the minimal page) until the page settles: the script has run, Streamlit's status
  widget is gone and the chart is drawn again. The rerun's start is caught by a MutationObserver on the
  app's script state (a run quicker than one poll is still seen, instead of a 2 s wait for a state that
  was already over), and every pick is a value other than the one shown (a no-op pick starts no run).
  Each value is new to the server the first time (its numbers are computed then), so the median mixes
  first-time and repeated filter sets, the same way on both pages.

Prints medians of ``REPEATS`` runs (argv[1], default 5) for both pages and their ratio (target: <= 2x).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # served as the replicas are (tests/replicas.py)

from app_catalogue import CHROMIUM, CHROMIUM_ARGS, free_port, serve_app  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from replicas import SERVED  # noqa: E402

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
CHART = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const running = app && app.getAttribute('data-test-script-state') === 'running';
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  const busy = status && status.innerText.trim().length > 0;
  const stale = document.querySelector('[data-stale="true"] [data-testid="stVegaLiteChart"]');
  return !running && !busy && !stale && document.querySelector('%s') !== null;
}""" % CHART.replace("'", "\\'")

MINIMAL = '''import altair as alt
import pandas as pd
import streamlit as st

st.title("Minimal page")
sex = st.sidebar.selectbox("Sex (effect's subgroup)", ["any", "all", "girls", "boys"])
d = pd.DataFrame({"x": list(range(20)), "y": [(i * 7 + len(sex)) % 11 for i in range(20)]})
st.altair_chart(alt.Chart(d).mark_point().encode(x="x:Q", y="y:Q"), theme=None)
'''


def serve(script: Path, port: int):
    """The script served as the replicas are (the tests' launcher, :func:`app_catalogue.serve_app`)."""
    return serve_app({"PYTHONPATH": str(REPO)}, port, script=script, extra_args=tuple(SERVED))


def first_chart(browser, url: str) -> tuple[float, object]:
    """Open ``url`` in a fresh context until its first chart is drawn (seconds), and return the page."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(CHART, state="attached", timeout=120_000)
    dt = time.perf_counter() - t0
    page.wait_for_function(SETTLED, timeout=120_000, polling="raf")
    return dt, (ctx, page)


#: Installed before a pick: ``window.__ran`` turns true when the app's script state becomes "running"
#: (observed on every attribute change, the old value included, so a quick run cannot slip between two polls).
WATCH_RUN = """() => { window.__ran = false;
  const app = document.querySelector('[data-testid="stApp"]');
  const seen = records => { if (app.getAttribute('data-test-script-state') === 'running'
                                || records.some(r => r.oldValue === 'running')) window.__ran = true; };
  if (window.__watch) window.__watch.disconnect();
  window.__watch = new MutationObserver(seen);
  window.__watch.observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']}); }"""


def filter_change(page, value: str, attempts: int = 3) -> float:
    """Seconds from picking ``value`` until the page has settled. A pick the dropdown did not take (the
    click landed while the list was still opening, seen on a loaded machine: no run starts) is retried,
    the clock restarted, at most ``attempts`` times."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Sex")
    for attempt in range(attempts):
        box.click()
        page.evaluate(WATCH_RUN)
        t0 = time.perf_counter()
        page.get_by_role("option", name=value, exact=True).click()
        try:
            page.wait_for_function("() => window.__ran === true", timeout=15_000, polling="raf")
        except PlaywrightTimeout:
            if value in box.inner_text() or attempt == attempts - 1:
                raise
            print(f"bench_browser: the pick of '{value}' did not take; picking again", file=sys.stderr)
            continue
        page.wait_for_function(SETTLED, timeout=120_000, polling="raf")
        return time.perf_counter() - t0
    raise AssertionError("unreachable")


def measure(browser, url: str) -> dict:
    server_cold, (ctx, _) = first_chart(browser, url)
    ctx.close()
    cold, change = [], []
    values = ["girls", "boys", "all"]  # each differs from the page's default ("any")
    for i in range(REPEATS):
        for tries_left in (2, 1, 0):  # a page whose pick never takes is measured again in a fresh context
            dt, (ctx, page) = first_chart(browser, url)
            try:
                took = filter_change(page, values[i % len(values)])
            except PlaywrightTimeout:
                if not tries_left:
                    raise SystemExit(f"bench_browser: the filter change on {url} never started a run (3 fresh pages)") from None
                print("bench_browser: measuring that filter change again in a fresh page", file=sys.stderr)
                continue
            finally:
                ctx.close()
            cold.append(dt)
            change.append(took)
            break
    return {"server cold": server_cold, "first chart": statistics.median(cold), "filter change": statistics.median(change),
            "changes": [(values[i % len(values)], t) for i, t in enumerate(change)]}


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"bench_browser: needs Chromium at {CHROMIUM}")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            with serve(minimal, free_port()) as url:
                floor = measure(browser, url)
            with serve(REPO / "app.py", free_port()) as url:
                explorer = measure(browser, url + "/gap-map")  # the landing page ("Start here") draws no chart
        finally:
            browser.close()
    print(f"headless Chromium, median of {REPEATS} runs (fresh browser context each); seconds")
    print(f"{'step':>28} {'explorer':>9} {'minimal':>9} {'ratio':>7}")
    for k, label in (("server cold", "first chart, server cold"), ("first chart", "first chart (cold browser)"),
                     ("filter change", "filter change until settled")):
        print(f"{label:>28} {explorer[k]:9.2f} {floor[k]:9.2f} {explorer[k] / floor[k]:6.1f}x")
    for name, runs in (("explorer", explorer), ("minimal", floor)):
        picks = ", ".join(f"{v} {t:.2f}" for v, t in runs["changes"])
        print(f"  filter changes, {name}: {picks}")
    print("target: first chart and filter change each within 2x of the minimal page")


if __name__ == "__main__":
    main()
