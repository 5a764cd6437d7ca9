"""The gap map: every intervention x outcome of the taxonomy, with its pooled answer or its design mix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evidence.synthesis.answer import WhatWorksOptions
from evidence.synthesis.card import NO_STUDIES, answer_card
from evidence.taxonomy import taxonomy


def gap_map_cells(effects_df: pd.DataFrame, tau_family: str | None = None) -> pd.DataFrame:
    """One row per intervention x outcome of the taxonomy (empty cells included, ``n_studies == 0``).

    Each cell with studies carries its answer card (:func:`evidence.synthesis.card.answer_card`, the
    same function What works, the summaries and ``evidence answer`` use, with default sensitivity
    choices): the pooled posterior, the direction ``category``, the certainty and the card's words for
    the tooltip; cells that do not pool carry their design mix and their vote count. ``tau_family``: the
    family of the prior on tau (scaled to each cell's metric), half-normal by default.
    """
    t = taxonomy()
    groups = {key: part for key, part in effects_df.groupby(["intervention", "outcome"])} if len(effects_df) else {}
    rows = []
    for iv, iterm in t.interventions.items():
        for oc, oterm in t.outcomes.items():
            part = groups.get((iv, oc))
            row = dict(family=iterm["family"], family_label=t.families[iterm["family"]]["label"], intervention=iv,
                       intervention_label=iterm["label"], outcome_group=oterm["group"],
                       outcome_group_label=t.outcome_groups[oterm["group"]]["label"], outcome=oc, outcome_label=oterm["label"],
                       desirable=oterm["desirable"], n_studies=0, n_effects=0, n_pooled=0, metric=None, mean=np.nan,
                       q025=np.nan, q975=np.nan, p_benefit=np.nan, category=NO_STUDIES, certainty=None, statement="",
                       summary="", designs="", any_harm=False, votes="")
            if part is not None:
                card = answer_card(part, WhatWorksOptions(iv, oc, tau_family=tau_family or "halfnormal"), subgroups=False)
                row.update(n_studies=card.n_studies, n_effects=card.n_effects, designs=card.designs,
                           any_harm=bool(card.harms), category=card.category, certainty=card.certainty,
                           statement=card.statement, summary=card.tooltip, votes=card.vote_statement)
                if card.pooled is not None:
                    p = card.pooled
                    row.update(n_pooled=p.k, metric=card.metric, mean=p.mean, q025=p.q025, q975=p.q975, p_benefit=p.p_benefit)
            rows.append(row)
    return pd.DataFrame(rows)


def best_cell(cells: pd.DataFrame) -> tuple[str, str] | None:
    """The (intervention, outcome) with the most pooled studies (then the most studies): where a
    first-time visitor of the What-works page sees an answer rather than a gap."""
    if cells.empty or not (cells["n_studies"] > 0).any():
        return None
    top = cells.sort_values(["n_pooled", "n_studies"], ascending=False, kind="stable").iloc[0]
    return str(top["intervention"]), str(top["outcome"])
