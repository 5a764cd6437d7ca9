"""Certainty of the evidence, drafted from explicit GRADE-style rules.

A draft, not a verdict: every downgrade carries its reason (shown as a footnote in every export), and
a reviewer can override the rating with a stated reason (``Override``), which the export shows too.

The rules (each a small function, applied in this order):

* **Start**: high when at least half of the pooled weight comes from randomised designs, else low
  (GRADE's starting point for non-randomised studies).
* **Risk of bias**: a study has a *serious limitation* when its risk-of-bias assessment is high (RoB 2
  high, ROBINS-I serious or critical) or, only when it has no such assessment, when a clearinghouse
  rates the quality of its causal evidence low (US DOL CLEAR "low"). A clearinghouse's high or
  moderate rating never counts as a limitation (a *high quality* rating is strong evidence, not a high
  risk), and an assessment outranks a rating. -1 when at least half of the weight comes from studies
  with a serious limitation; -2 when at least 80 % does. The footnote gives both shares and names the
  studies with neither an assessment nor a rating.
* **Inconsistency**: -1 when the 95 % prediction interval for a new programme includes zero while the
  95 % credible interval of the pooled effect does not (the sign can flip in a new setting), or when
  the posterior median of I² is at least 75 %.
* **Imprecision**: -1 when the 95 % credible interval includes zero or is wider than four times the
  metric's minimal important difference (``MID``); -2 when both.
* **Publication bias**: with at least 10 studies, -1 when Egger's test (REML, predictor SE) gives
  p < 0.10; with fewer, not assessed (said in the footnote, no downgrade).
* **Indirectness**: -1 when the weighted distance of the outcomes from the SDG 8.7.1 definition is
  at least 1.5 (distance 0 = full 8.7.1 measure or a schooling outcome, 1 = economic activity only /
  with chores / hazardous work only, 2 = chores only or unclear).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evidence.errors import EvidenceError
from evidence.synthesis.metrics import MID

LEVELS = ["very low", "low", "moderate", "high"]

SDG_DISTANCE = {
    "full": 0, "not_applicable": 0, "economic_with_chores": 1, "economic_only": 1,
    "hazardous_only": 1, "chores_only": 2, "unclear": 2,
}


@dataclass
class Downgrade:
    domain: str
    steps: int
    reason: str


@dataclass
class Override:
    rating: str
    reason: str

    def __post_init__(self):
        if self.rating not in LEVELS:
            raise EvidenceError(f"override rating must be one of {', '.join(LEVELS)}, not {self.rating!r}")
        if not self.reason or not self.reason.strip():
            raise EvidenceError("an override needs a stated reason")


@dataclass
class Certainty:
    start: str
    rating: str  # final (after override, if any)
    drafted: str  # the rating the rules give
    downgrades: list[Downgrade] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # assessed, no downgrade
    override: Override | None = None
    mid: float | None = None

    def footnotes(self) -> list[str]:
        """Start first, then each downgrade with its reason, then the domains assessed without one."""
        out = self.notes[:1]
        out += [f"{d.domain}: downgraded {d.steps} level{'s' if d.steps > 1 else ''}: {d.reason}" for d in self.downgrades]
        out += self.notes[1:]
        if self.override:
            out.append(f"Rating overridden by the reviewer from '{self.drafted}' to '{self.override.rating}': {self.override.reason}")
        return out


def _column(effects: pd.DataFrame, name: str, default) -> pd.Series:
    """A column of ``effects``, or ``default`` for every row when a frame does not carry it (a user's
    own table, a synthetic test frame): the rule then treats the domain as not coded."""
    return effects[name] if name in effects else pd.Series(default, index=effects.index)


def _weights(effects: pd.DataFrame, tau: float) -> np.ndarray:
    w = 1.0 / (effects["vi"].to_numpy(float) + tau**2)
    return w / w.sum()


def rule_start(effects, w) -> tuple[str, str]:
    share = float(np.sum(w[_column(effects, "randomised", False).fillna(False).astype(bool).to_numpy()]))
    if share >= 0.5:
        return "high", f"{share:.0%} of the weight comes from randomised designs"
    return "low", f"only {share:.0%} of the weight comes from randomised designs"


def rule_risk_of_bias(effects, w) -> Downgrade | str:
    levels = _column(effects, "risk_of_bias", "unclear").fillna("unclear").astype(str).to_numpy()
    quality = _column(effects, "quality_rating", None).astype(object).to_numpy()
    assessed = levels != "unclear"
    high_rob = levels == "high"
    low_quality = ~assessed & (quality == "low")
    share_rob, share_quality = float(np.sum(w[high_rob])), float(np.sum(w[low_quality]))
    limited = share_rob + share_quality
    neither = _column(effects, "citation", "").loc[~assessed & pd.isna(quality)].astype(str).tolist()
    why = (f"{share_rob:.0%} of the weight comes from studies at high risk of bias (RoB 2 / ROBINS-I) and "
           f"{share_quality:.0%} from studies without an assessment that CLEAR rates low quality of causal evidence.")
    why += f" No risk-of-bias assessment nor quality rating for: {', '.join(sorted(set(neither)))}." if neither else ""
    if limited >= 0.8:
        return Downgrade("Risk of bias", 2, why)
    if limited >= 0.5:
        return Downgrade("Risk of bias", 1, why)
    return f"Risk of bias: not downgraded. {why}"


def rule_inconsistency(result) -> Downgrade | str:
    mu, new = result.mu, result.theta_new
    ci_excludes_0 = mu.q025 > 0 or mu.q975 < 0
    pi_includes_0 = new.q025 <= 0 <= new.q975
    i2 = result.i2
    reasons = []
    if ci_excludes_0 and pi_includes_0:
        reasons.append(
            f"the 95% prediction interval ({new.q025:.2f} to {new.q975:.2f}) includes zero although the credible interval does not"
        )
    if i2 is not None and i2 >= 75:
        reasons.append(f"I² is {i2:.0f}%")
    if reasons:
        return Downgrade("Inconsistency", 1, "; ".join(reasons) + ".")
    return f"Inconsistency: not downgraded (tau median {result.tau.q50:.2f}" + (f", I² {i2:.0f}%)." if i2 is not None else ").")


def rule_imprecision(result, metric: str) -> tuple[Downgrade | str, float | None]:
    mid = MID.get(metric)
    mu = result.mu
    includes_0 = mu.q025 <= 0 <= mu.q975
    width = mu.q975 - mu.q025
    too_wide = mid is not None and width > 4 * mid
    steps = int(includes_0) + int(too_wide)
    parts = []
    if includes_0:
        parts.append(f"the 95% credible interval ({mu.q025:.2f} to {mu.q975:.2f}) includes no effect")
    if too_wide:
        parts.append(f"it is {width:.2f} wide, more than four times the minimal important difference of {mid:g}")
    if steps:
        return Downgrade("Imprecision", steps, "; ".join(parts) + "."), mid
    threshold = f"threshold {4 * mid:g}" if mid is not None else "no threshold for this metric"
    return f"Imprecision: not downgraded (interval width {width:.2f}; {threshold}).", mid


def rule_publication_bias(egger_p: float | None, n_studies: int) -> Downgrade | str:
    if n_studies < 10 or egger_p is None:
        return f"Publication bias: not assessed (fewer than 10 studies: {n_studies})."
    if egger_p < 0.10:
        return Downgrade("Publication bias", 1, f"funnel asymmetry (Egger's test p = {egger_p:.3f}).")
    return f"Publication bias: not downgraded (Egger's test p = {egger_p:.2f})."


def rule_indirectness(effects, w) -> Downgrade | str:
    cover = _column(effects, "sdg871", "unclear").fillna("unclear").astype(str)
    dist = cover.map(SDG_DISTANCE).fillna(2).to_numpy(float)
    d = float(np.sum(w * dist))
    mix = ", ".join(f"{k} {v}" for k, v in cover.value_counts().sort_index().items())
    if d >= 1.5:
        return Downgrade("Indirectness", 1, f"outcomes are far from the SDG 8.7.1 definition (weighted distance {d:.1f}; coverage: {mix}).")
    return f"Indirectness: not downgraded (weighted distance from SDG 8.7.1 {d:.1f}; coverage: {mix})."


def assess(effects: pd.DataFrame, result, metric: str, egger_p: float | None = None,
           override: Override | None = None) -> Certainty:
    """Draft the certainty rating for the effects pooled in ``result`` (a ``MetaResult``)."""
    tau = result.tau.q50 if result.tau is not None and result.tau.q50 is not None else 0.0
    w = _weights(effects, tau)
    start, start_reason = rule_start(effects, w)
    score = LEVELS.index(start)
    downgrades, notes = [], [f"Start: {start} ({start_reason})."]
    checks = [
        rule_risk_of_bias(effects, w),
        rule_inconsistency(result),
    ]
    imprecision, mid = rule_imprecision(result, metric)
    checks += [imprecision, rule_publication_bias(egger_p, effects["study_id"].nunique()), rule_indirectness(effects, w)]
    for c in checks:
        if isinstance(c, Downgrade):
            downgrades.append(c)
            score -= c.steps
        else:
            notes.append(c)
    drafted = LEVELS[max(score, 0)]
    return Certainty(start=start, rating=override.rating if override else drafted, drafted=drafted,
                     downgrades=downgrades, notes=notes, override=override, mid=mid)
