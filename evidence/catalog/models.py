"""The catalogue's tables (SQLModel), normalised one table per kind of fact.

Why normalised: filters ("studies in Sub-Saharan Africa with a cluster RCT and a girls' subgroup")
become plain joins, and the same schema works on SQLite (shipped with the repo, read-only to the app)
and on PostgreSQL (``config.CATALOG_URL``). Only portable column types are used; composite primary
keys use the study id plus the local id from the study file, so no surrogate keys depend on insert
order. Everything derived (family, outcome group, common risk level, yi/vi) is computed at build time
from the taxonomy and ``evidence.effectsize``; nothing here is typed in by a coder.
"""

from __future__ import annotations

import datetime as dt
import typing

from sqlalchemy import Column, ForeignKey, Text
from sqlmodel import AutoString, Field, SQLModel

from evidence.schema import Reported

#: Bump when a table or column changes meaning; stored in ``catalog_meta``.
SCHEMA_VERSION = "2"


def _text(nullable: bool = True) -> Column:
    return Column(Text, nullable=nullable)


def _study_fk() -> Column:
    return Column(AutoString, ForeignKey("study.id"), primary_key=True)


class CatalogMeta(SQLModel, table=True):
    """Key/value facts about the build: schema_version, studies_hash, catalog_version, versions."""

    __tablename__ = "catalog_meta"
    key: str = Field(primary_key=True)
    value: str | None = None


class StudyRow(SQLModel, table=True):
    __tablename__ = "study"
    id: str = Field(primary_key=True)
    title: str = Field(sa_column=_text(False))
    authors: str  # "Family, Given; Family, Given" as coded
    first_author: str  # family name of the first author
    citation: str  # "Gee (2010)", "Schady & Araujo (2006)", "Attanasio et al. (2010)"
    year: int = Field(index=True)
    publication_type: str
    venue: str | None = None
    doi: str | None = None
    url: str | None = None
    language: str | None = None
    coding_status: str = Field(index=True)
    coder: str | None = None
    coding_date: dt.date | None = None
    second_coder: str | None = None
    reconciled: bool | None = None
    coding_notes: str | None = Field(default=None, sa_column=_text())
    abstract: str | None = Field(default=None, sa_column=_text())
    notes: str | None = Field(default=None, sa_column=_text())
    file_name: str
    file_hash: str  # SHA-256 of the study file's bytes


class VersionRow(SQLModel, table=True):
    """Other versions of the same study (working paper of a journal article...)."""

    __tablename__ = "version"
    study_id: str = Field(sa_column=_study_fk())
    seq: int = Field(primary_key=True)
    kind: str
    year: int | None = None
    title: str | None = Field(default=None, sa_column=_text())
    venue: str | None = None
    doi: str | None = None
    url: str | None = None


class StudyLinkRow(SQLModel, table=True):
    """``link``: same programme/data (never pooled as independent); ``not_duplicate``: checked apart."""

    __tablename__ = "study_link"
    study_id: str = Field(sa_column=_study_fk())
    other_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)


class ProgrammeRow(SQLModel, table=True):
    __tablename__ = "programme"
    study_id: str = Field(sa_column=_study_fk())
    name: str
    setting: str | None = None
    implementer: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    scale: str | None = None


class ProgrammeCountryRow(SQLModel, table=True):
    __tablename__ = "programme_country"
    study_id: str = Field(sa_column=_study_fk())
    iso3: str = Field(primary_key=True, index=True)
    seq: int  # order as coded (the first country is the main one)
    name: str | None = None
    region: str | None = Field(default=None, index=True)


class InterventionRow(SQLModel, table=True):
    """One arm; ``family`` is derived from the taxonomy."""

    __tablename__ = "intervention"
    study_id: str = Field(sa_column=_study_fk())
    arm_id: str = Field(primary_key=True)
    seq: int
    type: str = Field(index=True)
    family: str | None = Field(default=None, index=True)
    label: str | None = None
    conditionality: str | None = None
    recipient: str | None = None
    value_amount: float | None = None
    value_currency: str | None = None
    value_period: str | None = None
    usd_per_year: float | None = None
    share_of_consumption: float | None = None
    value_quote: str | None = Field(default=None, sa_column=_text())
    value_source: str | None = None
    frequency: str | None = None
    duration_months: float | None = None
    components: str | None = None  # comma-separated taxonomy types
    description: str | None = Field(default=None, sa_column=_text())


class DesignRow(SQLModel, table=True):
    __tablename__ = "design"
    study_id: str = Field(sa_column=_study_fk())
    type: str = Field(index=True)
    randomised: bool
    unit: str | None = None
    clusters: int | None = None
    follow_up_months: float | None = None
    notes: str | None = Field(default=None, sa_column=_text())


class PopulationRow(SQLModel, table=True):
    __tablename__ = "population"
    study_id: str = Field(sa_column=_study_fk())
    age_min: float | None = None
    age_max: float | None = None
    sex: str = "all"
    n_treatment: int | None = None
    n_control: int | None = None
    n_total: int | None = None
    n_clusters: int | None = None
    baseline_prevalence: float | None = None
    description: str | None = Field(default=None, sa_column=_text())


class RiskOfBiasRow(SQLModel, table=True):
    """A RoB 2 / ROBINS-I assessment: ``overall`` in the tool's words; ``level`` the common
    low/moderate/high/unclear for filters (clearinghouse ratings are :class:`EvidenceQualityRow`)."""

    __tablename__ = "risk_of_bias"
    study_id: str = Field(sa_column=_study_fk())
    tool: str
    overall: str
    level: str | None = Field(default=None, index=True)
    reason: str | None = Field(default=None, sa_column=_text())
    source: str | None = None
    quote: str | None = Field(default=None, sa_column=_text())


class EvidenceQualityRow(SQLModel, table=True):
    """A clearinghouse's quality-of-evidence rating in its own words (``rating``: CLEAR's high / moderate /
    low). Its own table, never a risk level: a high quality rating is not a high risk of bias."""

    __tablename__ = "evidence_quality"
    study_id: str = Field(sa_column=_study_fk())
    rater: str
    rating: str = Field(index=True)
    reason: str | None = Field(default=None, sa_column=_text())
    source: str | None = None
    quote: str | None = Field(default=None, sa_column=_text())
    url: str | None = None


class RobDomainRow(SQLModel, table=True):
    __tablename__ = "rob_domain"
    study_id: str = Field(sa_column=_study_fk())
    domain: str = Field(primary_key=True)
    judgement: str
    level: str | None = None


class SourceRow(SQLModel, table=True):
    __tablename__ = "source"
    study_id: str = Field(sa_column=_study_fk())
    source_id: str = Field(primary_key=True)
    seq: int
    kind: str
    url: str | None = None
    doi: str | None = None
    title: str | None = Field(default=None, sa_column=_text())
    note: str | None = Field(default=None, sa_column=_text())


def _sql_type(annotation):
    """The column type of a ``schema.Reported`` field: its Python type without None; a Literal is text."""
    if typing.get_origin(annotation) is typing.Literal:
        return str
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    base = args[0]
    return str if typing.get_origin(base) is typing.Literal else base


def _reported_namespace() -> dict:
    """Columns for what a source reports, derived from ``schema.Reported`` (one definition: a field added
    to the study file's schema is a column of the ``effect`` table, never restated by hand)."""
    ann, ns = {}, {}
    for name, info in Reported.model_fields.items():
        base = _sql_type(info.annotation)
        if info.is_required():
            ann[name] = base
        else:
            ann[name] = base | None
            ns[name] = Field(default=None, sa_column=_text()) if name.endswith("_note") else None
    ns["__annotations__"] = ann
    ns["__doc__"] = "What the source reports, exactly as coded (columns derived from ``schema.Reported``)."
    return ns


ReportedColumns = type("ReportedColumns", (SQLModel,), _reported_namespace())


class EffectRow(ReportedColumns, table=True):  # type: ignore[misc,valid-type,call-arg]  # a base built from the schema
    """One reported result: what the source says (as reported) and what the build derived."""

    __tablename__ = "effect"
    study_id: str = Field(sa_column=_study_fk())
    effect_id: str = Field(primary_key=True)
    seq: int
    intervention_id: str = Field(index=True)
    outcome: str = Field(index=True)
    outcome_group: str | None = Field(default=None, index=True)
    desirable: str | None = None
    outcome_definition: str | None = Field(default=None, sa_column=_text())
    sdg871: str | None = None
    comparison: str | None = None
    subgroup_sex: str = "all"
    subgroup_age_min: float | None = None
    subgroup_age_max: float | None = None
    subgroup_label: str | None = None
    follow_up_months: float | None = None
    is_primary: bool = False
    # derived at build time
    yi: float | None = None
    vi: float | None = None
    se_derived: float | None = None
    measure: str | None = None
    metric: str | None = None
    variance_imputed: bool = False
    conversion_notes: str | None = Field(default=None, sa_column=_text())  # "; "-joined, in order


class ProvenanceRow(SQLModel, table=True):
    """Where an effect's number comes from (a number without provenance is not coded)."""

    __tablename__ = "provenance"
    study_id: str = Field(sa_column=_study_fk())
    effect_id: str = Field(primary_key=True)
    source_id: str
    location: str | None = Field(default=None, sa_column=_text())
    quote: str = Field(sa_column=_text(False))
    coder: str | None = None
    date: dt.date | None = None


#: Tables in insert order (parents first, for databases that enforce foreign keys).
TABLES = [
    CatalogMeta, StudyRow, VersionRow, StudyLinkRow, ProgrammeRow, ProgrammeCountryRow,
    InterventionRow, DesignRow, PopulationRow, RiskOfBiasRow, RobDomainRow, EvidenceQualityRow, SourceRow,
    EffectRow, ProvenanceRow,
]
