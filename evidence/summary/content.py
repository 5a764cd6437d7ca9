"""What an evidence summary says, independent of its file format.

``build_summary`` gathers everything once — the pooled result from the exact engine, the certainty
rating, the plain-language text, sub-groups, harms, references, methods and caveats — into an
:class:`EvidenceSummary`; each renderer (``evidence.summary.render``) only lays it out. So the CLI and
the app's download buttons produce identical content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from evidence import synthesis
from evidence.config import SEED
from evidence.meta.result import MetaResult
from evidence.provenance import package_versions
from evidence.rob import domain_codes, quality_text, rob_text
from evidence.summary import sof
from evidence.synthesis import WhatWorksOptions
from evidence.synthesis.certainty import Certainty, Override
from evidence.synthesis.metrics import metric_unit
from evidence.taxonomy import taxonomy


@dataclass
class EvidenceSummary:
    intervention: str
    intervention_label: str
    outcome: str
    outcome_label: str
    filters: list[str]
    options: WhatWorksOptions
    effects: pd.DataFrame  # every effect of the selection (metafor-ready columns included)
    pooled: pd.DataFrame  # the effects that were pooled (one per study)
    result: MetaResult | None
    certainty: Certainty | None
    metric: str | None
    unit_label: str
    insufficient_reason: str | None
    plain_language: list[str]
    subgroups: list[dict]
    harms: list[str]
    as_reported: list[str]
    references: list[dict]
    rob_table: pd.DataFrame
    methods: str
    caveats: list[str]
    catalog_version: str
    generated: dt.date
    versions: dict = field(default_factory=package_versions)
    card: synthesis.AnswerCard | None = None  # the answer card: the same words as the app and `evidence answer`
    cards: list = field(default_factory=list)  # one answer card per outcome of the summary-of-findings table
    question: list = field(default_factory=list)  # (population / intervention / comparison / setting, text)
    harvest: pd.DataFrame | None = None  # the harvest plot's table when nothing pools (the synthesis is SWiM)

    @property
    def sufficient(self) -> bool:
        return self.result is not None

    @property
    def title(self) -> str:
        return f"{self.intervention_label} and {self.outcome_label.lower()}: evidence summary"

    def sof_rows(self) -> list[tuple[str, str]]:
        """The summary-of-findings table as (label, value) rows."""
        n_studies = self.effects["study_id"].nunique() if len(self.effects) else 0
        rows = [("Outcome", f"{self.outcome_label} ({self.unit_label})"),
                ("Studies / effects", f"{n_studies} studies, {len(self.effects)} effects")]
        if self.card is not None:
            rows.append(("What the evidence says", self.card.statement))
        if self.result is None:
            rows.append(("Pooled effect", f"not pooled: {self.insufficient_reason}"))
            if self.card is not None:
                rows.append(("Vote count by direction of effect (SWiM)", self.card.vote_statement))
            return rows
        r, m = self.result, self.metric
        rows += [
            ("Pooled effect (posterior mean)", fmt(r.mu.mean, m)),
            ("95% credible interval", f"{fmt(r.mu.q025, m)} to {fmt(r.mu.q975, m)}"),
            ("95% prediction interval (new programme)", f"{fmt(r.theta_new.q025, m)} to {fmt(r.theta_new.q975, m)}"),
            ("Heterogeneity (tau, median)", f"{fmt(r.tau.q50, m)} (95% CrI {fmt(r.tau.q025, m)} to {fmt(r.tau.q975, m)})"),
            ("Studies pooled", str(r.k)),
            ("Participants", participants_text(self.pooled)),
            ("Certainty of the evidence", self.certainty.rating.upper() if self.certainty else "not rated"),
        ]
        if self.card is not None and self.card.absolute is not None:
            rows.insert(5, ("Absolute effect per 100 children", self.card.absolute.text))
        if self.certainty and self.certainty.downgrades:
            rows.append(("Why (footnotes)", "; ".join(f"{d.domain} (-{d.steps})" for d in self.certainty.downgrades)))
        return rows


def fmt(x: float | None, metric: str | None = None) -> str:
    """The app's number format (``synthesis.fmt``: decimals suited to the metric, proper minus sign), or
    "NA" for a missing value, so exports show exactly what the What-works page shows."""
    if x is None or pd.isna(x):
        return "NA"
    return synthesis.fmt(float(x), metric)


def participants_text(pooled: pd.DataFrame) -> str:
    if "n_total" not in pooled.columns or pooled["n_total"].isna().all():
        return "not reported in the coded sources"
    known = pooled["n_total"].dropna()
    missing = len(pooled) - len(known)
    text = f"{int(known.sum()):,}"
    return text + (f" (not reported for {missing} stud{'y' if missing == 1 else 'ies'})" if missing else "")


# -- gathering ---------------------------------------------------------------------------------

def build_summary(effects_df: pd.DataFrame, options: WhatWorksOptions, filters_text: list[str] | None = None,
                  override: Override | None = None, catalog_version: str = "unknown",
                  studies_df: pd.DataFrame | None = None, rob_domains: dict[str, dict] | None = None,
                  date: dt.date | None = None) -> EvidenceSummary:
    """Everything an evidence summary says about one intervention x outcome.

    ``effects_df`` is the filtered catalogue (``evidence.catalog.queries.effects``) and ``options``
    the What-works page's ``WhatWorksOptions``: the selection and the pooled result are exactly the
    page's (``evidence.synthesis.what_works``), so downloads and CLI exports agree with the app.
    """
    t = taxonomy()
    ww = synthesis.what_works(effects_df, options)
    ilabel = t.interventions.get(options.intervention, {}).get("label", options.intervention)
    olabel = t.outcomes.get(options.outcome, {}).get("label", options.outcome)
    cell, pooled, result = ww.cell, ww.selected, ww.result
    card = synthesis.card_from(ww, override)
    certainty = card.assessment
    unit_label = metric_unit(ww.metric, ww.unit or "units as reported")
    summary = EvidenceSummary(
        intervention=options.intervention, intervention_label=ilabel, outcome=options.outcome,
        outcome_label=olabel, filters=list(filters_text or []), options=options, effects=cell,
        pooled=pooled if result is not None else pooled.iloc[0:0], result=result, certainty=certainty,
        metric=ww.metric, unit_label=unit_label, insufficient_reason=ww.reason,
        plain_language=[], subgroups=[], harms=[], as_reported=[], references=[], rob_table=pd.DataFrame(),
        methods="", caveats=[], catalog_version=catalog_version, generated=date or dt.date.today(),
    )
    summary.card = card
    summary.cards = [card, *_related_cards(effects_df, options, override)]
    summary.question = sof.question(cell, ilabel, summary.filters)
    summary.harvest = synthesis.harvest_table(cell) if result is None and len(cell) else None
    summary.plain_language = _plain_language(summary, ww)
    summary.subgroups = [{"label": g.label, "text": g.text, "k": g.k,
                          **({"q50": g.mean, "q025": g.q025, "q975": g.q975} if g.mean is not None else {})}
                         for g in card.subgroups]
    summary.harms = _harms(cell)
    summary.as_reported = _as_reported(cell)
    summary.references = _references(cell, studies_df)
    summary.rob_table = _rob_table(cell, rob_domains or {})
    summary.methods = _methods(summary, ww)
    summary.caveats = _caveats(summary, ww)
    return summary


def _related_cards(effects_df: pd.DataFrame, options: WhatWorksOptions, override: Override | None) -> list:
    """When the question's outcome is its group's umbrella (child labour), the answer cards of the group's
    other outcomes that have studies of the intervention, in taxonomy order: a meeting sees child labour
    and its measures (economic activity, paid work, hours, ...) side by side, as the gap map does."""
    t = taxonomy()
    if t.outcome_group(options.outcome) != options.outcome:
        return []
    here = effects_df[effects_df["intervention"] == options.intervention]
    have = set(here["outcome"])
    return [synthesis.card_from(synthesis.what_works(effects_df, replace(options, outcome=o)), override, subgroups=False)
            for o, term in t.outcomes.items() if o != options.outcome and term["group"] == options.outcome and o in have]


def _plain_language(s: EvidenceSummary, ww) -> list[str]:
    n = s.effects["study_id"].nunique() if len(s.effects) else 0
    if s.result is None:
        # the card's statement (the reason nothing pools, then the SWiM vote count), as every page says it
        first = [s.card.statement] if s.card else [f"The evidence is insufficient for a pooled answer: {s.insufficient_reason}"]
        return [*first,
                f"The catalogue holds {n} stud{'y' if n == 1 else 'ies'} of {s.intervention_label.lower()} reporting "
                f"{s.outcome_label.lower()} with the current filters; the harvest plot shows what each reports, and "
                "their results are listed below as reported."]
    out = [s.card.statement, ww.headline] if s.card else [ww.headline]
    if s.card and s.card.absolute:
        out.append(s.card.absolute.text)
    rating = s.certainty.rating
    meaning = {"high": "further research is very unlikely to change this estimate much",
               "moderate": "further research may change the estimate",
               "low": "further research is likely to change the estimate substantially",
               "very low": "the estimate is very uncertain"}[rating]
    out.append(f"The certainty of this evidence is {rating}: {meaning}.")
    out.append("What this does not say: the pooled number is an average over the programmes studied; the "
               "prediction interval, not the credible interval, describes what a single new programme may achieve, "
               "and outcomes measured here differ from the SDG 8.7.1 definition of child labour as the footnotes say.")
    return out


def _reported_number(r) -> str:
    """The number as the source wrote it, with its value in the analysis metric when converted."""
    converted = (f" (= {fmt(r.yi, r.metric)} {metric_unit(r.metric)})"
                 if pd.notna(r.yi) and pd.notna(r.estimate) and r.yi != r.estimate else "")
    return f"{_as_written(r.estimate)} {_unit(r.unit)}{converted}"


def _who(r) -> str:
    """Citation plus programme, so two programmes of one report stay apart."""
    return f"{r.citation}, {r.programme}" if isinstance(r.programme, str) and r.programme else str(r.citation)


def _harms(cell: pd.DataFrame) -> list[str]:
    if cell.empty:
        return []
    bad = cell[cell["harmful"].fillna(False).astype(bool)]
    return [f"{_who(r)}: {r.outcome_label.lower()} changed by {_reported_number(r)} in the unwanted direction. "
            f"Source: \"{r.quote!s}\"" for r in bad.itertuples()]


def _as_reported(cell: pd.DataFrame) -> list[str]:
    """Every effect of the cell as the source reports it, grouped by study: one line per study with its
    results, then each distinct quote once (several results often come from one table row or sentence)."""
    out = []
    if cell.empty:
        return out
    for _, part in cell.sort_values(["citation", "programme", "effect_id"]).groupby(["citation", "study_id"], sort=False):
        first = part.iloc[0]
        results, quotes = [], {}
        for r in part.itertuples():
            sub = r.subgroup_sex if isinstance(r.subgroup_sex, str) and r.subgroup_sex != "all" else ""
            label = r.subgroup_label if isinstance(r.subgroup_label, str) and r.subgroup_label else sub
            sig = f", {r.significance}" if isinstance(r.significance, str) and r.significance else ""
            var = "" if pd.notna(r.vi) else " (no variance: not poolable)"
            number = _reported_number(r) if pd.notna(r.estimate) else _stated_words(r)
            results.append(f"{label + ': ' if label else ''}{number}{sig}{var}")
            where = f" ({r.location})" if isinstance(r.location, str) and r.location else ""
            quotes.setdefault(str(r.quote), where)
        quoted = " ".join(f"\"{q}\"{w}." for q, w in quotes.items())
        out.append(f"{_who(first)}: {'; '.join(results)}. Source: {quoted}")
    return out


def _stated_words(r) -> str:
    words = {"decrease": "a decrease (stated in words)", "increase": "an increase (stated in words)",
             "no_clear_change": "no clear change (stated in words)", "mixed": "mixed results (stated in words)"}
    d = getattr(r, "reported_direction", None)
    return words.get(d, "no number") if isinstance(d, str) else "no number"


def _unit(unit) -> str:
    return str(unit).replace("_", " ") if isinstance(unit, str) else ""


def _as_written(x) -> str:
    """A reported number without rounding (the source's own digits), or 'no number'."""
    return "no number" if x is None or pd.isna(x) else f"{x:g}".replace("-", "−")


def _references(cell: pd.DataFrame, studies_df: pd.DataFrame | None) -> list[dict]:
    """Full references, consistently formatted: Authors (year). Title. Venue. DOI/URL."""
    if cell.empty:
        return []
    ids = sorted(cell["study_id"].unique())
    info = studies_df.set_index("id") if studies_df is not None and len(studies_df) else None
    refs = []
    for sid in ids:
        row = cell[cell["study_id"] == sid].iloc[0]
        venue = info.loc[sid, "venue"] if info is not None and sid in info.index else None
        authors = "; ".join(row["authors"]) if isinstance(row["authors"], (list, tuple)) else str(row["authors"])
        text = f"{authors} ({row['year']}). {row['title']}."
        if isinstance(venue, str) and venue:
            text += f" {venue}."
        if isinstance(row.get("programme"), str) and row["programme"]:
            text += f" Programme: {row['programme']}."
        if isinstance(row["doi"], str) and row["doi"]:
            text += f" https://doi.org/{row['doi']}"
        elif isinstance(row["url"], str) and row["url"]:
            text += f" {row['url']}"
        refs.append({"study_id": sid, "citation": row["citation"], "text": text})
    return sorted(refs, key=lambda r: r["text"].lower())


ROB_COLUMN, QUALITY_COLUMN = "Risk of bias (tool)", "Evidence quality (rater)"


def _rob_table(cell: pd.DataFrame, rob_domains: dict[str, dict]) -> pd.DataFrame:
    """robvis layout: Study, the domains (D1, D1b, D2, ... in the tool's order; blank where not assessed),
    "Risk of bias (tool)" (RoB 2 / ROBINS-I only) and "Evidence quality (rater)" (a clearinghouse's
    rating, e.g. CLEAR's). Two columns because the scales run opposite ways: CLEAR's *high* quality
    once printed as "Overall: high" and read as high risk for an RCT at low risk of bias."""
    fixed = ["Study", ROB_COLUMN, QUALITY_COLUMN]
    if cell.empty:
        return pd.DataFrame(columns=fixed)
    studies = cell.drop_duplicates("study_id").sort_values("citation")
    codes: dict[str, None] = {}
    rows = []
    for r in studies.itertuples():
        tool = r.rob_tool if isinstance(r.rob_tool, str) else None
        judged = rob_domains.get(r.study_id, {})
        row = {"Study": r.citation}
        for domain, code in domain_codes(tool) if tool else []:
            codes[code] = None
            row[code] = judged.get(domain, "")
        row[ROB_COLUMN] = rob_text(tool, r.rob_overall if isinstance(r.rob_overall, str) else None)
        rater, rating = getattr(r, "quality_rater", None), getattr(r, "quality_rating", None)
        row[QUALITY_COLUMN] = quality_text(rater if isinstance(rater, str) else None,
                                           rating if isinstance(rating, str) else None)
        rows.append(row)
    df = pd.DataFrame(rows).reindex(columns=["Study", *codes, ROB_COLUMN, QUALITY_COLUMN]).fillna("")
    return df.loc[:, (df != "").any(axis=0) | df.columns.isin(fixed)]


def _methods(s: EvidenceSummary, ww) -> str:
    v = s.versions
    base = (f"Effects were selected from the catalogue (version {s.catalog_version}) for {s.intervention_label.lower()} "
            f"and {s.outcome_label.lower()}" + (f" with the filters: {'; '.join(s.filters)}" if s.filters else "") + ". ")
    if s.result is None:
        return base + f"No pooled model was fitted ({s.insufficient_reason})."
    o = ww.options
    return base + (
        f"Dependence: one effect per study (the study's primary effect; {len(s.effects) - len(s.pooled)} other effects "
        f"are listed but not pooled). Model: Bayesian normal-normal random-effects meta-analysis in {metric_unit(s.metric)}, "
        f"flat prior on the mean, {ww.tau_prior} prior on the between-study standard deviation tau, computed exactly "
        f"by numerical integration over tau (no sampling; random seed {SEED} recorded for reproducibility). "
        f"Sensitivity switches: exclude high risk of bias = {o.exclude_high_rob}, exclude imputed variances = {o.exclude_imputed}. "
        f"Certainty drafted with the project's explicit GRADE-style rules (minimal important difference "
        f"{s.certainty.mid if s.certainty and s.certainty.mid is not None else 'not set'}). Software: evidence {v.get('evidence')}, "
        f"numpy {v.get('numpy')}, scipy {v.get('scipy')}, pandas {v.get('pandas')}. Result hash {s.result.hash[:12]}; "
        f"generated {s.generated.isoformat()}.")


def _caveats(s: EvidenceSummary, ww) -> list[str]:
    out = []
    if len(s.effects):
        imputed = int(s.pooled["variance_imputed"].fillna(False).astype(bool).sum()) if len(s.pooled) else 0
        if imputed:
            out.append(f"{imputed} pooled effect(s) have variances imputed conservatively from a stated significance level.")
        headline_only = int(s.effects["vi"].isna().sum())
        if headline_only:
            out.append(f"{headline_only} effect(s) are headline numbers without a variance and are not pooled.")
        ambiguous = s.effects["unit_note"].dropna()
        if len(ambiguous):
            out.append(f"{len(ambiguous)} effect(s) carry a note on unit ambiguity in the source (see the effects table).")
    out.append("Coded from public sources (abstracts, clearinghouse profiles, papers); every number is traceable to "
               "the quote and location in the effects table. Unknown values are left empty, never guessed.")
    return out
