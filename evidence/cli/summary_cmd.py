"""``evidence summary``: an evidence summary of one intervention x outcome, as a file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from evidence.errors import EvidenceError, ExportError


def register(app: typer.Typer) -> None:
    @app.command("summary")
    def summary(
        intervention: str = typer.Option(..., "--intervention", help="Intervention type (taxonomy term)."),
        outcome: str = typer.Option(..., "--outcome", help="Outcome (taxonomy term)."),
        fmt: str = typer.Option("md", "--format", help="docx | pdf | md | html | xlsx | csv"),
        out: Path = typer.Option(..., "-o", "--out", help="File to write."),
        region: Optional[list[str]] = typer.Option(None, "--region"),
        country: Optional[list[str]] = typer.Option(None, "--country"),
        design: Optional[list[str]] = typer.Option(None, "--design"),
        sex: Optional[str] = typer.Option(None, "--sex", help="girls | boys | all"),
        age_min: Optional[float] = typer.Option(None, "--age-min"),
        age_max: Optional[float] = typer.Option(None, "--age-max"),
        year_min: Optional[int] = typer.Option(None, "--year-min"),
        year_max: Optional[int] = typer.Option(None, "--year-max"),
        status: Optional[list[str]] = typer.Option(None, "--status", help="Coding status: mapped | headline | coded"),
        exclude_high_rob: bool = typer.Option(False, "--exclude-high-rob"),
        exclude_imputed: bool = typer.Option(False, "--exclude-imputed"),
        tau_prior: str = typer.Option("halfnormal", "--prior-tau", help="halfnormal | halfcauchy | halft | lognormal | uniform (scaled to the metric)"),
        tau_scale: Optional[float] = typer.Option(None, "--prior-scale", help="Scale of the tau prior (default: the metric's)."),
        override_rating: Optional[str] = typer.Option(None, "--override-rating", help="high | moderate | low | very low"),
        override_reason: Optional[str] = typer.Option(None, "--override-reason"),
    ):
        """Write the evidence summary (summary of findings, certainty, figures, references) to a file."""
        from evidence.catalog.queries import Filters
        from evidence.summary import FORMATS, summarise, write
        from evidence.synthesis.certainty import Override
        from evidence.synthesis import WhatWorksOptions

        if fmt not in FORMATS:
            raise ExportError(f"unknown --format {fmt!r} (choose from {', '.join(FORMATS)})")
        override = None
        if override_rating or override_reason:
            try:
                override = Override(override_rating or "", override_reason or "")
            except EvidenceError as exc:
                raise ExportError(f"--override-rating/--override-reason: {exc}") from None
        filters = Filters(regions=tuple(region or ()), countries=tuple(country or ()), designs=tuple(design or ()),
                          sex=sex, age_min=age_min, age_max=age_max, year_min=year_min, year_max=year_max,
                          coding_status=tuple(status or ()))
        options = WhatWorksOptions(intervention=intervention, outcome=outcome, exclude_high_rob=exclude_high_rob,
                                   exclude_imputed=exclude_imputed, tau_family=tau_prior, tau_scale=tau_scale)
        s = summarise(options, filters, override=override)
        write(s, fmt, out)
        what = (f"pooled {s.result.k} studies, certainty {s.certainty.rating}" if s.result is not None
                else f"insufficient evidence: {s.insufficient_reason}")
        typer.echo(f"wrote {out} ({fmt}; {what})")
