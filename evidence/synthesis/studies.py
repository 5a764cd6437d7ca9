"""The study list and one study's record as readers see them: a text search over the list, and the
record's parts (programme, arms, design and population, risk of bias) with taxonomy labels instead
of machine keys. Pure functions; the Studies page lays them out."""

from __future__ import annotations

import pandas as pd

from evidence.taxonomy import taxonomy

SEARCHED_COLUMNS = ("title", "authors", "citation", "programme", "country_names")


def search_studies(studies: pd.DataFrame, query: str = "", **chosen) -> pd.DataFrame:
    """Studies whose title, authors, citation, programme or countries contain ``query`` (any case), and
    whose columns take one of the chosen values (``design=[...]``, ``coding_status=[...]``, ...)."""
    shown = studies
    if query:
        cols = [c for c in SEARCHED_COLUMNS if c in shown]
        text = shown[cols].astype(str).agg(" ".join, axis=1)
        shown = shown[text.str.contains(query, case=False, regex=False)]
    for col, values in chosen.items():
        if values:
            shown = shown[shown[col].isin(values)]
    return shown


def record_parts(rec: dict) -> dict[str, object]:
    """The parts of one study's record shown side by side: programme (with countries and regions),
    arms, design and population, and risk of bias, with taxonomy labels for intervention and design."""
    t = taxonomy()
    programme = dict(rec.get("programme") or {})
    programme["countries"] = ", ".join(f"{c.get('name', c.get('iso3'))} ({c.get('region')})" for c in rec.get("countries") or [])
    arms = [{**arm, "type": t.interventions.get(arm.get("type"), {}).get("label", arm.get("type"))}
            for arm in rec.get("interventions") or []]
    design = dict(rec.get("design") or {})
    design["type"] = t.designs.get(design.get("type"), {}).get("label", design.get("type"))
    design_population = {**design, **{f"population {k}": v for k, v in (rec.get("population") or {}).items()}}
    authors = rec.get("authors") or ""
    authors = "; ".join(authors) if isinstance(authors, (list, tuple)) else str(authors)
    return {"programme": programme, "arms": arms, "design_population": design_population,
            "risk_of_bias": rec.get("risk_of_bias"), "byline": f"{authors} ({rec.get('year', '')}). {rec.get('venue') or ''}"}
