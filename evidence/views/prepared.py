"""What the adviser's pages draw, prepared once per input and shared by every session of the process.

Why: with many readers on one server, a page run that only re-reads cached answers still rebuilt its
tables in words (:func:`evidence.synthesis.labels.readable`), filtered the gap map's cells, built and
validated its Altair charts and converted every table to Arrow -- the same work for every session,
about half of a warm run's server CPU (py-spy on ``benchmarks/bench_load.py``'s 20 sessions), held
under the GIL, so sessions queued behind each other. Here each of those is built once: a chart as the
Vega-Lite spec ``st.altair_chart`` would send (:func:`vega_lite_spec`), a table as an immutable Arrow
table (:func:`arrow_table`), a page's choices as tuples. The loaders (:mod:`evidence.views.loaders`)
cache these objects with ``st.cache_resource`` -- one copy, not a pickled copy per run -- which is
safe because nothing here is changed once built: pyarrow tables are immutable, the dataclasses are
frozen, the pages only read the tuples and dicts, and Streamlit copies a spec's top level before it
takes the datasets out (``tests/test_prepared.py`` checks a page run leaves them as built).

Nothing here computes an answer: every number comes from :mod:`evidence.synthesis`, as before."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from evidence import synthesis
from evidence.meta.result import MetaResult
from evidence.synthesis import charts, context
from evidence.synthesis.labels import readable
from evidence.synthesis.studies import effect_study_labels


def vega_lite_spec(chart) -> dict:
    """An Altair chart as the Vega-Lite spec ``st.altair_chart`` sends (its data as Arrow bytes in
    ``datasets``), made by Streamlit's own conversion, so ``st.vega_lite_chart(spec)`` draws exactly the
    chart ``st.altair_chart(chart)`` would. Why: building the Altair objects and Altair's schema
    validation in ``to_dict`` were half of a warm gap-map run's server CPU, repeated on every rerun of
    every session for the same catalogue and filters; a cached spec pays them once."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec  # pinned Streamlit (pyproject)

    return _convert_altair_to_vega_lite_spec(chart)


def arrow_table(table: pd.DataFrame) -> pa.Table:
    """A table as ``st.dataframe(..., hide_index=True)`` sends it: its columns as Arrow, no index.
    Immutable, so one copy serves every session; ``st.dataframe`` then only writes it out."""
    return pa.Table.from_pandas(table, preserve_index=False)


def readable_table(table: pd.DataFrame, unit: str | None = None, headers: dict | None = None) -> pa.Table:
    """``table`` in words (:func:`evidence.synthesis.labels.readable`) as an Arrow table."""
    return arrow_table(readable(table, unit, headers))


@dataclass(frozen=True)
class Figure:
    """A chart with its caption and its table alternative (the same numbers, headers in words)."""

    spec: dict  # Vega-Lite, its data as Arrow bytes (what st.altair_chart sends)
    height: int | str  # what st.altair_chart is given: the plot's height plus its axis title and legend
    caption: str
    table: pa.Table


def figure(chart, table: pd.DataFrame, caption: str, unit: str | None = None) -> Figure:
    """``chart`` and ``table`` prepared for :func:`evidence.views.components.show_figure`."""
    # Streamlit fits the whole chart (axes and legend included) into ``height``: give the plot its
    # own height plus room for the axis title and the legend below it.
    plot = chart.height if isinstance(getattr(chart, "height", None), int) else None
    return Figure(vega_lite_spec(chart), plot + 110 if plot else "content", caption, readable_table(table, unit))


def result_figures(result: MetaResult, unit_label: str) -> tuple[Figure, Figure, Figure]:
    """One result's forest plot, pooled-effect (posterior) plot and funnel plot."""
    forest = figure(charts.forest_chart(result, unit_label), charts.forest_data(result),
                    "Each study's own estimate (95% CI) and its shrunken estimate (95% CrI), the pooled effect and the "
                    "interval where a new programme's effect is expected (prediction).", unit_label)
    posterior = figure(charts.posterior_chart(result, unit_label), charts.posterior_data(result),
                       "Posterior density of the pooled effect (solid line) and of a new programme's effect (dashed line); "
                       "the bar is the pooled effect's 95% interval.", unit_label)
    yi = [s.yi for s in result.studies]
    vi = [s.vi for s in result.studies]
    pts, _ = charts.funnel_data(yi, vi, result.mu.mean)
    funnel = figure(charts.funnel_chart(yi, vi, result.mu.mean, unit_label), pts.assign(label=[s.label for s in result.studies]),
                    "Asymmetry (small studies on one side only) can signal publication bias; with few studies it is hard to judge.",
                    unit_label)
    return forest, posterior, funnel


HARVEST_CAPTION = ("Each bar is one effect, placed by the direction it points (with or without a number), the direction "
                   "the vote count counts; taller bars = lower risk of bias; colour = design; solid = statistically clear, "
                   "pale = not statistically clear, significance not stated, or no change/mixed as reported.")


def harvest_figure(harvest: pd.DataFrame) -> Figure:
    """The harvest plot of a cell that does not pool (``synthesis.harvest_table``'s rows)."""
    return figure(charts.harvest_chart(harvest), harvest, HARVEST_CAPTION, "reported unit")


def outcomes_by_intervention(rows: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Each intervention of ``rows`` with its outcomes, both in the order the rows give them, once each
    (the pages' intervention and outcome pickers)."""
    outcomes: dict[str, tuple[str, ...]] = {}
    for iv, oc in dict.fromkeys(zip(rows["intervention"], rows["outcome"])):
        outcomes[iv] = (*outcomes.get(iv, ()), oc)
    return outcomes


# -- the gap map page ----------------------------------------------------------------------------
GAP_MAP_TABLE = ["family_label", "intervention_label", "outcome_group_label", "outcome_label", "n_studies", "n_effects",
                 "n_pooled", "metric", "mean", "q025", "q975", "category", "designs", "any_harm"]


@dataclass(frozen=True)
class GapMapView:
    """What the gap map page shows of one filter set and prior, apart from its chart and chosen cell."""

    cells_with_evidence: int
    cells_pooled: int
    n_studies: int  # studies with at least one coded outcome under these filters
    interventions: tuple[str, ...]  # with evidence, in the map's order
    outcomes: dict[str, tuple[str, ...]]  # intervention -> its outcomes with evidence, in order
    height: int  # the map's frame (charts.gap_map_height)
    table: pa.Table  # the chart's table alternative (cells with evidence), in words

    def has(self, intervention, outcome) -> bool:
        return outcome in self.outcomes.get(intervention, ())


def gap_map_view(cells: pd.DataFrame, effects: pd.DataFrame) -> GapMapView:
    filled = cells[cells["n_studies"] > 0]
    outcomes = outcomes_by_intervention(filled)
    return GapMapView(len(filled), int((filled["n_pooled"] > 0).sum()), int(effects["study_id"].nunique()),
                      tuple(outcomes), outcomes, charts.gap_map_height(cells),
                      readable_table(filled[GAP_MAP_TABLE], "in the row's metric"))


# -- the What works page -------------------------------------------------------------------------
@dataclass(frozen=True)
class Choices:
    """The interventions of a filter set's effects, and each one's outcomes, in the catalogue's order
    (What works' two pickers)."""

    interventions: tuple[str, ...]
    outcomes: dict[str, tuple[str, ...]]


def choices(effects: pd.DataFrame) -> Choices:
    outcomes = outcomes_by_intervention(effects)
    return Choices(tuple(outcomes), outcomes)


@dataclass(frozen=True)
class CellChoices:
    """A cell's studies by name (the "Leave studies out" picker), its poolable metrics and main metric."""

    study_labels: dict[str, str]
    metrics: tuple[str, ...]
    main_metric: str | None


def cell_choices(effects: pd.DataFrame, intervention: str, outcome: str) -> CellChoices:
    cell = effects.loc[(effects["intervention"] == intervention) & (effects["outcome"] == outcome)]
    # one distinct name per study, as on the Studies page (two studies may share a citation)
    return CellChoices(effect_study_labels(cell), tuple(synthesis.poolable_metrics(cell)), synthesis.main_metric(cell))


SUBGROUP_COLUMNS = ("Subgroup", "Studies", "What the evidence says", "Out of 100 children")


@dataclass(frozen=True)
class WhatWorksView:
    """What the What works page draws of one cell's answer (``synthesis.what_works`` with these options),
    apart from the card's words: the pooled result's figures, or the harvest plot where nothing pools;
    the girls/boys/age table; the effect per US$100; the effects not pooled; the context pickers' levels."""

    result_figures: tuple[Figure, ...] = ()  # forest, posterior, funnel (a pooled result)
    harvest: Figure | None = None  # nothing pooled, effects to show
    subgroups: tuple[tuple, ...] = ()  # rows of SUBGROUP_COLUMNS
    per_100_message: str = ""
    per_100_table: pa.Table | None = None
    excluded: pa.Table | None = None
    context_levels: dict = field(default_factory=dict)


def what_works_view(ww: synthesis.WhatWorks, card: synthesis.AnswerCard) -> WhatWorksView:
    """The page's drawing of ``ww`` and its card (the subgroup rows come from the card, as in the summaries)."""
    unit = synthesis.metric_label(ww.metric)
    figures, harvest = (), None
    if ww.result is not None:
        figures = result_figures(ww.result, unit)
    else:
        rows = synthesis.harvest_table(ww.cell)
        harvest = harvest_figure(rows) if len(rows) else None
    per = context.per_100_dollars(ww.selected, ww.metric, ww.tau_prior)  # the exact data's, whichever model draws
    per_table = readable_table(per.table, unit, {"estimate": "Effect ({unit})"}) if len(per.table) else None
    subgroups = tuple((g.label, g.k, g.text, context.per_100_children(g.mean, g.q025, g.q975, card.metric, card.outcome_label) or "—")
                      for g in card.subgroups)
    excluded = None
    if len(ww.excluded):
        excluded = readable_table(ww.excluded[["citation", "effect_id", "subgroup_label", "metric", "estimate", "reason"]],
                                  "reported unit", {"reason": "Why not pooled"})
    levels = context.context_levels(ww.cell) if len(ww.cell) else {}
    return WhatWorksView(figures, harvest, subgroups, per.message, per_table, excluded, levels)
