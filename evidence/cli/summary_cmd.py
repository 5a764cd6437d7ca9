"""``evidence summary``: an evidence summary of one intervention x outcome, as a file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from evidence.catalog.filters import Filters
from evidence.cli.options import Catalog, check_cell, with_filters
from evidence.errors import EvidenceError, ExportError


def register(app: typer.Typer) -> None:
    @app.command("summary")
    @with_filters("regions", "countries", "designs", "sex", "age_min", "age_max", "year_min", "year_max", "coding_status")
    def summary(
        intervention: str = typer.Option(..., "--intervention", help="Intervention type (taxonomy term)."),
        outcome: str = typer.Option(..., "--outcome", help="Outcome (taxonomy term)."),
        fmt: Optional[str] = typer.Option(None, "--format", help="pdf | docx | xlsx | html | md | csv (default: the -o file's suffix, else pdf)"),
        out: Path = typer.Option(..., "-o", "--out", help="File to write."),
        catalog: Catalog = None,
        exclude_high_rob: bool = typer.Option(False, "--exclude-high-rob"),
        exclude_imputed: bool = typer.Option(False, "--exclude-imputed"),
        tau_prior: str = typer.Option("halfnormal", "--prior-tau", help="halfnormal | halfcauchy | halft | lognormal | uniform (scaled to the metric)"),
        tau_scale: Optional[float] = typer.Option(None, "--prior-scale", help="Scale of the tau prior (default: the metric's)."),
        override_rating: Optional[str] = typer.Option(None, "--override-rating", help="high | moderate | low | very low"),
        override_reason: Optional[str] = typer.Option(None, "--override-reason"),
        filters: Filters = Filters(),
    ):
        """Write the evidence summary (summary of findings, certainty, figures, references) to a file."""
        from evidence.catalog.queries import connect
        from evidence.summary import FORMATS, summarise, write
        from evidence.synthesis import WhatWorksOptions
        from evidence.synthesis.certainty import Override

        check_cell(intervention, outcome)
        from evidence.synthesis import TAU_FAMILIES

        if tau_prior not in TAU_FAMILIES:  # as `evidence answer` checks it
            raise EvidenceError(f"--prior-tau: choose one of {', '.join(TAU_FAMILIES)}")
        if tau_scale is not None and not 0 < tau_scale < float("inf"):
            raise EvidenceError(f"--prior-scale: a positive number, not {tau_scale:g}")
        # a document for a meeting by default: the format -o names (summary.xlsx), else PDF
        fmt = fmt or (out.suffix.lstrip(".").lower() if out.suffix.lstrip(".").lower() in FORMATS else "pdf")
        if fmt not in FORMATS:
            raise ExportError(f"unknown --format {fmt!r} (choose from {', '.join(FORMATS)})")
        override = None
        if override_rating or override_reason:
            try:
                override = Override(override_rating or "", override_reason or "")
            except EvidenceError as exc:
                raise ExportError(f"--override-rating/--override-reason: {exc}") from None
        options = WhatWorksOptions(intervention=intervention, outcome=outcome, exclude_high_rob=exclude_high_rob,
                                   exclude_imputed=exclude_imputed, tau_family=tau_prior, tau_scale=tau_scale)
        s = summarise(options, filters, override=override, engine=connect(catalog))
        write(s, fmt, out)
        what = (f"pooled {s.result.k} studies, certainty {s.certainty.rating}" if s.result is not None
                else f"insufficient evidence: {s.insufficient_reason}")
        typer.echo(f"wrote {out} ({fmt}; {what})")
