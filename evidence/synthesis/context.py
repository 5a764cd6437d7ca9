"""The "for my context" panel and the effect per US$100 (What works).

For my context answers a stated context (sex, age band, region, design, transfer size) from the coded
subgroup effects (the answer card's girls/boys and age-band selection) and a meta-regression on the
study-level characteristics that vary enough, or says in one line per characteristic why it cannot be
separated and what would be needed. The effect per US$100 rescales each effect by the transfer's value.
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
from evidence.synthesis.answer import WhatWorks, exclusions
from evidence.synthesis.card import AGE_BANDS, MODAL, Pooled, absolute_effect, subgroup_masks
from evidence.synthesis.metrics import RATIO_METRICS, metric_unit
from evidence.synthesis.selection import as_list, one_per_study, usable
from evidence.synthesis.wording import fmt
from evidence.taxonomy import taxonomy

# -- for my context -----------------------------------------------------------------------------
#: The characteristics a user can state, in the order they are tried. Sex and age band select the
#: coded subgroup effects (the card's girls/boys and age-band answers); region, design and transfer
#: size are study-level moderators of a meta-regression on that selection.
CHARACTERISTICS = {"sex": "Sex", "age_band": "Age band", "region": "Region", "design": "Design",
                   "usd_per_year": "Transfer size (US$ a year)"}
MIN_STUDIES = 2  # pooling needs two studies (as the card's rule)


@dataclass(frozen=True)
class Context:
    """A programme's context as the user states it (None: not stated)."""

    region: str | None = None
    design: str | None = None
    sex: str | None = None  # "girls" or "boys"
    age_band: str | None = None  # a label of card.AGE_BANDS, e.g. "Children 12–14"
    usd_per_year: float | None = None

    def stated(self) -> list[str]:
        return [c for c in CHARACTERISTICS if getattr(self, c) not in (None, "")]


@dataclass
class ContextAnswer:
    """The answer for a context, or why not: ``reasons`` holds one line per stated characteristic that
    cannot be separated (which, why, what would be needed)."""

    context: Context
    text: str | None  # the answer in one paragraph; None when nothing answers
    result: MetaResult | None = None
    source: str = ""  # "subgroup", "meta-regression" or "pooled"
    study_ids: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)  # the characteristics the answer separates
    reasons: list[str] = field(default_factory=list)
    per_100: str | None = None  # out of 100 children (proportions only)


def _studies(n: int) -> str:
    return f"{n} stud{'y' if n == 1 else 'ies'}"


def _region(v) -> str | None:
    items = sorted(set(as_list(v)))
    return items[0] if len(items) == 1 else ("several regions" if items else None)


def _study_level(df: pd.DataFrame, c: str) -> pd.Series:
    if c == "region":
        return pd.Series([_region(v) for v in df["regions"]], index=df.index, dtype=object)
    if c == "usd_per_year":
        return pd.to_numeric(df.get("usd_per_year", pd.Series(index=df.index, dtype=float)), errors="coerce")
    if c not in df:
        return pd.Series(None, index=df.index, dtype=object)
    return df[c].astype(object).where(df[c].notna(), None)


def context_levels(cell: pd.DataFrame) -> dict[str, list]:
    """The values a user can choose for each characteristic in this cell (what the catalogue codes)."""
    masks = subgroup_masks(cell) if len(cell) else {}
    coded = [label for label, m in masks.items() if m.any()]
    usd = _study_level(cell, "usd_per_year").dropna() if len(cell) else pd.Series(dtype=float)
    # every sex and age band is offered (a band nobody codes gets its one-line reason); the coded first
    bands = [label for label, *_ in AGE_BANDS]
    return {"sex": ["girls", "boys"], "age_band": [b for b in bands if b in coded] + [b for b in bands if b not in coded],
            "region": sorted({v for v in _study_level(cell, "region").dropna()}) if len(cell) else [],
            "design": sorted({v for v in _study_level(cell, "design").dropna()}) if len(cell) else [],
            "usd_per_year": sorted(set(usd.tolist()))}


def _subgroup_base(ww: WhatWorks, ctx: Context, eligible: pd.DataFrame, reasons: list[tuple[str, str]]):
    """The effects for the stated sex and age band (coded subgroup effects, one per study): both
    together when two studies allow, else the one that does; a reason line (and what the answer then
    covers instead) for each that cannot."""
    masks = subgroup_masks(ww.cell)
    wanted = [(c, ctx.sex.capitalize() if c == "sex" else ctx.age_band) for c in ("sex", "age_band")
              if getattr(ctx, c)]
    if not wanted:
        return None, []

    def pick(labels):
        m = np.logical_and.reduce([masks.get(lb, pd.Series(False, index=ww.cell.index)) for _, lb in labels])
        coded = ww.cell[m]
        return coded, one_per_study(eligible[eligible.index.isin(coded.index)])

    def word(c, lb):
        return "girls' effects" if lb == "Girls" else "boys' effects" if lb == "Boys" else f"effects for {lb.lower()}"

    fallback = {"sex": "The answer below is for both sexes.", "age_band": "The answer below is for all ages the studies cover."}
    both_coded, both = pick(wanted)
    if both["study_id"].nunique() >= MIN_STUDIES:
        return both, [c for c, _ in wanted]
    singles = {c: pick([(c, lb)]) for c, lb in wanted}
    ok = [c for c, _ in wanted if singles[c][1]["study_id"].nunique() >= MIN_STUDIES]
    chosen = max(ok, key=lambda c: singles[c][1]["study_id"].nunique()) if ok else None
    for c, lb in wanted:
        if c == chosen:
            continue
        coded, pool = singles[c]
        if c in ok:  # separable alone, but not together with the chosen one
            reasons.append((f"{CHARACTERISTICS[c]}: effects coded for {dict(wanted)['sex'].lower()} and "
                           f"{dict(wanted)['age_band'].lower()} together in {_studies(both_coded['study_id'].nunique())}"
                           f" ({both['study_id'].nunique()} with a usable variance); {MIN_STUDIES} needed.",
                           f"The answer below separates {CHARACTERISTICS[chosen].lower()} only."))
            continue
        n_coded, n_var = coded["study_id"].nunique(), pool["study_id"].nunique()
        if n_coded == 0:
            reasons.append((f"{CHARACTERISTICS[c]}: no study in this cell reports {word(c, lb)} separately; "
                            f"{MIN_STUDIES} studies with a usable variance would be needed.", fallback[c]))
        else:
            reasons.append((f"{CHARACTERISTICS[c]}: {word(c, lb)} coded for {_studies(n_coded)}, {n_var} with "
                            f"a usable variance; {MIN_STUDIES} needed.", fallback[c]))
    if chosen is None:
        return None, []
    return singles[chosen][1], [chosen]


def _moderators(base: pd.DataFrame, ctx: Context, reasons: list[str]) -> dict[str, object]:
    """Study-level characteristics that vary enough in ``base`` to enter a meta-regression (added in
    order while the studies allow: at least two more studies than terms); a reason for the others."""
    used: dict[str, object] = {}
    k = base["study_id"].nunique()
    for c in ("region", "design", "usd_per_year"):
        want = getattr(ctx, c)
        if want in (None, ""):
            continue
        name = CHARACTERISTICS[c]
        vals = _study_level(base, c)
        coded = vals.dropna()
        k_coded = base.loc[coded.index, "study_id"].nunique()
        if c == "usd_per_year":
            if k_coded < 4 or coded.nunique() < 2:
                reasons.append(f"{name}: the transfer's value is coded for {k_coded} of the {_studies(k)} pooled; "
                               "a slope on transfer size needs at least 4 studies with different values.")
                continue
        else:
            levels = sorted(set(coded))
            if len(levels) == 1:
                same = levels[0] == want
                reasons.append(f"{name}: all {_studies(k_coded)} pooled are {('in ' if c == 'region' else '') + levels[0]}:"
                               f" {name.lower()} cannot be separated. " + (
                                   "The answer is for that " + name.lower() + "; studies of another would be needed "
                                   "to compare." if same else f"None is {want}, so the answer is indirect for your "
                                   f"context; studies of {want} would be needed."))
                continue
            if want not in levels:
                reasons.append(f"{name}: no pooled study is {want} (they are {', '.join(levels)}); a prediction "
                               f"needs studies of {want}.")
                continue
        n_terms = 1 + sum(1 if m == "usd_per_year" else _study_level(base, m).dropna().nunique() - 1 for m in [*used, c])
        rows = base[pd.concat([_study_level(base, m).notna() for m in [*used, c]], axis=1).all(axis=1)]
        if rows["study_id"].nunique() < n_terms + 2:
            reasons.append(f"{name}: {_studies(rows['study_id'].nunique())} with it coded are too few to separate it "
                           f"(a meta-regression with {n_terms} terms needs at least {n_terms + 2}).")
            continue
        used[c] = want
    return used


def context_answer(ww: WhatWorks, ctx: Context) -> ContextAnswer:
    """The answer for a stated context from the exact engine: the coded subgroup effects for sex and age
    band, a meta-regression on the study-level characteristics that vary, else the cell's pooled effect;
    with the 95% credible and prediction intervals and, for proportions, per 100 children. Each stated
    characteristic that cannot be separated gets one line saying why and what would be needed."""
    cell, metric = ww.cell, ww.metric
    eligible = cell[(exclusions(cell, ww.options, metric) == "") & usable(cell)] if metric else cell.iloc[0:0]
    sub_reasons: list[tuple[str, str]] = []
    base, used = _subgroup_base(ww, ctx, eligible, sub_reasons)
    reasons = [line for line, _ in sub_reasons]
    source = "subgroup" if base is not None else "pooled"
    if base is None:
        base = ww.selected if ww.result is not None else eligible.iloc[0:0]
    if base["study_id"].nunique() < MIN_STUDIES:
        why = ww.reason or "fewer than two studies have a usable variance"
        if not sub_reasons or any(getattr(ctx, c) for c in ("region", "design", "usd_per_year")):
            reasons.append(f"Nothing pools for this cell ({why.rstrip('.')}), so no characteristic of a study can be "
                           "separated; at least two studies with a usable variance would be needed.")
        return ContextAnswer(ctx, None, reasons=reasons)
    reasons = [" ".join(pair) for pair in sub_reasons]
    mods = _moderators(base, ctx, reasons)
    res = None
    if mods:
        frame = pd.DataFrame({m: _study_level(base, m) for m in mods})
        keep = frame.notna().all(axis=1)
        try:
            res = regression(base.loc[keep, "yi"].to_numpy(float), base.loc[keep, "vi"].to_numpy(float), frame[keep],
                             tau_prior=ww.tau_prior, x_new=dict(mods), measure=metric)
            base, source = base[keep], "meta-regression"
        except EvidenceError as exc:
            reasons.append(f"The meta-regression on {', '.join(CHARACTERISTICS[m].lower() for m in mods)} could not be "
                           f"fitted ({exc}); the answer below does not separate them.")
            mods = {}
    if res is None:
        res = exact.posterior(base["yi"].to_numpy(float), base["vi"].to_numpy(float), tau_prior=ww.tau_prior,
                              measure=metric)
    used = [*used, *mods]
    mu, new = res.mu, res.theta_new
    # the centre as the card states it: the posterior median for subgroup answers, the mean otherwise
    centre = mu.q50 if source == "subgroup" and mu.q50 is not None else mu.mean
    k = base["study_id"].nunique()
    what = _describe(ctx, used)
    how = {"subgroup": "coded subgroup effects", "meta-regression": "meta-regression",
           "pooled": "all pooled effects"}[source]
    text = (f"For {what}: {fmt(centre, metric)} {metric_unit(metric)} (95% credible interval {fmt(mu.q025, metric)} "
            f"to {fmt(mu.q975, metric)})")
    if new is not None and new.q025 is not None:
        text += (f"; a new programme can expect between {fmt(new.q025, metric)} and {fmt(new.q975, metric)} (95% "
                 "prediction interval)")
    text += f". From {_studies(k)} ({how}; exact engine, prior on tau {ww.tau_prior})."
    olabel = taxonomy().outcomes.get(ww.options.outcome, {}).get("label", ww.options.outcome)
    per_100 = per_100_children(centre, mu.q025, mu.q975, metric, olabel)
    if per_100 is not None and new is not None and new.q025 is not None and new.q975 is not None:
        per_100 += (f" A new programme: between {_children(new.q025)} and {_children(new.q975)} per 100 "
                    "children (95% prediction interval).")
    return ContextAnswer(ctx, text, res, source, list(dict.fromkeys(base["study_id"])), used, reasons, per_100)


#: What each GRADE certainty level means, in GRADE's plain words (Santesso et al. 2020), with the word
#: the statement uses ("probably reduces", "may reduce", "very uncertain"; none at high certainty).
CERTAINTY_MEANING = {rating: (MODAL[rating].strip() if rating in MODAL else "very uncertain", meaning) for rating, meaning in {
    "high": "The true effect is very likely close to the estimate.",
    "moderate": "The true effect is probably close to the estimate, but it could be substantially different.",
    "low": "The true effect may be substantially different from the estimate.",
    "very low": "The true effect is likely to be substantially different from the estimate.",
}.items()}


def per_100_children(centre: float | None, low: float | None, high: float | None, metric: str | None,
                     outcome_label: str) -> str | None:
    """The card's "out of 100 children" sentence for any pooled numbers (a subgroup's, a context's);
    None unless the metric is a proportion in percentage points."""
    if centre is None or low is None or high is None:
        return None
    a = absolute_effect(Pooled(centre, low, high, None, None, None, None, None, 0, "", ""), metric, None, outcome_label)
    return a.text if a is not None else None


def _children(x: float) -> str:
    return f"{abs(x):.1f} {'fewer' if x < 0 else 'more'}"


def _describe(ctx: Context, used: list[str]) -> str:
    parts = []
    for c in used:
        v = getattr(ctx, c)
        parts.append(f"a transfer of US${float(v):g} a year" if c == "usd_per_year" else f"programmes in {v}"
                     if c == "region" else f"{v} studies" if c == "design" else str(v).lower())
    return ", ".join(parts) if parts else "any programme in this cell (no characteristic separated)"


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
