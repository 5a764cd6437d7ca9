"""What a source reports -> ``yi``/``vi``: one coded result turned into an analysable effect size.

Papers report a coefficient with its SE, CI, t, p or only significance stars; or means and SDs,
2x2 counts, proportions, a ratio or a correlation. ``effect_from_reported`` picks the conversion
the coding guide's "Metrics" rules prescribe (built from :mod:`evidence.effectsize`) and returns an
:class:`EffectSize` that records every conversion it applied, so each number can be audited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from evidence.effectsize import (
    apply_design_effect,
    design_effect,
    escalc,
    fisher_z,
    hedges_g,
    level_unstated,
    logor_from_pp,
    logrr_from_pp,
    parse_threshold,
    pp_diff_from_proportions,
    se_from_ci,
    se_from_p,
    se_from_significance,
    se_from_t,
)
from evidence.errors import EffectSizeError


@dataclass
class EffectSize:
    """One coded result on an analysable scale. ``vi`` is None for a headline estimate (no usable
    variance) and for relative % changes; ``notes`` lists every conversion applied, in order;
    ``alternatives`` maps other metafor measures (e.g. "OR", "RR", "MD") to ``(yi, vi)``."""

    yi: float | None  # None only for a mapped effect with no numbers coded yet
    vi: float | None
    se: float | None
    measure: str | None
    metric: str | None
    variance_imputed: bool = False
    notes: list[str] = field(default_factory=list)
    alternatives: dict[str, tuple[float, float | None]] = field(default_factory=dict)


# unit -> (measure, metric, multiplier to the metric, note)
_LINEAR = {
    "percentage_points": ("RD", "percentage_points", 1.0, None),
    "proportion": ("RD", "percentage_points", 100.0, "proportion x100 -> percentage points (SE x100)"),
    "hours_per_week": ("MD", "hours_per_week", 1.0, None),
    "hours_per_day": ("MD", "hours_per_week", 7.0, "hours per day x 7 -> hours per week (SE x7)"),
    "sd": ("SMD", "sd", 1.0, None),
    "other": ("MD", "other", 1.0, None),
}
_RATIO = {"odds_ratio": ("OR", "log_odds_ratio"), "risk_ratio": ("RR", "log_risk_ratio")}
_FORMS = ("coefficient", "means_sds", "counts", "proportions", "odds_ratio", "risk_ratio", "correlation")


def _variance(r: dict, b: float, ratio: bool = False) -> tuple[float | None, bool, str]:
    """(SE, imputed, note) on the scale of ``b`` (log scale for ratios) by priority se > CI > t > p >
    significance threshold; SE None when nothing usable is reported."""
    est = r.get("estimate")
    if r.get("se") is not None:
        if not r["se"] > 0:
            raise EffectSizeError(f"se must be > 0, got {r['se']}")
        if ratio:
            return r["se"] / est, False, "SE of the ratio taken to the log scale (delta method: SE/ratio)"
        return float(r["se"]), False, "SE as reported"
    lo, hi = r.get("ci_low"), r.get("ci_high")
    if (lo is None) != (hi is None):
        raise EffectSizeError("only one confidence limit given (ci_low/ci_high)")
    if lo is not None:
        if lo > hi:
            raise EffectSizeError(f"ci_low {lo} > ci_high {hi}")
        if est is not None and not lo <= est <= hi:
            raise EffectSizeError(f"estimate {est} lies outside its CI ({lo}, {hi})")
        level, df = r.get("ci_level") or 0.95, r.get("df")
        se = se_from_ci(lo, hi, level, df, log_scale=ratio)
        how = f"t quantile, df={df:g}" if df is not None else "normal quantile"
        return se, False, f"SE from {level * 100:g}% CI ({how}{', log scale' if ratio else ''})"
    if r.get("t") is not None:
        return se_from_t(b, r["t"]), False, "SE from t"
    if r.get("p") is not None:
        return se_from_p(b, r["p"]), False, "SE from exact p"
    if r.get("significance") is not None:
        a = parse_threshold(r["significance"])
        if a is None and level_unstated(r["significance"]):
            return None, False, "significance stated without a level: no variance imputed"
        if a is None:
            return None, False, "reported only as not significant (n.s.): no variance imputed"
        return se_from_significance(b, a).se, True, f"SE imputed from p<{a:g} (conservative)"
    return None, False, "no SE, CI, t or p reported: headline estimate without variance"


def _need(r: dict, form: str, *keys: str) -> list:
    missing = [k for k in keys if r.get(k) is None]
    if missing:
        raise EffectSizeError(f"form '{form}' needs {', '.join(missing)}")
    return [r[k] for k in keys]


def _pp_alternatives(pp: float, se: float | None, p2: float | None) -> dict:
    if p2 is None or not 0 < p2 < 1 or not 0 < p2 + pp / 100 < 1:
        return {}
    out = {}
    for name, f in (("OR", logor_from_pp), ("RR", logrr_from_pp)):
        y, s = f(pp, p2, se)
        out[name] = (y, None if s is None else s**2)
    return out


def _infer_form(r: dict) -> str:
    for form, key in (("counts", "ai"), ("means_sds", "m1"), ("proportions", "p1"), ("correlation", "r")):
        if r.get(key) is not None:
            return form
    if r.get("unit") in _RATIO:
        return r["unit"]
    return "coefficient"


def effect_from_reported(reported: dict) -> EffectSize:
    """Turn one coded result into an :class:`EffectSize`, following the coding guide's Metrics rules.

    Keys (all optional): form, estimate, unit, se, t, p, ci_low, ci_high, ci_level, df, significance,
    m1, sd1, n1, m2, sd2, n2, ai, bi, ci, di, p1, p2, r, n, se_clustered, avg_cluster_size, icc, clustered
    (group 1 = treatment, 2 = control; ``clustered``: the design is clustered, set by the catalogue
    build, only adds a note when ``se_clustered`` is not coded). For ``form: proportions`` p1/p2 are
    proportions and se/CI are in ``unit`` (percentage points, else proportion units). Raises :class:`EffectSizeError` on inconsistent input.
    """
    r = {k: v for k, v in reported.items() if v is not None}
    notes: list[str] = []
    form = r.get("form")
    if form is None:
        form = _infer_form(r)
        notes.append(f"form inferred as '{form}'")
    if form not in _FORMS:
        raise EffectSizeError(f"unknown form '{form}'; expected one of {', '.join(_FORMS)}")
    unit = r.get("unit")
    alt: dict = {}
    imputed = False
    if form == "counts":
        ai, ci = _need(r, form, "ai", "ci")
        cols = {"ai": ai, "ci": ci, "bi": r.get("bi"), "di": r.get("di"), "n1i": r.get("n1"), "n2i": r.get("n2")}
        yi, vi = (float(x[0]) for x in escalc("RD", **cols))
        yi, vi = 100 * yi, 1e4 * vi
        measure, metric = "RD", "percentage_points"
        notes.append("risk difference from 2x2 counts (metafor escalc RD, LS variance) x100 -> percentage points")
        if 0 in [v for v in cols.values() if v is not None]:
            notes.append("a cell is zero: 1/2 added to each cell (metafor to='only0')")
        alt = {m: tuple(float(x[0]) for x in escalc(m, **cols)) for m in ("OR", "RR")}
    elif form == "means_sds":
        m1, sd1, n1, m2, sd2, n2 = _need(r, form, "m1", "sd1", "n1", "m2", "sd2", "n2")
        yi, vi = hedges_g(m1, m2, sd1, sd2, n1, n2)
        measure, metric = "SMD", "sd"
        notes.append("Hedges' g from means and SDs (exact small-sample correction, metafor LS variance)")
        k = 7.0 if unit == "hours_per_day" else 1.0
        md, vmd = escalc("MD", m1i=m1, m2i=m2, sd1i=sd1, sd2i=sd2, n1i=n1, n2i=n2)
        alt["MD"] = (k * float(md[0]), k * k * float(vmd[0]))
        if k == 7.0:
            notes.append("alternative MD: hours per day x 7 -> hours per week")
    elif form == "proportions":
        p1, p2 = _need(r, form, "p1", "p2")
        yi, vi = pp_diff_from_proportions(p1, p2, r.get("n1"), r.get("n2"))
        measure, metric = "RD", "percentage_points"
        notes.append("difference of proportions x100 -> percentage points")
        if vi is not None:
            notes.append("binomial variance p(1-p)/n per group")
        else:
            # se / CI are in the reported unit, so work in it: b = p1 - p2 as a proportion, or x100 when
            # the unit is percentage points; t / p / significance then give an SE on the same scale
            k = 1.0 if unit == "percentage_points" else 100.0
            b = (p1 - p2) * (100.0 / k)
            s, imputed, note = _variance({**r, "estimate": b}, b)
            vi = None if s is None else (k * s) ** 2
            notes.append(note + ("" if s is None else " (in percentage points)" if k == 1
                                 else " (in proportion units, x100)"))
        alt = _pp_alternatives(yi, None if vi is None else math.sqrt(vi), p2)
    elif form == "correlation" or unit == "correlation":
        rho = r.get("r", r.get("estimate"))
        if rho is None:
            raise EffectSizeError("form 'correlation' needs r (or estimate)")
        if not -1 < rho < 1:
            raise EffectSizeError(f"correlation must be in (-1, 1), got {rho}")
        measure, metric = "ZCOR", "fisher_z"
        if r.get("n") is not None:
            yi, vi = fisher_z(rho, r["n"])
            notes.append("Fisher z from r and n (variance 1/(n-3))")
            vi = None if math.isnan(vi) else vi
        else:
            s, imputed, note = _variance({**r, "estimate": rho}, rho)
            yi = math.atanh(rho)
            vi = None if s is None else (s / (1 - rho**2)) ** 2
            notes += ["Fisher z = atanh(r)", note + ("" if s is None else "; SE/(1-r^2) (delta method)")]
    elif form in _RATIO or unit in _RATIO:
        kind = form if form in _RATIO else unit
        (est,) = _need(r, form, "estimate")
        if not est > 0:
            raise EffectSizeError(f"a ratio must be > 0, got {est}")
        measure, metric = _RATIO[kind]
        yi = math.log(est)
        s, imputed, note = _variance(r, yi, ratio=True)
        vi = None if s is None else s**2
        notes += [f"{kind.replace('_', ' ')} -> log scale", note]
    else:  # coefficient
        (est,) = _need(r, form, "estimate")
        if unit == "percent_relative":
            notes.append("relative % change (base unknown): cannot be converted or pooled; kept as reported")
            return EffectSize(float(est), None, None, "relative_percent", "percent_relative", False, notes)
        if unit is None:
            notes.append("unit not reported: kept as reported ('other')")
        measure, metric, k, note = _LINEAR.get(unit or "other", (None,) * 4)
        if measure is None:
            raise EffectSizeError(f"unknown unit '{unit}'")
        if note:
            notes.append(note)
        s, imputed, vnote = _variance(r, est)
        notes.append(vnote)
        yi, vi = k * est, None if s is None else (k * s) ** 2
        if metric == "percentage_points":
            alt = _pp_alternatives(yi, None if vi is None else math.sqrt(vi), r.get("p2"))
    if vi is not None and r.get("se_clustered") is False:
        m, icc = r.get("avg_cluster_size"), r.get("icc")
        if m is not None and icc is not None:
            deff = design_effect(m, icc)
            vi = apply_design_effect(vi, deff)
            alt = {k: (y, None if v is None else apply_design_effect(v, deff)) for k, (y, v) in alt.items()}
            notes.append(f"design effect 1+(m-1)ICC={deff:.4g} applied (m={m:g}, ICC assumed {icc:g})")
        else:
            notes.append("SE not adjusted for clustering (no cluster size and ICC to compute a design effect)")
    if vi is not None and r.get("clustered") and r.get("se_clustered") is None:
        notes.append("cluster design; whether the SE accounts for clustering is not stated")
    if alt:
        notes.append(f"alternatives on other scales: {', '.join(alt)}")
    return EffectSize(float(yi), None if vi is None else float(vi), None if vi is None else math.sqrt(vi),
                      measure, metric, imputed, notes, alt)
