"""The study-file schema, kept as code (pydantic); the JSON Schema for editors is exported from it.

One YAML file per study in ``studies/``; the file name (without ``.yaml``) equals ``id``.
Structural checks (required fields, types, unknown keys) come from these models; semantic checks
(taxonomy terms, statistics, provenance) are the named rules in ``evidence.ingest.rules``.

Taxonomy fields are plain strings here so an unknown term can be reported with the nearest valid
one; the exported JSON Schema still lists the valid terms (``enum``) for editor completion.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from evidence.taxonomy import taxonomy

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://"


def _web_url(value: str) -> str:
    """A web address must start with http:// or https:// (a DOI, a bare domain or a file path is not one)."""
    if not re.match(URL_PATTERN, value):
        raise PydanticCustomError(
            "url_scheme", "must be a web address starting with http:// or https://, got {value} "
                          "(put a DOI in 'doi', and write 'https://' before a bare domain)", {"value": repr(value)[:60]})
    return value


#: A web address (validated: http:// or https://; the JSON Schema carries the same pattern for editors).
WebUrl = Annotated[str, AfterValidator(_web_url), Field(json_schema_extra={"pattern": URL_PATTERN})]


def _terms(kind: str) -> dict:
    """JSON-Schema hint listing valid terms of a taxonomy section (for editors)."""
    t = taxonomy()
    if kind == "judgement":
        terms = sorted({j for tool in t.rob_tools.values() for j in tool["judgements"]})
    else:
        terms = sorted(getattr(t, kind))
    return {"enum": terms}


class Record(BaseModel):
    """Base: unknown keys are errors (typos must not silently disappear)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Source(Record):
    """A document the coded facts come from. Referenced by ``id`` from effects and fields."""

    id: str = Field(description="Short local id, e.g. 'wp' or 'clear'.", pattern=r"^[a-z0-9_-]+$")
    kind: Literal["journal_article", "working_paper", "report", "thesis", "clearinghouse", "abstract", "registry",
                  "slides", "review", "other"] = Field(
        description="'review': a published systematic review or meta-analysis whose table gives this study's "
                    "estimate; numbers taken from it are secondary (the study's own paper stays its citation).")
    url: WebUrl | None = None
    doi: str | None = None
    title: str | None = None
    note: str | None = Field(None, description="What was and was not visible in this source.")


class Version(Record):
    """Another version of the same study (e.g. the working paper of a journal article)."""

    kind: Literal["journal_article", "working_paper", "report", "thesis", "other"]
    year: int | None = None
    title: str | None = None
    venue: str | None = None
    doi: str | None = None
    url: WebUrl | None = None


class Value(Record):
    """Transfer value as reported."""

    amount: float | None = Field(None, gt=0)
    currency: str | None = Field(None, description="ISO 4217 code, e.g. USD, MXN.")
    period: Literal["month", "year", "bimonthly", "one_off", "week", "other"] | None = None
    usd_per_year: float | None = Field(None, gt=0, description="Only when the source states it (or its exchange rate).")
    share_of_consumption: float | None = Field(None, gt=0, le=1)
    quote: str | None = None
    source: str | None = None


class Intervention(Record):
    """One arm. Several arms are several interventions against a shared or separate control."""

    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    type: str = Field(json_schema_extra=_terms("interventions"), description="Taxonomy term; the family is derived.")
    label: str | None = None
    conditionality: Literal["none", "not_monitored", "monitored_enforced"] | None = None
    recipient: Literal["mother", "father", "household", "child", "other"] | None = None
    value: Value | None = None
    frequency: str | None = None
    duration_months: float | None = Field(None, gt=0)
    components: list[str] = Field(default_factory=list, description="Other taxonomy types combined in this arm.")
    description: str | None = None


class Programme(Record):
    name: str = Field(description="As the country calls it, e.g. 'Bono de Desarrollo Humano'.")
    countries: list[str] = Field(min_length=1, description="ISO 3166-1 alpha-3 codes.")
    setting: Literal["rural", "urban", "mixed"] | None = None
    implementer: Literal["government", "ngo", "academic", "private", "multilateral", "mixed"] | None = None
    start_year: int | None = None
    end_year: int | None = None
    scale: Literal["pilot", "regional", "national"] | None = None


class Design(Record):
    type: str = Field(json_schema_extra=_terms("designs"))
    unit: str | None = Field(None, description="Unit of assignment, e.g. village, household.")
    clusters: int | None = None
    follow_up_months: float | None = None
    notes: str | None = None


class Population(Record):
    age_min: float | None = None
    age_max: float | None = None
    sex: Literal["all", "girls", "boys"] = "all"
    n_treatment: int | None = None
    n_control: int | None = None
    n_total: int | None = None
    n_clusters: int | None = None
    baseline_prevalence: float | None = Field(None, description="Control-group child-labour prevalence (proportion 0-1).")
    description: str | None = None


class RiskOfBias(Record):
    """A risk-of-bias assessment with RoB 2 (randomised; ``rob2_cluster`` for cluster-randomised trials,
    which adds domain 1b) or ROBINS-I (non-randomised). A clearinghouse's rating of the *quality* of a
    study's evidence is not one: it goes in ``evidence_quality`` (the ``rob-not-quality`` rule)."""

    tool: str = Field(json_schema_extra={"enum": ["rob2", "rob2_cluster", "robins_i"]},
                      description="rob2, rob2_cluster (RoB 2 for cluster-randomised trials) or robins_i.")
    overall: str = Field(json_schema_extra=_terms("judgement"))
    domains: dict[str, str] = Field(default_factory=dict)
    reason: str | None = Field(None, description="One line: why this judgement.")
    source: str | None = Field(None, description="Source id or URL of the assessment (e.g. a review that assessed it).")
    quote: str | None = None
    answers: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Guided assessment: signalling-question answers per domain "
                                          "(Y, PY, PN, N, NI, NA), e.g. {randomisation: {'1.1': Y}}.")
    overrides: dict[str, str] = Field(
        default_factory=dict, description="A domain (or 'overall') whose judgement differs from the one the "
                                          "tool's algorithm proposes -> the coder's reason.")


class EvidenceQuality(Record):
    """A clearinghouse's rating of the quality of a study's causal evidence, as the clearinghouse gives it.

    Kept apart from ``risk_of_bias`` because the scales run opposite ways: US DOL CLEAR's *high* rating
    means strong causal evidence (so, if anything, a *low* risk of bias); printing it under "risk of
    bias" made an RCT at low risk read "high"."""

    rater: Literal["clear"] = Field(description="Who rated it: 'clear' (US DOL Clearinghouse for Labor "
                                                "Evaluation and Research).")
    rating: Literal["high", "moderate", "low"] = Field(
        description="The rater's own words: CLEAR's high / moderate / low quality of causal evidence.")
    source: str | None = Field(None, description="Id of the entry in `sources` holding the rating (the profile).")
    reason: str | None = Field(None, description="One line: what the rating rests on (e.g. the design CLEAR saw).")
    quote: str | None = None
    url: WebUrl | None = Field(None, description="The rating's web page, if not a listed source.")


class Resolution(Record):
    """How one disagreement between two independent coders was resolved."""

    field: str = Field(description="The field the coders disagreed on, e.g. 'effects[work].reported.se'.")
    kept: Literal["first", "second", "other"] = Field(description="Whose value the reconciled file keeps.")
    by: str = Field(description="Who resolved it.")
    note: str | None = None


class Coding(Record):
    status: Literal["mapped", "headline", "coded"]
    coder: str
    date: dt.date
    second_coder: str | None = Field(None, description="Who coded the study independently a second time.")
    reconciled: bool | None = Field(None, description="true once the two codings were reconciled into this file.")
    resolutions: list[Resolution] = Field(default_factory=list, description="Who resolved what, one per disagreement.")
    notes: str | None = None


class Subgroup(Record):
    sex: Literal["all", "girls", "boys"] = "all"
    age_min: float | None = None
    age_max: float | None = None
    label: str | None = Field(None, description="Other subgroup, e.g. 'working at baseline'.")


class Reported(Record):
    """What the source reports, exactly as reported (1 = treatment, 2 = control)."""

    form: Literal["coefficient", "means_sds", "counts", "proportions", "odds_ratio", "risk_ratio", "correlation"]
    estimate: float | None = None
    unit: Literal[
        "percentage_points", "proportion", "hours_per_week", "hours_per_day", "sd",
        "percent_relative", "odds_ratio", "risk_ratio", "correlation", "other",
    ] | None = None
    unit_note: str | None = Field(None, description="Unit ambiguity as found in the source.")
    se: float | None = None
    t: float | None = None
    p: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float = 0.95
    df: float | None = None
    significance: str | None = Field(None, description="Only stars/thresholds reported, e.g. 'p<0.05', 'n.s.'.")
    direction: Literal["decrease", "increase", "no_clear_change", "mixed"] | None = Field(
        None, description="The direction the source states in words for the outcome as measured (from the quote), "
                          "e.g. 'significantly reduced child labour' -> decrease; required when there is no estimate.")
    m1: float | None = None
    sd1: float | None = None
    n1: float | None = None
    m2: float | None = None
    sd2: float | None = None
    n2: float | None = None
    ai: float | None = None
    bi: float | None = None
    ci: float | None = None
    di: float | None = None
    p1: float | None = None
    p2: float | None = None
    r: float | None = None
    n: float | None = None
    se_clustered: bool | None = None
    avg_cluster_size: float | None = None
    icc: float | None = None
    icc_note: str | None = Field(None, description="Where the ICC comes from, or the stated assumption.")


class Provenance(Record):
    source: str = Field(description="Id of an entry in `sources`.")
    location: str | None = Field(None, description="Table, column, page.")
    quote: str = Field(description="Short verbatim quote or table cell (under 40 words).")
    coder: str | None = None
    date: dt.date | None = None


class Effect(Record):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    intervention: str = Field(description="Id of an entry in `interventions`.")
    outcome: str = Field(json_schema_extra=_terms("outcomes"))
    outcome_definition: str | None = Field(None, description="The study's own definition, in words.")
    sdg871: str = Field("unclear", json_schema_extra=_terms("sdg871_coverage"))
    subgroup: Subgroup = Field(default_factory=Subgroup)
    follow_up_months: float | None = None
    primary: bool = Field(False, description="One per study and outcome: full sample, longest follow-up, main spec.")
    comparison: str | None = Field(None, description="Control condition, if not the pure control.")
    reported: Reported
    provenance: Provenance


class Study(Record):
    """One evaluation report of one programme (versions of it are listed, not separate studies)."""

    id: str = Field(pattern=ID_PATTERN, description="Equals the file name, e.g. schady-2006-bdh.")
    title: str
    authors: list[str] = Field(min_length=1, description="'Family, Given' per author.")
    year: int
    publication_type: Literal["journal_article", "working_paper", "report", "thesis", "other"]
    venue: str | None = None
    doi: str | None = None
    url: WebUrl | None = None
    language: str = "en"
    versions: list[Version] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list, description="Ids of studies of the same programme/data.")
    not_duplicates: list[str] = Field(default_factory=list, description="Ids checked and found not to be duplicates.")
    programme: Programme
    interventions: list[Intervention] = Field(min_length=1)
    design: Design
    population: Population = Field(default_factory=Population)
    risk_of_bias: RiskOfBias | None = Field(None, description="RoB 2 / ROBINS-I assessment (not a clearinghouse rating).")
    evidence_quality: EvidenceQuality | None = Field(
        None, description="A clearinghouse's quality-of-evidence rating (e.g. CLEAR), apart from risk of bias.")
    coding: Coding
    sources: list[Source] = Field(min_length=1)
    effects: list[Effect] = Field(default_factory=list)
    abstract: str | None = None
    notes: str | None = None


def json_schema() -> dict:
    """The JSON Schema of a study file (committed as ``schema/study.schema.json``)."""
    schema = Study.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Child-labour evidence: study file"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
