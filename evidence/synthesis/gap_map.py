"""The gap map: every intervention x outcome of the taxonomy, with its pooled answer or its design mix."""

from __future__ import annotations

from collections.abc import MutableMapping

import numpy as np
import pandas as pd

from evidence.synthesis.answer import WhatWorksOptions
from evidence.synthesis.card import NO_STUDIES, answer_card
from evidence.taxonomy import taxonomy


def gap_map_cells(effects_df: pd.DataFrame, tau_family: str | None = None,
                  memo: MutableMapping | None = None) -> pd.DataFrame:
    """One row per intervention x outcome of the taxonomy (empty cells included, ``n_studies == 0``).

    Each cell with studies carries its answer card (:func:`evidence.synthesis.card.answer_card`, the
    same function What works, the summaries and ``evidence answer`` use, with default sensitivity
    choices): the pooled posterior, the direction ``category``, the certainty and the card's words for
    the tooltip; cells that do not pool carry their design mix and their vote count. ``tau_family``: the
    family of the prior on tau (scaled to each cell's metric), half-normal by default.

    ``memo``: cell answers already computed, keyed on the cell, the prior and the (study, effect) ids of
    its rows in order. A filter change leaves most cells' rows as they were, so their answers are reused
    instead of recomputed (the interactive path's cost). Only valid while an effect id names the same row:
    the caller keeps one memo per catalogue stamp (:func:`evidence.views.loaders.load_gap_map`).
    """
    t = taxonomy()
    # Text columns as plain Python objects for the per-cell work: the cards read the same values, but
    # slicing and comparing Arrow-backed strings cell by cell was most of the gap map's cost (about 3x).
    effects_df = effects_df.astype({c: object for c in effects_df.columns if pd.api.types.is_string_dtype(effects_df[c])
                                    and not pd.api.types.is_object_dtype(effects_df[c])}).copy()
    # Row positions per cell (one groupby pass); a cell's rows are taken only when its answer is computed.
    groups = effects_df.groupby(["intervention", "outcome"]).indices if len(effects_df) else {}
    ids = (effects_df["study_id"].to_numpy(object), effects_df["effect_id"].to_numpy(object)) if len(effects_df) else None
    rows = []
    for iv, iterm in t.interventions.items():
        for oc, oterm in t.outcomes.items():
            pos = groups.get((iv, oc))
            row = dict(family=iterm["family"], family_label=t.families[iterm["family"]]["label"], intervention=iv,
                       intervention_label=iterm["label"], outcome_group=oterm["group"],
                       outcome_group_label=t.outcome_groups[oterm["group"]]["label"], outcome=oc, outcome_label=oterm["label"],
                       desirable=oterm["desirable"], n_studies=0, n_effects=0, n_pooled=0, metric=None, mean=np.nan,
                       q025=np.nan, q975=np.nan, p_benefit=np.nan, category=NO_STUDIES, certainty=None, statement="",
                       summary="", designs="", any_harm=False, votes="")
            if pos is not None:
                row.update(_cell_answer(effects_df, pos, ids, iv, oc, tau_family or "halfnormal", memo))
            rows.append(row)
    return pd.DataFrame(rows)


def _cell_answer(effects_df: pd.DataFrame, pos: np.ndarray, ids, iv: str, oc: str, tau_family: str,
                 memo: MutableMapping | None) -> dict:
    """The gap map's fields of one cell's answer card, the cell being ``effects_df``'s rows at ``pos``
    (from ``memo`` when this cell's rows were seen)."""
    key = (iv, oc, tau_family, tuple(zip(ids[0][pos], ids[1][pos]))) if memo is not None else None
    if key is not None and key in memo:
        return memo[key]
    card = answer_card(effects_df.iloc[pos], WhatWorksOptions(iv, oc, tau_family=tau_family), subgroups=False)
    row = dict(n_studies=card.n_studies, n_effects=card.n_effects, designs=card.designs, any_harm=bool(card.harms),
               category=card.category, certainty=card.certainty, statement=card.statement, summary=card.tooltip,
               votes=card.vote_statement)
    if card.pooled is not None:
        p = card.pooled
        row.update(n_pooled=p.k, metric=card.metric, mean=p.mean, q025=p.q025, q975=p.q975, p_benefit=p.p_benefit)
    if key is not None:
        memo[key] = row
    return row


def best_cell(cells: pd.DataFrame) -> tuple[str, str] | None:
    """The (intervention, outcome) with the most pooled studies (then the most studies): where a
    first-time visitor of the What-works page sees an answer rather than a gap."""
    if cells.empty or not (cells["n_studies"] > 0).any():
        return None
    top = cells.sort_values(["n_pooled", "n_studies"], ascending=False, kind="stable").iloc[0]
    return str(top["intervention"]), str(top["outcome"])
