"""The coding queue: which study a researcher holding its full text should code next, what is missing,
where the numbers are said to be, and why it ranks there.

Why a ranking and not a list: most studies are mapped from abstracts or clearinghouse profiles
(directions, headline estimates without variances), and an hour of coding changes the answers only
where it makes a cell (intervention x outcome) poolable. So the queue is ordered, greedily, by what each
study would change *after the studies ranked above it are coded*:

1. **pools a cell** - the study sits in a cell one study with a variance short of pooling (the gap map's
   rule: at least :data:`POOL_MIN` studies with a usable variance on the cell's main metric, one effect per
   study). Once it is ranked, the queue counts that cell as pooled, so the next places go to other cells
   rather than to 19 more studies of the same cell, and the partner of a study two short ranks next.
2. **large coverage** - national programmes or samples of at least :data:`LARGE_SAMPLE` children: their
   numbers weigh most in any pooled answer and in a ministry's reading of it.
3. **the rest** - two short of pooling, then additions to cells that already pool, then studies without
   effects, then studies missing only subgroups, exact SEs or a risk-of-bias assessment.

Pure pandas on what :mod:`evidence.catalog.queries` returns (``effects()``, ``studies()``,
``coding_facts()``); :func:`load_queue` reads them. The CLI (``evidence todo``) and the Studies page show
:func:`queue_frame` of the same items.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

import pandas as pd

from evidence.errors import EvidenceError
from evidence.synthesis.metrics import POOLABLE_METRICS
from evidence.synthesis.selection import main_metric, one_per_study, usable
from evidence.synthesis.studies import is_web_link
from evidence.taxonomy import taxonomy

#: Studies with a usable variance a cell needs before it is pooled (as in the gap map and What works).
POOL_MIN = 2
#: A sample this large (children, population n or treatment + control) counts as large coverage.
LARGE_SAMPLE = 10_000
SCALE_RANK = {"national": 3, "regional": 2, "pilot": 1}
TIERS = {1: "pools a cell", 2: "large coverage", 3: "the rest"}
QUEUE_COLUMNS = ["rank", "study_id", "citation", "status", "missing", "where", "link", "reason", "tier", "cells",
                 "coverage"]
#: "Table 3", "Tables 6-7", "tables T9-T11", "Section IV.D", "Figure 2", "Annex 1", "Appendix A2".
_REF = re.compile(r"\b(?:tables?|figures?|fig\.|sections?|appendix|appendices|annex(?:es)?)\s+"
                  r"(?:[A-Z]?\d+[A-Za-z]?|[IVX]+\b)(?:[.\-–][A-Za-z0-9]+)*(?:\s*(?:-|–|to|and|&)\s*[A-Z]?\d+[A-Za-z]?)*",
                  re.IGNORECASE)


#: The effect columns the queue reads per study.
_STUDY_EFFECT_COLUMNS = ("study_id", "intervention", "outcome", "estimate", "yi", "vi", "metric", "variance_imputed",
                         "subgroup_sex", "subgroup_age_min", "subgroup_age_max", "location", "unit_note")


@dataclass(frozen=True)
class QueueItem:
    """One study in the queue. ``cells`` are the intervention x outcome cells coding it would move,
    ``where`` the tables or sections its sources name (else where the coded statements were seen)."""

    rank: int
    study_id: str
    citation: str
    status: str
    missing: tuple[str, ...]
    where: tuple[str, ...]
    link: str | None
    reason: str
    tier: str
    cells: tuple[str, ...]
    coverage: str

    def as_dict(self) -> dict:
        d = asdict(self)
        for k in ("missing", "where", "cells"):
            d[k] = list(d[k])
        return d


def _blank(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def pooled_studies(effects: pd.DataFrame) -> dict[tuple[str, str], set[str]]:
    """(intervention, outcome) -> the studies that count toward pooling it now: a usable effect on the
    cell's main metric, one per study (the rule of :func:`evidence.synthesis.gap_map.gap_map_cells`)."""
    out: dict[tuple[str, str], set[str]] = {}
    slim = effects[["study_id", "intervention", "outcome", "yi", "vi", "metric", "primary"]]
    for key, part in slim.groupby(["intervention", "outcome"]) if len(slim) else ():
        metric = main_metric(part)
        sel = one_per_study(part[usable(part) & (part["metric"] == metric)]) if metric else part.iloc[0:0]
        out[key] = set(sel["study_id"])
    return out


def canonical_link(study: dict, sources: list[dict]) -> str | None:
    """The DOI as https://doi.org/..., else the study's web address, else its first source's."""
    doi = lambda d: "https://doi.org/" + re.sub(r"^(doi:\s*|https?://(dx\.)?doi\.org/)", "", str(d).strip(), flags=re.I)  # noqa: E731
    web = lambda u: not _blank(u) and is_web_link(str(u))  # noqa: E731
    if not _blank(study.get("doi")):
        return doi(study["doi"])
    if web(study.get("url")):
        return str(study["url"]).strip()
    for s in sources:
        if web(s.get("url")):
            return str(s["url"]).strip()
        if not _blank(s.get("doi")):
            return doi(s["doi"])
    return None


def where_numbers(eff: pd.DataFrame, facts: dict) -> tuple[str, ...]:
    """Tables, sections, figures or annexes that the effects' locations, unit notes, source notes and
    titles, or the coding notes name (first mention wins, with where it was read); without one, the
    places the coded statements were seen (an abstract, a clearinghouse profile)."""
    texts = [(t, "effect location") for t in eff["location"]] + [(t, "unit note") for t in eff["unit_note"]]
    for s in facts.get("sources") or []:
        texts += [(s.get("title"), "source title"), (s.get("note"), "source note")]
    texts.append((facts.get("coding_notes"), "coding notes"))
    found: dict[str, str] = {}
    for text, origin in texts:
        for m in ([] if _blank(text) else _REF.finditer(str(text))):
            ref = re.sub(r"\s+", " ", m.group(0)).strip()
            found.setdefault(ref[0].upper() + ref[1:], origin)
    if found:
        return tuple(f"{ref} ({origin})" for ref, origin in found.items())
    seen = list(dict.fromkeys(str(x).strip() for x in eff["location"] if not _blank(x)))
    if seen:
        return ("no table named; seen in: " + "; ".join(s[:60] for s in seen[:3]),)
    kinds = list(dict.fromkeys(str(s.get("kind")) for s in facts.get("sources") or [] if s.get("kind")))
    return ("no table named" + (f"; sources: {', '.join(kinds)}" if kinds else ""),)


def missing_items(eff: pd.DataFrame, facts: dict, study: dict) -> tuple[str, ...]:
    """What a coder could still add: effects, estimates (direction-only effects), SEs/variances
    (headline estimates), estimates on a poolable scale, exact SEs (imputed variances), girls/boys
    subgroups, age bands, and a risk-of-bias assessment (a clearinghouse rating is not one)."""
    out = []
    if eff.empty:
        out.append("effects (none coded)")
    no_est = eff["estimate"].isna() & eff["yi"].isna()
    no_var = ~no_est & eff["vi"].isna()
    odd = eff["metric"].notna() & ~eff["metric"].isin(POOLABLE_METRICS)
    imputed = eff["variance_imputed"].fillna(False).astype(bool)
    for n, what in ((no_est.sum(), "estimates ({} direction-only effect{})"), (no_var.sum(), "SEs/variances ({} headline estimate{})"),
                    (odd.sum(), "estimates on a poolable scale ({} in relative or other units{})"),
                    (imputed.sum(), "exact SEs ({} variance{} imputed from a significance level)")):
        if n:
            out.append(what.format(int(n), "" if n == 1 else "s"))
    if facts.get("population_sex") in (None, "all") and not eff["subgroup_sex"].isin(["girls", "boys"]).any():
        out.append("girls/boys subgroups")
    if not (eff["subgroup_age_min"].notna() | eff["subgroup_age_max"].notna()).any():
        out.append("age bands")
    if _blank(study.get("risk_of_bias")):
        rated = not _blank(study.get("quality_rating"))
        out.append("risk of bias (RoB 2 / ROBINS-I; only CLEAR's quality rating)" if rated else "risk of bias (not assessed)")
    return tuple(out)


def coverage_of(facts: dict) -> tuple[int, int, str]:
    """(scale rank, sample size, text): national > regional > pilot; the population's n, else
    treatment + control."""
    scale = facts.get("scale") if not _blank(facts.get("scale")) else None
    n = facts.get("n_total")
    if _blank(n):
        parts = [facts.get(k) for k in ("n_treatment", "n_control")]
        n = sum(int(p) for p in parts) if all(not _blank(p) for p in parts) else None
    n = None if _blank(n) else int(n)
    text = ", ".join(x for x in (f"{scale} scale" if scale else "", f"n = {n:,}" if n else "") if x)
    return SCALE_RANK.get(scale, 0), n or 0, text


@dataclass
class _Candidate:
    study: dict
    facts: dict
    missing: tuple[str, ...]
    where: tuple[str, ...]
    cells: list[tuple[str, str]]  # cells where the study has effects but none that counts toward pooling
    scale: int
    sample: int
    coverage: str


def _cell_label(cell: tuple[str, str]) -> str:
    t = taxonomy()
    iv, oc = cell
    return f"{t.interventions.get(iv, {}).get('label', iv)} x {t.outcomes.get(oc, {}).get('label', oc).lower()}"


def _state(cell, real: dict, picked: dict) -> tuple[int, int, list[int]]:
    """(studies with a variance now, counted with the studies ranked above, ranks above in this cell)."""
    now = len(real.get(cell, ()))
    above = picked.get(cell, [])
    return now, now + len(above), above


def _need(sim: int) -> int:
    """Order of closeness: 1 = one short of pooling, 2 = two short, 3 = already pools (adds a study)."""
    return POOL_MIN - sim if sim < POOL_MIN else 3


def _phrase(cell, now: int, sim: int, above: list[int], n_in_cell: int) -> str:
    label = _cell_label(cell)
    has = (f"none of its {_n(n_in_cell, 'study', 'studies')} has a variance yet" if now == 0
           else f"{now} of {_n(n_in_cell, 'study', 'studies')} {'has' if now == 1 else 'have'} one")
    if sim == POOL_MIN - 1:
        if now == sim:
            return f"1 more study with a variance pools {label} ({has})"
        return f"with #{', #'.join(map(str, above))}, pools {label} ({has})"
    if sim < POOL_MIN:
        return f"{POOL_MIN - sim} short of pooling {label}: one of the studies with a variance it needs ({has})"
    if now >= POOL_MIN:
        return f"adds a study to the pooled {label} ({now} studies)"
    first = above[:POOL_MIN - now]  # the ranks above that make it pool
    return f"adds a study to {label}, which pools once #{', #'.join(map(str, first))} {'is' if len(first) == 1 else 'are'} coded"


def _n(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _key(c: _Candidate, real: dict, picked: dict) -> tuple:
    needs = [_need(_state(cell, real, picked)[1]) for cell in c.cells]
    need = min(needs) if needs else (4 if any(m.startswith(("effects", "estimates", "SEs")) for m in c.missing) else 5)
    at_need = sum(1 for n in needs if n == need)
    tier = 1 if need == 1 else 2 if (c.scale == SCALE_RANK["national"] or c.sample >= LARGE_SAMPLE) else 3
    if tier == 2:
        return tier, -c.scale, -c.sample, need, -at_need, c.study["id"]
    return tier, need, -at_need, -c.scale, -c.sample, c.study["id"]


def _reason(c: _Candidate, tier: int, real: dict, picked: dict, n_studies: dict) -> str:
    best = sorted(c.cells, key=lambda cell: (_need(_state(cell, real, picked)[1]), _cell_label(cell)))
    bits = []
    if tier == 2:
        bits.append(f"large coverage ({c.coverage})")
    if best:
        now, sim, above = _state(best[0], real, picked)
        bits.append(_phrase(best[0], now, sim, above, n_studies.get(best[0], 0)))
        same = sum(1 for cell in best[1:] if _need(_state(cell, real, picked)[1]) == _need(sim))
        if same:
            bits.append(f"and {same} more cell{'s' if same > 1 else ''} alike")
    elif any(m.startswith("effects") for m in c.missing):
        bits.append("no effect coded yet: its results would place it in the gap map")
    elif c.missing:
        bits.append("its cells already count it; adds " + ", ".join(c.missing))
    return "; ".join(bits)


def _matches(eff: pd.DataFrame, study: dict, interventions: tuple, outcomes: tuple) -> bool:
    if eff.empty:  # no effects: only its arms are known
        arms = {a.strip() for a in str(study.get("interventions") or "").split(",")}
        return not outcomes and (not interventions or bool(arms & set(interventions)))
    keep = pd.Series(True, index=eff.index)
    if interventions:
        keep &= eff["intervention"].isin(interventions)
    if outcomes:
        keep &= eff["outcome"].isin(outcomes)
    return bool(keep.any())


def _check_terms(interventions: tuple, outcomes: tuple) -> None:
    t = taxonomy()
    for given, known, what in ((interventions, t.interventions, "intervention"), (outcomes, t.outcomes, "outcome")):
        bad = [x for x in given if x not in known]
        if bad:
            raise EvidenceError(f"unknown {what} {', '.join(map(repr, bad))} (taxonomy terms, e.g. {', '.join(list(known)[:3])})")


def coding_queue(effects: pd.DataFrame, studies: pd.DataFrame, facts: pd.DataFrame, interventions=(), outcomes=(),
                 limit: int | None = None) -> list[QueueItem]:
    """The ranked queue of studies that are mapped or headline only, or coded but missing parts.

    ``effects``/``studies``/``facts``: what :func:`~evidence.catalog.queries.effects`, ``studies`` and
    ``coding_facts`` return (unfiltered: a cell's count needs all its studies). ``interventions`` /
    ``outcomes`` keep studies with an effect in those terms and rank them on those cells only."""
    interventions, outcomes = tuple(interventions or ()), tuple(outcomes or ())
    _check_terms(interventions, outcomes)
    if limit is not None and limit < 1:
        raise EvidenceError(f"--limit must be at least 1, not {limit}")
    real = pooled_studies(effects)
    n_studies = effects.groupby(["intervention", "outcome"])["study_id"].nunique().to_dict() if len(effects) else {}
    slim = effects[list(_STUDY_EFFECT_COLUMNS)]
    by_study = dict(tuple(slim.groupby("study_id", sort=False))) if len(slim) else {}
    facts_by = {r["id"]: r for r in facts.to_dict("records")}
    empty = slim.iloc[0:0]
    pool: list[_Candidate] = []
    for study in studies.to_dict("records"):
        eff = by_study.get(study["id"], empty)
        if not _matches(eff, study, interventions, outcomes):
            continue
        f = facts_by.get(study["id"], {})
        missing = missing_items(eff, f, study)
        if not missing and study.get("coding_status") == "coded":
            continue
        cells = sorted({(i, o) for i, o in zip(eff["intervention"], eff["outcome"])
                        if study["id"] not in real.get((i, o), ()) and (not interventions or i in interventions)
                        and (not outcomes or o in outcomes)})
        scale, sample, cov = coverage_of(f)
        pool.append(_Candidate(study, f, missing, where_numbers(eff, f), cells, scale, sample, cov))
    items: list[QueueItem] = []
    picked: dict[tuple[str, str], list[int]] = {}
    while pool and (limit is None or len(items) < limit):
        best = min(pool, key=lambda c: _key(c, real, picked))
        tier = _key(best, real, picked)[0]
        rank = len(items) + 1
        s = best.study
        items.append(QueueItem(rank, s["id"], str(s.get("citation") or s["id"]), str(s.get("coding_status") or ""),
                               best.missing, best.where, canonical_link(s, best.facts.get("sources") or []),
                               _reason(best, tier, real, picked, n_studies), TIERS[tier],
                               tuple(_cell_label(c) for c in best.cells), best.coverage))
        for cell in best.cells:
            picked.setdefault(cell, []).append(rank)
        pool.remove(best)
    return items


def queue_frame(items: list[QueueItem]) -> pd.DataFrame:
    """The queue as a table (lists joined with "; "), columns :data:`QUEUE_COLUMNS`."""
    rows = [{**i.as_dict(), **{k: "; ".join(getattr(i, k)) for k in ("missing", "where", "cells")}} for i in items]
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)


def load_queue(engine=None, interventions=(), outcomes=(), limit: int | None = None) -> list[QueueItem]:
    """:func:`coding_queue` on the catalogue (``engine``: default the configured one)."""
    from evidence.catalog import bulk, queries

    return coding_queue(queries.effects(engine=engine), queries.studies(engine=engine), bulk.coding_facts(engine),
                        interventions, outcomes, limit)
