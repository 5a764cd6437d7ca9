"""What a newcomer reads first: the state of the evidence in numbers, which findings the landing page
shows, and the list of studies under a cell chosen on the gap map.

Why here and not on the page: the figures a newcomer reads first ("117 studies, 7 with numbers a
meta-analysis can use") must come from the catalogue by one rule, tested, and the findings shown as
answer cards must be chosen by a stated rule (never picked by hand), so the landing page cannot
drift from the gap map, What works or ``evidence answer``.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field

import pandas as pd

from evidence.schema import Coding

#: What each coding status of a study file means (``coding.status`` in the schema), in a reader's words.
STATUS_MEANING = {
    "mapped": "found and classified (programme, outcomes, design), but no number taken from it yet",
    "headline": "its headline numbers are entered, but without a standard error, so they cannot be pooled",
    "coded": "coded from the full text, with the numbers and their variances a meta-analysis needs",
}
STATUSES = typing.get_args(Coding.model_fields["status"].annotation)
#: Certainty ratings, best first (the order the finding rule ranks by).
CERTAINTY_ORDER = ("high", "moderate", "low", "very low")


@dataclass
class EvidenceState:
    """The state of the evidence under the current filters, as the landing page states it."""

    n_studies: int  # studies in the catalogue (with or without numbers)
    by_status: dict[str, int]  # coding status -> studies
    studies_with_estimate: int  # at least one number (with or without a variance)
    studies_with_variance: int  # at least one number a meta-analysis can use
    n_effects: int
    effects_with_variance: int
    cells_total: int  # intervention x outcome cells of the taxonomy
    cells_with_studies: int
    cells_pooled: int  # cells where two or more studies pool
    programmes_pooled: list[str]  # the programmes (labels) of those cells
    best_certainty: str | None  # the highest certainty any pooled cell reaches
    status_meaning: dict[str, str] = field(default_factory=dict)

    @property
    def paragraph(self) -> str:
        """One honest paragraph: how much there is, how little of it has numbers, what that allows."""
        coded = self.by_status.get("coded", 0)
        return (
            f"The catalogue holds {self.n_studies} impact evaluations. {self.studies_with_estimate} of them have at least one "
            f"number entered, and only {self.studies_with_variance} have an effect with a standard error, which is what "
            f"pooling needs ({self.effects_with_variance} of {self.n_effects} coded effects); {coded} studies are fully coded "
            f"from the full text. Of the {self.cells_total} programme x outcome combinations, {self.cells_with_studies} have at "
            f"least one study and {self.cells_pooled} can be pooled across studies{self._which}. Everywhere else the explorer can say which "
            "studies exist and in which direction they point (a vote count), not by how much. "
            + (f"No pooled answer is rated above {self.best_certainty} certainty. " if self.best_certainty else "")
            + "Treat the pooled answers below as provisional: they rest on few studies and will move as more are coded."
        )


    @property
    def _which(self) -> str:
        if not self.programmes_pooled:
            return ""
        names = ", ".join(p.lower() for p in self.programmes_pooled)
        if len(self.programmes_pooled) == 1:
            return f" ({'all ' if self.cells_pooled > 1 else ''}on {names})"
        return f" ({len(self.programmes_pooled)} programmes: {names})"


def evidence_state(studies: pd.DataFrame, effects: pd.DataFrame, cells: pd.DataFrame) -> EvidenceState:
    """The landing page's figures from the catalogue's studies and effects and the gap map's cells
    (:func:`evidence.synthesis.gap_map_cells` of the same effects)."""
    status = studies["coding_status"].value_counts() if len(studies) else pd.Series(dtype=int)
    with_estimate = effects.loc[effects["yi"].notna() | effects["estimate"].notna(), "study_id"].nunique() if len(effects) else 0
    with_var = effects.loc[effects["vi"].notna(), "study_id"].nunique() if len(effects) else 0
    return EvidenceState(
        n_studies=len(studies),
        by_status={s: int(status.get(s, 0)) for s in STATUSES},
        studies_with_estimate=int(with_estimate), studies_with_variance=int(with_var),
        n_effects=len(effects), effects_with_variance=int(effects["vi"].notna().sum()) if len(effects) else 0,
        cells_total=len(cells), cells_with_studies=int((cells["n_studies"] > 0).sum()),
        cells_pooled=int((cells["n_pooled"] >= 2).sum()),
        programmes_pooled=list(dict.fromkeys(cells.loc[cells["n_pooled"] >= 2, "intervention_label"])),
        best_certainty=next((c for c in CERTAINTY_ORDER if c in set(cells.loc[cells["n_pooled"] >= 2, "certainty"])), None),
        status_meaning={s: STATUS_MEANING[s] for s in STATUSES},
    )


def best_findings(cells: pd.DataFrame, n: int = 3) -> list[tuple[str, str]]:
    """The ``n`` best-supported pooled findings: cells that pool two or more studies, ranked by certainty
    (high first), then by studies pooled, then by studies in the cell. Different programmes come first
    (one cell each); when fewer programmes than ``n`` pool, the next best cells of the same programmes
    fill the rest."""
    pooled = cells[cells["n_pooled"] >= 2].copy()
    if pooled.empty:
        return []
    rank = {c: i for i, c in enumerate(CERTAINTY_ORDER)}
    pooled["_rank"] = pooled["certainty"].map(lambda c: rank.get(c, len(rank)))
    pooled = pooled.sort_values(["_rank", "n_pooled", "n_studies"], ascending=[True, False, False], kind="stable")
    ranked = [(str(iv), str(oc)) for iv, oc in zip(pooled["intervention"], pooled["outcome"])]
    first = list({iv: (iv, oc) for iv, oc in reversed(ranked)}.values())[::-1]  # each programme's best cell
    first.sort(key=ranked.index)
    return (first + [c for c in ranked if c not in first])[:n]


def cell_studies(effects: pd.DataFrame, intervention: str, outcome: str, pooled_ids=()) -> pd.DataFrame:
    """The studies of one cell as the gap map lists them under a clicked cell: one row per study, in
    words (citation, design, countries, coding status, effects, whether its number is pooled)."""
    from evidence.synthesis.studies import effect_study_labels
    from evidence.taxonomy import taxonomy

    t = taxonomy()
    cell = effects[(effects["intervention"] == intervention) & (effects["outcome"] == outcome)]
    names_of = effect_study_labels(cell)  # studies sharing a citation get distinct names, as on the Studies page
    rows = []
    for sid, part in cell.groupby("study_id", sort=False):
        first = part.iloc[0]
        names = first.get("country_names")
        rows.append({
            "Study": names_of.get(sid) or sid,
            "Design": t.designs.get(first.get("design"), {}).get("label", first.get("design") or "not coded"),
            "Countries": ", ".join(names) if isinstance(names, (list, tuple)) else (names or ""),
            "Coding status": first.get("coding_status") or "",
            "Effects": len(part),
            "In the pooled answer": "yes" if sid in set(pooled_ids) else "no",
            "study_id": sid,
        })
    out = pd.DataFrame(rows, columns=["Study", "Design", "Countries", "Coding status", "Effects", "In the pooled answer", "study_id"])
    return out.sort_values(["In the pooled answer", "Study"], ascending=[False, True], kind="stable").reset_index(drop=True)
