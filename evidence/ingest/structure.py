"""Structural problems from the pydantic schema, translated to ``path:line: field: message (hint)``.

pydantic knows *what* is wrong; the loader knows *where*. Unknown keys get the nearest allowed key
as a hint (typos must not silently drop data); missing fields get the field's description.
"""

from __future__ import annotations

import re
import types
import typing

from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz, process

from evidence.schema import Study
from evidence.taxonomy import suggest

#: Names researchers commonly type for a field (checked before fuzzy matching).
ALIASES = {"standard_error": "se", "std_err": "se", "stderr": "se", "coef": "estimate", "coefficient": "estimate",
           "beta": "estimate", "b": "estimate", "pvalue": "p", "p_value": "p", "t_stat": "t", "tstat": "t",
           "ci_lower": "ci_low", "ci_upper": "ci_high", "lower": "ci_low", "upper": "ci_high",
           "author": "authors", "country": "countries", "intervention_type": "type", "sdg": "sdg871",
           "n_treated": "n_treatment", "n_controls": "n_control", "followup_months": "follow_up_months"}


def nearest_key(key: str, allowed: list[str]) -> str | None:
    """The allowed key a typo most likely meant: an alias, else a close edit-distance match."""
    alias = ALIASES.get(key.casefold())
    if alias in allowed:
        return alias
    match = process.extractOne(key.casefold(), allowed, scorer=fuzz.ratio, score_cutoff=70)
    return match[0] if match else None

_PLAIN = {"int_parsing", "float_parsing", "int_from_float", "bool_parsing", "bool_type", "string_type",
          "int_type", "float_type", "date_parsing", "date_from_datetime_parsing", "date_type", "list_type",
          "dict_type", "finite_number"}


def _unwrap(ann):
    """Strip ``X | None`` down to X (the schema's only unions are nullable ones)."""
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        return args[0] if len(args) == 1 else ann
    return ann


def annotation_at(loc: tuple):
    """The schema type at a location (``("effects", 0, "reported")`` -> ``Reported``), or None."""
    ann = Study
    for part in loc:
        ann = _unwrap(ann)
        origin = typing.get_origin(ann)
        if isinstance(part, int):
            if origin is not list:
                return None
            ann = typing.get_args(ann)[0]
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(part)
            if field is None:
                return None
            ann = field.annotation
        elif origin is dict:
            ann = typing.get_args(ann)[1]
        else:
            return None
    return _unwrap(ann)


def _description(loc: tuple) -> str | None:
    parent = annotation_at(loc[:-1])
    if isinstance(parent, type) and issubclass(parent, BaseModel) and isinstance(loc[-1], str):
        field = parent.model_fields.get(loc[-1])
        return field.description if field else None
    return None


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def translate(err: dict) -> tuple[tuple, str, str | None]:
    """One pydantic error -> (location, message, hint)."""
    loc, kind, value = tuple(err["loc"]), err["type"], err.get("input")
    if kind == "missing":
        return loc, "required field is missing", _description(loc)
    if kind == "extra_forbidden":
        parent = annotation_at(loc[:-1])
        allowed = list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        near = nearest_key(str(loc[-1]), allowed)
        return loc, f"unknown key '{loc[-1]}'", f"did you mean '{near}'?" if near else None
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        near = suggest(str(value), allowed) if allowed else None
        hint = f"did you mean '{near}'?" if near else f"one of: {', '.join(allowed)}"
        return loc, f"{_show(value)} is not an allowed value", hint
    if kind == "string_pattern_mismatch":
        return loc, f"{_show(value)} is not a valid id", "lower-case letters, digits and '-', e.g. 'gee-2010-rps'"
    if kind == "too_short":
        return loc, "must not be empty", "list at least one item"
    if kind == "model_type":
        return loc, f"expected a mapping (key: value), got {_show(value)}", None
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:]
    if kind in _PLAIN:
        msg = f"{msg}, got {_show(value)}"
    return loc, msg, None


def check_structure(data) -> tuple[Study | None, list[tuple[tuple, str, str | None]]]:
    """Validate against the schema; returns the model (or None) and (loc, message, hint) triples."""
    if not isinstance(data, dict):
        return None, [((), f"a study file must be a mapping of keys, got {type(data).__name__}", None)]
    try:
        return Study.model_validate(data), []
    except ValidationError as exc:
        return None, [translate(e) for e in exc.errors(include_url=False)]
