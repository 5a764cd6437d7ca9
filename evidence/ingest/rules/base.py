"""The rule registry: every problem the tool prints comes from a rule registered here.

A rule has a name, a scope, a default severity, a one-line message (what it checks) and a check:

- scope ``"file"``: ``check(study, ctx) -> problems`` on one study (a YAML file or a sheet's study);
  ``study`` is the raw dict (or None when the file could not be parsed), read defensively so every
  problem in a broken file is still reported in one pass;
- scope ``"tree"``: ``check(files, ctx) -> problems`` on all files validated together (duplicate
  ids, likely duplicate studies, links that point nowhere).

Registration is explicit (``REGISTRY.rule(...)`` decorators in the theme modules, imported once by
``evidence.ingest.rules``); this module imports none of them, so there is no import cycle. A check
may yield a milder problem than its rule's severity (e.g. a rounded number is a warning where an
absent one is an error); ``--list-rules`` shows the default.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from evidence.ingest.problems import Problem, Severity, field_name

Scope = Literal["file", "tree"]
INTERNAL = "internal error: the rule"


@dataclass
class Context:
    """Where a study came from and how to turn a key path into a line and a field name.

    ``loaded`` is the loader's result for a YAML file (parse error, repeated keys, alias expansion,
    scalars as written); None for a sheet's study. ``known_ids`` (tree rules) are the study ids a
    link may point to.
    """

    path: str | Path
    line_of: Callable[[tuple], int] = lambda loc: 1
    field_of: Callable[[tuple], str] = field_name
    file_stem: str | None = None  # None: no file name to check (e.g. a sheet row)
    today: dt.date = field(default_factory=dt.date.today)
    model: object = None  # the parsed Study, set by the ``schema`` rule when the structure is valid
    duplicate_keys: list = field(default_factory=list)  # (key path, line) of repeated YAML keys
    loaded: object = None  # evidence.ingest.loader.LoadedFile, when the study is a YAML file
    known_ids: set = field(default_factory=set)  # tree rules: ids a link may name
    severity: Severity = "error"  # the running rule's default (set by ``Registry.run``)

    def problem(self, loc: tuple, message: str, hint: str | None = None, severity: str | None = None) -> Problem:
        return Problem(self.path, self.line_of(loc), self.field_of(loc), message, hint, "", severity or self.severity)

    def at_line(self, line: int, fld: str, message: str, hint: str | None = None,
                severity: str | None = None) -> Problem:
        """A problem at a known line (the loader's findings, a sheet cell)."""
        return Problem(self.path, line, fld, message, hint, "", severity or self.severity)


@dataclass(frozen=True)
class Rule:
    name: str
    scope: Scope
    severity: Severity
    message: str  # one line: what the rule checks
    check: Callable

    @property
    def description(self) -> str:  # the older name of ``message``
        return self.message


class Registry:
    """Rules by name, in registration order; a name is registered once."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def rule(self, name: str, message: str, *, scope: Scope = "file", severity: Severity = "error"):
        if scope not in ("file", "tree") or severity not in ("error", "warning"):
            raise ValueError(f"rule {name}: bad scope {scope!r} or severity {severity!r}")

        def register(fn):
            if name in self._rules:
                raise ValueError(f"rule {name!r} is registered twice")
            self._rules[name] = Rule(name, scope, severity, message, fn)
            return fn
        return register

    def __getitem__(self, name: str) -> Rule:
        return self._rules[name]

    def __contains__(self, name: str) -> bool:
        return name in self._rules

    def all(self) -> list[Rule]:
        return list(self._rules.values())

    def of_scope(self, scope: Scope) -> dict[str, Rule]:
        return {n: r for n, r in self._rules.items() if r.scope == scope}

    def run(self, rules: Iterable[Rule], subject, ctx: Context) -> list[Problem]:
        """Run ``rules`` on ``subject`` and tag each problem with its rule (and default severity).

        A rule that crashes on input it did not foresee becomes an error naming the rule, never a
        traceback (and the property test in tests/test_validate_property.py hunts for such input)."""
        out = []
        for r in rules:
            ctx.severity = r.severity
            try:
                out.extend([replace(p, rule=r.name) for p in r.check(subject, ctx)])
            except Exception as exc:  # noqa: BLE001 - reported, not swallowed
                out.append(Problem(ctx.path, ctx.line_of(()), "(file)", f"{INTERNAL} {r.name} failed on this file: "
                                   f"{type(exc).__name__}: {exc}", "please report it with the file", r.name, "error"))
        return out


REGISTRY = Registry()
rule = REGISTRY.rule


# --- defensive access to the raw dict -------------------------------------------------------------

def d(x) -> dict:
    return x if isinstance(x, dict) else {}


def items(x) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in enumerate(x) if isinstance(v, dict)] if isinstance(x, list) else []


def num(x) -> float | None:
    """A finite number as float; None for anything else (bool and str are not numbers, and .inf,
    .nan and integers beyond float range are reported once, by the ``finite-number`` rule)."""
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        return None
    try:
        x = float(x)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def effects(study) -> list[tuple[int, dict, dict]]:
    return [(i, e, d(e.get("reported"))) for i, e in items(d(study).get("effects"))]


def get(obj, loc: tuple):
    """The value at a key path, or None when any part is missing or of the wrong type."""
    for part in loc:
        if isinstance(part, int) and isinstance(obj, list) and 0 <= part < len(obj):
            obj = obj[part]
        elif isinstance(part, str) and isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
    return obj


def walk(obj, loc: tuple = ()):
    """Every (key path, leaf value) of a nested dict/list."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, loc + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, loc + (i,))
    else:
        yield loc, obj
