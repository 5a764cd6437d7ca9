"""What the explorer's pages compute: selections of effects, pooled answers and their wording.

Pure functions (no Streamlit): the pages call them, the tests call them, exports can call them.
Only the exact Bayesian engine (milliseconds) is used here; sampled (PyMC) models are run by the
pages on request, never on the interactive path.

Conventions
- Effects are pooled only within one metric (percentage points are never pooled with hours or log
  odds ratios); ``relative_percent`` and ``other`` are never pooled.
- Signs are as reported; each outcome's desirable direction (the data's ``desirable`` column, else the
  taxonomy) decides what "improves" means; one effect's direction is :mod:`evidence.direction`'s rule.
- "One effect per study": the study's primary effect for the outcome, else its first listed effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evidence.direction import effect_direction
from evidence.errors import EvidenceError
from evidence.meta import exact
from evidence.meta.result import MetaResult
from evidence.taxonomy import taxonomy

POOLABLE_METRICS = ("percentage_points", "hours_per_week", "sd", "log_odds_ratio", "log_risk_ratio", "fisher_z")
RATIO_METRICS = {"log_odds_ratio": "odds ratio", "log_risk_ratio": "risk ratio"}
#: Default scale of the half-normal prior on tau, per metric: tau is in the metric's own units, so
#: 0.5 suits log odds ratios and SMDs, not percentage points (where 5 pp is a modest spread).
DEFAULT_TAU_SCALE = {"percentage_points": 5.0, "hours_per_week": 3.0, "sd": 0.5,
                     "log_odds_ratio": 0.5, "log_risk_ratio": 0.5, "fisher_z": 0.3}
TAU_FAMILIES = ("halfnormal", "halfcauchy", "halft", "lognormal", "uniform")
CATEGORIES = ("Improves (≥95% probability)", "Probably improves (80–95%)", "Unclear direction",
              "Probably worsens (80–95%)", "Worsens (≥95% probability)",
              "Not pooled: randomised designs", "Not pooled: non-randomised designs", "Not pooled: mixed designs")


def tau_prior_for(metric: str | None, family: str = "halfnormal", scale: float | None = None) -> str:
    """A prior string for the exact engine, scaled to the metric (see ``DEFAULT_TAU_SCALE``)."""
    s = float(scale) if scale else DEFAULT_TAU_SCALE.get(metric or "", 0.5)
    return {"halfnormal": f"halfnormal:{s:g}", "halfcauchy": f"halfcauchy:{s:g}", "halft": f"halft:3:{s:g}",
            "lognormal": f"lognormal:{math.log(s):.4g}:1", "uniform": f"uniform:0:{10 * s:g}"}[family]


def metric_label(metric: str | None) -> str:
    if not metric:
        return ""
    return taxonomy().metrics.get(metric, {}).get("label", metric)


# -- selections ---------------------------------------------------------------------------------
def usable(df: pd.DataFrame) -> pd.Series:
    """Rows with a finite effect, a positive finite variance and a poolable metric."""
    yi = pd.to_numeric(df["yi"], errors="coerce")
    vi = pd.to_numeric(df["vi"], errors="coerce")
    return yi.notna() & vi.notna() & (vi > 0) & np.isfinite(yi) & df["metric"].isin(POOLABLE_METRICS)


def main_metric(df: pd.DataFrame) -> str | None:
    """The metric most studies in ``df`` can be pooled on (ties: order of ``POOLABLE_METRICS``)."""
    ok = df[usable(df)]
    if ok.empty:
        return None
    counts = ok.groupby("metric")["study_id"].nunique()
    return max(counts.index, key=lambda m: (counts[m], -POOLABLE_METRICS.index(m)))


def one_per_study(df: pd.DataFrame) -> pd.DataFrame:
    """Each study's primary effect (else its first listed effect)."""
    if df.empty:
        return df
    order = df.assign(_p=~df["primary"].fillna(False).astype(bool), _i=np.arange(len(df)))
    return order.sort_values(["study_id", "_p", "_i"]).drop_duplicates("study_id").sort_values("_i").drop(columns=["_p", "_i"])


def effect_labels(df: pd.DataFrame) -> list[str]:
    """Readable, unique labels: citation (plus country where two studies share a citation, e.g. one
    report of two programmes; plus subgroup / effect id when a study has several)."""
    citations = df.get("citation", df["study_id"]).fillna(df["study_id"]).astype(str)
    shared = citations.groupby(citations).transform(lambda c: df.loc[c.index, "study_id"].nunique() > 1)
    names = df["country_names"] if "country_names" in df else df["study_id"]
    base = [f"{c}, {n}" if sh and isinstance(n, str) and n else c for c, sh, n in zip(citations, shared, names)]
    sub = df["subgroup_label"] if "subgroup_label" in df else pd.Series([None] * len(df), index=df.index)
    labels = [b if not isinstance(s, str) or not s else f"{b} – {s}" for b, s in zip(base, sub)]
    seen: dict[str, int] = {}
    out = []
    for lab, eid in zip(labels, df["effect_id"]):
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} [{eid}]")
    return out


def design_mix(df: pd.DataFrame) -> str:
    r = df["randomised"].fillna(False).astype(bool)
    if r.all():
        return "randomised designs"
    return "non-randomised designs" if not r.any() else "mixed designs"


def _benefit(result: MetaResult, desirable: str | None) -> float | None:
    p = result.p_below_0
    if p is None:
        return None
    return p if desirable == "decrease" else 1.0 - p


def category(p_benefit: float | None) -> str:
    if p_benefit is None:
        return CATEGORIES[2]
    for cut, cat in ((0.95, 0), (0.80, 1)):
        if p_benefit >= cut:
            return CATEGORIES[cat]
    if p_benefit <= 0.05:
        return CATEGORIES[4]
    return CATEGORIES[3] if p_benefit <= 0.20 else CATEGORIES[2]


# -- page 1: gap map ------------------------------------------------------------------------------
def gap_map_cells(effects_df: pd.DataFrame, tau_prior: str | None = None) -> pd.DataFrame:
    """One row per intervention x outcome of the taxonomy (empty cells included, ``n_studies == 0``).

    Poolable cells (>= 2 studies with variances on one metric; primary effect per study) carry the
    exact posterior of the pooled effect and a direction/certainty ``category``; the others carry
    their design mix. ``tau_prior``: a prior string used as is, a bare family name (``"halfcauchy"``)
    scaled to each cell's metric, or None (half-normal scaled to each cell's metric).
    """
    t = taxonomy()
    slim = effects_df[["study_id", "intervention", "outcome", "yi", "vi", "metric", "primary", "randomised", "harmful"]]
    groups = {key: part for key, part in slim.groupby(["intervention", "outcome"])} if len(slim) else {}
    rows = []
    for iv, iterm in t.interventions.items():
        for oc, oterm in t.outcomes.items():
            part = groups.get((iv, oc))
            row = dict(family=iterm["family"], family_label=t.families[iterm["family"]]["label"], intervention=iv,
                       intervention_label=iterm["label"], outcome_group=oterm["group"],
                       outcome_group_label=t.outcome_groups[oterm["group"]]["label"], outcome=oc, outcome_label=oterm["label"],
                       desirable=oterm["desirable"], n_studies=0, n_effects=0, n_pooled=0, metric=None, mean=np.nan,
                       q025=np.nan, q975=np.nan, p_benefit=np.nan, category="No studies", designs="", any_harm=False)
            if part is not None:
                row.update(n_studies=part["study_id"].nunique(), n_effects=len(part), designs=design_mix(part),
                           any_harm=bool(part["harmful"].fillna(False).astype(bool).any()))
                row["category"] = "Not pooled: " + row["designs"]
                metric = main_metric(part)
                sel = one_per_study(part[usable(part) & (part["metric"] == metric)]) if metric else part.iloc[0:0]
                if len(sel) >= 2:
                    res = exact.posterior(sel["yi"].astype(float).to_numpy(), sel["vi"].astype(float).to_numpy(),
                                          tau_prior=_cell_prior(tau_prior, metric), measure=metric)
                    pb = _benefit(res, oterm["desirable"])
                    row.update(n_pooled=len(sel), metric=metric, mean=res.mu.mean, q025=res.mu.q025, q975=res.mu.q975,
                               p_benefit=pb, category=category(pb))
            rows.append(row)
    return pd.DataFrame(rows)


def best_cell(cells: pd.DataFrame) -> tuple[str, str] | None:
    """The (intervention, outcome) with the most pooled studies (then the most studies): where a
    first-time visitor of the What-works page sees an answer rather than a gap."""
    if cells.empty or not (cells["n_studies"] > 0).any():
        return None
    top = cells.sort_values(["n_pooled", "n_studies"], ascending=False, kind="stable").iloc[0]
    return str(top["intervention"]), str(top["outcome"])


def _cell_prior(tau_prior: str | None, metric: str | None) -> str:
    if not tau_prior:
        return tau_prior_for(metric)
    return tau_prior_for(metric, tau_prior) if tau_prior in TAU_FAMILIES else tau_prior


# -- page 2: what works -------------------------------------------------------------------------
@dataclass(frozen=True)
class WhatWorksOptions:
    intervention: str
    outcome: str
    metric: str | None = None  # None: the metric most studies report
    exclude_high_rob: bool = False
    exclude_imputed: bool = False
    tau_family: str = "halfnormal"
    tau_scale: float | None = None  # None: the metric's default
    dependence: str = "primary"  # "primary" (one effect per study) or "all" (three-level model, on request)
    leave_out: tuple[str, ...] = ()  # study ids left out (leave-one-out by hand)


@dataclass
class WhatWorks:
    options: WhatWorksOptions
    metric: str | None
    unit: str
    tau_prior: str
    cell: pd.DataFrame  # every effect for this intervention x outcome
    selected: pd.DataFrame  # the effects pooled (with a ``label`` column)
    excluded: pd.DataFrame  # the others, with a ``reason`` column
    metrics: list[str] = field(default_factory=list)  # poolable metrics available in this cell
    result: MetaResult | None = None
    headline: str = ""
    reason: str | None = None  # why nothing was pooled
    harms: int = 0


def _exclusions(cell: pd.DataFrame, o: WhatWorksOptions, metric: str | None) -> pd.Series:
    reason = pd.Series("", index=cell.index, dtype=object)
    vi = pd.to_numeric(cell["vi"], errors="coerce")
    rules = [
        (cell["study_id"].isin(o.leave_out), "left out by you"),
        (~cell["metric"].isin(POOLABLE_METRICS), "metric cannot be pooled"),
        ((cell["metric"] != metric) if metric else False, "different metric"),
        (vi.isna() | (vi <= 0), "no variance reported"),
        (o.exclude_high_rob and cell["risk_of_bias"].eq("high"), "high risk of bias"),
        (o.exclude_imputed and cell["variance_imputed"].fillna(False).astype(bool), "imputed variance"),
    ]
    for mask, why in rules:
        if isinstance(mask, bool):
            continue
        reason[(reason == "") & mask.fillna(False).astype(bool)] = why
    return reason


def poolable_metrics(cell: pd.DataFrame) -> list[str]:
    """The poolable metrics (in ``POOLABLE_METRICS`` order) on which ``cell`` has a usable effect."""
    if cell.empty:
        return []
    present = set(cell.loc[usable(cell), "metric"])
    return [m for m in POOLABLE_METRICS if m in present]


def _cell_desirable(cell: pd.DataFrame) -> str | None:
    """The outcome's desirable direction as the data states it (one value), else None."""
    if "desirable" not in cell:
        return None
    vals = {d for d in cell["desirable"].dropna() if d in ("increase", "decrease")}
    return vals.pop() if len(vals) == 1 else None


def what_works(effects_df: pd.DataFrame, options: WhatWorksOptions) -> WhatWorks:
    """Select and pool the effects of one intervention on one outcome with the exact engine."""
    o = options
    cell = effects_df[(effects_df["intervention"] == o.intervention) & (effects_df["outcome"] == o.outcome)].copy()
    metrics = poolable_metrics(cell)
    metric = o.metric if o.metric in metrics else main_metric(cell)
    prior = tau_prior_for(metric, o.tau_family, o.tau_scale)
    reason = _exclusions(cell, o, metric)
    chosen = cell[reason == ""]
    if o.dependence == "primary":
        kept = one_per_study(chosen)
        reason[chosen.index.difference(kept.index)] = "not the study's primary effect"
        chosen = kept
    chosen = chosen.assign(label=effect_labels(chosen))
    excluded = cell[reason != ""].assign(reason=reason[reason != ""])
    harms = int(cell["harmful"].fillna(False).astype(bool).sum())
    ww = WhatWorks(o, metric, metric_label(metric), prior, cell, chosen, excluded, metrics, harms=harms)
    n_studies = chosen["study_id"].nunique()
    if cell.empty:
        ww.reason = "No study in the catalogue (with the current filters) reports this outcome for this intervention."
    elif metric is None:
        ww.reason = "No effect for this intervention and outcome has a usable variance on a poolable metric, so nothing can be pooled; the harvest plot shows what the studies report."
    elif n_studies < 2:
        ww.reason = (f"Only {n_studies} stud{'y' if n_studies == 1 else 'ies'} with a usable variance remain after the "
                     "sensitivity choices; pooling needs at least two.")
    elif o.dependence == "all" and len(chosen) > n_studies:
        ww.reason = "Several effects per study are selected: run the three-level model (below) to pool them."
    if ww.reason is None:
        ww.result = exact.posterior(chosen["yi"].astype(float).to_numpy(), chosen["vi"].astype(float).to_numpy(),
                                    tau_prior=prior, labels=chosen["label"].tolist(), measure=metric)
        ww.headline = headline(ww.result, o.outcome, o.intervention, metric, harms=harms,
                               desirable=_cell_desirable(cell))
    return ww


def leave_one_out(ww: WhatWorks) -> pd.DataFrame:
    """The pooled mean and 95% CrI with each study left out in turn (exact engine)."""
    rows = []
    sel = ww.selected
    for sid in sel["study_id"].unique():
        rest = sel[sel["study_id"] != sid]
        if rest["study_id"].nunique() < 2:
            continue
        r = exact.posterior(rest["yi"].astype(float).to_numpy(), rest["vi"].astype(float).to_numpy(), tau_prior=ww.tau_prior)
        rows.append({"left out": sel.loc[sel["study_id"] == sid, "label"].iloc[0], "k": r.k, "mean": r.mu.mean,
                     "2.5%": r.mu.q025, "97.5%": r.mu.q975, "tau": r.tau.mean if r.tau else np.nan})
    return pd.DataFrame(rows)


# -- wording ------------------------------------------------------------------------------------
def fmt(x: float, metric: str | None = None) -> str:
    """A number as shown to readers: proper minus sign, decimals suited to the metric."""
    digits = 1 if metric in ("percentage_points", "hours_per_week") else 2
    s = f"{x:.{digits}f}"
    if s.lstrip("-").strip("0.") == "":
        s = s.lstrip("-")
    return s.replace("-", "−")


def _agree(subject: str, verb: str) -> str:
    """'Conditional cash transfer reduces' / 'Minimum-age laws and bans reduce'."""
    return verb if subject.rstrip(")").endswith("s") else verb + "s"


def headline(result: MetaResult, outcome: str, intervention: str, unit: str | None, harms: int = 0,
             desirable: str | None = None) -> str:
    """One plain-language sentence (plus harm flags) on the pooled effect, aware of the desirable direction.

    ``unit`` is the metric key (e.g. ``"percentage_points"``); ratio metrics are reported as ratios.
    ``desirable`` ("increase"/"decrease") is the outcome's desirable direction as the data states it
    (the catalogue's ``desirable`` column); None falls back to the taxonomy.
    """
    t = taxonomy()
    ilabel = t.interventions.get(intervention, {}).get("label", intervention)
    olabel = t.outcomes.get(outcome, {}).get("label", outcome)
    desirable = desirable if desirable in ("increase", "decrease") else t.desirable(outcome)
    mu, new = result.mu, result.theta_new
    up = mu.mean > 0
    if unit in RATIO_METRICS:
        name = RATIO_METRICS[unit]
        verb = "raise" if up else "lower"
        text = (f"{ilabel} {_agree(ilabel, verb)} {olabel.lower()} ({name} {math.exp(mu.mean):.2f}, 95% credible interval "
                f"{math.exp(mu.q025):.2f} to {math.exp(mu.q975):.2f})")
        if new is not None and new.q025 is not None:
            text += f"; a new programme can expect a {name} between {math.exp(new.q025):.2f} and {math.exp(new.q975):.2f}"
    else:
        sign = 1.0 if up else -1.0
        lo, hi = sorted((sign * mu.q025, sign * mu.q975))
        uname = metric_label(unit)
        verb = "increase" if up else "reduce"
        text = (f"{ilabel} {_agree(ilabel, verb)} {olabel.lower()} by {fmt(abs(mu.mean), unit)} {uname} "
                f"(95% credible interval {fmt(lo, unit)} to {fmt(hi, unit)})")
        if new is not None and new.q025 is not None:
            nlo, nhi = sorted((sign * new.q025, sign * new.q975))
            text += f"; a new programme can expect between {fmt(nlo, unit)} and {fmt(nhi, unit)}"
    text += "."
    if mu.q025 is not None and mu.q025 < 0 < mu.q975:
        text += " The 95% interval includes no effect, so the direction is uncertain."
    elif desirable and (up != (desirable == "increase")):
        text += " Warning: this is a change in the unwanted direction (harm)."
    if harms:
        text += f" Harm flagged: {harms} effect{'s' if harms != 1 else ''} in this cell {'were' if harms != 1 else 'was'} coded as harmful."
    return text


# -- harvest (when nothing is pooled) -----------------------------------------------------------
RO_B_HEIGHT = {"low": 3, "moderate": 2, "high": 1, "unclear": 1}


HARVEST_LABELS = {"improves": "Improves", "worsens": "Worsens", "unclear": "No clear effect", None: "No clear effect"}


def harvest_table(cell: pd.DataFrame) -> pd.DataFrame:
    """Every effect as Improves / No clear effect / Worsens: the catalogue's ``direction`` column (the
    one rule of :func:`evidence.direction.effect_direction`; computed here when a frame lacks it)."""
    if cell.empty:
        return pd.DataFrame(columns=["effect", "direction", "design", "risk_of_bias", "height", "estimate", "unit"])
    est = pd.to_numeric(cell["yi"], errors="coerce").fillna(pd.to_numeric(cell["estimate"], errors="coerce"))
    if "direction" in cell:
        directions = cell["direction"]
    else:
        col = lambda c: cell[c] if c in cell else [None] * len(cell)  # noqa: E731
        directions = [effect_direction(y, v, s, i, d) for y, v, s, i, d in
                      zip(col("yi"), col("vi"), col("significance"), col("variance_imputed"), col("desirable"))]
    direction = [HARVEST_LABELS.get(d if isinstance(d, str) else None, "No clear effect") for d in directions]
    return pd.DataFrame({"effect": effect_labels(cell), "direction": direction,
                         "design": np.where(cell["randomised"].fillna(False).astype(bool), "randomised", "non-randomised"),
                         "risk_of_bias": cell["risk_of_bias"].fillna("unclear"),
                         "height": cell["risk_of_bias"].map(RO_B_HEIGHT).fillna(1).astype(int),
                         "estimate": est.to_numpy(), "unit": cell["unit"].astype(str)}).reset_index(drop=True)


def as_list(v) -> list[str]:
    """Catalogue multi-values (list, tuple, array or 'a; b' text) as a list of strings."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return []
    if isinstance(v, (list, tuple, np.ndarray)):
        return [str(x) for x in v if x is not None and str(x)]
    s = str(v)
    for sep in (";", "|", ","):
        if sep in s:
            return [p.strip() for p in s.split(sep) if p.strip()]
    return [s] if s else []
