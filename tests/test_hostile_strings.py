"""Hostile catalogue strings are shown as text on every page: a study whose title, authors, venue,
programme name, labels, quotes, notes and DOI carry Markdown, HTML, ``javascript:`` links, bare web
addresses, right-to-left overrides, ``$math$`` and very long text is built into a test catalogue; every
page runs in AppTest without an exception, and no Markdown-rendered string of any element holds that
text unescaped (no image, link, script or autolink can come from it). Once in Chromium, a request
listener checks that the hostile image host is never asked for and that no anchor points at a hostile
host or a ``javascript:`` address (the study's checked https URL may be a link; that is the exception).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from app_catalogue import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIXTURES,
    build_test_catalogue,
    free_port,
    require_chromium,
    serve_app,
    use_catalogue,
)

HOST = "hostile.invalid"  # .invalid never resolves (RFC 2606): a request to it can only come from rendered text
IMG = f"<img src=http://img.{HOST}/x.png onerror=alert(1)>"
MD_IMG = f"![tracker](http://img.{HOST}/md.png)"
JS = "[click me](javascript:alert(document.cookie))"
BARE = f"http://bare.{HOST}/page and www.{HOST} and mail@{HOST}"
RTL = "\u202eRTL override\u202c"
MATH = "$x^2$ and $$\\int f$$"
SCRIPT = "<script>alert('x')</script>"
LONG = "Long " + "very-long-word-" * 120


def hostile(what: str) -> str:
    return f"{what} **bold** _it_ `code` # {IMG} {MD_IMG} {JS} {BARE} {MATH} {SCRIPT} :red[red] <b>html</b>"


SID = "hostile-2011-cct"
TITLE = hostile("Title")


def build_hostile_catalogue(workdir: Path) -> Path:
    """The explorer's test catalogue plus one hostile copy of the fixture CCT study (same cell, so it is
    pooled, appears in the forest plot, the gap map, the where page and the studies page)."""
    build_test_catalogue(workdir)  # writes workdir/studies and a first catalogue
    from evidence.catalog.build import build_catalog

    s = yaml.safe_load((FIXTURES / "alpha-2010-cct.yaml").read_text(encoding="utf-8"))
    s.update(id=SID, title=TITLE, authors=[hostile("Author"), LONG], year=2011, venue=hostile("Venue"),
             doi="10.1234/hostile", url="https://example.org/a-checked-url", versions=[], links=[])
    s["programme"] = dict(s["programme"], name=hostile("Programme"), countries=["BRA"])
    s["interventions"] = [dict(s["interventions"][0], label=hostile("Arm"))]
    s["design"] = dict(s["design"], notes=hostile("Design note"))
    s["risk_of_bias"] = dict(s["risk_of_bias"], reason=hostile("RoB reason"))
    s["coding"] = dict(s["coding"], coder="coder <img src=x>", notes=hostile("Coding note"))
    s["sources"] = [dict(s["sources"][0], title=hostile("Source"), url="https://example.org/a-checked-source")]
    s["effects"] = [dict(s["effects"][0], outcome_definition=hostile("Definition"),
                         provenance={"source": "paper", "location": hostile("Table 3"), "quote": "-4.2 (1.5) " + hostile("Quote")})]
    (workdir / "studies" / f"{SID}.yaml").write_text(yaml.safe_dump(s, sort_keys=False, allow_unicode=True), encoding="utf-8")
    out = workdir / "catalog.db"
    build_catalog(workdir / "studies", out, progress=False)
    return _past_validation(out)


def _past_validation(db: Path) -> Path:
    """What validation refuses (a bidi override, a DOI that is not bare) written into the catalogue
    directly: the explorer must stay safe with a catalogue built by older code or edited by hand."""
    import sqlite3

    with sqlite3.connect(db) as con:
        for table in ("study", "programme", "intervention", "design", "risk_of_bias", "source", "effect", "provenance"):
            columns = {r[1] for r in con.execute(f"PRAGMA table_info('{table}')")}
            key = "id" if table == "study" else "study_id"
            for c in columns & TEXT_COLUMNS:
                con.execute(f"UPDATE {table} SET {c} = {c} || ? WHERE {key} = ? AND {c} IS NOT NULL", (" " + RTL, SID))
        con.execute("UPDATE study SET doi = ? WHERE id = ?", (HOSTILE_DOI, SID))
    return db


TEXT_COLUMNS = {"title", "authors", "venue", "name", "label", "notes", "reason", "outcome_definition", "location", "quote",
                "coding_notes", "subgroup_label"}
HOSTILE_DOI = f"10.1234/x{MD_IMG}{JS} http://bare.{HOST}/doi"


# -- what "shown as text" means for a string Streamlit renders as Markdown ---------------------------------
RAW = [  # each: hostile syntax that would render as something other than its characters (on the Markdown source)
    (re.compile(r"(?<!\\)<(img|script|b)\b", re.I), "HTML tag"),
    (re.compile(r"(?<!\\)!(?<!\\)\[[^\]]*(?<!\\)\]\("), "Markdown image"),
    (re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\((?!\s)"), "Markdown link"),
    (re.compile(r"(?<!\\)\$x\^2(?<!\\)\$"), "LaTeX"),
    (re.compile(r"(?<!\\):red(?<!\\)\["), "Streamlit colour directive"),
    (re.compile("[\u202a-\u202e\u2066-\u2069]"), "bidi override"),
]
AUTOLINKS = [  # GFM's autolink literals, which Streamlit finds in the text *after* escapes are decoded
    (re.compile(r"https?://", re.I), "bare address (autolink)"),
    (re.compile(r"\bwww\.", re.I), "www autolink"),
    (re.compile(r"[-.\w+]+@[-\w]+\.[-\w]"), "e-mail autolink"),
]


def decoded(text: str) -> str:
    """The characters a reader sees: Markdown escapes removed (the word joiner is invisible but kept)."""
    return re.sub(r"\\(.)", r"\1", text)


NOT_MARKDOWN = {"arrow_data_frame", "arrow_vega_lite_chart", "vega_lite_chart", "deck_gl_json_chart", "plotly_chart",
                "json", "code", "text", "selectbox", "multiselect"}  # rendered as data or plain text by Streamlit


def _strings(proto, path=""):
    """Every string field of a protobuf message, with its field path."""
    for field, value in proto.ListFields():
        name = f"{path}.{field.name}"
        repeated = not isinstance(value, (str, bytes)) and not hasattr(value, "ListFields") and hasattr(value, "__len__")
        items = value if repeated else [value]
        for v in items:
            if isinstance(v, str):
                yield name, v
            elif hasattr(v, "ListFields"):
                yield from _strings(v, name)


def markdown_strings(at) -> list[tuple[str, str]]:
    """(element type + field, text) for every string the browser renders as Markdown on the page."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is not None and kind not in NOT_MARKDOWN and hasattr(proto, "ListFields"):
            out.extend((f"{kind}{name}", text) for name, text in _strings(proto) if name != ".url")  # hrefs: checked apart
        for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else []:
            walk(child)

    walk(at._tree)
    return out


def unescaped(at) -> list[str]:
    found = []
    for where, text in markdown_strings(at):
        found += [f"{where}: {label}: {text[:160]!r}" for rx, label in RAW if rx.search(text)]
        found += [f"{where}: {label}: {text[:160]!r}" for rx, label in AUTOLINKS if rx.search(decoded(text))]
    return found


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    with use_catalogue(build_hostile_catalogue(tmp_path_factory.mktemp("hostile"))) as db:
        yield db


def _app(page: str, **query):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=90)
    at.query_params.update(query)
    at.run()
    at.switch_page(page).run()
    return at


def test_the_hostile_study_is_in_the_catalogue(catalogue):
    from evidence.catalog import queries

    studies = queries.studies(engine=queries.connect(catalogue)).set_index("id")
    assert studies.loc[SID, "title"] == f"{TITLE} {RTL}" and studies.loc[SID, "doi"] == HOSTILE_DOI


PAGES = ["app_pages/gap_map.py", "app_pages/what_works.py", "app_pages/studies.py", "app_pages/where.py",
         "app_pages/your_data.py", "app_pages/method.py"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_hostile_strings_as_text(catalogue, page):
    at = _app(page, intervention="conditional_cash_transfer", outcome="economic_activity")
    if page.endswith("studies.py"):
        at.selectbox(key="st_study").set_value(SID).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not unescaped(at), "\n".join(unescaped(at))
    if page.endswith("studies.py"):  # the hostile text is there, as its characters
        shown = decoded(" ".join(text for _, text in markdown_strings(at))).replace("\u2060", "")
        assert "Title **bold** _it_ `code` #" in shown and f"<img src=http://img.{HOST}/x.png" in shown
        assert "RTL override" in shown and "$x^2$" in shown and "click me" in shown
        # checked http(s) URLs only (the study's and the effect card's source); the DOI is not a bare DOI
        hrefs = [b.proto.url for b in at.get("link_button")]
        assert set(hrefs) == {"https://example.org/a-checked-url", "https://example.org/a-checked-source"}, hrefs


def test_only_bare_dois_are_linked():
    from evidence.views.components import doi_link

    assert doi_link("10.1257/aer.20141234") == "https://doi.org/10.1257/aer.20141234"
    assert doi_link("10.1234/a<b>") == "https://doi.org/10.1234/a%3Cb%3E"
    assert doi_link(HOSTILE_DOI) is None and doi_link("javascript:alert(1)") is None and doi_link(None) is None


@pytest.mark.browser
def test_hostile_strings_in_chromium(catalogue):
    """Every page, the Studies page on the hostile study: no request to the hostile host, no anchor to
    it or to javascript:. Screenshot: test-output/browser/hostile_studies.png."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    out = Path(__file__).resolve().parents[1] / "test-output" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with serve_app({"EVIDENCE_CATALOG_PATH": str(catalogue)}, free_port()) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.set_default_timeout(60_000)
        page.on("request", lambda r: requests.append(r.url))
        bad = []
        for path in ["gap-map", "what-works?intervention=conditional_cash_transfer&outcome=economic_activity", "where",
                     "studies", "your-data", "method"]:
            page.goto(f"{url}/{path}")
            page.locator("h1").first.wait_for()
            if path == "studies":
                page.get_by_role("textbox", name="Search title, authors, programme, country").fill("Title **bold**")
                page.keyboard.press("Enter")
                page.locator("h2").filter(has_text="Title **bold** _it_ `code` # <img src=http").wait_for()
                page.screenshot(path=str(out / "hostile_studies.png"), full_page=True)
            page.wait_for_timeout(1500)
            for a in page.locator("a[href]").all():
                href = a.get_attribute("href") or ""
                host = urlparse(href).hostname or ""
                if href.lower().startswith("javascript:") or host.endswith(HOST) or re.search("hostile|bold|tracker", href):
                    bad.append(f"{path}: <a href={href!r}>")
            if page.locator("img[src*='hostile'], script:has-text('alert')").count():
                bad.append(f"{path}: an image or script from the hostile text")
        browser.close()
    assert not [r for r in requests if HOST in (urlparse(r).hostname or "")], requests
    assert not bad, bad
