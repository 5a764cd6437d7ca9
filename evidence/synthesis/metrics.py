"""Facts about the analysis metrics, read from the taxonomy data (``data/taxonomy.yaml``, section
``metrics``): labels, units in sentences, whether a metric may be pooled, ratio metrics, the default
scale of the prior on tau and the minimal important difference. One definition, used by every page,
export and command, so they cannot disagree on wording or defaults.
"""

from __future__ import annotations

import math

from evidence.taxonomy import taxonomy

_METRICS = taxonomy().metrics

#: Metrics that may be pooled (only ever within one metric), in the taxonomy's order (ties in
#: ``main_metric`` are broken by it).
POOLABLE_METRICS = tuple(m for m, f in _METRICS.items() if f.get("poolable"))
#: Ratio metrics (pooled on the log scale, shown exponentiated): metric -> ratio name.
RATIO_METRICS = {m: f["ratio"] for m, f in _METRICS.items() if f.get("ratio")}
#: Default scale of the half-normal prior on tau, in each metric's own units.
DEFAULT_TAU_SCALE = {m: float(f["tau_scale"]) for m, f in _METRICS.items() if "tau_scale" in f}
#: Minimal important difference per metric (the certainty rules' imprecision domain).
MID = {m: float(f["mid"]) for m, f in _METRICS.items() if "mid" in f}
#: Scale used when a metric has no default of its own (log ratios and SMDs).
FALLBACK_TAU_SCALE = 0.5
TAU_FAMILIES = ("halfnormal", "halfcauchy", "halft", "lognormal", "uniform")


def default_tau_scale(metric: str | None) -> float:
    return DEFAULT_TAU_SCALE.get(metric or "", FALLBACK_TAU_SCALE)


def tau_prior_for(metric: str | None, family: str = "halfnormal", scale: float | None = None) -> str:
    """A prior string for the exact engine, scaled to the metric (see ``DEFAULT_TAU_SCALE``)."""
    s = float(scale) if scale else default_tau_scale(metric)
    return {"halfnormal": f"halfnormal:{s:g}", "halfcauchy": f"halfcauchy:{s:g}", "halft": f"halft:3:{s:g}",
            "lognormal": f"lognormal:{math.log(s):.4g}:1", "uniform": f"uniform:0:{10 * s:g}"}[family]


def metric_label(metric: str | None) -> str:
    """The metric's name for tables and axes, e.g. "SD units (standardised mean difference, Hedges' g)"."""
    if not metric:
        return ""
    return _METRICS.get(metric, {}).get("label", metric)


def metric_unit(metric: str | None, default: str = "") -> str:
    """The metric's unit in a sentence, e.g. "reduces ... by 2.1 percentage points"."""
    if not metric:
        return default
    return _METRICS.get(metric, {}).get("unit", default or metric)


def measure_scale(measure: str | None) -> str:
    """Axis label for a result in an escalc ``measure``'s units, e.g. RR -> 'log risk ratio'."""
    return taxonomy().measures.get(measure or "", measure or "")
