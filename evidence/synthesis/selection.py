"""Which effects are pooled: usable rows, the cell's metric, one effect per study, labels, exclusions.

Conventions
- Effects are pooled only within one metric (percentage points are never pooled with hours or log
  odds ratios); ``relative_percent`` and ``other`` are never pooled.
- "One effect per study": the study's primary effect for the outcome, else its first listed effect.
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
