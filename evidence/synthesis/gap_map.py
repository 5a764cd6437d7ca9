"""The gap map: every intervention x outcome of the taxonomy, with its pooled answer or its design mix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evidence.meta import exact
from evidence.meta.result import MetaResult
from evidence.synthesis.metrics import TAU_FAMILIES, tau_prior_for
from evidence.synthesis.selection import design_mix, main_metric, one_per_study, usable
from evidence.taxonomy import taxonomy

CATEGORIES = ("Improves (≥95% probability)", "Probably improves (80–95%)", "Unclear direction",
              "Probably worsens (80–95%)", "Worsens (≥95% probability)",
              "Not pooled: randomised designs", "Not pooled: non-randomised designs", "Not pooled: mixed designs")


def _benefit(result: MetaResult, desirable: str | None) -> float | None:
    p = result.p_below_0
    if p is None:
        return None
    return p if desirable == "decrease" else 1.0 - p


def category(p_benefit: float | None) -> str:
    if p_benefit is None:
        return CATEGORIES[2]
    for cut, cat in ((0.95, 0), (0.80, 1)):
        if p_benefit >= cut:
            return CATEGORIES[cat]
    if p_benefit <= 0.05:
        return CATEGORIES[4]
    return CATEGORIES[3] if p_benefit <= 0.20 else CATEGORIES[2]


def gap_map_cells(effects_df: pd.DataFrame, tau_prior: str | None = None) -> pd.DataFrame:
    """One row per intervention x outcome of the taxonomy (empty cells included, ``n_studies == 0``).

    Poolable cells (>= 2 studies with variances on one metric; primary effect per study) carry the
    exact posterior of the pooled effect and a direction/certainty ``category``; the others carry
    their design mix. ``tau_prior``: a prior string used as is, a bare family name (``"halfcauchy"``)
    scaled to each cell's metric, or None (half-normal scaled to each cell's metric).
    """
    t = taxonomy()
    slim = effects_df[["study_id", "intervention", "outcome", "yi", "vi", "metric", "primary", "randomised", "harmful"]]
    groups = {key: part for key, part in slim.groupby(["intervention", "outcome"])} if len(slim) else {}
    rows = []
    for iv, iterm in t.interventions.items():
        for oc, oterm in t.outcomes.items():
            part = groups.get((iv, oc))
            row = dict(family=iterm["family"], family_label=t.families[iterm["family"]]["label"], intervention=iv,
                       intervention_label=iterm["label"], outcome_group=oterm["group"],
                       outcome_group_label=t.outcome_groups[oterm["group"]]["label"], outcome=oc, outcome_label=oterm["label"],
                       desirable=oterm["desirable"], n_studies=0, n_effects=0, n_pooled=0, metric=None, mean=np.nan,
                       q025=np.nan, q975=np.nan, p_benefit=np.nan, category="No studies", designs="", any_harm=False)
            if part is not None:
                row.update(n_studies=part["study_id"].nunique(), n_effects=len(part), designs=design_mix(part),
                           any_harm=bool(part["harmful"].fillna(False).astype(bool).any()))
                row["category"] = "Not pooled: " + row["designs"]
                metric = main_metric(part)
                sel = one_per_study(part[usable(part) & (part["metric"] == metric)]) if metric else part.iloc[0:0]
                if len(sel) >= 2:
                    res = exact.posterior(sel["yi"].astype(float).to_numpy(), sel["vi"].astype(float).to_numpy(),
                                          tau_prior=_cell_prior(tau_prior, metric), measure=metric)
                    pb = _benefit(res, oterm["desirable"])
                    row.update(n_pooled=len(sel), metric=metric, mean=res.mu.mean, q025=res.mu.q025, q975=res.mu.q975,
                               p_benefit=pb, category=category(pb))
            rows.append(row)
    return pd.DataFrame(rows)


def best_cell(cells: pd.DataFrame) -> tuple[str, str] | None:
    """The (intervention, outcome) with the most pooled studies (then the most studies): where a
    first-time visitor of the What-works page sees an answer rather than a gap."""
    if cells.empty or not (cells["n_studies"] > 0).any():
        return None
    top = cells.sort_values(["n_pooled", "n_studies"], ascending=False, kind="stable").iloc[0]
    return str(top["intervention"]), str(top["outcome"])


def _cell_prior(tau_prior: str | None, metric: str | None) -> str:
    if not tau_prior:
        return tau_prior_for(metric)
    return tau_prior_for(metric, tau_prior) if tau_prior in TAU_FAMILIES else tau_prior


