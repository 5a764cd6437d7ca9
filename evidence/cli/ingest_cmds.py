"""Commands for getting studies in: ``validate``, ``dedup``, ``new``, ``import``.

Thin wrappers over ``evidence.ingest``; problems print as ``path:line: field: message (hint)`` so
editors and CI annotate the right line.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from evidence import config


class Format(str, Enum):
    text = "text"
    json = "json"


def _print_problem(p) -> None:
    tag = f"[{p.severity}: {p.rule}]" if p.rule else f"[{p.severity}]"
    typer.secho(f"{p}  {tag}", fg=typer.colors.RED if p.severity == "error" else typer.colors.YELLOW)


def validate(
    paths: Optional[list[Path]] = typer.Argument(None, help="Study files or directories (default: the studies directory)."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
    fmt: Format = typer.Option(Format.text, "--format", help="text or json."),
    list_rules: bool = typer.Option(False, "--list-rules", help="List the validation rules and exit."),
    changed: bool = typer.Option(False, "--changed", help="Only the study files changed since --base (per git)."),
    base: str = typer.Option("origin/main", "--base", help="With --changed: the revision to compare with."),
) -> None:
    """Validate study files: every problem with its line, a summary, exit 1 on any error."""
    from evidence.ingest.rules import REGISTRY
    from evidence.ingest.validate import validate_paths

    if list_rules:
        for r in REGISTRY.all():
            typer.echo(f"{r.name:<22} {r.scope:<4} {r.severity:<7} {r.message}")
        return
    if changed:
        from evidence.coding.review import validate_changed

        report = validate_changed(base, paths[0] if paths else None)
    else:
        report = validate_paths(paths or None)
    failed = bool(report.errors) or (strict and bool(report.warnings))
    if fmt == Format.json:
        typer.echo(json.dumps({"files": report.files, "valid": len(report.studies), "errors": len(report.errors),
                               "warnings": len(report.warnings), "ok": not failed,
                               "problems": [p.to_dict() for p in report.problems]}, indent=2))
    else:
        for p in report.problems:
            _print_problem(p)
        typer.echo(report.summary() + (" (strict: warnings count as errors)" if strict else ""))
    raise typer.Exit(1 if failed else 0)


def dedup(
    paths: Optional[list[Path]] = typer.Argument(None, help="Study files or directories (default: the studies directory)."),
    threshold: float = typer.Option(config.DEDUP_THRESHOLD, help="Minimum score (0-100) to report a pair."),
    base: Optional[str] = typer.Option(None, "--base", help="Only pairs involving a study file changed since REV (git)."),
) -> None:
    """Report likely duplicate studies with their scores (exit 1 if any pair is found)."""
    from evidence.errors import EvidenceError
    from evidence.ingest.dedup import find_duplicates, report_table
    from evidence.ingest.loader import load
    from evidence.ingest.validate import expand

    for p in paths or ():
        if not p.exists():
            raise EvidenceError(f"{p}: No such file or directory (give study files or a directory of them)")
    if base is not None:
        from evidence.coding.review import changed_study_files, introduced_duplicates

        studies = paths[0] if paths else None
        candidates = introduced_duplicates(changed_study_files(base, studies), studies, threshold)
        typer.echo(report_table(candidates, threshold))
        raise typer.Exit(1 if candidates else 0)
    records = [d for d in (load(p).data for p in expand(paths or None)) if isinstance(d, dict) and "id" in d]
    candidates = find_duplicates(records, threshold)
    typer.echo(report_table(candidates, threshold))
    raise typer.Exit(1 if candidates else 0)


def new(
    bib: Optional[Path] = typer.Option(None, "--bib", exists=True, dir_okay=False, help="BibTeX file (first entry)."),
    ris: Optional[Path] = typer.Option(None, "--ris", exists=True, dir_okay=False, help="RIS file (first record)."),
    study_id: Optional[str] = typer.Option(None, "--id", help="Study id (default: family-year-programme)."),
    programme: Optional[str] = typer.Option(None, "--programme", help="Programme name (gives the id's slug)."),
    title: Optional[str] = typer.Option(None, "--title"),
    author: Optional[list[str]] = typer.Option(None, "--author", help="'Family, Given'; repeat for several."),
    year: Optional[int] = typer.Option(None, "--year"),
    coder: str = typer.Option("FILL-IN", "--coder", help="Who codes this study."),
    out: Path = typer.Option(config.STUDIES_DIR, "--out", help="Studies directory."),
    force: bool = typer.Option(False, "--force", help="Write even if a likely duplicate exists."),
) -> None:
    """Scaffold a study file (status mapped), optionally from a BibTeX or RIS record."""
    from evidence.ingest.scaffold import BibRecord, new_study, parse_bibtex, parse_ris, read_reference

    if bib and ris:
        raise typer.BadParameter("give --bib or --ris, not both")
    rec = parse_bibtex(read_reference(bib)) if bib else parse_ris(read_reference(ris)) if ris else BibRecord()
    rec.title = title or rec.title
    rec.authors = list(author) if author else rec.authors
    rec.year = year or rec.year
    path = new_study(rec, study_id=study_id, programme=programme, coder=coder, studies_dir=out, force=force)
    typer.echo(f"wrote {path}; fill the FILL-INs, then run: evidence validate {path}")


def import_sheet(
    sheet: Path = typer.Argument(..., exists=True, dir_okay=False, help="Coding sheet (.csv or .xlsx)."),
    out: Path = typer.Option(config.STUDIES_DIR, "--out", help="Where to write the study files."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing study files."),
) -> None:
    """Turn a coding sheet (one row per effect) into study files; nothing is written on any error."""
    from evidence.errors import ValidationFailed
    from evidence.ingest.sheet import import_sheet as run

    try:
        written, warnings = run(sheet, out, force=force)
    except ValidationFailed as exc:
        for p in exc.problems:
            _print_problem(p)
        errors = sum(p.severity == "error" for p in exc.problems)
        typer.echo(f"{errors} error(s); nothing written")
        raise typer.Exit(1) from None
    for p in warnings:
        _print_problem(p)
    for p in written:
        typer.echo(f"wrote {p}")
    typer.echo(f"{len(written)} study file(s) written, {len(warnings)} warning(s)")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("dedup")(dedup)
    app.command("new")(new)
    app.command("import")(import_sheet)
