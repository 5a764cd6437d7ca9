"""Effect sizes and their sampling variances: metafor's measures and the basic conversions.

``escalc`` reproduces metafor's ``escalc()`` (default settings: ``add=1/2, to="only0"``,
``vtype="LS"``) for the measures this project uses, so numbers can be checked against R. The
conversion helpers (SE from t/p/CI/significance, design effect, hours, percentage points, logit
conversions) implement the coding guide's "Metrics" rules; :mod:`evidence.reported` applies them to
one coded result.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

import numpy as np

from evidence.errors import EffectSizeError


def _special():
    """scipy.special, imported on first use: most commands that import this module (``meta --csv``,
    ``validate``) never call the few functions that need it, and scipy costs ~100 ms to import."""
    from scipy import special

    return special

#: measure -> required metafor arguments ("bi|n1i": either)
MEASURES: dict[str, tuple[str, ...]] = {
    "RR": ("ai", "ci", "bi|n1i", "di|n2i"), "OR": ("ai", "ci", "bi|n1i", "di|n2i"),
    "RD": ("ai", "ci", "bi|n1i", "di|n2i"),
    "SMD": ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"), "SMDH": ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"),
    "MD": ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"), "ROM": ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"),
    "PLO": ("xi", "ni|mi"), "PR": ("xi", "ni|mi"), "COR": ("ri", "ni"), "ZCOR": ("ri", "ni"),
}
ARGUMENTS = ("ai", "bi", "ci", "di", "n1i", "n2i", "m1i", "m2i", "sd1i", "sd2i", "xi", "mi", "ni", "ri")


def _arr(name: str, value: Any) -> np.ndarray:
    try:
        return np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError) as exc:
        raise EffectSizeError(f"argument '{name}' is not numeric: {exc}") from None


def _check(name: str, x: np.ndarray, bad: np.ndarray, what: str) -> None:
    """Raise naming the argument and the first offending (0-based) row; NaN rows never fail."""
    rows = np.flatnonzero(bad & ~np.isnan(x))
    if rows.size:
        r = int(rows[0])
        raise EffectSizeError(f"{name} must be {what}: row {r} (0-based) has {name}={x[r]:g}"
                              + (f" ({rows.size} rows in all)" if rows.size > 1 else ""))


def _cmi(m: np.ndarray) -> np.ndarray:
    """Hedges' exact small-sample correction J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), as metafor."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(_special().gammaln(m / 2) - np.log(np.sqrt(m / 2)) - _special().gammaln((m - 1) / 2))
    return np.where(m > 1, out, np.nan)


def escalc(measure: str, *, add: float = 0.5, to: str = "only0", **cols: Any) -> tuple[np.ndarray, np.ndarray]:
    """metafor-compatible effect sizes ``(yi, vi)`` (1-d float arrays) from raw columns.

    Use it when a study reports a 2x2 table, group means/SDs, a single proportion or a correlation.
    Argument names are metafor's (ai, bi, ci, di, n1i, n2i, m1i, m2i, sd1i, sd2i, xi, mi, ni, ri);
    measures RR/OR (log scale), RD, SMD (Hedges' g, exact gamma correction, vtype="LS"), SMDH, MD,
    ROM, PLO, PR, COR, ZCOR. For tables and proportions, ``add`` is added to every cell of a row with
    a zero cell (metafor's ``to="only0"``; also "all", "if0all", "none"). NaN inputs give NaN outputs,
    as do non-finite results (metafor's NA); invalid values raise :class:`EffectSizeError`.
    """
    measure = str(measure).upper()
    if measure not in MEASURES:
        raise EffectSizeError(f"unknown measure '{measure}'; choose one of {', '.join(MEASURES)}")
    unknown = sorted(set(cols) - set(ARGUMENTS))
    if unknown:
        raise EffectSizeError(f"unknown argument(s) {', '.join(unknown)}; metafor names are {', '.join(ARGUMENTS)}")
    if to not in ("only0", "all", "if0all", "none"):
        raise EffectSizeError(f"unknown to='{to}'")
    for req in MEASURES[measure]:
        if not any(cols.get(a) is not None for a in req.split("|")):
            raise EffectSizeError(f"measure {measure} needs argument {' or '.join(req.split('|'))}")
    given = {k: _arr(k, v) for k, v in cols.items() if v is not None}
    try:
        arrays = dict(zip(given, np.broadcast_arrays(*given.values())))
    except ValueError:
        raise EffectSizeError("argument vectors are not all of the same length") from None
    a = {k: v.astype(float, copy=True) for k, v in arrays.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        yi, vi = _compute(measure, a, add, to)
    bad = ~np.isfinite(yi) | ~np.isfinite(vi)
    yi, vi = np.where(np.isfinite(yi), yi, np.nan), np.where(bad, np.nan, vi)
    return yi, vi


def _cells(a: dict, names: tuple[str, str], add: float, to: str) -> list[np.ndarray]:
    """Continuity correction over a set of cell arrays, metafor-style."""
    cells = [a[n] for n in names]
    zero = np.zeros(cells[0].shape, bool)
    for c in cells:
        zero |= c == 0
    if to == "all" or (to == "if0all" and zero.any()):
        return [c + add for c in cells]
    if to == "only0":
        return [np.where(zero, c + add, c) for c in cells]
    return cells


def _compute(measure: str, a: dict, add: float, to: str) -> tuple[np.ndarray, np.ndarray]:
    if measure in ("RR", "OR", "RD"):
        for _g, (ev, ne, n) in {1: ("ai", "bi", "n1i"), 2: ("ci", "di", "n2i")}.items():
            if ne not in a:
                _check(n, a[n], a[n] < 1, ">= 1")
                _check(ev, a[ev], a[ev] > a[n], f"<= {n}")
                a[ne] = a[n] - a[ev]
        for k in ("ai", "bi", "ci", "di"):
            _check(k, a[k], a[k] < 0, "a non-negative count")
        ai, bi, ci, di = _cells(a, ("ai", "bi", "ci", "di"), add, to)
        n1, n2 = ai + bi, ci + di
        p1, p2 = ai / n1, ci / n2
        if measure == "RR":
            return np.log(p1) - np.log(p2), 1 / ai - 1 / n1 + 1 / ci - 1 / n2
        if measure == "OR":
            return np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2)), 1 / ai + 1 / bi + 1 / ci + 1 / di
        return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    if measure in ("SMD", "SMDH", "MD", "ROM"):
        for k in ("sd1i", "sd2i"):
            _check(k, a[k], a[k] <= 0, "> 0")
        for k in ("n1i", "n2i"):
            _check(k, a[k], a[k] < 1, ">= 1")
        m1, m2, s1, s2, n1, n2 = (a[k] for k in ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"))
        mi = n1 + n2 - 2
        if measure == "MD":
            return m1 - m2, s1**2 / n1 + s2**2 / n2
        if measure == "ROM":
            return np.log(m1 / m2), s1**2 / (n1 * m1**2) + s2**2 / (n2 * m2**2)
        cmi = _cmi(mi)
        if measure == "SMD":
            yi = cmi * (m1 - m2) / np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / mi)
            return yi, 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
        yi = cmi * (m1 - m2) / np.sqrt((s1**2 + s2**2) / 2)  # SMDH (Bonett 2009), metafor's variance
        vi = (yi**2 * (s1**4 / (n1 - 1) + s2**4 / (n2 - 1)) / (2 * (s1**2 + s2**2) ** 2)
              + (s1**2 / (n1 - 1) + s2**2 / (n2 - 1)) / ((s1**2 + s2**2) / 2))
        return yi, cmi**2 * vi
    if measure in ("PLO", "PR"):
        if "mi" not in a:
            _check("ni", a["ni"], a["ni"] < 1, ">= 1")
            _check("xi", a["xi"], a["xi"] > a["ni"], "<= ni")
            a["mi"] = a["ni"] - a["xi"]
        for k in ("xi", "mi"):
            _check(k, a[k], a[k] < 0, "a non-negative count")
        xi, mi = _cells(a, ("xi", "mi"), add, to)
        p = xi / (xi + mi)
        if measure == "PR":
            return p, p * (1 - p) / (xi + mi)
        return np.log(p / (1 - p)), 1 / xi + 1 / mi
    ri, ni = a["ri"], a["ni"]  # COR, ZCOR
    _check("ri", ri, np.abs(ri) > 1, "between -1 and 1")
    _check("ni", ni, ni < 1, ">= 1")
    if measure == "COR":
        yi, vi = ri.copy(), (1 - ri**2) ** 2 / (ni - 1)
    else:
        yi, vi = np.arctanh(ri), 1 / (ni - 3)
    return yi, np.where(ni <= 4, np.nan, vi)  # metafor: no variance when ni <= 4


# --------------------------------------------------------------------------- reported forms

def _num(x):
    a = np.asarray(x, dtype=float)
    return float(a) if a.ndim == 0 else a


def _z(level: float, df: float | None = None) -> float:
    if not 0 < level < 1:
        raise EffectSizeError(f"confidence level must be in (0, 1), got {level}")
    q = 1 - (1 - level) / 2
    if df is None:
        return float(_special().ndtri(q))
    if not df > 0:
        raise EffectSizeError(f"df must be > 0, got {df}")
    return float(_special().stdtrit(df, q))


def _positive_se(se, what: str):
    if np.any(~(np.asarray(se) > 0) & ~np.isnan(np.asarray(se, float))):
        raise EffectSizeError(f"SE from {what} is not positive and finite (estimate 0 or statistic inconsistent)")
    if np.any(np.isinf(np.asarray(se, float))):
        raise EffectSizeError(f"SE from {what} is infinite (statistic 0 or p = 1)")
    return _num(se)


def se_from_t(b, t):
    """SE = |b / t|: when a coefficient is reported with its t (or z) statistic."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _positive_se(np.abs(np.asarray(b, float) / np.asarray(t, float)), "t")


def se_from_p(b, p):
    """SE = |b| / z(1 - p/2): when an exact two-sided p-value is reported (normal approximation)."""
    p = np.asarray(p, float)
    if np.any((p <= 0) | (p > 1)):
        raise EffectSizeError(f"p must be in (0, 1], got {p}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return _positive_se(np.abs(np.asarray(b, float)) / _special().ndtri(1 - p / 2), "p")


def se_from_ci(lower, upper, level: float = 0.95, df: float | None = None, log_scale: bool = False):
    """SE = (upper - lower) / (2 q): from a confidence interval; q is the normal quantile, or the t
    quantile when the source used ``df``; ``log_scale=True`` for ratios (OR, RR), giving the SE of the log."""
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    if np.any(lo > hi):
        raise EffectSizeError(f"CI lower bound {lower} exceeds upper bound {upper}")
    if log_scale:
        if np.any((lo <= 0) | (hi <= 0)):
            raise EffectSizeError(f"CI of a ratio must be positive, got ({lower}, {upper})")
        lo, hi = np.log(lo), np.log(hi)
    return _positive_se((hi - lo) / (2 * _z(level, df)), "CI")


class ImputedSE(NamedTuple):
    se: float
    imputed: bool


def parse_threshold(significance: str | float) -> float | None:
    """The p threshold in "p<0.05", "p < .1", "0.01"; None for "n.s." (not significant) and for
    "significant (level not stated)": neither gives a usable SE."""
    if isinstance(significance, (int, float)):
        return float(significance)
    s = str(significance).strip().lower().replace(" ", "")
    if s in ("n.s.", "ns", "n.s", "notsignificant") or level_unstated(significance):
        return None
    m = re.fullmatch(r"(?:p)?[<≤]=?(0?\.\d+|1(?:\.0*)?)", s) or re.fullmatch(r"(0?\.\d+)", s)
    if not m:
        raise EffectSizeError(f"cannot read significance '{significance}' (expected e.g. 'p<0.05' or 'n.s.')")
    return float(m.group(1))


def level_unstated(significance) -> bool:
    """True for wording such as "significant (level not stated)": a claim without a threshold."""
    s = str(significance).strip().lower()
    return s.startswith("significant") and not re.search(r"p\s*[<≤]", s)


def se_from_significance(b, threshold: str | float) -> ImputedSE:
    """Conservative SE from significance stars only: p < a -> SE = |b| / z(1 - a/2) (e.g. |b|/1.96 for
    0.05), the largest SE consistent with the claim. Always flagged ``imputed=True``."""
    a = parse_threshold(threshold)
    if a is None:
        raise EffectSizeError("'n.s.' gives no SE: a non-significant result bounds the SE from below only")
    if not 0 < a < 1:
        raise EffectSizeError(f"significance threshold must be in (0, 1), got {a}")
    return ImputedSE(_positive_se(abs(float(b)) / _special().ndtri(1 - a / 2), "significance"), True)


def design_effect(avg_cluster_size, icc):
    """Design effect 1 + (m - 1) ICC: inflates variances that ignored cluster sampling."""
    m, r = np.asarray(avg_cluster_size, float), np.asarray(icc, float)
    if np.any(m < 1) or np.any((r < 0) | (r > 1)):
        raise EffectSizeError(f"need avg_cluster_size >= 1 and 0 <= icc <= 1, got {avg_cluster_size}, {icc}")
    return _num(1 + (m - 1) * r)


def apply_design_effect(vi, deff):
    """Variance corrected for clustering: vi * deff (the SE grows by sqrt(deff))."""
    if np.any(np.asarray(deff, float) < 1):
        raise EffectSizeError(f"design effect must be >= 1, got {deff}")
    return _num(np.asarray(vi, float) * np.asarray(deff, float))


def hours_per_day_to_week(x, days: float = 7):
    """Hours per day -> hours per week (x days). Linear, so use it on the SE too."""
    return _num(np.asarray(x, float) * days)


def hours_per_week_to_day(x, days: float = 7):
    """Hours per week -> hours per day (inverse of :func:`hours_per_day_to_week`; also for the SE)."""
    return _num(np.asarray(x, float) / days)


def pp_from_proportion_diff(x):
    """A difference of proportions (e.g. an LPM coefficient of -0.03) in percentage points (x100);
    linear, so use it on the SE too."""
    return _num(np.asarray(x, float) * 100)


def pp_diff_from_proportions(p1, p2, n1=None, n2=None) -> tuple[float, float | None]:
    """Percentage-point difference p1 - p2 (treated - control) with binomial variance (None without n)."""
    for name, p in (("p1", p1), ("p2", p2)):
        if not 0 <= p <= 1:
            raise EffectSizeError(f"{name} must be a proportion in [0, 1], got {p}")
    if n1 is None or n2 is None:
        return 100 * (p1 - p2), None
    if n1 < 1 or n2 < 1:
        raise EffectSizeError(f"n1 and n2 must be >= 1, got {n1}, {n2}")
    return 100 * (p1 - p2), 1e4 * (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)


def _p_treated(pp: float, control_prevalence: float) -> float:
    p2 = control_prevalence
    p1 = p2 + pp / 100
    if not (0 < p2 < 1 and 0 < p1 < 1):
        raise EffectSizeError(f"prevalences must be in (0, 1): control {p2}, treated {p1:g}")
    return p1


def logor_from_pp(pp, control_prevalence, se=None) -> tuple[float, float | None]:
    """Log odds ratio (and delta-method SE) from a percentage-point difference, given the control
    group's prevalence as a proportion (treated prevalence = control + pp/100)."""
    p1, p2 = _p_treated(pp, control_prevalence), control_prevalence
    y = math.log(p1 / (1 - p1)) - math.log(p2 / (1 - p2))
    return y, None if se is None else se / 100 / (p1 * (1 - p1))


def logrr_from_pp(pp, control_prevalence, se=None) -> tuple[float, float | None]:
    """Log risk ratio (and delta-method SE) from a percentage-point difference and control prevalence."""
    p1, p2 = _p_treated(pp, control_prevalence), control_prevalence
    return math.log(p1 / p2), None if se is None else se / 100 / p1


def smd_from_logor(logor, var):
    """Logit method (Chinn 2000): d = ln(OR) sqrt(3)/pi, v = var 3/pi^2; for cross-outcome comparisons."""
    return _num(np.asarray(logor, float) * math.sqrt(3) / math.pi), _num(np.asarray(var, float) * 3 / math.pi**2)


def logor_from_smd(d, var):
    """Inverse of :func:`smd_from_logor`: ln(OR) = d pi/sqrt(3), var pi^2/3."""
    return _num(np.asarray(d, float) * math.pi / math.sqrt(3)), _num(np.asarray(var, float) * math.pi**2 / 3)


def hedges_g(m1, m2, sd1, sd2, n1, n2) -> tuple[float, float]:
    """Hedges' g (treated 1 minus control 2) and its large-sample variance, exactly as metafor's SMD."""
    yi, vi = escalc("SMD", m1i=m1, m2i=m2, sd1i=sd1, sd2i=sd2, n1i=n1, n2i=n2)
    return float(yi[0]), float(vi[0])


def fisher_z(r, n) -> tuple[float, float]:
    """Fisher's z = atanh(r) with variance 1/(n - 3), as metafor's ZCOR."""
    yi, vi = escalc("ZCOR", ri=r, ni=n)
    return float(yi[0]), float(vi[0])
