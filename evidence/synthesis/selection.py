"""Which effects are pooled: usable rows, the cell's metric, one effect per study, labels, exclusions.

Conventions
- Effects are pooled only within one metric (percentage points are never pooled with hours or log
  odds ratios); ``relative_percent`` and ``other`` are never pooled.
- "One effect per study" for the overall question (:func:`study_effects`): the study's whole-sample
  effect (its primary one, else its first); a study that reports only disjoint subgroups (girls and
  boys, or non-overlapping age bands) contributes one inverse-variance combination of them, noted in
  ``combined_from``, rather than one arbitrary band. Disjoint subgroups are independent samples, so
  the combination's variance is 1 / sum(1 / v_i).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from evidence.synthesis.metrics import POOLABLE_METRICS


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


def _whole_sample(df: pd.DataFrame) -> pd.Series:
    sex = df["subgroup_sex"].fillna("all") if "subgroup_sex" in df else pd.Series("all", index=df.index)
    lo = pd.to_numeric(df.get("subgroup_age_min"), errors="coerce") if "subgroup_age_min" in df else pd.Series(np.nan, index=df.index)
    hi = pd.to_numeric(df.get("subgroup_age_max"), errors="coerce") if "subgroup_age_max" in df else pd.Series(np.nan, index=df.index)
    label = df["subgroup_label"] if "subgroup_label" in df else pd.Series(None, index=df.index)
    return (sex == "all") & lo.isna() & hi.isna() & ~label.map(lambda x: isinstance(x, str) and bool(x.strip()))


def _first(part: pd.DataFrame) -> pd.DataFrame:
    order = part.assign(_p=~part["primary"].fillna(False).astype(bool), _i=np.arange(len(part)))
    return order.sort_values(["_p", "_i"]).head(1).drop(columns=["_p", "_i"])


def _disjoint_sets(part: pd.DataFrame) -> list[pd.DataFrame]:
    """Candidate sets of disjoint subgroups in one study's effects: girls + boys (same ages), and
    non-overlapping age bands (same sex); subgroups with a free-text label are never combined."""
    unlabelled = part[~part["subgroup_label"].map(lambda x: isinstance(x, str) and bool(x.strip()))] if "subgroup_label" in part else part
    lo = pd.to_numeric(unlabelled["subgroup_age_min"], errors="coerce")
    hi = pd.to_numeric(unlabelled["subgroup_age_max"], errors="coerce")
    sets = []
    sexes = unlabelled[unlabelled["subgroup_sex"].isin(["girls", "boys"])]
    for _, same_age in sexes.groupby([lo.reindex(sexes.index).fillna(-1), hi.reindex(sexes.index).fillna(-1)]):
        if set(same_age["subgroup_sex"]) == {"girls", "boys"}:
            sets.append(pd.concat([_first(same_age[same_age["subgroup_sex"] == x]) for x in ("girls", "boys")]))
    banded = unlabelled[lo.notna() & hi.notna()]
    for _, same_sex in banded.groupby(banded["subgroup_sex"].fillna("all")):
        picked, last = [], -np.inf
        for idx in same_sex.assign(_lo=lo[same_sex.index], _hi=hi[same_sex.index]).sort_values(["_lo", "_hi"]).index:
            if lo[idx] > last:
                band = same_sex[(lo[same_sex.index] == lo[idx]) & (hi[same_sex.index] == hi[idx])]
                picked.append(_first(band))
                last = hi[idx]
        if len(picked) >= 2:
            sets.append(pd.concat(picked))
    return sets


def combine_subgroups(rows: pd.DataFrame) -> pd.DataFrame:
    """One row: the inverse-variance combination of disjoint subgroup effects of one study."""
    yi, vi = rows["yi"].to_numpy(float), rows["vi"].to_numpy(float)
    w = 1.0 / vi
    out = rows.head(1).copy()
    sexes = set(rows["subgroup_sex"].fillna("all"))
    lo = pd.to_numeric(rows["subgroup_age_min"], errors="coerce")
    hi = pd.to_numeric(rows["subgroup_age_max"], errors="coerce")
    parts = [_subgroup_text(r) for r in rows.itertuples()]
    out["yi"], out["vi"] = float(np.sum(w * yi) / np.sum(w)), float(1.0 / np.sum(w))
    out["subgroup_sex"] = "all" if sexes == {"girls", "boys"} else sexes.pop()
    out["subgroup_age_min"], out["subgroup_age_max"] = lo.min(), hi.max()
    out["subgroup_label"] = "combined: " + " + ".join(parts)
    out["effect_id"] = "+".join(rows["effect_id"].astype(str))
    out["combined_from"] = ", ".join(rows["effect_id"].astype(str))
    if "variance_imputed" in rows:
        out["variance_imputed"] = bool(rows["variance_imputed"].fillna(False).astype(bool).any())
    if "secondary" in rows:
        out["secondary"] = bool(rows["secondary"].fillna(False).astype(bool).any())
    return out


def _subgroup_text(r) -> str:
    sex = getattr(r, "subgroup_sex", "all")
    lo, hi = getattr(r, "subgroup_age_min", np.nan), getattr(r, "subgroup_age_max", np.nan)
    ages = f"{lo:g}-{hi:g}" if pd.notna(lo) and pd.notna(hi) else ""
    return " ".join(x for x in ((sex if sex in ("girls", "boys") else ""), ages) if x) or str(r.effect_id)


def study_effects(df: pd.DataFrame) -> pd.DataFrame:
    """One effect per study for the overall question (see the module docstring): the whole-sample
    effect, else a combination of disjoint subgroups, else the primary (or first) effect. ``df`` holds
    usable effects on one metric; the result keeps ``df``'s order of first appearance."""
    if df.empty:
        return df.assign(combined_from=pd.Series(dtype=object))
    out = []
    for _, part in df.groupby("study_id", sort=False):
        whole = part[_whole_sample(part)]
        if len(whole):
            out.append(_first(whole))
            continue
        sets = _disjoint_sets(part)
        if sets:
            best = min(sets, key=lambda s: float(1.0 / np.sum(1.0 / s["vi"].to_numpy(float))))
            out.append(combine_subgroups(best))
        else:
            out.append(_first(part))
    res = pd.concat(out)
    if "combined_from" not in res:
        res["combined_from"] = None
    return res


def effect_labels(df: pd.DataFrame) -> list[str]:
    """Readable, unique labels: citation (plus country where two studies share a citation, e.g. one
    report of two programmes; plus subgroup / effect id when a study has several)."""
    if df.empty:  # most gap-map cells select nothing: no labels, and no grouping to pay for
        return []
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


def poolable_metrics(cell: pd.DataFrame) -> list[str]:
    """The poolable metrics (in ``POOLABLE_METRICS`` order) on which ``cell`` has a usable effect."""
    if cell.empty:
        return []
    present = set(cell.loc[usable(cell), "metric"])
    return [m for m in POOLABLE_METRICS if m in present]


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
