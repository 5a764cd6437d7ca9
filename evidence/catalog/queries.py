"""The one module that reads the catalogue: connection, filters and the tables the app and exports use.

Why one module: the app, the CLI, the exports and the meta-analysis all need "the effects matching
these filters" with the same column names; keeping the joins here means a schema change touches one
file. Filters are applied in SQL (portable SQLAlchemy expressions, so PostgreSQL works too); list
columns (countries, regions) are assembled in pandas because string aggregation is not portable.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from functools import lru_cache
from pathlib import Path

import pandas as pd
from sqlalchemy import and_, create_engine, func, or_, select, true
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from evidence.catalog import target
from evidence.catalog.filters import Filters, _effect_conds, _overlap, _study_conds
from evidence.catalog.models import (
    CatalogMeta,
    DesignRow,
    EffectRow as E,
    EvidenceQualityRow as Q,
    InterventionRow as I,
    PopulationRow as P,
    ProgrammeCountryRow as PC,
    ProgrammeRow,
    ProvenanceRow,
    RiskOfBiasRow as R,
    RobDomainRow,
    SourceRow,
    StudyLinkRow,
    StudyRow as S,
    VersionRow,
)
from evidence.direction import effect_direction, effect_leaning
from evidence.errors import CatalogError
from evidence.taxonomy import taxonomy

EFFECT_COLUMNS = [
    "study_id", "effect_id", "title", "authors", "first_author", "year", "citation", "doi", "url", "family",
    "intervention", "intervention_id", "intervention_label", "conditionality", "usd_per_year", "programme",
    "countries", "country_names", "regions", "design", "randomised", "outcome", "outcome_label", "outcome_group",
    "desirable", "sdg871", "subgroup_sex", "subgroup_age_min", "subgroup_age_max", "subgroup_label", "age_min",
    "age_max", "follow_up_months", "primary", "form", "estimate", "unit", "unit_note", "se", "p", "significance",
    "measure", "metric", "yi", "vi", "variance_imputed", "harmful", "direction", "reported_direction", "leaning",
    "secondary", "source_kind", "rob_tool", "rob_overall", "risk_of_bias", "quality_rater", "quality_rating",
    "coding_status", "source_id", "source_url", "location", "quote", "conversion_notes",
]
STUDY_COLUMNS = [
    "id", "citation", "title", "authors", "year", "publication_type", "venue", "doi", "url", "countries",
    "country_names", "regions", "design", "interventions", "families", "outcomes", "coding_status",
    "risk_of_bias", "rob_tool", "rob_overall", "quality_rater", "quality_rating", "n_effects",
]
#: engine -> SQLite file it reads, so cached results can follow rebuilds of that file
_FILES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: connect() memo: (resolved URL, read_only) -> engine, so a server URL gets one pool, not one per query
_ENGINES: dict[tuple[str, bool], Engine] = {}
_ENGINES_LOCK = threading.Lock()
#: cache key -> a caller's engine (not made by connect()) that reads it; weak: the caller owns the engine
_BY_KEY: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _resolve(url: str | Path | None) -> str:
    return target.resolve(url)


def _sqlite_file(url: str) -> Path | None:
    return target.sqlite_file(url)


def _server_engine(url: str, read_only: bool) -> Engine:
    """A pooled engine on a server database. PostgreSQL read-only engines open every transaction
    read-only (``default_transaction_read_only``); other server backends have no portable switch:
    point read-only users (the app) at a database role that has only SELECT rights."""
    kw = {}
    if read_only and make_url(url).get_backend_name() == "postgresql":
        kw["connect_args"] = {"options": "-c default_transaction_read_only=on"}
    return create_engine(url, pool_pre_ping=True, **kw)


def connect(url: str | Path | None = None, read_only: bool = True) -> Engine:
    """An engine on the catalogue: ``url`` (SQLAlchemy URL or a file path), else ``config.CATALOG_URL``,
    else the shipped ``catalog.db``. SQLite files are opened read-only (``mode=ro``) unless
    ``read_only=False``: the app must never write to the catalogue it ships with. PostgreSQL engines
    with ``read_only`` run read-only transactions; other server databases need a read-only role.

    Engines are memoised per (resolved URL, read_only): calling ``connect()`` per query reuses one pool."""
    url = _resolve(url)
    path = _sqlite_file(url)
    if path is not None and not path.is_file():
        raise CatalogError(f"catalogue not found at {path}: run `evidence build` to create it")
    with _ENGINES_LOCK:
        engine = _ENGINES.get((url, read_only))
        if engine is not None:
            return engine
        if path is None:
            engine = _server_engine(url, read_only)
        elif not read_only:
            engine = create_engine(url, poolclass=NullPool)
        else:
            uri = path.resolve().as_uri() + "?mode=ro"
            engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
                                   poolclass=NullPool)
        if path is not None:
            _FILES[engine] = path
        _ENGINES[(url, read_only)] = engine
        return engine


def _key(engine: Engine | None) -> str:
    """The cache key of a catalogue: always a string (caches never hold engines). The resolved URL;
    for an engine from :func:`connect` on a SQLite file, that file's URL; for any other engine its URL
    (password masked), remembered weakly so the cached query runs on the caller's engine."""
    if engine is None:
        return _resolve(None)
    path = _FILES.get(engine)
    if path is not None:
        return f"sqlite:///{path.resolve()}"
    key = str(engine.url)
    _BY_KEY[key] = engine
    return key


def _engine(key: str) -> Engine:
    """The engine for a cache key: the caller's engine registered by :func:`_key`, else :func:`connect`."""
    engine = _BY_KEY.get(key)
    return engine if engine is not None else connect(key)


def _stamp(key: str) -> tuple:
    """The catalogue's stamp (:func:`evidence.catalog.target.stamp`), read through the key's engine."""
    return target.stamp(key, engine=None if _sqlite_file(key) is not None else _engine(key))


def _where(engine: Engine) -> str:
    """The catalogue an engine reads, for messages: its SQLite file, else its URL (password masked)."""
    path = _FILES.get(engine)
    return f"sqlite:///{path}" if path is not None else str(engine.url)


def _frame(engine: Engine, stmt, columns: list[str] | None = None) -> pd.DataFrame:
    try:
        with engine.connect() as conn:
            res = conn.execute(stmt)
            return pd.DataFrame.from_records(list(res), columns=columns or list(res.keys()))
    except DBAPIError as exc:
        raise target.connection_error(exc, _where(engine)) from None


def _effect_from():
    """effect + its study, arm, design, programme, population, risk of bias, quality rating and provenance."""
    return (E.__table__.join(S, S.id == E.study_id)
            .outerjoin(I, and_(I.study_id == E.study_id, I.arm_id == E.intervention_id))
            .outerjoin(DesignRow, DesignRow.study_id == E.study_id)
            .outerjoin(ProgrammeRow, ProgrammeRow.study_id == E.study_id)
            .outerjoin(P, P.study_id == E.study_id)
            .outerjoin(R, R.study_id == E.study_id)
            .outerjoin(Q, Q.study_id == E.study_id)
            .outerjoin(ProvenanceRow, and_(ProvenanceRow.study_id == E.study_id, ProvenanceRow.effect_id == E.effect_id))
            .outerjoin(SourceRow, and_(SourceRow.study_id == E.study_id, SourceRow.source_id == ProvenanceRow.source_id)))


@lru_cache(maxsize=8)
def _countries(key: str, stamp) -> pd.DataFrame:
    """study_id -> countries, country_names, regions (comma-separated, in coded order), once per catalogue
    (``stamp``): the same for every filter set, and half the cost of a new filter set's query."""
    engine = _engine(key)
    df = _frame(engine, select(PC.study_id, PC.iso3, PC.name, PC.region).order_by(PC.study_id, PC.seq))
    join = lambda s: ", ".join(dict.fromkeys(x for x in s if x))  # noqa: E731
    if df.empty:
        return pd.DataFrame(columns=["countries", "country_names", "regions"], index=pd.Index([], name="study_id"))
    return df.groupby("study_id", sort=True).agg(countries=("iso3", join), country_names=("name", join),
                                                 regions=("region", join))


@lru_cache(maxsize=32)
def _effects_cached(key: str, stamp, f: Filters) -> pd.DataFrame:
    """The effects matching ``f``: the database selects which (the filters are SQL, the one definition
    of every filter on both back ends), and their rows are taken from the whole catalogue's effects,
    built once per stamp (:func:`_all_effects`), so a new filter set costs a query of keys, not the
    building of its rows again (half of a new filter set's run on the explorer's pages)."""
    every = _all_effects(key, stamp)
    if f == Filters():
        return every
    stmt = select(E.study_id, E.effect_id).select_from(_effect_from()).where(*_effect_conds(f))
    keys = set(map(tuple, _frame(_engine(key), stmt).itertuples(index=False)))
    keep = [k in keys for k in zip(every["study_id"], every["effect_id"])]
    return every[keep].reset_index(drop=True)


@lru_cache(maxsize=4)
def _all_effects(key: str, stamp) -> pd.DataFrame:
    """Every effect of the catalogue with its study, arm, design, programme, population, risk of bias,
    quality rating, provenance and derived columns (see :func:`effects`), in study and coded order."""
    f = Filters()
    engine = _engine(key)
    cols = [E.study_id, E.effect_id, S.title, S.authors, S.first_author, S.year, S.citation, S.doi, S.url,
            I.family, I.type.label("intervention"), E.intervention_id, I.label.label("arm_label"), I.conditionality,
            I.usd_per_year, ProgrammeRow.name.label("programme"), DesignRow.type.label("design"),
            DesignRow.randomised, DesignRow.follow_up_months.label("design_follow_up"), E.outcome, E.outcome_group,
            E.desirable, E.sdg871, E.subgroup_sex, E.subgroup_age_min, E.subgroup_age_max, E.subgroup_label,
            P.age_min, P.age_max, E.follow_up_months, E.is_primary.label("primary"), E.form, E.estimate, E.unit,
            E.unit_note, E.se, E.p, E.significance, E.direction.label("reported_direction"), E.measure, E.metric, E.yi, E.vi, E.variance_imputed,
            R.tool.label("rob_tool"), R.overall.label("rob_overall"), R.level.label("risk_of_bias"),
            Q.rater.label("quality_rater"), Q.rating.label("quality_rating"),
            S.coding_status, ProvenanceRow.source_id, SourceRow.url.label("source_url"), SourceRow.kind.label("source_kind"), ProvenanceRow.location,
            ProvenanceRow.quote, E.conversion_notes]
    stmt = select(*cols).select_from(_effect_from()).where(*_effect_conds(f)).order_by(E.study_id, E.seq)
    df = _frame(engine, stmt)
    df = df.join(_countries(key, stamp), on="study_id")
    tax = taxonomy()
    df["intervention_label"] = [a if isinstance(a, str) and a else tax.interventions.get(t, {}).get("label", t)
                                for a, t in zip(df["arm_label"], df["intervention"])]
    df["outcome_label"] = [tax.outcomes.get(o, {}).get("label", o) for o in df["outcome"]]
    df["follow_up_months"] = df["follow_up_months"].astype("float64").fillna(df["design_follow_up"].astype("float64"))
    for c in ("primary", "randomised", "variance_imputed"):
        df[c] = df[c].astype(bool)
    for c in ("yi", "vi", "estimate", "se", "p", "usd_per_year", "age_min", "age_max",
              "subgroup_age_min", "subgroup_age_max"):
        df[c] = df[c].astype("float64")
    df["direction"] = pd.Series([effect_direction(y, v, s, i, d, r) for y, v, s, i, d, r in
                                 zip(df["yi"], df["vi"], df["significance"], df["variance_imputed"], df["desirable"],
                                     df["reported_direction"])], index=df.index, dtype=object)
    df["leaning"] = pd.Series([effect_leaning(y, d, r) for y, d, r in zip(df["yi"], df["desirable"], df["reported_direction"])],
                              index=df.index, dtype=object)
    # A number taken from a published review's table (a source of kind "review") is secondary.
    df["secondary"] = df["source_kind"].eq("review").fillna(False).astype(bool)
    df["harmful"] = pd.array([None if d is None else d == "worsens" for d in df["direction"]], dtype="boolean")
    return df[EFFECT_COLUMNS].reset_index(drop=True)


def effects(filters: Filters | None = None, engine: Engine | None = None) -> pd.DataFrame:
    """One row per effect matching ``filters`` (columns :data:`EFFECT_COLUMNS`), ordered by study and
    coded order. ``estimate``/``se``/``p``/``significance``/``unit`` are as reported; ``yi``/``vi`` are
    derived (``vi`` NaN for a headline estimate); ``age_min``/``age_max`` are the population's,
    ``subgroup_*`` the effect's; ``follow_up_months`` falls back to the design's; ``risk_of_bias`` is
    the common level of a RoB 2 / ROBINS-I assessment (``rob_overall`` the tool's words), never derived
    from a clearinghouse's rating, which is ``quality_rating`` (by ``quality_rater``: CLEAR's high /
    moderate / low quality of causal evidence); ``direction`` is "improves" / "worsens" /
    "unclear" (None without yi or a known desirable direction), the one rule of
    :func:`evidence.direction.effect_direction`; ``harmful`` is ``direction == "worsens"`` (NA where
    ``direction`` is None)."""
    key = _key(engine)
    return _effects_cached(key, _stamp(key), filters or Filters()).copy()


@lru_cache(maxsize=32)
def _studies_cached(key: str, stamp, f: Filters) -> pd.DataFrame:
    engine = _engine(key)
    base = (S.__table__.outerjoin(DesignRow, DesignRow.study_id == S.id).outerjoin(R, R.study_id == S.id)
            .outerjoin(Q, Q.study_id == S.id))
    conds = _study_conds(f)
    if f.effect_level():
        conds.append(S.id.in_(select(E.study_id).select_from(_effect_from()).where(*_effect_conds(f)).correlate(None)))
    else:
        arm = []
        if f.families:
            arm.append(I.family.in_(f.families))
        if f.interventions:
            arm.append(I.type.in_(f.interventions))
        if arm:
            conds.append(S.id.in_(select(I.study_id).where(*arm)))
        ages = _overlap(P.age_min, P.age_max, f)
        if ages:
            conds.append(or_(S.id.not_in(select(P.study_id)), S.id.in_(select(P.study_id).where(*ages))))
    stmt = (select(S.id, S.citation, S.title, S.authors, S.year, S.publication_type, S.venue, S.doi, S.url,
                   DesignRow.type.label("design"), S.coding_status, R.level.label("risk_of_bias"),
                   R.tool.label("rob_tool"), R.overall.label("rob_overall"), Q.rater.label("quality_rater"),
                   Q.rating.label("quality_rating")).select_from(base).where(*conds).order_by(S.id))
    df = _frame(engine, stmt).join(_countries(key, stamp), on="id")
    arms = _frame(engine, select(I.study_id, I.type, I.family).order_by(I.study_id, I.seq))
    outs = _frame(engine, select(E.study_id, E.outcome).order_by(E.study_id, E.seq))
    n = _frame(engine, select(E.study_id, func.count().label("n")).select_from(_effect_from())
               .where(*_effect_conds(f)).group_by(E.study_id))
    join = lambda s: ", ".join(dict.fromkeys(x for x in s if x))  # noqa: E731
    for name, frame, col in (("interventions", arms, "type"), ("families", arms, "family"), ("outcomes", outs, "outcome")):
        df[name] = df["id"].map(frame.groupby("study_id")[col].agg(join)).fillna("")
    df["n_effects"] = df["id"].map(dict(zip(n["study_id"], n["n"]))).fillna(0).astype(int)
    return df.reindex(columns=STUDY_COLUMNS).reset_index(drop=True)


def studies(filters: Filters | None = None, engine: Engine | None = None) -> pd.DataFrame:
    """One row per study matching ``filters`` (columns :data:`STUDY_COLUMNS`), sorted by id. With
    effect-level filters a study is kept when one of its effects matches; ``n_effects`` counts those."""
    key = _key(engine)
    return _studies_cached(key, _stamp(key), filters or Filters()).copy()


def _records(conn, model, study_id: str, order) -> list[dict]:
    rows = conn.execute(select(model.__table__).where(model.study_id == study_id).order_by(*order)).mappings()
    return [{k: v for k, v in r.items() if k != "study_id"} for r in rows]


def study(study_id: str, engine: Engine | None = None) -> dict:
    """Everything about one study: its fields plus programme, countries, design, population,
    interventions, risk of bias (with domains), evidence quality (a clearinghouse's rating), sources, versions, links and effects (with provenance)."""
    engine = engine or connect()
    try:
        with engine.connect() as conn:
            row = conn.execute(select(S.__table__).where(S.id == study_id)).mappings().one_or_none()
            if row is None:
                raise CatalogError(f"no study '{study_id}' in the catalogue")
            out = dict(row)
            one = lambda m: (_records(conn, m, study_id, [m.study_id]) or [None])[0]  # noqa: E731
            out["programme"] = one(ProgrammeRow)
            out["countries"] = _records(conn, PC, study_id, [PC.seq])
            out["design"] = one(DesignRow)
            out["population"] = one(P)
            out["risk_of_bias"] = one(R)
            if out["risk_of_bias"] is not None:
                out["risk_of_bias"]["domains"] = _records(conn, RobDomainRow, study_id, [RobDomainRow.domain])
            out["evidence_quality"] = one(Q)
            out["interventions"] = _records(conn, I, study_id, [I.seq])
            out["sources"] = _records(conn, SourceRow, study_id, [SourceRow.seq])
            out["versions"] = _records(conn, VersionRow, study_id, [VersionRow.seq])
            out["links"] = _records(conn, StudyLinkRow, study_id, [StudyLinkRow.kind, StudyLinkRow.other_id])
            prov = {p["effect_id"]: p for p in _records(conn, ProvenanceRow, study_id, [ProvenanceRow.effect_id])}
            effs = _records(conn, E, study_id, [E.seq])
    except DBAPIError as exc:
        raise target.connection_error(exc, _where(engine)) from None
    for e in effs:
        e["primary"] = e.pop("is_primary")
        e["provenance"] = {k: v for k, v in prov.get(e["effect_id"], {}).items() if k != "effect_id"}
    out["effects"] = effs
    return out


def facets(engine: Engine | None = None) -> dict[str, list]:
    """Distinct values present in the catalogue, for filter widgets (sorted)."""
    engine = engine or connect()
    spec = {"families": I.family, "interventions": I.type, "outcomes": E.outcome, "outcome_groups": E.outcome_group,
            "countries": PC.iso3, "regions": PC.region, "designs": DesignRow.type, "rob_levels": R.level,
            "rob_tools": R.tool, "quality_ratings": Q.rating, "coding_status": S.coding_status, "sex": E.subgroup_sex, "years": S.year,
            "metrics": E.metric}
    out = {}
    for name, col in spec.items():
        df = _frame(engine, select(col).where(col.is_not(None)).distinct(), ["v"])
        out[name] = sorted(df["v"].tolist())
    return out


def catalog_info(engine: Engine | None = None) -> dict:
    """Build facts (catalog_version, studies_hash, schema_version, package versions) and row counts."""
    engine = engine or connect()
    info = dict(_frame(engine, select(CatalogMeta.key, CatalogMeta.value).order_by(CatalogMeta.key)).values.tolist())
    count = lambda stmt: int(_frame(engine, stmt, ["n"])["n"].iloc[0])  # noqa: E731
    info["counts"] = {
        "studies": count(select(func.count()).select_from(S)),
        "effects": count(select(func.count()).select_from(E)),
        "effects_with_variance": count(select(func.count()).select_from(E).where(E.vi.is_not(None))),
        "effects_imputed": count(select(func.count()).select_from(E).where(E.variance_imputed == true())),
        "interventions": count(select(func.count()).select_from(I)),
        "sources": count(select(func.count()).select_from(SourceRow)),
        "countries": count(select(func.count(PC.iso3.distinct()))),
    }
    by = _frame(engine, select(S.coding_status, func.count()).group_by(S.coding_status).order_by(S.coding_status), ["s", "n"])
    info["counts"]["by_status"] = {s: int(n) for s, n in zip(by["s"], by["n"])}
    return info


def clear_cache() -> None:
    """Forget cached query results (needed only for server databases rebuilt in place)."""
    for cached in (_effects_cached, _all_effects, _studies_cached, _countries):
        cached.cache_clear()


__all__ = ["EFFECT_COLUMNS", "STUDY_COLUMNS", "Filters", "catalog_info", "clear_cache", "connect", "effects",
           "facets", "studies", "study"]
