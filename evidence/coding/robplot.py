"""Risk-of-bias plots as robvis draws them (McGuinness & Higgins 2021, Res Synth Methods 12:55-61):
a traffic-light plot (one row per study, one coloured circle per domain and overall, with robvis's
symbols) and a summary plot (one stacked horizontal bar per domain: the share of studies, optionally
weighted, at each judgement). Altair charts, so the app and the summaries (through vl-convert) draw the
same figure. Colours and symbols are robvis's defaults ("cochrane" palette).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from evidence.errors import EvidenceError
from evidence.rob import tool_spec

#: How a draft without an id yet is named in the plots.
DRAFT = "(this draft, no id yet)"

#: judgement -> (label, colour, symbol), per tool, in the order of the legend (best first).
STYLE = {
    "rob2": {"low": ("Low", "#02C100", "+"), "some_concerns": ("Some concerns", "#E2DF07", "-"),
             "high": ("High", "#BF0000", "X"), "no_information": ("No information", "#4EA1F7", "?")},
    "rob2_cluster": {"low": ("Low", "#02C100", "+"), "some_concerns": ("Some concerns", "#E2DF07", "-"),
                     "high": ("High", "#BF0000", "X"), "no_information": ("No information", "#4EA1F7", "?")},
    "robins_i": {"low": ("Low", "#02C100", "+"), "moderate": ("Moderate", "#E2DF07", "-"),
                 "serious": ("Serious", "#BF0000", "X"), "critical": ("Critical", "#820000", "!"),
                 "no_information": ("No information", "#4EA1F7", "?")},
}


def assessments(studies, tool: str) -> pd.DataFrame:
    """Long table (study, domain, domain_label, judgement, weight) of the studies assessed with ``tool``;
    ``studies`` are study dicts (or models), optionally ``(study, weight)`` pairs. Missing domain
    judgements are "no_information", as robvis shows them."""
    if tool not in STYLE:
        raise EvidenceError(f"no risk-of-bias plot for tool '{tool}' (known: {', '.join(STYLE)})")
    domains = [(d["id"], d["label"].split(" ", 1)[0]) for d in tool_spec(tool)["domains"]] + [("overall", "Overall")]
    rows = []
    for item in studies:
        s, w = item if isinstance(item, tuple) else (item, 1.0)
        s = s.model_dump() if hasattr(s, "model_dump") else s
        r = s.get("risk_of_bias") or {}
        if r.get("tool") != tool:
            continue
        for dom, label in domains:
            j = r.get("overall") if dom == "overall" else (r.get("domains") or {}).get(dom)
            rows.append({"study": s.get("id") or DRAFT, "domain": dom, "domain_label": label,
                         "judgement": j if j in STYLE[tool] else "no_information", "weight": float(w)})
    return pd.DataFrame(rows, columns=["study", "domain", "domain_label", "judgement", "weight"])


def _scale(tool: str, present) -> alt.Scale:
    keys = [k for k in STYLE[tool] if k in set(present)] or list(STYLE[tool])
    return alt.Scale(domain=[STYLE[tool][k][0] for k in keys], range=[STYLE[tool][k][1] for k in keys])


def _labelled(df: pd.DataFrame, tool: str) -> pd.DataFrame:
    df = df.copy()
    df["Judgement"] = df.judgement.map(lambda j: STYLE[tool][j][0])
    df["symbol"] = df.judgement.map(lambda j: STYLE[tool][j][2])
    return df


def traffic_light(df: pd.DataFrame, tool: str) -> alt.Chart:
    """robvis ``rob_traffic_light``: rows are studies, columns D1..Dn and Overall."""
    if df.empty:
        raise EvidenceError(f"no study in the selection is assessed with {tool}")
    df = _labelled(df, tool)
    order = list(dict.fromkeys(df.domain_label))
    base = alt.Chart(df).encode(
        x=alt.X("domain_label:N", sort=order, title=None, axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("study:N", title=None, sort=sorted(df.study.unique())))
    dots = base.mark_circle(size=520, opacity=1, stroke="#333333", strokeWidth=0.5).encode(
        color=alt.Color("Judgement:N", scale=_scale(tool, df.judgement)),
        tooltip=["study", "domain", "Judgement"])
    text = base.mark_text(fontWeight="bold", fontSize=13, color="black").encode(text="symbol:N")
    return (dots + text).properties(
        width=60 * len(order), height=max(34 * df.study.nunique(), 68), title=f"{tool_spec(tool)['label']}: risk of bias by study",
        description=f"Risk-of-bias traffic-light plot: {df.study.nunique()} studies by {len(order)} domains and overall, "
                    "a coloured circle with a symbol per judgement. The table of these plots is below them.")


def judgement_table(df: pd.DataFrame, tool: str) -> pd.DataFrame:
    """The traffic-light plot as a table (one row per study, one column per domain and overall, the
    judgement in words): the plots' text alternative."""
    df = _labelled(df, tool)
    order = list(dict.fromkeys(df.domain_label))
    wide = df.pivot_table(index="study", columns="domain_label", values="Judgement", aggfunc="first")
    return wide.reindex(columns=order).rename_axis(index="Study", columns=None).reset_index()


def sample_size(study) -> float | None:
    """A study's weight for a weighted summary when no meta-analytic weight is at hand: its sample size
    (``population.n_total``, else ``n_treatment + n_control``); None when the file gives neither."""
    s = study.model_dump() if hasattr(study, "model_dump") else study
    pop = s.get("population") or {}
    if pop.get("n_total"):
        return float(pop["n_total"])
    if pop.get("n_treatment") and pop.get("n_control"):
        return float(pop["n_treatment"] + pop["n_control"])
    return None


def summary_table(df: pd.DataFrame, tool: str, weighted: bool = True) -> pd.DataFrame:
    """Per domain and judgement, the (weighted) share of studies: the numbers the summary plot draws."""
    if df.empty:
        raise EvidenceError(f"no study in the selection is assessed with {tool}")
    df = _labelled(df, tool)
    df["w"] = df.weight if weighted else 1.0
    agg = df.groupby(["domain", "domain_label", "judgement", "Judgement"], as_index=False, sort=False)["w"].sum()
    agg["share"] = agg.w / agg.groupby("domain_label").w.transform("sum")
    rank = {k: i for i, k in enumerate(STYLE[tool])}
    agg["order"] = agg.judgement.map(rank)
    # where each segment starts and ends on the 0..1 bar (best judgement first), so the plot can print
    # robvis's symbol in the middle of each segment: a second channel besides colour
    agg = agg.sort_values(["domain_label", "order"], kind="stable")
    agg["end"] = agg.groupby("domain_label").share.cumsum()
    agg["start"] = agg.end - agg.share
    agg["symbol"] = agg.judgement.map(lambda j: STYLE[tool][j][2])
    return agg.sort_index()


def summary(df: pd.DataFrame, tool: str, weighted: bool = True) -> alt.Chart:
    """robvis ``rob_summary``: per domain, the (weighted) share of studies at each judgement, each
    segment also marked with robvis's symbol (so the plot does not rely on colour alone)."""
    agg = summary_table(df, tool, weighted)
    order = list(dict.fromkeys(df.domain_label))
    base = alt.Chart(agg).encode(y=alt.Y("domain_label:N", sort=order, title=None))
    bars = base.mark_bar(stroke="#333333", strokeWidth=0.5).encode(
        x=alt.X("start:Q", title="Share of studies" + (" (weighted)" if weighted else ""), axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        x2="end:Q",
        color=alt.Color("Judgement:N", scale=_scale(tool, agg.judgement)),
        tooltip=[alt.Tooltip("domain_label:N", title="Domain"), "Judgement",
                 alt.Tooltip("share:Q", format=".0%", title="Share")],
    )
    marks = base.transform_filter("datum.share >= 0.06").transform_calculate(mid="(datum.start + datum.end) / 2").mark_text(
        fontWeight="bold", fontSize=13, color="black").encode(x="mid:Q", text="symbol:N")
    return (bars + marks).properties(
        width=420, height=30 * len(order), title=f"{tool_spec(tool)['label']}: summary across studies",
        description=f"Risk-of-bias summary plot: for each of {len(order)} domains, the share of studies at each judgement, "
                    "each segment marked with its symbol. The table of these plots is below them.")
