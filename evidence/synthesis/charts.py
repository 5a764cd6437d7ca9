"""Altair specifications of the explorer's charts, reusable by the exports (vl-convert renders them).

Every chart has a ``*_data`` twin returning the exact table it plots, so each chart can be paired
with a table alternative. Colours are the Okabe-Ito palette (safe for colour-blind readers); where
colour carries meaning, shape or position carries it too.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from evidence.meta.result import MetaResult
from evidence.synthesis.harvest import LEANING_LABELS

OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999"}
CATEGORY_COLOURS = {
    "Improves (95% CrI excludes no effect)": OKABE_ITO["blue"],
    "Leans to improvement (80–97.5%)": OKABE_ITO["sky"],
    "Unclear direction": OKABE_ITO["grey"],
    "Leans to harm (80–97.5%)": OKABE_ITO["orange"],
    "Worsens (95% CrI excludes no effect)": OKABE_ITO["vermillion"],
    "Not pooled: randomised designs": OKABE_ITO["black"],
    "Not pooled: non-randomised designs": OKABE_ITO["yellow"],
    "Not pooled: mixed designs": OKABE_ITO["purple"],
}
#: A second channel for direction (colour-blind safe, and in print): a sign beside each pooled bubble of the
#: gap map and before its colour in the legend; nothing for a cell not pooled (its colour is the design mix).
DIRECTION_SIGNS = {
    "Improves (95% CrI excludes no effect)": "++",
    "Leans to improvement (80–97.5%)": "+",
    "Unclear direction": "?",
    "Leans to harm (80–97.5%)": "−",
    "Worsens (95% CrI excludes no effect)": "−−",
}
Z = 1.959963984540054
#: A second channel for certainty (colour-blind safe): shape by the GRADE rating of the pooled answer.
CERTAINTY_SHAPES = {"Certainty: high": "circle", "Certainty: moderate": "square", "Certainty: low": "triangle-up",
                    "Certainty: very low": "triangle-down", "Not pooled": "diamond"}
CERTAINTY_SHAPES_DOMAIN = list(CERTAINTY_SHAPES)
CERTAINTY_SHAPES_RANGE = list(CERTAINTY_SHAPES.values())



def described(words: Callable[..., str]):
    """Give the chart a chart function returns a ``description``, made by ``words`` from the function's own
    arguments. Vega writes it as the aria-label of the chart's frame (role graphics-document), so a screen
    reader names the chart and says where its table alternative is, instead of meeting an unnamed graphic.
    A decorator, so that what a chart says about itself sits next to it without touching how it is drawn."""
    def wrap(chart_fn):
        @functools.wraps(chart_fn)
        def chart(*args, **kwargs):
            return chart_fn(*args, **kwargs).properties(description=words(*args, **kwargs))
        return chart
    return wrap


def _unit(unit_label: str) -> str:
    return f" ({unit_label})" if unit_label else ""


TABLE_ALTERNATIVE = "The table of this chart, below it, lists the same numbers."

# -- forest -------------------------------------------------------------------------------------
def forest_data(result: MetaResult) -> pd.DataFrame:
    """Each study (observed with 95% CI; shrunken with 95% CrI), then the pooled effect and the prediction interval."""
    rows = []
    for s in result.studies:
        se = math.sqrt(s.vi)
        rows.append({"row": s.label, "kind": "Study (observed)", "estimate": s.yi, "lower": s.yi - Z * se,
                     "upper": s.yi + Z * se, "weight": s.weight})
        if s.shrunken_mean is not None:
            rows.append({"row": s.label, "kind": "Study (shrunken)", "estimate": s.shrunken_mean,
                         "lower": s.shrunken_q025, "upper": s.shrunken_q975, "weight": None})
    rows.append({"row": "Pooled effect", "kind": "Pooled", "estimate": result.mu.mean, "lower": result.mu.q025,
                 "upper": result.mu.q975, "weight": None})
    if result.theta_new is not None and result.theta_new.q025 is not None:
        rows.append({"row": "New programme (prediction)", "kind": "Prediction interval", "estimate": result.theta_new.mean,
                     "lower": result.theta_new.q025, "upper": result.theta_new.q975, "weight": None})
    return pd.DataFrame(rows)


@described(lambda result, unit_label="", title=None: (
    f"Forest plot of {len(result.studies)} studies{_unit(unit_label)}: each study's estimate with its 95% interval, "
    f"the pooled effect and the interval for a new programme. {TABLE_ALTERNATIVE}"))
def forest_chart(result: MetaResult, unit_label: str = "", title: str | None = None) -> alt.Chart:
    """Rows top to bottom: each study (observed, then shrunken just below), the pooled effect, the
    prediction interval. Positions are numeric (row index plus a small offset), so the chart keeps its
    shape at any container size; the axis labels come from the row names."""
    d = forest_data(result)
    order = list(dict.fromkeys(d["row"]))
    kinds = ["Study (observed)", "Study (shrunken)", "Pooled", "Prediction interval"]
    colours = [OKABE_ITO["black"], OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["orange"]]
    shapes = ["square", "circle", "diamond", "triangle-up"]
    d["y"] = [-order.index(r) - (0.3 if k == "Study (shrunken)" else 0.0) for r, k in zip(d["row"], d["kind"])]
    labels = "{" + ",".join(f"'{-i}': {json.dumps(r)}" for i, r in enumerate(order)) + "}"
    xtitle = f"Effect ({unit_label})" if unit_label else "Effect"
    x = alt.X("estimate:Q", title=xtitle)
    y = alt.Y("y:Q", title=None, scale=alt.Scale(domain=[-len(order) + 0.4, 0.6], nice=False),
              axis=alt.Axis(values=[-i for i in range(len(order))], labelExpr=f"{labels}[datum.value]",
                            labelLimit=170, grid=False, ticks=False))
    # Colour and shape both name the row's kind (a second channel for colour-blind readers), and share
    # one legend, so each legend entry shows the symbol the chart draws. Two legend columns fit a
    # phone's width (one row of four is cut to its first item there).
    legend = alt.Legend(orient="bottom", columns=2, labelLimit=170)
    colour = alt.Color("kind:N", scale=alt.Scale(domain=kinds, range=colours), title=None, legend=legend)
    tooltip = [alt.Tooltip("row:N", title="Row"), alt.Tooltip("kind:N", title="What"), alt.Tooltip("estimate:Q", format=".3f"),
               alt.Tooltip("lower:Q", format=".3f", title="2.5%"), alt.Tooltip("upper:Q", format=".3f", title="97.5%")]
    # The chart carries the columns it draws (the weights are in the table alternative, forest_data).
    base = alt.Chart(d.drop(columns="weight")).encode(y=y, color=colour, tooltip=tooltip)
    # The prediction interval (where a new programme's effect is expected) is dashed: it is no estimate's CI.
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("lower:Q", title=xtitle), x2="upper:Q",
        strokeDash=alt.StrokeDash("kind:N", scale=alt.Scale(domain=kinds, range=[[1, 0], [1, 0], [1, 0], [5, 3]]), legend=None))
    points = base.mark_point(filled=True, size=70).encode(
        x=x, shape=alt.Shape("kind:N", scale=alt.Scale(domain=kinds, range=shapes), title=None, legend=legend))
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color=OKABE_ITO["grey"]).encode(x="x:Q")
    chart = alt.layer(zero, bars, points).properties(height=40 * len(order), width="container")
    return chart.properties(title=title) if title else chart


# -- posterior ----------------------------------------------------------------------------------
def posterior_data(result: MetaResult) -> pd.DataFrame:
    """Density of the pooled effect (and of a new programme's effect) from the engine's ``densities``;
    for a frequentist fit, the normal sampling distribution of the estimate."""
    parts = []
    names = {"mu": "Pooled effect", "theta_new": "New programme"}
    for key, name in names.items():
        dens = result.densities.get(key)
        if dens and dens.get("x"):
            parts.append(pd.DataFrame({"x": dens["x"], "density": dens["y"], "curve": name}))
    if not parts and result.mu.sd:
        x = np.linspace(result.mu.mean - 4 * result.mu.sd, result.mu.mean + 4 * result.mu.sd, 201)
        y = np.exp(-0.5 * ((x - result.mu.mean) / result.mu.sd) ** 2) / (result.mu.sd * math.sqrt(2 * math.pi))
        parts.append(pd.DataFrame({"x": x, "density": y, "curve": "Estimate (sampling distribution)"}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["x", "density", "curve"])


#: The posterior plot's curves: colour (Okabe-Ito) and line style both tell them apart, so the plot
#: reads in grey print and for colour-blind readers alike.
POSTERIOR_STYLES = {"Pooled effect": (OKABE_ITO["blue"], [1, 0]), "New programme": (OKABE_ITO["orange"], [6, 3]),
                    "Estimate (sampling distribution)": (OKABE_ITO["blue"], [1, 0])}


@described(lambda result, unit_label="": (
    f"Density of the pooled effect{_unit(unit_label)} and of a new programme's effect, the 95% interval as a bar. "
    f"{TABLE_ALTERNATIVE}"))
def posterior_chart(result: MetaResult, unit_label: str = "") -> alt.Chart:
    """The pooled effect's density (solid blue line) and a new programme's (dashed orange line), each
    with a light fill; the bar on the axis is the pooled effect's 95% interval, the dotted rule no effect."""
    d = posterior_data(result)
    curves = list(dict.fromkeys(d["curve"]))
    styles = [POSTERIOR_STYLES.get(c, (OKABE_ITO["grey"], [2, 2])) for c in curves]
    legend = alt.Legend(orient="bottom", symbolType="stroke", symbolStrokeWidth=3, symbolSize=400, symbolOpacity=1)
    colour = alt.Color("curve:N", scale=alt.Scale(domain=curves, range=[c for c, _ in styles] or None), title=None, legend=legend)
    dash = alt.StrokeDash("curve:N", scale=alt.Scale(domain=curves, range=[s for _, s in styles] or None), title=None, legend=legend)
    x = alt.X("x:Q", title=f"Effect ({unit_label})" if unit_label else "Effect")
    y = alt.Y("density:Q", title="Density", stack=None)
    area = alt.Chart(d).mark_area(opacity=0.2).encode(x=x, y=y, color=colour)
    line = alt.Chart(d).mark_line(strokeWidth=2.5).encode(x=x, y=y, color=colour, strokeDash=dash)
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color=OKABE_ITO["grey"]).encode(x="x:Q")
    ci = pd.DataFrame({"lower": [result.mu.q025], "upper": [result.mu.q975], "y": [0.0]})
    band = alt.Chart(ci).mark_rule(strokeWidth=5, color=OKABE_ITO["blue"]).encode(x="lower:Q", x2="upper:Q", y="y:Q")
    return alt.layer(area, line, zero, band).properties(height=220, width="container")


# -- funnel -------------------------------------------------------------------------------------
def funnel_data(yi, vi, estimate: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    se = np.sqrt(np.asarray(vi, dtype=float))
    pts = pd.DataFrame({"estimate": np.asarray(yi, dtype=float), "se": se})
    top = float(se.max()) * 1.05 if len(se) else 1.0
    lines = pd.DataFrame({"se": [0.0, top, 0.0, top], "estimate": [estimate, estimate - Z * top, estimate, estimate + Z * top],
                          "side": ["lower", "lower", "upper", "upper"]})
    return pts, lines


@described(lambda yi, vi, estimate, unit_label="": (
    f"Funnel plot of {len(yi)} studies{_unit(unit_label)}: each estimate against its standard error, around the "
    f"pooled effect. {TABLE_ALTERNATIVE}"))
def funnel_chart(yi, vi, estimate: float, unit_label: str = "") -> alt.Chart:
    pts, lines = funnel_data(yi, vi, estimate)
    x = alt.X("estimate:Q", title=f"Effect ({unit_label})" if unit_label else "Effect")
    y = alt.Y("se:Q", scale=alt.Scale(reverse=True), title="Standard error")
    funnel = alt.Chart(lines).mark_line(strokeDash=[4, 4], color=OKABE_ITO["grey"]).encode(x=x, y=y, detail="side:N")
    centre = alt.Chart(pd.DataFrame({"estimate": [estimate]})).mark_rule(color=OKABE_ITO["vermillion"]).encode(x="estimate:Q")
    points = alt.Chart(pts).mark_point(filled=True, size=60, color=OKABE_ITO["blue"]).encode(
        x=x, y=y, tooltip=[alt.Tooltip("estimate:Q", format=".3f"), alt.Tooltip("se:Q", format=".3f")])
    return alt.layer(funnel, centre, points).properties(height=260, width="container")


# -- harvest ------------------------------------------------------------------------------------
#: A harvest bar's label: the study, without the outcome or subgroup the effect label adds after it.
HARVEST_BAR_LABEL = "split(split(datum.label, ' – ')[0], ' [')[0]"


@described(lambda df: (
    f"Harvest plot of {len(df)} effects: one bar per effect in the column of the direction its study reports "
    f"(improves, no clear effect, worsens), taller for lower risk of bias, coloured by design. {TABLE_ALTERNATIVE}"))
def harvest_chart(df: pd.DataFrame) -> alt.Chart:
    """Harvest plot of ``analysis.harvest_table``: one bar per effect in the column of its leaning (the
    direction it points, with or without a number: the direction the vote count counts, so plot and vote
    count agree), bar height by risk of bias (taller = lower risk), colour by design, and fill by what the
    evidence for the direction is: solid when statistically clear, pale otherwise (a second channel
    that does not rely on hue; a legend names it)."""
    cols = [c for c in HARVEST_COLUMN_ORDER if c in set(df["leaning"])] or HARVEST_COLUMN_ORDER[:1]
    designs = ["randomised", "non-randomised"]
    evidence = [e for e in HARVEST_EVIDENCE_ORDER if e in set(df["evidence"])] or HARVEST_EVIDENCE_ORDER[:1]
    design_scale = alt.Scale(domain=designs, range=[OKABE_ITO["blue"], OKABE_ITO["orange"]])
    return alt.Chart(df).mark_bar(width=14).encode(
        # each bar named by its study (Ogilvie et al. 2008), the subgroup and effect id in the tooltip
        x=alt.X("effect:N", title=None, sort=None,
                axis=alt.Axis(labelAngle=-60, labelLimit=260, ticks=False, labelExpr=HARVEST_BAR_LABEL)),
        y=alt.Y("height:Q", title="Risk of bias (3 = low, 2 = moderate, 1 = high/unclear)", scale=alt.Scale(domain=[0, 3])),
        color=alt.Color("design:N", scale=design_scale, title="Design"),
        opacity=alt.Opacity("evidence:N", title="Evidence for the direction", legend=alt.Legend(symbolFillColor=OKABE_ITO["grey"]),
                            scale=alt.Scale(type="ordinal", domain=evidence,
                                            range=[1.0 if e == "statistically clear" else 0.35 for e in evidence])),
        column=alt.Column("leaning:N", sort=cols, title=None, header=alt.Header(labelFontSize=13)),
        tooltip=[alt.Tooltip("effect:N", title="Effect"), alt.Tooltip("leaning:N", title="Direction"),
                 alt.Tooltip("evidence:N", title="Evidence"), alt.Tooltip("design:N", title="Design"),
                 alt.Tooltip("risk_of_bias:N", title="Risk of bias"),
                 alt.Tooltip("estimate:Q", format=".3f", title="Estimate"), alt.Tooltip("unit:N", title="Unit")],
    ).properties(height=180, width=alt.Step(22)).resolve_scale(x="independent")


#: The harvest plot's columns (``harvest_table``'s ``leaning``) and fills (its ``evidence``), in order.
HARVEST_COLUMN_ORDER = [*LEANING_LABELS.values(), "Not stated"]
HARVEST_EVIDENCE_ORDER = ["statistically clear", "not statistically clear", "significance not stated", "as reported"]


# -- gap map ------------------------------------------------------------------------------------
#: Short family names for the gap map's row labels (the full family name is in the tooltip).
FAMILY_SHORT = {"social_protection": "Social protection", "education": "Education",
                "child_protection": "Child protection", "livelihoods": "Livelihoods"}


def _size_ticks(most: int) -> list[int]:
    """Whole-study values for the size legend: 1, the middle and the largest cell."""
    return sorted({1, max(1, round(most / 2)), max(1, most)})


#: The gap map's row height (px) and the space its column labels and legends take above and below.
GAP_MAP_ROW = 28
GAP_MAP_MARGINS = 420


def gap_map_height(cells_df: pd.DataFrame) -> int:
    """The drawn height of :func:`gap_map_chart` (rows x row height + labels and legends), so a page can
    give the map a frame of its own size that scrolls sideways on a narrow screen."""
    return int(cells_df["intervention"].nunique() * GAP_MAP_ROW + GAP_MAP_MARGINS)


#: The names of the gap map's datasets: the grid, the bubbles and the direction signs.
GAP_MAP_DATASETS = ("gap_map_grid", "gap_map_bubbles", "gap_map_signs")


@dataclass(frozen=True)
class GapMapShape:
    """All the gap map's drawing takes from the cells besides its datasets: two maps of the same shape
    are the same Vega-Lite spec with other data, so a page builds (and Altair validates) the drawing once
    per shape and sends each filter set's data with it (``evidence.views.loaders.load_gap_map_spec``)."""

    rows: tuple[str, ...]  # row labels in order (family, then programme)
    columns: tuple[str, ...]  # column labels in order (outcome group, then outcome)
    most: int  # studies in the fullest cell (the size legend's largest value)
    n_interventions: int
    n_outcomes: int
    n_filled: int  # cells with studies


def gap_map_tables(cells_df: pd.DataFrame) -> tuple[GapMapShape, dict[str, pd.DataFrame]]:
    """The gap map's shape and the table each of its layers draws (keyed by ``GAP_MAP_DATASETS``).

    The tables carry only the columns the chart draws (grid: row x column; bubbles: encodings, tooltip
    and the selection's fields; signs: the direction sign of each pooled bubble), not the whole cell
    table, so the page sends a fraction of the bytes."""
    d = cells_df.copy()
    family_order = {f: i for i, f in enumerate(dict.fromkeys(d["family"]))}
    d["row"] = d["family"].map(FAMILY_SHORT).fillna(d["family_label"]) + " · " + d["intervention_label"]
    d["column"] = d["outcome_group_label"] + " · " + d["outcome_label"]
    d["pooled"] = [f"Certainty: {c}" if isinstance(c, str) and c and n > 0 else "Not pooled"
                   for c, n in zip(d.get("certainty", pd.Series([None] * len(d))), d["n_pooled"])]
    d["certainty_text"] = [p.removeprefix("Certainty: ") if p != "Not pooled" else "not rated (nothing pooled)" for p in d["pooled"]]
    d["harm_text"] = np.where(d["any_harm"].fillna(False).astype(bool), "yes: at least one effect worsens the outcome", "no")
    # The card's words: statement and pooled numbers, or (not pooled) the statement, which holds the vote count.
    d["answer"] = np.where(d["n_pooled"] > 0, d["summary"].fillna(""), d["statement"].fillna("")) if "summary" in d else ""
    d["studies_text"] = [f"{n} {'study' if n == 1 else 'studies'} ({p} pooled), {e} effect{'s' if e != 1 else ''}"
                         for n, p, e in zip(d["n_studies"], d["n_pooled"], d["n_effects"])]
    d["designs_text"] = d["designs"].replace("", "none coded") if "designs" in d else ""
    rows = tuple(dict.fromkeys(d.sort_values("family", kind="stable", key=lambda s: s.map(family_order))["row"]))
    filled = d.loc[d["n_studies"] > 0, ["row", "column", "intervention", "outcome", "family_label", "intervention_label",
                                        "outcome_label", "n_studies", "studies_text", "answer", "pooled", "certainty_text",
                                        "category", "designs_text", "harm_text"]]
    signs = filled.assign(sign=filled["category"].map(DIRECTION_SIGNS)).dropna(subset=["sign"])
    shape = GapMapShape(rows=rows, columns=tuple(dict.fromkeys(d["column"])),
                        most=int(filled["n_studies"].max()) if len(filled) else 1,
                        n_interventions=int(cells_df["intervention"].nunique()), n_outcomes=int(cells_df["outcome"].nunique()),
                        n_filled=int((cells_df["n_studies"] > 0).sum()))
    tables = dict(zip(GAP_MAP_DATASETS, (d[["row", "column"]], filled,
                                         signs[["row", "column", "intervention", "outcome", "category", "sign"]])))
    return shape, {name: t.reset_index(drop=True) for name, t in tables.items()}


def _gap_map_description(shape: GapMapShape, selectable: bool = True, chosen: tuple[str, str] | None = None) -> str:
    return (f"Evidence gap map: {shape.n_interventions} interventions by {shape.n_outcomes} outcomes, "
            f"a bubble in each of the {shape.n_filled} cells with studies, sized by the number of "
            "studies, coloured and marked by the direction of the pooled effect, shaped by certainty. The table of this "
            "chart, below the map, lists every cell with evidence.")


@described(_gap_map_description)
def gap_map_layout(shape: GapMapShape, selectable: bool = True, chosen: tuple[str, str] | None = None) -> alt.LayerChart:
    """The gap map's drawing (see :func:`gap_map_chart`) over its named datasets (``GAP_MAP_DATASETS``),
    which it does not carry."""
    grid_data, bubble_data, sign_data = (alt.NamedData(name=n) for n in GAP_MAP_DATASETS)
    # Row labels on two lines (family, then programme) keep the map narrow without cutting a name.
    y = alt.Y("row:N", sort=list(shape.rows), title=None, axis=alt.Axis(
        labelLimit=0, grid=False, ticks=False, domain=False, labelExpr="split(datum.label, ' · ')", labelLineHeight=11))
    x = alt.X("column:N", sort=list(shape.columns), title=None,
              axis=alt.Axis(labelAngle=-45, labelLimit=0, grid=False, ticks=False, domain=False, orient="top"))
    grid = alt.Chart(grid_data).mark_rect(fill="white", stroke="#DDDDDD", strokeWidth=0.5).encode(x=x, y=y)
    cats = list(CATEGORY_COLOURS)
    # Tooltips in words (the answer card's own sentence), never a bare null or a machine key.
    tooltip = [alt.Tooltip("family_label:N", title="Family"), alt.Tooltip("intervention_label:N", title="Intervention"),
               alt.Tooltip("outcome_label:N", title="Outcome"), alt.Tooltip("studies_text:N", title="Evidence"),
               alt.Tooltip("answer:N", title="What the evidence says"), alt.Tooltip("certainty_text:N", title="Certainty"),
               alt.Tooltip("category:N", title="Direction"), alt.Tooltip("designs_text:N", title="Designs"),
               alt.Tooltip("harm_text:N", title="Harm coded")]
    legend = dict(orient="bottom", direction="vertical", columns=1, labelLimit=0, titleLimit=0)
    encoding = dict(
        x=x, y=y,
        size=alt.Size("n_studies:Q", title="Studies in the cell (bubble size)", scale=alt.Scale(range=[60, 700], zero=False),
                      legend=alt.Legend(values=_size_ticks(shape.most), format="d", **legend)),
        color=alt.Color("category:N", scale=alt.Scale(domain=cats, range=[CATEGORY_COLOURS[c] for c in cats]),
                        title="Pooled effect, or design mix if not pooled", legend=alt.Legend(**legend, labelExpr=(
                            f"({json.dumps(DIRECTION_SIGNS, ensure_ascii=False)}[datum.label] || '  ') + '  ' + datum.label"))),
        shape=alt.Shape("pooled:N", scale=alt.Scale(domain=CERTAINTY_SHAPES_DOMAIN, range=CERTAINTY_SHAPES_RANGE),
                        title="Certainty (shape)", legend=alt.Legend(**legend)),
        tooltip=tooltip,
    )
    # A name of its own, so the selection's view is named the same in every build (Altair numbers unnamed views).
    bubbles = alt.Chart(bubble_data, name="gap_map_bubbles").mark_point(filled=True, strokeWidth=2.5,
                                                                        cursor="pointer" if selectable else "default")
    if selectable:
        value = [{"intervention": chosen[0], "outcome": chosen[1]}] if chosen else alt.Undefined
        sel = alt.selection_point(name="cell", fields=["intervention", "outcome"], on="click", value=value,
                                  clear="dblclick")
        encoding.update(opacity=alt.when(sel).then(alt.value(0.95)).otherwise(alt.value(0.3)),
                        stroke=alt.when(sel, empty=False).then(alt.value("#000000")).otherwise(alt.value("transparent")))
        bubbles = bubbles.encode(**encoding).add_params(sel)
    else:
        bubbles = bubbles.encode(opacity=alt.value(0.95), **encoding)
    # Direction does not rest on colour alone: its sign sits in the pooled bubble (a pooled cell has two
    # studies or more, so its bubble is never the smallest), white on the dark fills, black on the light ones.
    # The sign carries the cell's fields, so a click on it selects the cell as a click on the bubble does;
    # screen readers skip it (the bubble's own label says the direction).
    dark = [c for c in DIRECTION_SIGNS if CATEGORY_COLOURS[c] in (OKABE_ITO["blue"], OKABE_ITO["vermillion"])]
    glyphs = alt.Chart(sign_data).mark_text(
        fontSize=11, fontWeight="bold", aria=False, cursor="pointer" if selectable else "default").encode(
        x=x, y=y, text="sign:N",
        color=alt.condition(alt.FieldOneOfPredicate("category", dark), alt.value("#ffffff"), alt.value(OKABE_ITO["black"])))
    # Step sizing: every row and column gets its own space however wide the page is.
    return alt.layer(grid, bubbles, glyphs).properties(width=alt.Step(36), height=alt.Step(GAP_MAP_ROW))


def gap_map_restate(spec: dict, shape: GapMapShape) -> dict:
    """A gap map's Vega-Lite spec (:func:`gap_map_layout` as a dict) restated for ``shape``, a shape with
    the same rows and columns: the size legend's values and the description are all that the rest of a
    shape changes in the drawing (``tests/test_view_specs.py`` checks it against a spec built for
    ``shape``). So a page builds one drawing per rows, columns and chosen cell. ``spec`` is not changed."""
    size = spec["layer"][1]["encoding"]["size"]
    size = {**size, "legend": {**size["legend"], "values": _size_ticks(shape.most)}}
    bubbles = {**spec["layer"][1], "encoding": {**spec["layer"][1]["encoding"], "size": size}}
    return {**spec, "description": _gap_map_description(shape), "layer": [spec["layer"][0], bubbles, *spec["layer"][2:]]}


def gap_map_chart(cells_df: pd.DataFrame, selectable: bool = True, chosen: tuple[str, str] | None = None) -> alt.LayerChart:
    """Interventions (rows, grouped by family) x outcomes (columns, grouped child labour / schooling).

    Bubble area = number of studies; colour = direction of the pooled effect, or the design mix when
    not pooled; shape = certainty. Empty cells show only the grid. With ``selectable``, a click selects
    a cell (the selection ``cell``, fields intervention and outcome, starting at ``chosen``): the chosen
    bubble gets a black ring and the others fade, so the reader sees which cell the page below opens.
    Labels are never cut (the full family, intervention and outcome names are also in the tooltip);
    legends sit under the chart, one column each, so they fit the chart's own frame.

    The drawing (:func:`gap_map_layout`) with its data inline (:func:`gap_map_tables`).
    """
    shape, tables = gap_map_tables(cells_df)
    return gap_map_layout(shape, selectable, chosen).properties(
        datasets={name: json.loads(t.to_json(orient="records")) for name, t in tables.items()})
