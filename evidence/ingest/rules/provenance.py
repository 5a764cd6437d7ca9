"""Rules on coding status and provenance: a number is coded only with its source and a short
verbatim quote in which it appears.

Number matching (``match_number``) allows the forms sources print: a unicode minus, a decimal
comma, thousands separators, numbers in words, and a sign carried by words ('reduced ... by 0.05').
"""

from __future__ import annotations

import math
import re

from evidence.ingest.rules.base import d, effects, num, rule
from evidence.ingest.rules.statistics import has_variance, numbers
from evidence.ingest.rules.text import quote_fields


@rule("coding-status", "coded: some effect has a variance; headline: some estimate; mapped: no numbers.")
def _status(study, ctx):
    status = d(d(study).get("coding")).get("status")
    effs = effects(study)
    loc = ("coding", "status")
    if status == "coded" and not any(has_variance(r) for _, _, r in effs):
        yield ctx.problem(loc, "status 'coded' but no effect has a computable variance",
                          "add an SE, t, exact p, CI or stated threshold, or set status: headline")
    elif status == "headline":
        if not any(num(r.get("estimate")) is not None for _, _, r in effs):
            yield ctx.problem(loc, "status 'headline' but no effect has an estimate", "add one, or set status: mapped")
        elif any(has_variance(r) for _, _, r in effs):
            yield ctx.problem(loc, "status 'headline' but an effect has a computable variance",
                              "set status: coded", "warning")
    elif status == "mapped":
        for i, _, r in effs:
            if numbers(r):
                yield ctx.problem(("effects", i, "reported", numbers(r)[0]),
                                  "status 'mapped' but this effect carries numbers", "set status: headline or coded")


@rule("provenance", "Every effect carrying a number has a provenance source and a non-empty quote.")
def _provenance(study, ctx):
    for i, e, r in effects(study):
        prov = e.get("provenance")
        if not isinstance(prov, dict):
            continue  # missing provenance is a schema problem
        for k in ("quote", "source"):
            v = prov.get(k)
            if (isinstance(v, str) and not v.strip()) or (k in prov and v is None):
                what = "a number without provenance is not coded" if numbers(r) else "required"
                yield ctx.problem(("effects", i, "provenance", k), f"{k} is empty", what)


@rule("quote-length", "Quotes are short: at most 40 words.", severity="warning")
def _quote_length(study, ctx):
    for loc, q in quote_fields(study):
        if isinstance(q, str) and len(q.split()) > 40:
            yield ctx.problem(loc, f"quote has {len(q.split())} words (more than 40)",
                              "quote only the sentence or cell with the number", "warning")


# --- number in quote ------------------------------------------------------------------------------
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|\.\d+")
_MINUS = "-−–‒"
_DOWN = re.compile(r"reduc|decreas|declin|lower|fell|fall|drop|less|fewer|negative|cut", re.I)
_UP = re.compile(r"increas|rais|rose|rise|higher|more|grew|gain|improv|positive", re.I)


def quote_numbers(quote: str) -> list[tuple[float, str]]:
    """Numbers in a quote as (value, text); a leading minus (incl. unicode) counts when it is not a
    range dash ('5-17'); '1,234' is read as 1234 and '0,17' also as 0.17."""
    out = []
    for m in _NUMBER.finditer(quote):
        text, start = m.group(), m.start()
        neg = start > 0 and quote[start - 1] in _MINUS and (start < 2 or not quote[start - 2].isalnum())
        sign = -1.0 if neg else 1.0
        readings = {text.replace(",", "")}
        if text.count(",") == 1 and "." not in text:
            readings.add(text.replace(",", "."))
        for reading in readings:
            try:
                out.append((sign * float(reading), ("-" if neg else "") + text))
            except ValueError:
                pass
    return out


_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
               "hundred": 100})


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def match_number(value: float, quote: str) -> tuple[str, str | None]:
    """How ``value`` appears in ``quote``: ('exact'|'sign'|'sign-worded'|'scale'|'rounded'|'absent', text)."""
    found = quote_numbers(quote)  # numbers in words ('four percentage points') count as written
    found += [(float(_WORDS[w]), w) for w in re.findall(r"[a-z]+", quote.lower()) if w in _WORDS]
    for v, text in found:
        if _same(v, value):
            return "exact", text
    for v, text in found:
        if _same(abs(v), abs(value)):
            worded = _DOWN.search(quote) if value < 0 else _UP.search(quote)
            return ("sign-worded" if worded else "sign"), text
    for v, text in found:
        if any(_same(abs(v), abs(value) * f) for f in (100, 0.01)):
            return "scale", text
    for v, text in found:  # rounded: two significant digits ('2' in 'Table 2' does not count), not words
        digits = len(text.replace("-", "").replace(".", "").replace(",", "").lstrip("0"))
        if v and digits >= 2 and not text.isalpha() and (_same(round(abs(value), _places(v)), abs(v))
                                  or _same(round(abs(v), _places(value)), abs(value))):
            return "rounded", text
    return "absent", None


def _places(x: float) -> int:
    text = repr(float(x))
    return 0 if "e" in text else len(text.split(".")[1].rstrip("0"))


@rule("number-in-quote", "The reported estimate appears in its quote (warning when only sign, scale or rounding differ).")
def _number_in_quote(study, ctx):
    for i, e, r in effects(study):
        b = num(r.get("estimate"))
        quote = e.get("provenance", {}).get("quote") if isinstance(e.get("provenance"), dict) else None
        if b is None or not isinstance(quote, str) or not quote.strip():
            continue
        how, text = match_number(b, quote)
        loc = ("effects", i, "provenance", "quote")
        if how in ("exact", "sign-worded"):
            continue
        if how == "absent":
            yield ctx.problem(loc, f"estimate {b:g} does not appear in the quote",
                              "quote the sentence or table cell that contains the number")
            continue
        why = {"sign": f"only as '{text}' (sign differs and no words give the direction)",
               "scale": f"only as '{text}' (a factor 100 apart: proportion vs percent?)",
               "rounded": f"only rounded, as '{text}'"}[how]
        yield ctx.problem(loc, f"estimate {b:g} appears in the quote {why}", "check the number and its unit",
                          "warning")
