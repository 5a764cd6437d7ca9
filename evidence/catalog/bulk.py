"""Bulk reads of the catalogue: one query for many studies (never one query per study), for the pages,
the summaries and the coding queue. Split from ``queries`` (which owns the filtered effect and study
tables) so each module stays one idea."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from evidence.catalog.models import DesignRow, PopulationRow as P, ProgrammeRow, RobDomainRow, SourceRow, StudyRow as S
from evidence.catalog.queries import _frame, connect


def programme_names(engine: Engine | None = None) -> dict[str, str]:
    """Study id -> programme name, for every study with a named programme (one query, not one per study)."""
    df = _frame(engine or connect(), select(ProgrammeRow.study_id, ProgrammeRow.name).where(ProgrammeRow.name.is_not(None)),
                ["study_id", "name"])
    return {sid: str(name) for sid, name in zip(df["study_id"], df["name"]) if name}


def rob_domains(study_ids, engine: Engine | None = None) -> dict[str, dict[str, str]]:
    """Study id -> {risk-of-bias domain: judgement} for ``study_ids`` (one query, not one per study);
    studies without domains map to an empty dict."""
    ids = list(dict.fromkeys(study_ids))
    out: dict[str, dict[str, str]] = {sid: {} for sid in ids}
    if not ids:
        return out
    df = _frame(engine or connect(), select(RobDomainRow.study_id, RobDomainRow.domain, RobDomainRow.judgement)
                .where(RobDomainRow.study_id.in_(ids)).order_by(RobDomainRow.study_id, RobDomainRow.domain),
                ["study_id", "domain", "judgement"])
    for sid, domain, judgement in df.itertuples(index=False):
        out[sid][domain] = judgement
    return out


def coding_facts(engine: Engine | None = None) -> pd.DataFrame:
    """One row per study (sorted by id) with what the coding queue reads beyond :func:`studies` and
    :func:`effects`, in three queries rather than one :func:`study` call per study: ``coding_notes``,
    the programme's ``scale``, the population's ``population_sex``, ``n_total``, ``n_treatment``,
    ``n_control``, the design's ``clusters``, and ``sources`` (a list of dicts with kind, url, doi,
    title and note, in coded order)."""
    engine = engine or connect()
    base = (S.__table__.outerjoin(ProgrammeRow, ProgrammeRow.study_id == S.id).outerjoin(P, P.study_id == S.id)
            .outerjoin(DesignRow, DesignRow.study_id == S.id))
    df = _frame(engine, select(S.id, S.coding_notes, ProgrammeRow.scale, P.sex.label("population_sex"), P.n_total,  # type: ignore[misc]
                               P.n_treatment, P.n_control, DesignRow.clusters).select_from(base).order_by(S.id))
    src = _frame(engine, select(SourceRow.study_id, SourceRow.kind, SourceRow.url, SourceRow.doi, SourceRow.title,
                                SourceRow.note).order_by(SourceRow.study_id, SourceRow.seq))
    by = {sid: part.drop(columns="study_id").to_dict("records") for sid, part in src.groupby("study_id", sort=False)}
    df["sources"] = [by.get(sid, []) for sid in df["id"]]
    return df


