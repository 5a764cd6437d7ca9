"""The answer card for one cell (intervention x outcome): computed once, rendered everywhere.

The gap map's colour and tooltip, the What-works page, the evidence summaries and ``evidence answer``
all show this card, so the same question gets the same answer on every page, in every export and on
the command line. It holds:

* the pooled effect with its 95% credible and prediction intervals, or why nothing pools;
* the direction as one rule states it (:func:`category`, from the posterior probability of benefit:
  "Improves" exactly when the 95% credible interval excludes no effect on the side of benefit);
* the certainty of the evidence (GRADE-style rules of :mod:`evidence.synthesis.certainty`) with its
  downgrade reasons, and the GRADE plain-language statement GRADEpro uses ("probably reduces", "may
  reduce", "little or no difference", "very uncertain"; Santesso et al. 2020, J Clin Epidemiol 119:126);
* the SWiM vote count by direction of effect (:mod:`evidence.synthesis.harvest`), which includes the
  effects that have no numbers;
* girls / boys and age-band answers, harms, which studies and effects, and the absolute effect per 100
  children where the outcome is a proportion (a percentage-point difference of 1 is one child in 100).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from evidence.meta.result import MetaResult
from evidence.synthesis import certainty as grade
from evidence.synthesis.answer import WhatWorks, WhatWorksOptions, cell_desirable, exclusion_reasons, what_works
from evidence.synthesis.harvest import VoteCount, vote_count
from evidence.synthesis.metrics import MID, RATIO_METRICS, metric_unit
from evidence.synthesis.selection import as_flags, as_numbers, design_mix, primary_positions, usable_mask
from evidence.synthesis.wording import fmt
from evidence.taxonomy import taxonomy

#: Direction categories of a pooled cell (gap-map colour), from the posterior probability of benefit.
CATEGORIES = ("Improves (95% CrI excludes no effect)", "Leans to improvement (80–97.5%)", "Unclear direction",
              "Leans to harm (80–97.5%)", "Worsens (95% CrI excludes no effect)",
              "Not pooled: randomised designs", "Not pooled: non-randomised designs", "Not pooled: mixed designs")
NO_STUDIES = "No studies"
#: GRADE plain-language verbs by certainty (GRADEpro's informative statements).
MODAL = {"high": "", "moderate": "probably ", "low": "may "}
AGE_BANDS = (("Children under 12", None, 11.99), ("Children 12–14", 12, 14), ("Children 15–17", 15, 17),
             ("Children 12 and over", 12, None))


def category(p_benefit: float | None) -> str:
    """The direction category for a posterior probability of benefit (None: unclear)."""
    if p_benefit is None:
        return CATEGORIES[2]
    if p_benefit >= 0.975:
        return CATEGORIES[0]
    if p_benefit >= 0.80:
        return CATEGORIES[1]
    if p_benefit <= 0.025:
        return CATEGORIES[4]
    return CATEGORIES[3] if p_benefit <= 0.20 else CATEGORIES[2]


def p_benefit(result: MetaResult, desirable: str | None) -> float | None:
    p = result.p_below_0
    if p is None:
        return None
    return p if desirable == "decrease" else 1.0 - p


@dataclass
class Pooled:
    mean: float
    q025: float
    q975: float
    pi_low: float | None
    pi_high: float | None
    p_benefit: float | None
    tau: float | None
    i2: float | None
    k: int
    model: str
    prior: str


@dataclass
class Absolute:
    """The pooled effect per 100 children (percentage points: 1 pp = 1 child in 100)."""

    per_100: float
    low: float
    high: float
    text: str


@dataclass
class SubgroupAnswer:
    label: str
    k: int
    text: str
    mean: float | None = None
    q025: float | None = None
    q975: float | None = None


@dataclass
class AnswerCard:
    intervention: str
    outcome: str
    intervention_label: str
    outcome_label: str
    desirable: str | None
    options: WhatWorksOptions
    metric: str | None
    unit: str
    n_studies: int
    n_effects: int
    study_ids: list[str]
    pooled_ids: list[str]
    pooled: Pooled | None
    reason: str | None
    category: str
    certainty: str | None  # high / moderate / low / very low; None when nothing pools
    certainty_reasons: list[str]
    statement: str  # GRADE plain-language statement
    headline: str  # the pooled numbers in one sentence ("" when nothing pools)
    votes: VoteCount
    vote_statement: str
    subgroups: list[SubgroupAnswer] = field(default_factory=list)
    harms: list[dict] = field(default_factory=list)
    absolute: Absolute | None = None
    secondary: int = 0  # pooled numbers taken from a review's table
    designs: str = ""
    assessment: grade.Certainty | None = None  # the certainty rules' full record (footnotes, MID)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["options"] = asdict(self.options)
        d["votes"]["with_direction"] = self.votes.with_direction
        return d

    @property
    def tooltip(self) -> str:
        """The gap map's tooltip text: the same words as What works."""
        lines = [self.statement]
        if self.pooled is not None:
            lines.append(self.headline)
        else:
            lines.append(self.vote_statement)
        return " ".join(x for x in lines if x)


def _statement(ilabel: str, olabel: str, pooled: Pooled | None, rating: str | None, metric: str | None,
               desirable: str | None, votes: VoteCount, reason: str | None) -> str:
    """GRADE plain-language statement (or SWiM's when nothing pools)."""
    subject, obj = ilabel, olabel.lower()
    if pooled is None:
        return f"Not pooled ({reason.rstrip('.') if reason else 'too few studies'}). {votes.statement(olabel, desirable)}"
    if rating == "very low":
        return f"The evidence is very uncertain about the effect of {subject.lower()} on {obj}."
    modal = MODAL.get(rating or "low", "may ")
    plural = subject.rstrip(")").endswith("s")
    excludes = pooled.q025 > 0 or pooled.q975 < 0
    up = pooled.mean > 0
    if excludes:
        verb = ("increase" if up else "reduce") if RATIO_METRICS.get(metric or "") is None else ("raise" if up else "lower")
        verb = verb if modal or plural else verb + "s"
        return f"{subject} {modal}{verb} {obj}."
    mid = MID.get(metric or "")
    if mid is not None and -mid <= pooled.q025 and pooled.q975 <= mid:
        make = "make" if modal or plural else "makes"
        return f"{subject} {modal}{make} little or no difference to {obj}."
    lean = "reduce" if not up else "increase"
    pb = pooled.p_benefit
    prob = "" if pb is None else f" ({max(pb, 1 - pb):.0%} probability of {'benefit' if pb >= 0.5 else 'harm'})"
    return (f"{subject} may {lean} {obj}, but the direction is uncertain: the 95% credible interval includes "
            f"no effect{prob}.")


def absolute_effect(pooled: Pooled | None, metric: str | None, desirable: str | None, olabel: str) -> Absolute | None:
    if pooled is None or metric != "percentage_points":
        return None
    m, lo, hi = pooled.mean, pooled.q025, pooled.q975
    fewer = m < 0
    word = "fewer" if fewer else "more"
    a, b = sorted((abs(lo), abs(hi))) if (lo < 0) == (hi < 0) else (None, None)
    if a is not None:
        span = f"{a:.1f} to {b:.1f} {word}"
    else:
        span = f"from {abs(min(lo, hi)):.1f} fewer to {abs(max(lo, hi)):.1f} more"
    text = (f"Out of 100 children, about {abs(m):.1f} {word} in {olabel.lower()} (95% credible interval {span}).")
    return Absolute(m, lo, hi, text)


def subgroup_masks(cell: pd.DataFrame) -> dict[str, pd.Series]:
    """Which effects of ``cell`` are coded for each subgroup the card answers ("Girls", "Boys", the
    age bands): the one definition the card and "for my context" both use."""
    lo = pd.to_numeric(cell["subgroup_age_min"], errors="coerce")
    hi = pd.to_numeric(cell["subgroup_age_max"], errors="coerce")
    groups = {sex.capitalize(): cell["subgroup_sex"] == sex for sex in ("girls", "boys")}
    for label, a, b in AGE_BANDS:
        mask = lo.notna() | hi.notna()
        if a is not None:
            mask &= lo >= a
        if b is not None:
            mask &= hi <= b
        groups[label] = mask
    return {label: mask.fillna(False).astype(bool) for label, mask in groups.items()}


def _subgroups(ww: WhatWorks, olabel: str, desirable: str | None) -> list[SubgroupAnswer]:
    """Girls, boys and age bands: pooled when two or more studies allow (the page's selection rules),
    else listed with the SWiM vote."""
    from evidence.meta import exact

    cell, o = ww.cell, ww.options
    out: list[SubgroupAnswer] = []
    if cell.empty:
        return out
    # Row positions and columns as arrays: one row take per subgroup that does not pool, none for one that does.
    eligible = ((exclusion_reasons(cell, o, ww.metric) == "") & usable_mask(cell) if ww.metric
                else np.zeros(len(cell), bool))
    study, primary = cell["study_id"].to_numpy(object), as_flags(cell["primary"])
    yi, vi = as_numbers(cell["yi"]), as_numbers(cell["vi"])
    for label, mask in subgroup_masks(cell).items():
        coded = mask.to_numpy()
        if not coded.any():
            continue
        poolable = primary_positions(study, primary, np.flatnonzero(coded & eligible))  # one effect per study
        if len(poolable) >= 2:
            r = exact.posterior(yi[poolable], vi[poolable], tau_prior=ww.tau_prior, measure=ww.metric)
            text = (f"pooled {fmt(r.mu.q50, ww.metric)} {metric_unit(ww.metric)} (95% CrI {fmt(r.mu.q025, ww.metric)} to "
                    f"{fmt(r.mu.q975, ww.metric)}; {r.k} studies)")
            out.append(SubgroupAnswer(label, r.k, text, r.mu.q50, r.mu.q025, r.mu.q975))
        else:
            rows = cell[coded]
            votes = vote_count(rows)
            out.append(SubgroupAnswer(label, rows["study_id"].nunique(),
                                      "not pooled (fewer than two studies with a variance); "
                                      + votes.statement(olabel, desirable)))
    return out


def _harms(cell: pd.DataFrame) -> list[dict]:
    if cell.empty or "harmful" not in cell:
        return []
    bad = as_flags(cell["harmful"])
    if not bad.any():  # most cells: nothing to list
        return []
    # Only the columns the list shows: iterating rows of the whole (wide) frame was most of its cost.
    cols = [c for c in ("study_id", "effect_id", "citation", "quote") if c in cell]
    rows = cell.loc[bad, cols]
    return [{"study_id": r["study_id"], "effect_id": r.get("effect_id"), "citation": r.get("citation", r["study_id"]),
             "quote": r.get("quote")} for _, r in rows.iterrows()]


def card_from(ww: WhatWorks, override: grade.Override | None = None, subgroups: bool = True) -> AnswerCard:
    """The answer card of a What-works selection (``ww``), with its certainty. ``subgroups=False`` skips
    the girls/boys and age-band answers (the gap map shows everything else of the card, for every cell,
    on each filter change; the pages, summaries and CLI that show subgroups ask for them)."""
    from evidence.meta.frequentist import egger_test

    t = taxonomy()
    o, cell, result = ww.options, ww.cell, ww.result
    ilabel = t.interventions.get(o.intervention, {}).get("label", o.intervention)
    olabel = t.outcomes.get(o.outcome, {}).get("label", o.outcome)
    desirable = cell_desirable(cell) or t.desirable(o.outcome)
    pooled, cert, reasons, assessment = None, None, [], None
    if result is not None:
        pb = p_benefit(result, desirable)
        new = result.theta_new
        pooled = Pooled(result.mu.mean, result.mu.q025, result.mu.q975, new.q025 if new else None,
                        new.q975 if new else None, pb, result.tau.q50 if result.tau else None, result.i2, result.k,
                        result.model, ww.tau_prior)
        sel = ww.selected
        egger_p = None
        if sel["study_id"].nunique() >= 10:
            egger_p = egger_test(sel["yi"].to_numpy(float), sel["vi"].to_numpy(float))["pval"]
        assessment = grade.assess(sel, result, ww.metric, egger_p=egger_p, override=override)
        cert, reasons = assessment.rating, assessment.footnotes()
    votes = vote_count(cell)
    cat = (category(pooled.p_benefit) if pooled is not None else
           (NO_STUDIES if cell.empty else "Not pooled: " + design_mix(cell)))
    card = AnswerCard(
        intervention=o.intervention, outcome=o.outcome, intervention_label=ilabel, outcome_label=olabel,
        desirable=desirable, options=o, metric=ww.metric, unit=metric_unit(ww.metric, ww.unit),
        n_studies=int(cell["study_id"].nunique()) if len(cell) else 0, n_effects=len(cell),
        study_ids=list(dict.fromkeys(cell["study_id"])) if len(cell) else [],
        pooled_ids=list(dict.fromkeys(ww.selected["study_id"])) if pooled is not None else [],
        pooled=pooled, reason=ww.reason, category=cat, certainty=cert, certainty_reasons=reasons,
        statement=_statement(ilabel, olabel, pooled, cert, ww.metric, desirable, votes, ww.reason),
        headline=ww.headline if pooled is not None else "", votes=votes,
        vote_statement=votes.statement(olabel, desirable), designs=design_mix(cell) if len(cell) else "",
    )
    card.assessment = assessment
    card.subgroups = _subgroups(ww, olabel, desirable) if subgroups else []
    card.harms = _harms(cell)
    card.absolute = absolute_effect(pooled, ww.metric, desirable, olabel)
    if pooled is not None and "secondary" in ww.selected:
        card.secondary = int(as_flags(ww.selected["secondary"]).sum())
    return card


def answer_card(effects_df: pd.DataFrame, options: WhatWorksOptions, override: grade.Override | None = None,
                subgroups: bool = True) -> AnswerCard:
    """The answer card for ``options``' cell of the (filtered) catalogue ``effects_df``."""
    return card_from(what_works(effects_df, options), override, subgroups)
