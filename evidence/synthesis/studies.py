"""The study list and one study's record as readers see them: a text search over the list, and the
record's parts (programme, arms, design and population, risk of bias, a clearinghouse's quality rating
apart from it) with taxonomy labels instead of machine keys. Pure functions; the Studies page lays them out."""

from __future__ import annotations

import pandas as pd

from evidence.rob import quality_text, rob_text
from evidence.synthesis.labels import readable
from evidence.synthesis.selection import as_list
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


def is_web_link(value) -> bool:
    """Only http(s) addresses become clickable links (no javascript:, file: or relative paths)."""
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def study_labels(studies: pd.DataFrame) -> dict[str, str]:
    """Study id -> the name a reader picks it by: its citation, and where several studies share a
    citation (one team's evaluations of several programmes) the programme, then the countries, then
    the id, until each name is distinct."""
    labels = dict(zip(studies["id"], studies["citation"].fillna(studies["id"]).astype(str)))
    for extra in ("programme", "country_names", "id"):
        shared = pd.Series(labels).duplicated(keep=False)
        if not shared.any() or extra not in studies:
            continue
        values = dict(zip(studies["id"], studies[extra]))
        for sid in shared[shared].index:
            value = "; ".join(as_list(values.get(sid))) if extra == "country_names" else str(values.get(sid) or "")
            if value and value not in labels[sid]:
                labels[sid] = f"{labels[sid]} — {value}"
    return labels


def effect_study_labels(effects: pd.DataFrame) -> dict[str, str]:
    """:func:`study_labels` for the studies of some effect rows (a cell's effects): the same distinct
    names the Studies page gives them, from the effects' own citation, programme and countries."""
    firsts = effects.drop_duplicates("study_id").rename(columns={"study_id": "id"})
    return study_labels(firsts[[c for c in ("id", "citation", "programme", "country_names") if c in firsts]])


#: Readers' headers for the catalogue's effect columns (units named where the column has one).
EFFECT_LABELS = {
    "effect_id": "Effect", "intervention_label": "Intervention", "outcome_label": "Outcome", "subgroup_label": "Subgroup",
    "primary": "Primary effect", "estimate": "Reported estimate (in the reported unit)", "unit_label": "Reported unit",
    "se": "Standard error (reported unit)", "p": "p-value", "significance": "Significance as reported",
    "reported_direction": "Direction as reported", "metric_label": "Analysis metric",
    "yi": "Effect in the analysis metric", "vi": "Variance (analysis metric squared)",
    "variance_imputed": "Variance imputed from a threshold", "secondary": "From a secondary source", "harmful": "Harmful direction",
    "location": "Where in the source", "quote": "Quote from the source", "source_link": "Source link",
    "source": "Source (not a web address)", "conversion_notes": "Conversion notes",
}
STUDY_LABELS = {
    "citation": "Study", "title": "Title", "programme": "Programme", "year": "Year", "country_names": "Countries",
    "design": "Design", "interventions": "Interventions", "outcomes": "Outcomes",
    "risk_of_bias": "Risk of bias (RoB 2 / ROBINS-I)", "quality_rating": "Evidence quality (CLEAR)",
    "coding_status": "Coding status", "n_effects": "Effects coded",
}


def study_table(shown: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The study list with taxonomy labels instead of keys (design, interventions, outcomes), readers'
    headers and every cell in words (:func:`labels.readable`); the study named by ``labels``
    (:func:`study_labels`, distinct where two studies share a citation), else by its citation."""
    t = taxonomy()
    lab = lambda terms, kind: "; ".join(getattr(t, kind).get(x, {}).get("label", x) for x in as_list(terms))  # noqa: E731
    out = shown.assign(design=shown["design"].map(lambda d: t.designs.get(d, {}).get("label", d) if isinstance(d, str) else d),
                       interventions=shown["interventions"].map(lambda v: lab(v, "interventions")),
                       outcomes=shown["outcomes"].map(lambda v: lab(v, "outcomes")),
                       country_names=shown["country_names"].map(lambda v: "; ".join(as_list(v))))
    if labels:
        out = out.assign(citation=out["id"].map(labels).fillna(out["citation"]))
    return readable(out[list(STUDY_LABELS)].rename(columns=STUDY_LABELS))


def subgroup_name(label, sex, age_min, age_max) -> str | None:
    """A subgroup as readers name it: the coder's label, else its sex and ages ("Girls aged 12–14",
    "Boys", "Children aged 10 and over"), so a girls' effect never reads as the whole sample; None for
    the whole sample."""
    if isinstance(label, str) and label.strip():
        return label
    lo, hi = (pd.to_numeric(pd.Series([x]), errors="coerce").iloc[0] for x in (age_min, age_max))
    who = sex.capitalize() if sex in ("girls", "boys") else "Children"
    if pd.notna(lo) and pd.notna(hi):
        return f"{who} aged {lo:g}–{hi:g}"
    if pd.notna(lo) or pd.notna(hi):
        return f"{who} aged {lo:g} and over" if pd.notna(lo) else f"{who} aged up to {hi:g}"
    return who if who != "Children" else None


def effect_rows(eff: pd.DataFrame) -> pd.DataFrame:
    """A study's effects with labelled units and metrics, the subgroup named (:func:`subgroup_name`) and
    the source split into a web link (http(s) only) and other sources, under readers' headers
    (:data:`EFFECT_LABELS`)."""
    t = taxonomy()
    web = eff["source_url"].map(is_web_link)
    unit = lambda u: t.metrics.get(u, {}).get("label", u) if isinstance(u, str) else ""  # noqa: E731
    subgroups = [subgroup_name(*r) for r in zip(eff["subgroup_label"], eff["subgroup_sex"], eff["subgroup_age_min"], eff["subgroup_age_max"])]
    out = eff.assign(source_link=eff["source_url"].where(web), source=eff["source_url"].where(~web),
                     unit_label=eff["unit"].map(unit), metric_label=eff["metric"].map(unit),
                     subgroup_label=pd.Series(subgroups, index=eff.index, dtype=object))
    return out[list(EFFECT_LABELS)].rename(columns=EFFECT_LABELS)


def effect_card(row: dict) -> dict[str, str]:
    """One effect as a card: a heading, the number as reported and as analysed, and its source passage."""
    def num(x) -> str:
        return "" if x is None or (isinstance(x, float) and pd.isna(x)) else f"{x:g}" if isinstance(x, (int, float)) else str(x)

    def flag(key) -> bool:  # catalogue booleans come back as bool, 0/1 or NaN
        v = row.get(key)
        return bool(v) and not (isinstance(v, float) and pd.isna(v))

    L = EFFECT_LABELS
    heading = f"{row[L['intervention_label']]} → {row[L['outcome_label']]}"
    if row.get(L["subgroup_label"]) and str(row[L["subgroup_label"]]) not in ("nan", "None"):
        heading += f" ({row[L['subgroup_label']]})"
    reported = " ".join(x for x in (num(row.get(L["estimate"])), row.get(L["unit_label"]) or "") if x)
    if num(row.get(L["se"])):
        reported += f" (SE {num(row[L['se']])})"
    for extra in (L["significance"], L["reported_direction"]):
        if num(row.get(extra)):
            reported += f"; {row[extra]}"
    analysed = ""
    if num(row.get(L["yi"])):
        analysed = f"{num(row[L['yi']])} {row.get(L['metric_label']) or ''}".strip()
        analysed += f", variance {num(row[L['vi']])}" if num(row.get(L["vi"])) else ", no variance (not poolable)"
        if flag(L["variance_imputed"]):
            analysed += " (imputed from a significance threshold)"
    tags = [name for key, name in (("primary", "primary"), ("secondary", "secondary source"), ("harmful", "harmful direction"))
            if flag(L[key])]
    return {"effect": str(row[L["effect_id"]]), "heading": heading, "reported": reported or "not reported",
            "analysed": analysed or "not converted", "tags": ", ".join(tags), "location": num(row.get(L["location"])),
            "quote": num(row.get(L["quote"])), "link": num(row.get(L["source_link"])), "source": num(row.get(L["source"])),
            "notes": num(row.get(L["conversion_notes"]))}
