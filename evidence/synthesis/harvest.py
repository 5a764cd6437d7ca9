"""Synthesis without meta-analysis (SWiM; Campbell et al. 2020, BMJ 368:l6890): vote counting by the
direction of effect and the harvest plot (Ogilvie et al. 2008, BMC Med Res Methodol 8:8).

Both count the *direction* of each effect regardless of its statistical significance
(:func:`evidence.direction.effect_leaning`: the sign of the estimate, or the direction the source states
in words when it gives no number), and show separately whether it is statistically clear
(:func:`evidence.direction.effect_direction`). So an effect a source calls "significantly reduced" is
never shown as "no clear effect".

Vote counting uses one effect per study (its primary effect when that has a direction, else its first
effect with one), as SWiM recommends, and reports a sign test: the exact two-sided binomial probability
of a split at least as uneven as the one seen if benefit and harm were equally likely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evidence.direction import effect_direction, effect_leaning
from evidence.synthesis.selection import as_flags, as_numbers, effect_labels

ROB_HEIGHT = {"low": 3, "moderate": 2, "high": 1, "unclear": 1}
#: The harvest plot's columns (by leaning), in order.
LEANING_LABELS = {"improves": "Improves", "no_change": "No clear change", "mixed": "Mixed", "worsens": "Worsens"}
#: The older three-way label of the statistically-clear rule (``direction``), kept for tables.
HARVEST_LABELS = {"improves": "Improves", "worsens": "Worsens", "unclear": "No clear effect", None: "No clear effect"}
HARVEST_COLUMNS = ["effect", "study_id", "direction", "leaning", "evidence", "numbers", "design", "risk_of_bias",
                   "height", "estimate", "unit"]


def _col(cell: pd.DataFrame, name: str) -> list:
    return list(cell[name]) if name in cell else [None] * len(cell)


def _directions(cell: pd.DataFrame) -> list:
    if "direction" in cell:
        return list(cell["direction"])
    return [effect_direction(y, v, s, i, d, r) for y, v, s, i, d, r in
            zip(_col(cell, "yi"), _col(cell, "vi"), _col(cell, "significance"), _col(cell, "variance_imputed"),
                _col(cell, "desirable"), _col(cell, "reported_direction"))]


def _leanings(cell: pd.DataFrame) -> list:
    if "leaning" in cell:
        return list(cell["leaning"])
    return [effect_leaning(y, d, r) for y, d, r in
            zip(_col(cell, "yi"), _col(cell, "desirable"), _col(cell, "reported_direction"))]


def _has_number(cell: pd.DataFrame) -> np.ndarray:
    """Which effects have a number: an effect size, else a reported estimate."""
    has = ~np.isnan(as_numbers(cell["yi"]))
    return has | ~np.isnan(as_numbers(cell["estimate"])) if "estimate" in cell else has


def _evidence(direction, leaning, significance) -> str:
    if leaning in (None, "no_change", "mixed"):
        return "as reported"
    if direction in ("improves", "worsens"):
        return "statistically clear"
    stated = isinstance(significance, str) and significance.strip()
    return "not statistically clear" if stated else "significance not stated"


def harvest_table(cell: pd.DataFrame) -> pd.DataFrame:
    """Every effect of ``cell`` with its statistically-clear direction (``direction``: Improves / No clear
    effect / Worsens, the catalogue's column), its leaning (``leaning``: the harvest plot's column), what
    the evidence for it is, whether it has a number, design and risk of bias (bar height)."""
    if cell.empty:
        return pd.DataFrame(columns=HARVEST_COLUMNS)
    est = pd.to_numeric(cell["yi"], errors="coerce").fillna(pd.to_numeric(cell.get("estimate"), errors="coerce"))
    directions, leanings = _directions(cell), _leanings(cell)
    sig = _col(cell, "significance")
    return pd.DataFrame({
        "effect": effect_labels(cell), "study_id": list(cell["study_id"]),
        "direction": [HARVEST_LABELS.get(d if isinstance(d, str) else None, "No clear effect") for d in directions],
        "leaning": [LEANING_LABELS.get(x, "Not stated") if isinstance(x, str) else "Not stated" for x in leanings],
        "evidence": [_evidence(d, x, s) for d, x, s in zip(directions, leanings, sig)],
        "numbers": np.where(_has_number(cell), "estimate reported", "direction in words"),
        "design": np.where(cell["randomised"].fillna(False).astype(bool), "randomised", "non-randomised"),
        "risk_of_bias": cell["risk_of_bias"].fillna("unclear").to_numpy(),
        "height": cell["risk_of_bias"].map(ROB_HEIGHT).fillna(1).astype(int).to_numpy(),
        "estimate": est.to_numpy(), "unit": cell["unit"].astype(str).to_numpy(),
    }).reset_index(drop=True)


def sign_test(successes: int, n: int) -> float | None:
    """Exact two-sided binomial test of ``successes`` out of ``n`` against 1/2 (None when n == 0)."""
    if n <= 0:
        return None
    k = min(successes, n - successes)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


@dataclass
class VoteCount:
    """SWiM vote count over studies (one effect per study)."""

    improves: int = 0
    worsens: int = 0
    no_change: int = 0
    mixed: int = 0
    not_stated: int = 0
    studies_without_numbers: int = 0
    p_sign: float | None = None
    studies: dict[str, str] = field(default_factory=dict)  # study id -> leaning counted

    @property
    def with_direction(self) -> int:
        return self.improves + self.worsens

    def statement(self, outcome_label: str = "the outcome", desirable: str | None = "decrease") -> str:
        """One sentence in SWiM terms, e.g. "4 of 5 studies with a direction show a reduction in child
        labour (sign test p = 0.38); 1 reports no clear change"."""
        n = self.improves + self.worsens + self.no_change + self.mixed
        if n == 0:
            return "No study states the direction of its effect."
        better = {"decrease": f"a reduction in {outcome_label.lower()}",
                  "increase": f"an increase in {outcome_label.lower()}"}.get(desirable or "", "an improvement")
        parts = []
        k = self.with_direction
        if k:
            p = "" if self.p_sign is None else f" (sign test p = {self.p_sign:.2g})"
            parts.append(f"{self.improves} of {k} stud{'y' if k == 1 else 'ies'} with a direction "
                         f"show{'s' if k == 1 else ''} {better}{p}")
        if self.no_change:
            parts.append(f"{self.no_change} report{'s' if self.no_change == 1 else ''} no clear change")
        if self.mixed:
            parts.append(f"{self.mixed} report{'s' if self.mixed == 1 else ''} mixed results")
        text = "; ".join(parts)
        w = self.studies_without_numbers
        if w:
            who = f"all {n}" if w == n and n > 1 else ("the one study" if n == 1 else f"{w} of these {n} studies")
            text += f" ({who} state{'s' if w == 1 and n == 1 else ''} {'its' if n == 1 else 'their'} direction in words only, without a number)"
        return text[0].upper() + text[1:] + "."


def vote_count(cell: pd.DataFrame) -> VoteCount:
    """Vote counting by direction of effect over the studies of ``cell`` (one effect per study: the
    first primary effect with a direction, else the first effect with one). Plain loops over the rows:
    the gap map counts votes for every cell on each filter change."""
    vc = VoteCount()
    if cell.empty:
        return vc
    numbers = _has_number(cell)
    primary = as_flags(cell["primary"]) if "primary" in cell else [False] * len(cell)
    chosen: dict = {}  # study id -> (is primary, leaning, has a number); first primary wins, else first
    order: list = []
    for sid, lean, prim, num in zip(cell["study_id"], _leanings(cell), primary, numbers):
        if sid not in chosen:
            order.append(sid)
            chosen[sid] = None
        if not isinstance(lean, str):
            continue
        if chosen[sid] is None or (bool(prim) and not chosen[sid][0]):
            chosen[sid] = (bool(prim), lean, bool(num))
    for sid in order:
        pick = chosen[sid]
        if pick is None:
            vc.not_stated += 1
            continue
        _, lean, num = pick
        vc.studies[str(sid)] = lean
        setattr(vc, lean, getattr(vc, lean) + 1)
        vc.studies_without_numbers += not num
    vc.p_sign = sign_test(vc.improves, vc.with_direction)
    return vc
