"""The ``canonical-links`` rule: shadow libraries, document-sharing mirrors and bare IP addresses are
refused in every URL field, naming the field and the canonical kinds of link; canonical hosts pass."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from evidence.ingest.loader import load
from evidence.ingest.rules import Context, run_rules
from evidence.ingest.rules.links import non_canonical

BASE = load(Path(__file__).parent / "valid" / "fixture-cct-coded.yaml").data

REFUSED = [
    ("https://sci-hub.se/10.0000/x", "shadow library"), ("https://sci-hub.ru/x", "shadow library"),
    ("http://libgen.rs/book/index.php?md5=1", "shadow library"), ("https://library.lol/main/1", "shadow library"),
    ("https://z-lib.org/book/1", "shadow library"), ("https://zlibrary.cc/x", "shadow library"),
    ("https://annas-archive.org/md5/1", "shadow library"),
    ("https://docslib.org/doc/1/x", "mirror"), ("https://fdocuments.in/document/x", "mirror"),
    ("https://fdocuments.us/x", "mirror"), ("https://dokumen.tips/documents/x", "mirror"),
    ("https://vdocuments.mx/x", "mirror"), ("https://fdokumen.com/x", "mirror"), ("https://www.scribd.com/doc/1", "mirror"),
    ("https://doczz.net/doc/1", "mirror"), ("https://doczz.com.br/doc/1", "mirror"), ("https://studylib.net/doc/1", "mirror"),
    ("https://pdfcoffee.com/x-pdf-free.html", "mirror"), ("https://documents.pub/document/x", "mirror"),
    ("https://pdfslide.net/x", "mirror"), ("https://idoc.pub/documents/x", "mirror"), ("https://pdfcookie.com/x", "mirror"),
    ("https://text-id.123dok.com/document/x", "mirror"), ("HTTPS://WWW.SCRIBD.COM/x", "mirror"),
    ("http://47.251.13.51/paper.pdf", "bare IP address"), ("https://[2001:db8::1]/x.pdf", "bare IP address"),
]
CANONICAL = ["https://doi.org/10.0000/x", "https://www.nber.org/papers/w12345", "https://pmc.ncbi.nlm.nih.gov/articles/PMC1/",
             "https://documents.worldbank.org/en/publication/x", "https://www.iza.org/publications/dp/1",
             "https://ideas.repec.org/p/x.html", "https://www.silo.org/report", "https://documents1.example.gov/x",
             "https://openknowledge.worldbank.org/x", "https://www.ilo.org/x"]


@pytest.mark.parametrize("url,kind", REFUSED)
def test_non_canonical_hosts_are_named(url, kind):
    assert kind in (non_canonical(url) or "")


@pytest.mark.parametrize("url", CANONICAL)
def test_canonical_hosts_pass(url):
    assert non_canonical(url) is None


def _run(mutate):
    data = copy.deepcopy(BASE)
    mutate(data)
    return run_rules(data, Context("x.yaml", file_stem=data["id"], today=dt.date(2026, 11, 26)), ["canonical-links"])


@pytest.mark.parametrize("where,mutate", [
    ("url", lambda d: d.update(url="https://sci-hub.se/10.0000/fixture")),
    ("versions[0].url", lambda d: d.update(versions=[{"kind": "working_paper", "url": "https://docslib.org/doc/1"}])),
    ("sources[0].url", lambda d: d["sources"][0].update(url="http://10.0.0.7/paper.pdf")),
    ("risk_of_bias.source", lambda d: d["risk_of_bias"].update(source="https://fdocuments.in/x")),
])
def test_every_url_field_is_checked_and_named(where, mutate):
    (p,) = _run(mutate)
    assert (p.field, p.severity, p.rule) == (where, "error", "canonical-links")
    assert p.message.startswith("links to ") and "DOI" in p.hint and "publisher" in p.hint
    assert "PubMed Central" in p.hint and "working-paper series" in p.hint and "issuing institution" in p.hint


def test_a_risk_of_bias_source_id_is_not_a_url():
    assert _run(lambda d: d["risk_of_bias"].update(source="paper")) == []
