"""The answer card's summary as the explorer shows it (statement, certainty, studies, direction, the
pooled numbers): one renderer, so the landing page, the gap map's chosen cell and What works show
the same card (:mod:`evidence.synthesis.card`) in the same words."""

from __future__ import annotations

import streamlit as st

from evidence import synthesis
from evidence.views.components import md

#: The direction category in a word or two (the full category is the metric's help text).
DIRECTION_SHORT = dict(zip(synthesis.CATEGORIES[:5], ("Improves", "Leans to benefit", "Unclear", "Leans to harm", "Worsens")))


def card_facts(card: synthesis.AnswerCard) -> str:
    """Certainty, studies pooled / in the cell, and direction in one line (wraps on a narrow screen)."""
    certainty = card.certainty.upper() if card.certainty else "not rated"
    return (f"**Certainty:** {md(certainty)} · **Studies pooled / in this cell:** {len(card.pooled_ids)} / {card.n_studies} · "
            f"**Direction:** {md(card.category)}")


def card_summary(card: synthesis.AnswerCard) -> None:
    """The card in brief: its plain-language statement, certainty, studies and direction, and the pooled
    numbers (or the vote count when nothing pools)."""
    st.markdown(f"**{md(card.intervention_label)} → {md(card.outcome_label)}**")
    st.write(md(card.statement))
    st.markdown(card_facts(card))
    if card.pooled is not None:
        st.caption(md(card.headline))
        if card.absolute is not None:
            st.caption(md(card.absolute.text))
    else:
        st.caption(md("Vote count: " + card.vote_statement))
