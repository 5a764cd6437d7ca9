"""Rules on reading a file: it exists, is UTF-8 with the study-file extension, parses as YAML
within bounds, and says numbers and dates the way YAML 1.2 reads them.

The loader (``evidence.ingest.loader``) records what it found; these rules turn that into
problems. When a file does not parse, only ``READ_RULES`` run (there is no data for the others).
"""

from __future__ import annotations

import re

from evidence.ingest.rules.base import get, rule

READ_RULES = ("file-readable", "yaml-syntax", "yaml-aliases")


def _issues(ctx, kind):
    return [i for i in (ctx.loaded.issues if ctx.loaded is not None else []) if i.kind == kind]


@rule("file-readable", "The file exists, is UTF-8 text of a sane size and ends in .yaml.")
def _readable(study, ctx):
    for i in _issues(ctx, "unreadable"):
        yield ctx.at_line(i.line, "(file)", i.message, i.hint)


@rule("yaml-syntax", "The file is one YAML document of key: value mappings that parses.")
def _syntax(study, ctx):
    for i in _issues(ctx, "syntax"):
        yield ctx.at_line(i.line, i.field, i.message, i.hint)


@rule("yaml-aliases", "Anchors and aliases repeat at most 1,000 nodes (no alias bombs).")
def _aliases(study, ctx):
    for i in _issues(ctx, "aliases"):
        yield ctx.at_line(i.line, "(file)", i.message, i.hint)


_SEXAGESIMAL = re.compile(r"^[-+]?\d+(:[0-5]?\d)+(\.\d*)?$")
_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")
_PREFIXED = re.compile(r"^[-+]?0[xXbBoO]")


def yaml11_reading(tag: str, text: str, value) -> tuple[str, str] | None:
    """(message, hint) when YAML 1.1 (PyYAML) and YAML 1.2 read ``text`` differently, or when a number
    is not written the way a source prints it; ``value`` is what YAML 1.1 made of it."""
    shown = str(value).lower() if isinstance(value, bool) else f"{value:g}" if isinstance(value, float) else str(value)
    if tag in ("int", "float"):
        if _SEXAGESIMAL.match(text):
            return (f"'{text}' is read by YAML 1.1 as the base-60 number {shown}, by YAML 1.2 as text",
                    "write the number in decimal, or quote the text")
        if _OCTAL.match(text) and text.lstrip("+-") != "0":
            decimal = text.lstrip("+-").lstrip("0").replace("_", "") or "0"
            return (f"'{text}' is read by YAML 1.1 as the octal number {shown}, by YAML 1.2 as {decimal}",
                    f"write {decimal} without the leading 0")
        if _PREFIXED.match(text):
            return f"'{text}' is a hexadecimal, octal or binary number ({shown})", f"write {shown} in decimal"
        if "_" in text:
            return f"'{text}' is read by YAML 1.1 as {shown}, by YAML 1.2 as text", f"write {text.replace('_', '')}"
    if tag == "bool" and text.lower() not in ("true", "false"):
        return f"'{text}' is read by YAML 1.1 as {shown}, by YAML 1.2 as text", "write true or false"
    return None


@rule("yaml-1.2-values", "Numbers and booleans are written as YAML 1.2 reads them (no 1:30, 012, 0x1f or yes).")
def _yaml12(study, ctx):
    if ctx.loaded is None:
        return
    for loc, (tag, text) in sorted(ctx.loaded.scalars.items(), key=lambda kv: ctx.loaded.line_of(kv[0])):
        found = yaml11_reading(tag, text, get(study, loc))
        if found:
            yield ctx.problem(loc, *found)
