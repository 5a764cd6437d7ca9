"""How an answer is worded for readers: numbers with a proper minus sign, one plain-language headline."""

from __future__ import annotations

import math

from evidence.meta.result import MetaResult
from evidence.synthesis.metrics import RATIO_METRICS, metric_unit
from evidence.taxonomy import taxonomy


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
        uname = metric_unit(unit)
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


