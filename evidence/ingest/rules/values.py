"""Rules on what a value is: a number field holds a number (not a quoted string, not true/false),
every number is finite and fits in 64 bits, and a yes/no field holds true or false.

YAML and pydantic are both lenient here (``"0.05"`` and ``true`` become numbers, ``.inf`` is a
float, Python integers are unbounded), so without these rules such values would pass validation
and fail later in the catalogue or, worse, be read as something the source never said.
"""

from __future__ import annotations

import math
from functools import lru_cache

from evidence.ingest.rules.base import rule, walk
from evidence.ingest.structure import annotation_at

INT64 = 2 ** 63 - 1


@lru_cache(maxsize=4096)
def _kind(pattern: tuple) -> type | None:
    ann = annotation_at(pattern)
    return ann if ann in (int, float, bool, str) else None


def kind_at(loc: tuple) -> type | None:
    """The schema's scalar type at a key path (int, float, bool, str), or None."""
    return _kind(tuple(0 if isinstance(p, int) else p for p in loc))


def _is_number_text(text: str) -> bool:
    try:
        return math.isfinite(float(text.strip().replace("\u2212", "-")))
    except ValueError:
        return False


@rule("number-type", "Number fields hold numbers and yes/no fields true or false, not quoted text or 0/1.")
def _number_type(study, ctx):
    for loc, v in walk(study):
        kind = kind_at(loc)
        if kind in (int, float):
            if isinstance(v, bool):
                yield ctx.problem(loc, f"{str(v).lower()} is not a number", "write the number, or leave the field out")
            elif isinstance(v, str) and _is_number_text(v):
                yield ctx.problem(loc, f"'{v}' is text (in quotes), not a number", f"write {v.strip()} without quotes")
        elif kind is bool and not isinstance(v, bool) and v is not None:
            yield ctx.problem(loc, f"{v!r} is not true or false", "write true or false, without quotes")


def _as_written(ctx, loc, v) -> str:
    scalars = ctx.loaded.scalars if ctx.loaded is not None else {}
    return scalars.get(tuple(loc), (None, repr(v)))[1]


@rule("finite-number", "Every number is finite (no .inf, .nan) and every integer fits in 64 bits.")
def _finite(study, ctx):
    for loc, v in walk(study):
        if isinstance(v, float) and not math.isfinite(v):
            yield ctx.problem(loc, f"'{_as_written(ctx, loc, v)}' is not a finite number",
                              "write the number the source gives, or leave the field out")
        elif isinstance(v, int) and not isinstance(v, bool) and abs(v) > INT64:
            yield ctx.problem(loc, f"the integer {str(v)[:30]}{'...' if len(str(v)) > 30 else ''} does not fit in 64 bits",
                              "a typo? no count or year is this large")
