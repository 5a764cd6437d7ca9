"""From a catalogue selection (filters + What-works options) to an :class:`EvidenceSummary`."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields

from evidence.catalog import bulk, queries
from evidence.summary.content import EvidenceSummary, build_summary
from evidence.synthesis.certainty import Override


def filters_text(filters: queries.Filters | None) -> list[str]:
    """The active filters in words (shown in every export)."""
    if filters is None:
        return []
    out = []
    for f in fields(filters):
        v = getattr(filters, f.name)
        if v in ((), None, False):
            continue
        label = f.name.replace("_", " ")
        out.append(label if v is True else f"{label}: {', '.join(map(str, v)) if isinstance(v, tuple) else v}")
    return out


def summarise(options, filters: queries.Filters | None = None, override: Override | None = None,
              engine=None, date: dt.date | None = None) -> EvidenceSummary:
    """Build the summary of ``options.intervention`` x ``options.outcome`` from the catalogue."""
    engine = engine or queries.connect()
    effects = queries.effects(filters, engine=engine)
    cell_ids = effects.loc[(effects["intervention"] == options.intervention) & (effects["outcome"] == options.outcome), "study_id"].unique()
    rob = bulk.rob_domains(cell_ids, engine=engine)
    return build_summary(effects, options, filters_text(filters), override=override,
                         catalog_version=queries.catalog_info(engine).get("catalog_version", "unknown"),
                         studies_df=queries.studies(engine=engine), rob_domains=rob, date=date)
