"""Synthesis: from the catalogue's effects to answers (stage 5 of files -> records -> catalogue ->
analysis -> synthesis -> summaries/views).

Which effects are pooled and with which prior (``selection``, ``metrics``), the answer for one
intervention x outcome cell (``answer``), the gap map over all cells (``gap_map``), the harvest plot
when nothing pools (``harvest``), "for my context" meta-regression and the effect per US$100
(``context``), GRADE-style certainty (``certainty``), evidence by country (``where``), the wording
readers see (``wording``) and the chart specifications (``charts``, Altair; imported on use).

No Streamlit here: the explorer's pages (``evidence.views``, ``app_pages``), the summaries
(``evidence.summary``) and the command line (``evidence.cli``) all consume this package, so the same
question gets the same answer everywhere. The commonly used names are re-exported below.
"""

from evidence.synthesis.answer import (
                                       WhatWorks,
                                       WhatWorksOptions,
                                       exclusions,
                                       headline_for,
                                       leave_one_out,
                                       pooled_caption,
                                       what_works,
)
from evidence.synthesis.card import CATEGORIES, AnswerCard, answer_card, card_from, category
from evidence.synthesis.gap_map import best_cell, gap_map_cells
from evidence.synthesis.harvest import VoteCount, harvest_table, vote_count
from evidence.synthesis.metrics import POOLABLE_METRICS, RATIO_METRICS, TAU_FAMILIES, metric_label, tau_prior_for
from evidence.synthesis.selection import as_list, design_mix, effect_labels, main_metric, one_per_study, poolable_metrics, usable
from evidence.synthesis.wording import fmt, headline

__all__ = [
    "CATEGORIES", "POOLABLE_METRICS", "AnswerCard", "answer_card", "card_from", "RATIO_METRICS", "TAU_FAMILIES", "WhatWorks", "WhatWorksOptions",
    "as_list", "best_cell", "category", "design_mix", "effect_labels", "exclusions", "fmt", "gap_map_cells",
    "VoteCount", "harvest_table", "headline", "vote_count", "headline_for", "leave_one_out", "main_metric", "metric_label", "one_per_study",
    "poolable_metrics", "pooled_caption", "tau_prior_for", "usable", "what_works",
]
