"""The filter type of every catalogue query and its SQL: what "the effects matching these filters"
means, in one place. Each field carries its command-line option and help, so the CLI generates its
filter options from this type (``evidence.cli.options``) and the app builds its widgets on it.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field

from evidence.errors import CatalogError

# SQLAlchemy and the row models are imported inside the functions that build SQL: the CLI generates its
# options from ``Filters`` at start-up, and a command that reads no catalogue must not pay for them.

_TUPLES = ("families", "interventions", "outcomes", "outcome_groups", "countries", "regions", "designs",
           "rob_levels", "quality_ratings", "coding_status")


def _opt(default, option: str, help: str):
    """A filter field with its command-line option and help (``evidence.cli.options`` builds the
    options of every catalogue command from these, so a new filter reaches the CLI by itself)."""
    return field(default=default, metadata={"option": option, "help": help})


@dataclass(frozen=True)
class Filters:
    """What to keep. Empty tuples/None/False mean "no restriction"; several values in a tuple are OR-ed,
    different fields AND-ed. Hashable (tuples only) so results can be cached per filter set.

    ``sex`` matches the effect's subgroup sex (a full-sample effect of a girls-only study counts as
    girls). ``age_min``/``age_max`` keep effects whose age band (subgroup, else population) overlaps
    the requested band; unknown bounds are open. ``exclude_high_rob`` keeps studies without a
    judgement; ``rob_levels`` (low/moderate/high/unclear) does not. Both concern RoB 2 / ROBINS-I
    assessments only; ``quality_ratings`` filters on a clearinghouse's rating (CLEAR high/moderate/low),
    a different scale (a high rating is strong evidence).
    """

    families: tuple[str, ...] = _opt((), "--family", "Intervention family (repeatable).")
    interventions: tuple[str, ...] = _opt((), "--intervention", "Intervention type (repeatable).")
    outcomes: tuple[str, ...] = _opt((), "--outcome", "Outcome term (repeatable).")
    outcome_groups: tuple[str, ...] = _opt((), "--outcome-group", "child_labour or schooling.")
    countries: tuple[str, ...] = _opt((), "--country", "ISO3 country code (repeatable).")
    regions: tuple[str, ...] = _opt((), "--region", "Region, e.g. 'Sub-Saharan Africa' (repeatable).")
    designs: tuple[str, ...] = _opt((), "--design", "Design term, e.g. cluster_rct (repeatable).")
    randomised_only: bool = _opt(False, "--randomised-only", "Randomised designs only.")
    sex: str | None = _opt(None, "--sex", "Subgroup sex: all, girls, boys.")
    age_min: float | None = _opt(None, "--age-min", "Keep effects whose age band reaches this age or above.")
    age_max: float | None = _opt(None, "--age-max", "Keep effects whose age band starts at this age or below.")
    rob_levels: tuple[str, ...] = _opt((), "--rob-level", "Common risk level: low, moderate, high, unclear.")
    exclude_high_rob: bool = _opt(False, "--exclude-high-rob", "Drop studies at high risk of bias.")
    quality_ratings: tuple[str, ...] = _opt((), "--quality-rating",
                                            "Clearinghouse (CLEAR) quality of causal evidence: high, moderate, low.")
    year_min: int | None = _opt(None, "--year-min", "Studies published in or after this year.")
    year_max: int | None = _opt(None, "--year-max", "Studies published in or before this year.")
    coding_status: tuple[str, ...] = _opt((), "--status", "Coding status: mapped, headline, coded.")
    primary_only: bool = _opt(False, "--primary-only", "Primary effects only (one per study and outcome).")
    exclude_imputed: bool = _opt(False, "--exclude-imputed", "Drop effects whose variance was imputed from a threshold.")
    has_variance: bool = _opt(False, "--has-variance", "Only effects with a variance (drop headline estimates).")

    def __post_init__(self):  # accept lists or a single string; canonical order keeps cache keys stable
        for name in _TUPLES:
            v = getattr(self, name)
            v = () if v is None else (v,) if isinstance(v, str) else tuple(sorted(dict.fromkeys(v)))
            object.__setattr__(self, name, v)
        if self.sex not in (None, "all", "girls", "boys"):
            raise CatalogError(f"sex must be all, girls or boys, not '{self.sex}'")

    def effect_level(self) -> bool:
        """True when a filter concerns effects, so a study is kept only if one of its effects matches."""
        return bool(self.outcomes or self.outcome_groups or self.sex or self.primary_only
                    or self.exclude_imputed or self.has_variance)


def _study_conds(f: Filters) -> list:
    from sqlalchemy import or_, select, true

    from evidence.catalog.models import (
        DesignRow,
        EvidenceQualityRow as Q,
        ProgrammeCountryRow as PC,
        RiskOfBiasRow as R,
        StudyRow as S,
    )

    c = []
    if f.countries:
        c.append(S.id.in_(select(PC.study_id).where(PC.iso3.in_(f.countries))))
    if f.regions:
        c.append(S.id.in_(select(PC.study_id).where(PC.region.in_(f.regions))))
    if f.designs:
        c.append(DesignRow.type.in_(f.designs))
    if f.randomised_only:
        c.append(DesignRow.randomised == true())
    if f.rob_levels:
        c.append(R.level.in_(f.rob_levels))
    if f.exclude_high_rob:
        c.append(or_(R.level.is_(None), R.level != "high"))
    if f.quality_ratings:
        c.append(S.id.in_(select(Q.study_id).where(Q.rating.in_(f.quality_ratings))))
    if f.year_min is not None:
        c.append(S.year >= f.year_min)
    if f.year_max is not None:
        c.append(S.year <= f.year_max)
    if f.coding_status:
        c.append(S.coding_status.in_(f.coding_status))
    return c


def _overlap(lo, hi, f: Filters) -> list:
    from sqlalchemy import or_

    c = []
    if f.age_min is not None:
        c.append(or_(hi.is_(None), hi >= f.age_min))
    if f.age_max is not None:
        c.append(or_(lo.is_(None), lo <= f.age_max))
    return c


def _effect_conds(f: Filters) -> list:
    from sqlalchemy import case, func, true

    from evidence.catalog.models import EffectRow as E, InterventionRow as I, PopulationRow as P

    c = _study_conds(f)
    if f.families:
        c.append(I.family.in_(f.families))
    if f.interventions:
        c.append(I.type.in_(f.interventions))
    if f.outcomes:
        c.append(E.outcome.in_(f.outcomes))
    if f.outcome_groups:
        c.append(E.outcome_group.in_(f.outcome_groups))
    if f.sex:
        sex = case((E.subgroup_sex != "all", E.subgroup_sex), else_=func.coalesce(P.sex, "all"))
        c.append(sex == f.sex)
    c += _overlap(func.coalesce(E.subgroup_age_min, P.age_min), func.coalesce(E.subgroup_age_max, P.age_max), f)
    if f.primary_only:
        c.append(E.is_primary == true())
    if f.exclude_imputed:
        c.append(E.variance_imputed != true())
    if f.has_variance:
        c.append(E.vi.is_not(None))
    return c


def _vocabulary() -> dict[str, set[str]]:
    """Filter field -> its valid values (taxonomy terms, ISO3 codes, regions, common risk levels)."""
    from evidence.schema import Study
    from evidence.taxonomy import countries, taxonomy

    tax, ctry = taxonomy(), countries()
    status = typing.get_args(Study.model_fields["coding"].annotation.model_fields["status"].annotation)
    return {"families": set(tax.families), "interventions": set(tax.interventions), "outcomes": set(tax.outcomes),
            "outcome_groups": set(tax.outcome_groups), "designs": set(tax.designs), "countries": set(ctry),
            "regions": {c.region for c in ctry.values()}, "rob_levels": {"low", "moderate", "high", "unclear"},
            "quality_ratings": {r for q in tax.quality_raters.values() for r in q["ratings"]}, "coding_status": set(status)}


def unknown_terms(f: Filters) -> list[str]:
    """One message per value of ``f`` that no study could have (a typo would silently match nothing),
    with the nearest valid term. The CLI refuses such filters; the app offers only valid values."""
    from evidence.taxonomy import suggest

    out = []
    for name, valid in _vocabulary().items():
        option = Filters.__dataclass_fields__[name].metadata["option"]
        for value in getattr(f, name):
            if value not in valid:
                near = suggest(value, valid)
                out.append(f"{option} {value!r} is not a known term" + (f" (did you mean {near!r}?)" if near else ""))
    return out
