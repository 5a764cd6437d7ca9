"""``evidence todo``: the coding queue - which study to code next from its full text, what is missing,
where the numbers are said to be, the link, and why it ranks there (``evidence.synthesis.queue``)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer


def todo(
    limit: Annotated[Optional[int], typer.Option("--limit", help="Show the first N studies of the queue.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    intervention: Annotated[Optional[list[str]], typer.Option("--intervention", help="Intervention type (repeatable).")] = None,
    outcome: Annotated[Optional[list[str]], typer.Option("--outcome", help="Outcome term (repeatable).")] = None,
    catalog: Annotated[Optional[str], typer.Option("--catalog", help="Catalogue file or SQLAlchemy URL (default: config).")] = None,
) -> None:
    """List the studies to code next (mapped, headline, or coded with parts missing), closest to pooling first."""
    from evidence.catalog.queries import connect
    from evidence.synthesis.queue import load_queue

    items = load_queue(connect(catalog), intervention or (), outcome or (), limit)
    if as_json:
        for item in items:
            typer.echo(json.dumps(item.as_dict(), ensure_ascii=False))
        return
    from rich.console import Console  # rich only when the table is drawn
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"What to code next: {len(items)} stud{'y' if len(items) == 1 else 'ies'}", show_lines=True)
    for col, width in (("#", None), ("study", None), ("status", None), ("why", 36), ("missing", 30), ("where", 22), ("link", 28)):
        table.add_column(col, overflow="fold", max_width=width, no_wrap=col == "#")
    for i in items:
        table.add_row(str(i.rank), Text(f"{i.citation}\n{i.study_id}"), i.status, Text(f"[{i.tier}] {i.reason}"),
                      Text("\n".join(i.missing)), Text("\n".join(i.where)), Text(i.link or "no link"))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("todo")(todo)
