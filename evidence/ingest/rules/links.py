"""Rules on where a study can be found: every source and the study have a locator, and DOIs are bare."""

from __future__ import annotations

import re

from evidence.ingest.rules.base import d, items, rule


@rule("source-locator", "Every source has a url or a doi.")
def _source_locator(study, ctx):
    for i, s in items(d(study).get("sources")):
        if not s.get("url") and not s.get("doi"):
            yield ctx.problem(("sources", i), f"source '{s.get('id')}' has neither url nor doi",
                              "add where the document can be found")


@rule("study-locator", "The study has a url or doi (its own, a version's or a source's).")
def _study_locator(study, ctx):
    s = d(study)
    places = [s] + [x for _, x in items(s.get("sources"))] + [x for _, x in items(s.get("versions"))]
    if not any(p.get("url") or p.get("doi") for p in places):
        yield ctx.problem(("id",), "the study has no url or doi anywhere", "add doi: or url: to the study or a source")


#: A bare DOI (the explorer links only these to doi.org).
BARE_DOI = r"^10\.\d{4,9}/\S+$"


@rule("doi-format", "DOIs are bare ('10.xxxx/...'), not URLs.")
def _doi_format(study, ctx):
    s = d(study)
    locs = [(("doi",), s.get("doi"))]
    locs += [((k, i, "doi"), x.get("doi")) for k in ("sources", "versions") for i, x in items(s.get(k))]
    for loc, doi in locs:
        if isinstance(doi, str) and not re.match(BARE_DOI, doi.strip()):
            bare = re.sub(r"^(https?://)?(dx\.)?doi\.org/|^doi:\s*", "", doi.strip(), flags=re.I)
            hint = f"write '{bare}'" if bare != doi.strip() and bare.startswith("10.") else "a DOI looks like 10.1111/abc"
            yield ctx.problem(loc, f"'{doi}' is not a bare DOI", hint)


# --- canonical links --------------------------------------------------------------------------------

#: Shadow libraries: any host whose name is one of these labels, under any top-level domain.
SHADOW_LIBRARIES = ("sci-hub", "scihub", "libgen", "z-lib", "zlibrary", "z-library", "annas-archive", "1lib",
                    "b-ok", "booksc", "library.lol", "gen.lib.rus.ec", "libgen.li", "libgen.rs")
#: Document-sharing mirrors: brand names, under any top-level domain ...
MIRROR_BRANDS = ("docslib", "fdocuments", "vdocuments", "vdocument", "fdokumen", "pdfdokumen", "scribd", "doczz",
                 "studylib", "pdfcoffee", "pdfslide", "pdfcookie", "docplayer", "kupdf", "coursehero", "123dok",
                 "pdfroom", "zdocs", "cupdf", "docsbay", "moam", "pdfdrive", "yumpu")
#: Not listed: slideshare and issuu, where issuing institutions (the Transfer Project, UNICEF, Monash Business
#: School) publish their own slides and reports; the source note names the uploader.
#: ... and generic words, only as these exact domains (documents.worldbank.org is canonical).
MIRROR_DOMAINS = ("documents.pub", "documents.tips", "doku.pub", "dokumen.tips", "dokumen.pub", "idoc.pub",
                  "idoc.tips", "silo.tips", "silo.pub", "epdf.pub", "epdf.tips", "vdoc.pub", "dochub.com")
_BRAND = re.compile(r"(^|\.)(" + "|".join(re.escape(b) for b in MIRROR_BRANDS) + r")\.[a-z]{2,}(\.[a-z]{2})?$")
_SHADOW = re.compile(r"(^|\.)(" + "|".join(re.escape(b) for b in SHADOW_LIBRARIES) + r")(\.[a-z]{2,}){0,2}$")
CANONICAL_HINT = ("cite the canonical copy: a DOI, the publisher's page, PubMed Central, the working-paper series "
                  "(e.g. NBER, IZA, World Bank) or the issuing institution's site")


def non_canonical(url: str) -> str | None:
    """Why ``url`` is not a citable link (a shadow library, a document mirror, a bare IP address), or None."""
    import ipaddress
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    except ValueError:
        return None  # not a URL at all: the schema says so
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
        return f"a bare IP address ({host})"
    except ValueError:
        pass
    host = host.removeprefix("www.")
    if _SHADOW.search(host):
        return f"a shadow library ({host})"
    if host in MIRROR_DOMAINS or any(host.endswith("." + m) for m in MIRROR_DOMAINS) or _BRAND.search(host):
        return f"a document-sharing mirror ({host})"
    return None


def url_fields(study) -> list[tuple[tuple, object]]:
    """Every field that holds a web address: the study's url, each version's and source's url, and
    the risk-of-bias and quality-rating sources (an id or a URL) and the rating's url."""
    s = d(study)
    out = [(("url",), s.get("url"))]
    out += [((k, i, "url"), x.get("url")) for k in ("versions", "sources") for i, x in items(s.get(k))]
    out.append((("risk_of_bias", "source"), d(s.get("risk_of_bias")).get("source")))
    quality = d(s.get("evidence_quality"))
    out += [(("evidence_quality", k), quality.get(k)) for k in ("source", "url")]
    return out


@rule("canonical-links", "URLs point to a canonical copy, not a shadow library, document mirror or bare IP address.")
def _canonical_links(study, ctx):
    for loc, url in url_fields(study):
        why = non_canonical(url) if isinstance(url, str) and "://" in url else None
        if why:
            yield ctx.problem(loc, f"links to {why}, not a citable copy", CANONICAL_HINT)
