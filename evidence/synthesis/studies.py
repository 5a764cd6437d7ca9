"""The study list and one study's record as readers see them: a text search over the list, and the
record's parts (programme, arms, design and population, risk of bias, a clearinghouse's quality rating
apart from it) with taxonomy labels instead of machine keys. Pure functions; the Studies page lays them out."""

from __future__ import annotations

import pandas as pd

from evidence.rob import quality_text, rob_text
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
            "risk_of_bias": rob_record(rec.get("risk_of_bias")), "evidence_quality": quality_record(rec.get("evidence_quality")),
            "byline": f"{authors} ({rec.get('year', '')}). {rec.get('venue') or ''}"}


def rob_record(rob: dict | None) -> dict | None:
    """A RoB 2 / ROBINS-I assessment as readers see it: the judgement in words with its tool ("low risk
    (RoB 2)"), then reason, source, quote and the domains; None when not assessed."""
    if not rob:
        return None
    out = {"risk of bias": rob_text(rob.get("tool"), rob.get("overall"))}
    out.update({k: rob.get(k) for k in ("reason", "source", "quote") if rob.get(k)})
    if rob.get("domains"):
        out["domains"] = rob["domains"]
    return out


def quality_record(quality: dict | None) -> dict | None:
    """A clearinghouse's rating as readers see it ("high quality (CLEAR)", the rater's name, reason,
    source, url, quote); kept apart from risk of bias. None when not rated."""
    if not quality:
        return None
    rater = quality.get("rater")
    out = {"evidence quality": quality_text(rater, quality.get("rating")),
           "rater": taxonomy().quality_raters.get(rater, {}).get("label", rater)}
    out.update({k: quality.get(k) for k in ("reason", "source", "url", "quote") if quality.get(k)})
    return out
