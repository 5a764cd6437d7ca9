"""Facts about the analysis metrics (labels, units, default prior scale, minimal important difference,
poolable or not, ratio or not), read from the taxonomy data: one definition, used by every page, export
and command.
"""

from __future__ import annotations

import math

from evidence.taxonomy import taxonomy

POOLABLE_METRICS = ("percentage_points", "hours_per_week", "sd", "log_odds_ratio", "log_risk_ratio", "fisher_z")
RATIO_METRICS = {"log_odds_ratio": "odds ratio", "log_risk_ratio": "risk ratio"}
#: Default scale of the half-normal prior on tau, per metric: tau is in the metric's own units, so
#: 0.5 suits log odds ratios and SMDs, not percentage points (where 5 pp is a modest spread).
DEFAULT_TAU_SCALE = {"percentage_points": 5.0, "hours_per_week": 3.0, "sd": 0.5,
                     "log_odds_ratio": 0.5, "log_risk_ratio": 0.5, "fisher_z": 0.3}
TAU_FAMILIES = ("halfnormal", "halfcauchy", "halft", "lognormal", "uniform")
def tau_prior_for(metric: str | None, family: str = "halfnormal", scale: float | None = None) -> str:
    """A prior string for the exact engine, scaled to the metric (see ``DEFAULT_TAU_SCALE``)."""
    s = float(scale) if scale else DEFAULT_TAU_SCALE.get(metric or "", 0.5)
    return {"halfnormal": f"halfnormal:{s:g}", "halfcauchy": f"halfcauchy:{s:g}", "halft": f"halft:3:{s:g}",
            "lognormal": f"lognormal:{math.log(s):.4g}:1", "uniform": f"uniform:0:{10 * s:g}"}[family]


def metric_label(metric: str | None) -> str:
    if not metric:
        return ""
    return taxonomy().metrics.get(metric, {}).get("label", metric)


