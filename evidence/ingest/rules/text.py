"""Rules on text and dates: required text is not blank, text is not absurdly long, carries no
bidirectional-control or other control characters (which can make a file display differently from
what it says), and coding dates are not in the future."""

from __future__ import annotations

import datetime as dt
import re

from evidence.ingest.rules.base import d, effects, items, rule, walk

MAX_TITLE, MAX_QUOTE, MAX_TEXT = 1_000, 1_000, 10_000
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@rule("text-not-blank", "The title, every author and the programme name are not blank.")
def _not_blank(study, ctx):
    s = d(study)
    checks = [(("title",), s.get("title")), (("programme", "name"), d(s.get("programme")).get("name"))]
    authors = s.get("authors")
    checks += [(("authors", j), a) for j, a in enumerate(authors if isinstance(authors, list) else [])]
    for loc, v in checks:
        if isinstance(v, str) and not v.strip():
            yield ctx.problem(loc, "is blank", "write it as the source gives it")


def quote_fields(study):
    """Every quote a study file holds, with its key path (effects, risk of bias, transfer values)."""
    for i, e, _ in effects(study):
        yield ("effects", i, "provenance", "quote"), d(e.get("provenance")).get("quote")
    yield ("risk_of_bias", "quote"), d(d(study).get("risk_of_bias")).get("quote")
    for i, iv in items(d(study).get("interventions")):
        yield ("interventions", i, "value", "quote"), d(iv.get("value")).get("quote")


@rule("text-length", "Titles and quotes are at most 1,000 characters, any other text at most 10,000.")
def _length(study, ctx):
    quotes = {loc for loc, _ in quote_fields(study)}
    for loc, v in walk(study):
        limit = MAX_TITLE if loc == ("title",) else MAX_QUOTE if loc in quotes else MAX_TEXT
        if isinstance(v, str) and len(v) > limit:
            yield ctx.problem(loc, f"{len(v):,} characters (more than {limit:,})",
                              "quote only the sentence with the number" if loc in quotes else "shorten it")


@rule("text-characters", "Text has no bidirectional-control or other control characters.")
def _characters(study, ctx):
    for loc, v in walk(study):
        if not isinstance(v, str):
            continue
        m = _BIDI.search(v) or _CONTROL.search(v)
        if m:
            kind = "a bidirectional-control" if _BIDI.match(m.group()) else "a control"
            yield ctx.problem(loc, f"contains {kind} character U+{ord(m.group()):04X}",
                              "it can make the text display differently from what it says; delete it")


@rule("coding-date", "Coding and provenance dates are not in the future.")
def _coding_date(study, ctx):
    s = d(study)
    locs = [(("coding", "date"), d(s.get("coding")).get("date"))]
    locs += [(("effects", i, "provenance", "date"), d(e.get("provenance")).get("date")) for i, e, _ in effects(s)]
    for loc, v in locs:
        if isinstance(v, dt.date) and v > ctx.today:
            yield ctx.problem(loc, f"date {v.isoformat()} is in the future", f"today is {ctx.today.isoformat()}")
