"""``evidence reconcile A B``: two independent codings of one study -> disagreements, agreement, the
reconciled file (thin wrapper over ``evidence.coding.reconcile``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def _fmt(v) -> str:
    return "(absent)" if v is None else repr(v) if isinstance(v, str) else str(v)


def reconcile(
    first: Path = typer.Argument(..., exists=True, dir_okay=False, help="The study file (first coder)."),
    second: Path = typer.Argument(..., exists=True, dir_okay=False,
                                  help="The second coder's file (studies/second-coding/<id>.<coder>.yaml)."),
    prefer: Optional[str] = typer.Option(None, "--prefer", help="Resolve every disagreement not given by --take: first or second."),
    take: Optional[list[str]] = typer.Option(None, "--take", help="FIELD=first|second for one disagreement; repeat."),
    by: Optional[str] = typer.Option(None, "--by", help="Who resolves (recorded in coding.resolutions)."),
    note: Optional[str] = typer.Option(None, "--note", help="A note kept with the resolutions."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the reconciled file (default: FIRST)."),
) -> None:
    """List every disagreement with both values and quotes, percent agreement and Cohen's kappa; with
    --prefer/--take and --by, write the reconciled file (layout of FIRST kept). Exit 1 while unresolved."""
    from evidence.coding import draft, reconcile as rc, yamlio
    from evidence.errors import EvidenceError

    text = first.read_text(encoding="utf-8")
    a, b = yamlio.plain(yamlio.parse(text)), yamlio.plain(yamlio.parse(second.read_text(encoding="utf-8")))
    cmp = rc.compare(a, b)
    typer.echo(f"{len(cmp.disagreements)} disagreement(s) between {cmp.first_coder} (first) and {cmp.second_coder} (second)")
    for d in cmp.disagreements:
        typer.echo(f"  {d.field}: first {_fmt(d.first)} | second {_fmt(d.second)}" + ("  [categorical]" if d.categorical else ""))
        if d.first_quote or d.second_quote:
            typer.echo(f"      quotes: first {_fmt(d.first_quote)} | second {_fmt(d.second_quote)}")
    pa, k = cmp.percent_agreement, cmp.kappa
    typer.echo(f"categorical fields both coded: {len(cmp.paired)}; agreement "
               f"{'n/a' if pa is None else f'{pa:.1f}%'}; Cohen's kappa {'n/a' if k is None else f'{k:.3f}'}")
    choices = {}
    for t in take or []:
        field, _, side = t.rpartition("=")
        if not field:
            raise typer.BadParameter(f"--take expects FIELD=first|second, got {t!r}")
        choices[field] = side
    if prefer:
        choices = {d.field: choices.get(d.field, prefer) for d in cmp.disagreements} | choices
    if not cmp.disagreements and not by:
        raise typer.Exit(0)
    if not by or any(d.field not in choices for d in cmp.disagreements):
        typer.echo("not written: give --by and resolve every disagreement (--prefer, --take FIELD=first|second)")
        raise typer.Exit(1)
    merged = rc.reconcile(a, b, choices, by, note)
    result = draft.check(merged, text, (out or first).parent)
    if result.errors:
        for p in result.errors:
            typer.secho(f"{p}", fg=typer.colors.RED)
        raise EvidenceError("the reconciled file would not validate; nothing written")
    target = out or first
    target.write_text(result.text, encoding="utf-8")
    typer.echo(f"wrote {target}")


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile)
