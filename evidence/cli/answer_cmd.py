"""``evidence answer``: the answer card for one intervention x outcome, exactly as the app shows it
(What works, the gap map's tooltip) and the summaries print it (:mod:`evidence.synthesis.card`)."""

from __future__ import annotations

import json

import typer

from evidence.catalog.filters import Filters
from evidence.cli.options import Catalog, check_cell, with_filters


def _text(card) -> str:
    lines = [f"{card.intervention_label} x {card.outcome_label}", card.statement]
    if card.pooled is not None:
        lines.append(card.headline)
        lines.append(f"Certainty: {card.certainty.upper()} ({card.n_studies} studies in the cell, {card.pooled.k} pooled)")
        if card.absolute is not None:
            lines.append(card.absolute.text)
    lines.append(f"Direction: {card.category}")
    lines.append(f"Vote count: {card.vote_statement}")
    for g in card.subgroups:
        lines.append(f"  {g.label}: {g.text}")
    if card.harms:
        lines.append(f"Harms flagged: {len(card.harms)} effect(s): " + "; ".join(dict.fromkeys(h["citation"] for h in card.harms)))
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    @app.command("answer")
    @with_filters("regions", "countries", "designs", "sex", "age_min", "age_max", "year_min", "year_max", "coding_status")
    def answer(
        intervention: str = typer.Option(..., "--intervention", help="Intervention type (taxonomy term)."),
        outcome: str = typer.Option(..., "--outcome", help="Outcome (taxonomy term)."),
        catalog: Catalog = None,
        exclude_high_rob: bool = typer.Option(False, "--exclude-high-rob"),
        exclude_imputed: bool = typer.Option(False, "--exclude-imputed"),
        exclude_secondary: bool = typer.Option(False, "--exclude-secondary", help="Leave out numbers taken from a review's table."),
        tau_prior: str = typer.Option("halfnormal", "--prior-tau", help="Family of the prior on tau, scaled to the metric."),
        as_json: bool = typer.Option(False, "--json", help="Print the card as one JSON object."),
        filters: Filters = None,
    ):
        """The answer for one cell: pooled effect, certainty, direction, vote count, girls/boys and ages, harms."""
        from evidence.catalog.queries import connect, effects
        from evidence.errors import EvidenceError
        from evidence.synthesis import TAU_FAMILIES, WhatWorksOptions, answer_card

        check_cell(intervention, outcome)
        if tau_prior not in TAU_FAMILIES:
            raise EvidenceError(f"--prior-tau: choose one of {', '.join(TAU_FAMILIES)}")
        card = answer_card(effects(filters, engine=connect(catalog)),
                           WhatWorksOptions(intervention, outcome, exclude_high_rob=exclude_high_rob,
                                            exclude_imputed=exclude_imputed, tau_family=tau_prior,
                                            exclude_secondary=exclude_secondary))
        typer.echo(json.dumps(card.to_dict(), default=str) if as_json else _text(card))
