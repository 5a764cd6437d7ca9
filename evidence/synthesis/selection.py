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

_POOLABLE = frozenset(POOLABLE_METRICS)


def as_numbers(col) -> np.ndarray:
    """A column as floats (text that is not a number, and missing values, as NaN)."""
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _flag(x) -> bool:
    return False if x is None or x is pd.NA or (isinstance(x, float) and x != x) else bool(x)


def as_flags(col) -> np.ndarray:
    """A yes/no column as booleans, missing as no (what ``col.fillna(False).astype(bool)`` gives, without
    the pandas calls: the gap map reads these columns for every cell on each filter change)."""
    if col.dtype == bool:
        return col.to_numpy()
    if isinstance(col.dtype, pd.BooleanDtype):
        return col.to_numpy(dtype=bool, na_value=False)
    return np.fromiter(map(_flag, col), bool, len(col))


def poolable_metric_mask(metrics) -> np.ndarray:
    """Which of ``metrics`` (a column's values) can be pooled."""
    return np.fromiter((m in _POOLABLE for m in metrics), bool, len(metrics))


def usable_mask(df: pd.DataFrame) -> np.ndarray:
    """Rows with a finite effect, a positive variance and a poolable metric (as a boolean array)."""
    yi, vi = as_numbers(df["yi"]), as_numbers(df["vi"])
    with np.errstate(invalid="ignore"):
        return np.isfinite(yi) & (vi > 0) & poolable_metric_mask(df["metric"].to_numpy(object))


def usable(df: pd.DataFrame) -> pd.Series:
    """Rows with a finite effect, a positive variance and a poolable metric."""
    return pd.Series(usable_mask(df), index=df.index)


def main_metric(df: pd.DataFrame) -> str | None:
    """The metric most studies in ``df`` can be pooled on (ties: order of ``POOLABLE_METRICS``)."""
    ok = usable_mask(df)
    studies: dict[str, set] = {}
    for m, sid in zip(df["metric"].to_numpy(object)[ok], df["study_id"].to_numpy(object)[ok]):
        studies.setdefault(m, set()).add(sid)
    if not studies:
        return None
    return max(studies, key=lambda m: (len(studies[m]), -POOLABLE_METRICS.index(m)))


def _first_position(primary: np.ndarray, positions) -> int:
    """The first primary effect among ``positions`` (row positions in order), else the first."""
    return next((i for i in positions if primary[i]), positions[0])


def primary_positions(study_ids, primary: np.ndarray, positions=None) -> list[int]:
    """Of the rows at ``positions`` (all rows by default), each study's primary effect, else its first
    listed effect: their row positions, in order."""
    return sorted(_first_position(primary, pos) for pos in _by_study(study_ids, positions).values())


def _by_study(study_ids, positions=None) -> dict:
    """Study id -> its row positions (of ``positions``, all rows by default), in order of first appearance."""
    by_study: dict = {}
    for i in (range(len(study_ids)) if positions is None else positions):
        by_study.setdefault(study_ids[i], []).append(int(i))
    return by_study


def one_per_study(df: pd.DataFrame) -> pd.DataFrame:
    """Each study's primary effect (else its first listed effect)."""
    if df.empty:
        return df
    return df.iloc[primary_positions(df["study_id"].to_numpy(object), as_flags(df["primary"]))]


def _is_label(x) -> bool:
    return isinstance(x, str) and bool(x.strip())


def _whole_sample(df: pd.DataFrame) -> np.ndarray:
    """Which effects are for the whole sample: no sex, no age band, no free-text subgroup."""
    n = len(df)
    sex = df["subgroup_sex"].to_numpy(object) if "subgroup_sex" in df else np.full(n, "all", dtype=object)
    whole = np.fromiter((s is None or s is pd.NA or (isinstance(s, float) and s != s) or s == "all" for s in sex), bool, n)
    for col in ("subgroup_age_min", "subgroup_age_max"):
        if col in df:
            whole &= np.isnan(as_numbers(df[col]))
    if "subgroup_label" in df:
        whole &= ~np.fromiter(map(_is_label, df["subgroup_label"]), bool, n)
    return whole


def _disjoint_sets(part: pd.DataFrame) -> list[list[int]]:
    """Candidate sets of disjoint subgroups in one study's effects (row positions of ``part``): girls +
    boys (same ages), and non-overlapping age bands (same sex); subgroups with a free-text label are
    never combined. Within a subgroup, its primary effect (else its first) stands for it."""
    n = len(part)
    labelled = np.fromiter(map(_is_label, part["subgroup_label"]), bool, n) if "subgroup_label" in part else np.zeros(n, bool)
    sex = ["all" if x is None or x is pd.NA or (isinstance(x, float) and x != x) else x for x in part["subgroup_sex"]]
    lo, hi = as_numbers(part["subgroup_age_min"]), as_numbers(part["subgroup_age_max"])
    primary = as_flags(part["primary"])
    free = [i for i in range(n) if not labelled[i]]
    sets = []
    by_age: dict[tuple, list[int]] = {}  # girls and boys effects by age band (unknown bounds as -1)
    for i in free:
        if sex[i] in ("girls", "boys"):
            by_age.setdefault((-1.0 if np.isnan(lo[i]) else lo[i], -1.0 if np.isnan(hi[i]) else hi[i]), []).append(i)
    for key in sorted(by_age):
        pos = by_age[key]
        if {sex[i] for i in pos} == {"girls", "boys"}:
            sets.append([_first_position(primary, [i for i in pos if sex[i] == x]) for x in ("girls", "boys")])
    by_sex: dict[str, list[int]] = {}  # effects with a whole age band, by sex
    for i in free:
        if not (np.isnan(lo[i]) or np.isnan(hi[i])):
            by_sex.setdefault(sex[i], []).append(i)
    for key in sorted(by_sex):
        picked, last = [], -np.inf
        for i in sorted(by_sex[key], key=lambda i: (lo[i], hi[i])):
            if lo[i] > last:
                picked.append(_first_position(primary, [j for j in by_sex[key] if lo[j] == lo[i] and hi[j] == hi[i]]))
                last = hi[i]
        if len(picked) >= 2:
            sets.append(picked)
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
    usable effects on one metric; the result keeps ``df``'s order of first appearance.

    Row positions, not frames, until the end: most studies have a whole-sample effect, and this runs
    for every gap-map cell on each filter change."""
    if df.empty:
        return df.assign(combined_from=pd.Series(dtype=object))
    whole, primary = _whole_sample(df), as_flags(df["primary"])
    by_study = _by_study(df["study_id"].to_numpy(object))
    picks: list = []  # a row position of df, or a one-row frame (a combination of subgroups)
    for pos in by_study.values():
        in_whole = [i for i in pos if whole[i]]
        if in_whole:
            picks.append(_first_position(primary, in_whole))
            continue
        part = df.iloc[pos]
        sets = _disjoint_sets(part)
        if sets:
            vi = part["vi"].to_numpy(float)
            best = min(sets, key=lambda s: float(1.0 / np.sum(1.0 / vi[s])))
            picks.append(combine_subgroups(part.iloc[best]))
        else:
            picks.append(_first_position(primary, pos))
    if all(isinstance(p, int) for p in picks):
        res = df.iloc[picks]
        return res if "combined_from" in res else res.assign(combined_from=None)
    parts, run = [], []  # consecutive positions taken in one slice
    for p in picks:
        if isinstance(p, int):
            run.append(p)
            continue
        if run:
            parts.append(df.iloc[run])
            run = []
        parts.append(p)
    if run:
        parts.append(df.iloc[run])
    res = pd.concat(parts)
    if "combined_from" not in res:
        res["combined_from"] = None
    return res


def effect_labels(df: pd.DataFrame) -> list[str]:
    """Readable, unique labels: citation (plus country where two studies share a citation, e.g. one
    report of two programmes; plus subgroup / effect id when a study has several)."""
    if df.empty:  # most gap-map cells select nothing: no labels, and no grouping to pay for
        return []
    sids = list(df["study_id"])
    cited = df["citation"] if "citation" in df else sids
    citations = [str(s if c is None or c is pd.NA or (isinstance(c, float) and c != c) else c) for c, s in zip(cited, sids)]
    studies_of: dict[str, set] = {}
    for c, sid in zip(citations, sids):
        studies_of.setdefault(c, set()).add(sid)
    shared = [len(studies_of[c]) > 1 for c in citations]
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
    r = as_flags(df["randomised"])
    if r.all():
        return "randomised designs"
    return "non-randomised designs" if not r.any() else "mixed designs"


def poolable_metrics(cell: pd.DataFrame) -> list[str]:
    """The poolable metrics (in ``POOLABLE_METRICS`` order) on which ``cell`` has a usable effect."""
    if cell.empty:
        return []
    present = set(cell["metric"].to_numpy(object)[usable_mask(cell)])
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
