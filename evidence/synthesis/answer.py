"""The answer for one cell (intervention x outcome): which effects are pooled, with which prior, and the
pooled result with its headline.

Only the exact Bayesian engine (milliseconds) is used here; sampled (PyMC) models are run on request,
never on the interactive path. Signs are as reported; each outcome's desirable direction (the data's
``desirable`` column, else the taxonomy) decides what "improves" means.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evidence.meta import exact
from evidence.meta.result import MetaResult
from evidence.synthesis.metrics import metric_label, tau_prior_for
from evidence.synthesis.selection import (
    as_flags,
    as_numbers,
    effect_labels,
    main_metric,
    poolable_metric_mask,
    poolable_metrics,
    study_effects,
)
from evidence.synthesis.wording import headline


@dataclass(frozen=True)
class WhatWorksOptions:
    intervention: str
    outcome: str
    metric: str | None = None  # None: the metric most studies report
    exclude_high_rob: bool = False
    exclude_imputed: bool = False
    tau_family: str = "halfnormal"
    tau_scale: float | None = None  # None: the metric's default
    dependence: str = "primary"  # "primary" (one effect per study) or "all" (three-level model, on request)
    leave_out: tuple[str, ...] = ()  # study ids left out (leave-one-out by hand)
    exclude_secondary: bool = False  # leave out numbers taken from a review's table (secondary sources)


@dataclass
class WhatWorks:
    options: WhatWorksOptions
    metric: str | None
    unit: str
    tau_prior: str
    cell: pd.DataFrame  # every effect for this intervention x outcome
    selected: pd.DataFrame  # the effects pooled (with a ``label`` column)
    excluded: pd.DataFrame  # the others, with a ``reason`` column
    metrics: list[str] = field(default_factory=list)  # poolable metrics available in this cell
    result: MetaResult | None = None
    headline: str = ""
    reason: str | None = None  # why nothing was pooled
    harms: int = 0


def exclusions(cell: pd.DataFrame, o: WhatWorksOptions, metric: str | None) -> pd.Series:
    """Why each effect of ``cell`` is left out of the pooled answer ("" for the effects that stay in)."""
    return pd.Series(exclusion_reasons(cell, o, metric), index=cell.index, dtype=object)


def exclusion_reasons(cell: pd.DataFrame, o: WhatWorksOptions, metric: str | None) -> np.ndarray:
    """:func:`exclusions` as an array: the first rule that leaves each effect out, in the order below."""
    reason = np.full(len(cell), "", dtype=object)
    vi = as_numbers(cell["vi"])
    metrics = cell["metric"].to_numpy(object)
    with np.errstate(invalid="ignore"):
        no_variance = np.isnan(vi) | (vi <= 0)
    rules = [
        (cell["study_id"].isin(o.leave_out).to_numpy() if o.leave_out else None, "left out by you"),
        (~poolable_metric_mask(metrics), "metric cannot be pooled"),
        (metrics != metric if metric else None, "different metric"),
        (no_variance, "no variance reported"),
        ((cell["risk_of_bias"].to_numpy(object) == "high") if o.exclude_high_rob else None, "high risk of bias"),
        (as_flags(cell["variance_imputed"]) if o.exclude_imputed else None, "imputed variance"),
        (as_flags(cell["secondary"]) if o.exclude_secondary and "secondary" in cell else None,
         "secondary source (a review's table)"),
    ]
    for mask, why in rules:
        if mask is not None:
            reason[(reason == "") & mask] = why
    return reason


def cell_desirable(cell: pd.DataFrame) -> str | None:
    """The outcome's desirable direction as the data states it (one value), else None."""
    if "desirable" not in cell:
        return None
    vals = {d for d in cell["desirable"].dropna() if d in ("increase", "decrease")}
    return vals.pop() if len(vals) == 1 else None


def what_works(effects_df: pd.DataFrame, options: WhatWorksOptions) -> WhatWorks:
    """Select and pool the effects of one intervention on one outcome with the exact engine."""
    o = options
    cell = effects_df[(effects_df["intervention"] == o.intervention) & (effects_df["outcome"] == o.outcome)].copy()
    metrics = poolable_metrics(cell)
    # no poolable metric: main_metric would find none either (most cells of the gap map, skipped cheaply)
    metric = o.metric if o.metric in metrics else (main_metric(cell) if metrics else None)
    prior = tau_prior_for(metric, o.tau_family, o.tau_scale)
    reason = exclusion_reasons(cell, o, metric)  # by row position of cell
    in_pos = np.flatnonzero(reason == "")
    chosen = cell.iloc[in_pos]
    if o.dependence == "primary":
        kept = study_effects(chosen)
        combined = {e for ids in kept["combined_from"] if isinstance(ids, str) for e in ids.split(", ")}
        kept_labels = set(kept.index)
        for i, label, eid in zip(in_pos, chosen.index, chosen["effect_id"]):
            if label not in kept_labels:
                reason[i] = "combined with the study's other subgroups" if eid in combined else "not the study's primary effect"
        chosen = kept
    chosen = chosen.assign(label=effect_labels(chosen))
    out = reason != ""
    excluded = cell[out].assign(reason=reason[out])
    harms = int(as_flags(cell["harmful"]).sum())
    ww = WhatWorks(o, metric, metric_label(metric), prior, cell, chosen, excluded, metrics, harms=harms)
    n_studies = chosen["study_id"].nunique()
    if cell.empty:
        ww.reason = "No study in the catalogue (with the current filters) reports this outcome for this intervention."
    elif metric is None:
        ww.reason = "No effect for this intervention and outcome has a usable variance on a poolable metric, so nothing can be pooled; the harvest plot shows what the studies report."
    elif n_studies < 2:
        ww.reason = (f"Only {n_studies} stud{'y' if n_studies == 1 else 'ies'} with a usable variance "
                     f"remain{'s' if n_studies == 1 else ''} after the "
                     "sensitivity choices; pooling needs at least two.")
    elif o.dependence == "all" and len(chosen) > n_studies:
        ww.reason = "Several effects per study are selected: run the three-level model (below) to pool them."
    if ww.reason is None:
        ww.result = exact.posterior(chosen["yi"].astype(float).to_numpy(), chosen["vi"].astype(float).to_numpy(),
                                    tau_prior=prior, labels=chosen["label"].tolist(), measure=metric)
        ww.headline = headline(ww.result, o.outcome, o.intervention, metric, harms=harms,
                               desirable=cell_desirable(cell))
    return ww


def leave_one_out(ww: WhatWorks) -> pd.DataFrame:
    """The pooled mean and 95% CrI with each study left out in turn (exact engine)."""
    rows = []
    sel = ww.selected
    for sid in sel["study_id"].unique():
        rest = sel[sel["study_id"] != sid]
        if rest["study_id"].nunique() < 2:
            continue
        r = exact.posterior(rest["yi"].astype(float).to_numpy(), rest["vi"].astype(float).to_numpy(), tau_prior=ww.tau_prior)
        rows.append({"left out": sel.loc[sel["study_id"] == sid, "label"].iloc[0], "k": r.k, "mean": r.mu.mean,
                     "2.5%": r.mu.q025, "97.5%": r.mu.q975, "tau": r.tau.mean if r.tau else np.nan})
    return pd.DataFrame(rows)




def headline_for(ww: WhatWorks, result: MetaResult) -> str:
    """The headline for ``ww``'s cell with another fit of the same effects (e.g. the three-level model
    run on request): the same wording rule and desirable direction as the page's own answer."""
    return headline(result, ww.options.outcome, ww.options.intervention, ww.metric, harms=ww.harms,
                    desirable=cell_desirable(ww.cell))


def pooled_caption(ww: WhatWorks, result: MetaResult) -> str:
    """What was pooled, under which model and prior, and how many variances were imputed."""
    n_imputed = int(ww.selected["variance_imputed"].fillna(False).astype(bool).sum())
    imputed = ("none uses a variance imputed from a significance level" if n_imputed == 0 else
               f"{n_imputed} of them use{'s' if n_imputed == 1 else ''} a variance imputed (conservatively) from a "
               "stated significance level (switch 'Exclude imputed variances' to leave them out)")
    return (f"{result.k} effects from {ww.selected['study_id'].nunique()} studies; {imputed}; model {result.model}; "
            f"prior on tau {ww.tau_prior}; unit: {ww.unit}. Signs as reported: negative = decrease.")


def prior_sensitivity(ww: WhatWorks) -> str | None:
    """A note when the user's prior on tau changes the answer materially compared with the metric's
    default (the pooled mean moves by more than half the minimal important difference, or the
    prediction interval's width changes by more than a quarter); None otherwise."""
    from evidence.synthesis.metrics import MID

    o = ww.options
    if ww.result is None or (o.tau_scale is None and o.tau_family == "halfnormal"):
        return None
    default = tau_prior_for(ww.metric)
    ref = exact.posterior(ww.selected["yi"].astype(float).to_numpy(), ww.selected["vi"].astype(float).to_numpy(),
                          tau_prior=default, measure=ww.metric)
    r = ww.result
    mid = MID.get(ww.metric or "", 0.0)
    moved = abs(r.mu.mean - ref.mu.mean) > mid / 2 if mid else False
    width = lambda x: (x.theta_new.q975 - x.theta_new.q025) if x.theta_new and x.theta_new.q025 is not None else None  # noqa: E731
    w1, w0 = width(r), width(ref)
    changed = w0 is not None and w1 is not None and w0 > 0 and abs(w1 / w0 - 1) > 0.25
    if not (moved or changed):
        return None
    return (f"Your prior ({ww.tau_prior}) changes the answer materially compared with the default ({default}): pooled mean "
            f"{r.mu.mean:.2f} instead of {ref.mu.mean:.2f}; prediction interval {w1:.2f} wide instead of {w0:.2f}. "
            "Report both, or keep the default.")
