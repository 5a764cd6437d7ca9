"""The GRADE summary-of-findings table of an evidence summary (page one of the PDF and Word file).

The layout is GRADEpro's: one row per outcome with the effect (pooled mean, 95% credible interval,
prediction interval, in the metric's unit), the absolute effect per 100 children where the outcome is
a proportion, the number of studies (effects), the certainty (⊕⊕◯◯ LOW) and what happens in plain
language, with lettered footnotes for each downgrade reason, each secondary source and each reason a
row does not pool. Every word and number comes from the answer cards (``evidence.synthesis.card``);
this module only arranges them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evidence import synthesis
from evidence.synthesis.metrics import metric_unit

#: GRADE certainty symbols (filled circled plus per level, empty circles for the rest).
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}
#: The column headings of the table, in order.
COLUMNS = ("Outcome", "Effect (95% CrI; prediction interval)", "Absolute effect per 100 children",
           "No. of studies (effects)", "Certainty of the evidence", "What happens")
#: GRADE's definitions of the four levels (the legend under the table).
LEGEND = ("GRADE certainty: High ⊕⊕⊕⊕: further research is very unlikely to change the estimate much. "
          "Moderate ⊕⊕⊕◯: further research may change it. Low ⊕⊕◯◯: further research is likely to change it "
          "substantially. Very low ⊕◯◯◯: the estimate is very uncertain. CrI: credible interval; the prediction "
          "interval is the range a single new programme may achieve.")


@dataclass
class SofRow:
    outcome: str
    effect: str
    absolute: str
    studies: str
    certainty: str
    what_happens: str

    def cells(self) -> list[str]:
        return [self.outcome, self.effect, self.absolute, self.studies, self.certainty, self.what_happens]


class Footnotes:
    """Lettered footnotes, each distinct text once (several rows often share one reason)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def mark(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return _letter(self.texts.index(text))

    def lettered(self) -> list[tuple[str, str]]:
        return [(_letter(i), t) for i, t in enumerate(self.texts)]


def _letter(i: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[i] if i < 26 else f"z{i - 25}"


def certainty_text(rating: str | None) -> str:
    """'⊕⊕◯◯ LOW', or why there is no rating."""
    return f"{SYMBOLS[rating]} {rating.upper()}" if rating in SYMBOLS else "Not rated (nothing pooled)"


def _sup(text: str, letters: list[str]) -> str:
    return text + (f" [{','.join(letters)}]" if letters else "")


def sof_row(card: synthesis.AnswerCard, notes: Footnotes) -> SofRow:
    """One outcome's row from its answer card; the footnote letters go in square brackets."""
    m, unit = card.metric, metric_unit(card.metric, card.unit)
    outcome = f"{card.outcome_label} ({unit})" if unit else card.outcome_label
    studies = f"{card.n_studies} ({card.n_effects})"
    if card.pooled is None:
        letter = notes.mark(f"Not pooled: {card.reason or 'too few studies.'}")
        return SofRow(outcome, f"Not pooled [{letter}]; see the vote count (SWiM) under What happens",
                      "—", studies, certainty_text(None), card.vote_statement)
    p = card.pooled
    effect = f"{synthesis.fmt(p.mean, m)} {unit} (95% CrI {synthesis.fmt(p.q025, m)} to {synthesis.fmt(p.q975, m)})"
    if p.pi_low is not None and p.pi_high is not None:
        effect += f"; prediction interval {synthesis.fmt(p.pi_low, m)} to {synthesis.fmt(p.pi_high, m)}"
    effect += f"; {p.k} studies pooled"
    letters = []
    if card.assessment is not None:
        letters += [notes.mark(f"{card.outcome_label}, {d.domain}: downgraded {d.steps} level"
                               f"{'s' if d.steps > 1 else ''}: {d.reason}") for d in card.assessment.downgrades]
        if card.assessment.override:
            o = card.assessment.override
            letters.append(notes.mark(f"{card.outcome_label}: rating overridden by the reviewer from "
                                      f"'{card.assessment.drafted}' to '{o.rating}': {o.reason}"))
    src = []
    if card.secondary:
        src.append(notes.mark(f"{card.outcome_label}: {card.secondary} of the {p.k} pooled numbers are taken from a "
                              "review's table (a secondary source), not from the study's own report."))
    absolute = card.absolute.text if card.absolute is not None else "Not a proportion: see the effect"
    return SofRow(outcome, _sup(effect, src), absolute, studies, _sup(certainty_text(card.certainty), letters),
                  card.statement)


def sof_table(cards: list[synthesis.AnswerCard]) -> tuple[list[SofRow], list[tuple[str, str]]]:
    """The rows (one per outcome card, in order) and their lettered footnotes."""
    notes = Footnotes()
    rows = [sof_row(c, notes) for c in cards]
    return rows, notes.lettered()


def question(cell: pd.DataFrame, intervention_label: str, filters: list[str]) -> list[tuple[str, str]]:
    """The review question (PICO and setting) of the selection, from the studies in it."""
    if cell.empty:
        return [("Population", "Children (no study in this selection)"), ("Intervention", intervention_label),
                ("Comparison", "No programme"), ("Setting", "—")]
    studies = cell.drop_duplicates("study_id")
    lo = pd.to_numeric(studies["age_min"], errors="coerce")
    hi = pd.to_numeric(studies["age_max"], errors="coerce")
    ages = (f"Children aged {int(lo.min())}–{int(hi.max())}" if lo.notna().any() and hi.notna().any() else "Children")
    unknown = int((lo.isna() & hi.isna()).sum())
    if unknown:
        ages += f" (ages not reported for {unknown} of {len(studies)} studies)"
    counts: dict[str, int] = {}
    for names in studies["country_names"].fillna(""):
        for name in filter(None, (n.strip() for n in str(names).split(","))):
            counts[name] = counts.get(name, 0) + 1
    setting = ", ".join(f"{n} ({k})" for n, k in sorted(counts.items(), key=lambda x: (-x[1], x[0])))
    rows = [("Population", ages), ("Intervention", intervention_label),
            ("Comparison", "No programme (each study's control or comparison group)"),
            ("Setting", f"{setting} (countries, number of studies)" if setting else "not coded")]
    if filters:
        rows.append(("Selection", "; ".join(filters)))
    return rows
