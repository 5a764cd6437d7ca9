"""The "for my context" panel and the effect per US$100: meta-regression and rescaled pooling.

Both use the exact engine only (milliseconds), like the rest of the What-works page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evidence.errors import EvidenceError
from evidence.meta import exact
from evidence.meta.exact import regression
from evidence.meta.result import MetaResult
from evidence.synthesis.metrics import RATIO_METRICS, metric_unit
from evidence.synthesis.selection import as_list
from evidence.synthesis.wording import fmt

# -- for my context -----------------------------------------------------------------------------
MODERATORS = {"region": "Region", "conditionality": "Conditionality", "sex": "Sex", "age_band": "Age band"}


def moderator_values(df: pd.DataFrame) -> pd.DataFrame:
    """The moderators as categorical columns ("not coded" where the catalogue has no value)."""
    def first_region(v):
        items = as_list(v)
        return items[0] if len(set(items)) == 1 else ("several regions" if items else "not coded")

    age_lo = pd.to_numeric(df.get("subgroup_age_min"), errors="coerce").fillna(pd.to_numeric(df["age_min"], errors="coerce"))
    age_hi = pd.to_numeric(df.get("subgroup_age_max"), errors="coerce").fillna(pd.to_numeric(df["age_max"], errors="coerce"))
    mid = (age_lo + age_hi) / 2
    return pd.DataFrame({
        "region": [first_region(v) for v in df["regions"]],
        "conditionality": df["conditionality"].fillna("not coded").astype(str),
        "sex": df["subgroup_sex"].fillna("all").astype(str),
        "age_band": np.where(mid.isna(), "not coded", np.where(mid < 12, "mostly under 12", "mostly 12 and over")),
    }, index=df.index)


@dataclass
class ContextResult:
    result: MetaResult | None
    message: str
    names: list[str] = field(default_factory=list)
    levels: dict[str, list[str]] = field(default_factory=dict)


def context_levels(selected: pd.DataFrame) -> dict[str, list[str]]:
    mods = moderator_values(selected)
    return {m: sorted(set(mods[m]) - {"not coded"}) for m in MODERATORS}


def for_my_context(selected: pd.DataFrame, moderators: list[str], context: dict[str, str], tau_prior: str,
                   metric: str | None = None) -> ContextResult:
    """Meta-regression on the chosen moderators; the predictive interval for ``context`` (moderator -> level)."""
    if not moderators:
        return ContextResult(None, "Choose at least one characteristic of your context.")
    mods = moderator_values(selected)
    keep = (mods[moderators] != "not coded").all(axis=1)
    data, mods = selected[keep], mods[keep]
    dropped = int((~keep).sum())
    levels: dict[str, list[str]] = {}
    for m in moderators:
        lv = mods[m].value_counts()
        levels[m] = sorted(lv.index)
        if len(lv) < 2:
            only = lv.index[0] if len(lv) else "none"
            return ContextResult(None, f"{MODERATORS[m]} does not vary in this selection (every effect: {only}), so it "
                                        "cannot explain differences between studies. Remove it or widen the filters.", levels=levels)
        if context.get(m) not in lv.index:
            return ContextResult(None, f"No pooled study has {MODERATORS[m].lower()} = {context.get(m)!s}.", levels=levels)
    n_terms = 1 + sum(len(levels[m]) - 1 for m in moderators)  # intercept + one per non-reference level
    if data["study_id"].nunique() < n_terms + 2:
        return ContextResult(None, f"{data['study_id'].nunique()} studies are too few to estimate {n_terms} terms; "
                                   "use fewer characteristics.", levels=levels)
    try:  # moderators coded as metafor codes them (evidence.meta.moderators: first level = reference)
        res = regression(data["yi"].astype(float).to_numpy(), data["vi"].astype(float).to_numpy(),
                         mods[moderators], tau_prior=tau_prior, x_new={m: context[m] for m in moderators},
                         labels=data["label"].tolist() if "label" in data else None)
    except EvidenceError as exc:
        return ContextResult(None, f"The meta-regression could not be fitted: {exc}", [], levels)
    names = list(res.coefficients)
    what = ", ".join(f"{MODERATORS[m].lower()} {context[m]}" for m in moderators)
    msg = f"Meta-regression on {len(data)} effects" + (f" ({dropped} without a coded value left out)" if dropped else "")
    if res.theta_new is not None and res.theta_new.q025 is not None:
        msg += (f". For a programme with {what}, a new programme can expect between {fmt(res.theta_new.q025, metric)} "
                f"and {fmt(res.theta_new.q975, metric)} {metric_unit(metric)} (95% predictive interval, centre "
                f"{fmt(res.theta_new.q50 if res.theta_new.q50 is not None else res.theta_new.mean, metric)}).")
    return ContextResult(res, msg, names, levels)


# -- effect per $100 ----------------------------------------------------------------------------
@dataclass
class Per100:
    table: pd.DataFrame
    result: MetaResult | None
    message: str


def per_100_dollars(selected: pd.DataFrame, metric: str | None, tau_prior: str) -> Per100:
    """Effect per US$100 of transfer per year, where the study states ``usd_per_year``."""
    if metric in RATIO_METRICS:
        return Per100(pd.DataFrame(), None, "Effects on a ratio scale are not expressed per dollar.")
    usd = pd.to_numeric(selected.get("usd_per_year"), errors="coerce") if len(selected) else pd.Series(dtype=float)
    d = selected[usd.notna() & (usd > 0)] if len(selected) else selected
    if d.empty:
        return Per100(pd.DataFrame(), None, "No pooled study states the transfer's value in US$ per year.")
    scale = 100.0 / d["usd_per_year"].astype(float)
    table = pd.DataFrame({"effect": d["label"], "usd_per_year": d["usd_per_year"].astype(float),
                          "estimate": d["yi"].astype(float), "per_100_usd": d["yi"].astype(float) * scale,
                          "se_per_100_usd": np.sqrt(d["vi"].astype(float)) * scale})
    if len(d) < 2:
        return Per100(table, None, "Only one study states the transfer value; nothing to pool per dollar.")
    res = exact.posterior(table["per_100_usd"].to_numpy(), table["se_per_100_usd"].to_numpy() ** 2,
                          tau_prior=tau_prior, labels=table["effect"].tolist(), measure=metric)
    msg = (f"Per US$100 a year of transfer: {fmt(res.mu.mean, metric)} {metric_unit(metric)} (95% credible interval "
           f"{fmt(res.mu.q025, metric)} to {fmt(res.mu.q975, metric)}; {len(d)} studies state the value).")
    return Per100(table, res, msg)
