"""Two replicas of the explorer behind ``deploy/nginx.conf`` (Debian's nginx, in the foreground):
replica A reads its own copy of catalog.db (the datasette model), replica B the shared PostgreSQL
catalogue with the read-only role. Through the proxy: the health check, sticky sessions by cookie,
both replicas in use, and the page itself in a real browser (websocket through the proxy)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import urllib.request
from pathlib import Path

import pytest
from app_catalogue import CHROMIUM, CHROMIUM_ARGS, build_test_catalogue
from replicas import NGINX, Stack

from evidence.catalog.build import build_catalog

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("postgres")]


def _need(path: str, what: str) -> None:
    if not Path(path).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{path} is missing: install Debian's {what} (bash dev.sh test does)")
        pytest.skip(f"{path} not installed")


@pytest.fixture(scope="module")
def stack(pg_server, tmp_path_factory):
    _need(NGINX, "nginx")
    _need(CHROMIUM, "chromium")
    work = tmp_path_factory.mktemp("replicas")
    db = build_test_catalogue(work)
    build_catalog(work / "studies", pg_server.owner_url, progress=False)
    copy = work / "replica-a" / "catalog.db"
    copy.parent.mkdir()
    shutil.copy(db, copy)  # replica A's own read-only copy
    s = Stack([str(copy), pg_server.reader_url]).start()
    try:
        yield s
    finally:
        s.stop()


def _get(url: str, cookie: str | None = None):
    req = urllib.request.Request(url, headers={"Cookie": f"evidence_replica={cookie}"} if cookie else {})
    with urllib.request.urlopen(req, timeout=30) as res:
        return res.status, res.headers, res.read()


def test_health_and_page_through_the_proxy_from_both_replicas(stack):
    status, headers, body = _get(f"{stack.url}/_stcore/health")
    assert status == 200 and body == b"ok"
    assert any(c.startswith("evidence_replica=") for c in headers.get_all("Set-Cookie"))  # a new visitor gets an affinity cookie
    upstreams = {}
    for i in range(24):
        key = f"visitor-{i}"
        first = _get(f"{stack.url}/_stcore/health", key)[1]["X-Evidence-Upstream"]
        again = {_get(f"{stack.url}/{path}", key)[1]["X-Evidence-Upstream"] for path in ("", "_stcore/health")}
        assert again == {first}, key  # sticky: one visitor, one replica
        upstreams[key] = first
    assert set(upstreams.values()) == {f"127.0.0.1:{p}" for p in stack.ports}  # and both replicas serve
    status, _, page = _get(f"{stack.url}/", "visitor-0")
    assert status == 200 and b"<div id=\"root\">" in page


def test_the_frontend_files_come_from_the_proxy_cache_compressed(stack):
    """The files every new browser fetches (Streamlit's JavaScript and CSS) reach a replica once; after
    that the proxy serves them from its cache, gzip-compressed, byte for byte what the replica sent."""
    status, _, page = _get(f"{stack.url}/", "visitor-0")
    assets = re.findall(rb'(?:src|href)="\.?/?(static/[^"]+\.(?:js|css))"', page)
    assert status == 200 and len(assets) > 5, page[:500]
    asset = assets[0].decode()
    direct = urllib.request.urlopen(f"http://127.0.0.1:{stack.ports[0]}/{asset}", timeout=30).read()
    seen = []
    for _ in range(3):
        req = urllib.request.Request(f"{stack.url}/{asset}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=30) as res:
            seen.append((res.headers["X-Cache-Status"], res.headers.get("Content-Encoding"), gzip.decompress(res.read())))
    assert [s[0] for s in seen][1:] == ["HIT", "HIT"]  # the first may be a MISS (or already cached)
    assert all(enc == "gzip" and body == direct for _, enc, body in seen)
    assert len(direct) > 10_000


def test_the_app_works_in_a_browser_through_the_proxy(stack):
    """The websocket (/_stcore/stream) goes through nginx: the gap map renders its numbers, on each replica."""
    from playwright.sync_api import sync_playwright

    seen = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=CHROMIUM_ARGS)
        try:
            for _i in range(12):
                if len(seen) == 2:
                    break
                ctx = browser.new_context()  # a new visitor: a new affinity cookie
                page = ctx.new_page()
                res = page.goto(stack.url + "/")
                page.locator("[data-testid='stMetric']").first.wait_for(timeout=90_000)
                seen.add(res.headers["x-evidence-upstream"])
                ctx.close()
        finally:
            browser.close()
    assert seen == {f"127.0.0.1:{p}" for p in stack.ports}
