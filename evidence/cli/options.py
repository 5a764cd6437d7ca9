"""Options shared by the catalogue commands, generated rather than written out per command.

Why generated: the filter options were written four times (list, export-csv, meta, summary) and
drifted (``list`` had no ``--primary-only``). Each :class:`evidence.catalog.queries.Filters` field
carries its option name and help; :func:`with_filters` turns the fields a command accepts into typer
options and hands the command one ``filters`` argument.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from typing import Annotated, Optional

import typer

from evidence.catalog.filters import Filters, unknown_terms
from evidence.errors import UnknownTermError

#: ``--catalog`` on every command that reads or writes the catalogue (help shared too).
CATALOG_HELP = ("Catalogue: a SQLite file path or a SQLAlchemy URL such as postgresql+psycopg://user@host/evidence "
                "(default: $EVIDENCE_CATALOG_URL, else the shipped catalog.db).")
Catalog = Annotated[Optional[str], typer.Option("--catalog", help=CATALOG_HELP, show_default=False)]

_FIELDS = {f.name: f for f in dataclasses.fields(Filters)}
_HINTS = typing.get_type_hints(Filters)


def _option(name: str) -> inspect.Parameter:
    f = _FIELDS[name]
    hint = _HINTS[name]
    if hint is bool:
        ann = Annotated[bool, typer.Option(f.metadata["option"], help=f.metadata["help"])]
    elif typing.get_origin(hint) is tuple:
        ann = Annotated[Optional[list[str]], typer.Option(f.metadata["option"], help=f.metadata["help"])]
    else:  # Optional[str | int | float]
        inner = next(a for a in typing.get_args(hint) if a is not type(None))
        ann = Annotated[Optional[inner], typer.Option(f.metadata["option"], help=f.metadata["help"])]
    return inspect.Parameter(f"f_{name}", inspect.Parameter.KEYWORD_ONLY, annotation=ann,
                             default=f.default if hint is bool else None)


def check_cell(intervention: str | None, outcome: str | None) -> None:
    """Refuse an intervention or outcome that is not a taxonomy term (with the nearest one)."""
    problems = unknown_terms(Filters(interventions=tuple(filter(None, [intervention])),
                                     outcomes=tuple(filter(None, [outcome]))))
    if problems:
        raise UnknownTermError("; ".join(problems))


def with_filters(*names: str):
    """Decorator: add the options of the ``Filters`` fields ``names`` (all fields when none are given)
    to a command, and call it with ``filters=Filters(...)`` built from them."""
    names = names or tuple(_FIELDS)
    unknown = set(names) - set(_FIELDS)
    if unknown:
        raise ValueError(f"not Filters fields: {sorted(unknown)}")

    def decorate(func):
        sig = inspect.signature(func, eval_str=True)
        params = [p for p in sig.parameters.values() if p.name != "filters"]
        extra = [_option(n) for n in names]

        @functools.wraps(func)
        def command(**kw):
            values = {n: kw.pop(f"f_{n}") for n in names}
            values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()}
            filters = Filters(**values)
            # no filter given (``meta --csv``), nothing to check: the vocabulary loads the taxonomy and the schema
            problems = unknown_terms(filters) if filters != Filters() else []
            if problems:
                raise UnknownTermError("; ".join(problems))
            return func(**kw, filters=filters)

        command.__signature__ = sig.replace(parameters=[
            *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params), *extra])
        command.__annotations__ = {p.name: p.annotation for p in (*params, *extra)}
        del command.__wrapped__  # typer must see the generated signature, not the original one
        return command

    return decorate


__all__ = ["CATALOG_HELP", "Catalog", "check_cell", "with_filters"]
