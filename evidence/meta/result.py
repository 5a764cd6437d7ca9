"""One result type for every meta-analysis, whoever computed it.

The CLI, the app and the exports all read :class:`MetaResult`. Engines fill the parts they can:
the exact Bayesian engine fills ``mu``, ``tau``, ``theta_new``, ``shrunken`` and ``densities``;
the frequentist estimators fill ``frequentist``; the PyMC models additionally keep their arviz
``InferenceData`` (``idata``, not serialised) and ``diagnostics``/``warnings``.

Everything except ``idata`` round-trips through JSON (``to_json`` / ``from_json``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from evidence.provenance import package_versions


def _float_block(values) -> str | None:
    """A float sequence as one digest (rounded to 12 decimals, -0.0 = 0.0, NaN kept), or None when
    ``values`` is not all floats. Hashing the bytes instead of a JSON list of numbers keeps hashing
    out of the engine's time budget (k = 1,000 effects: ~0.1 ms instead of ~2 ms)."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "fiu" or values.ndim != 1:
            return None
        arr = values.astype(float)
    elif isinstance(values, (list, tuple)) and values and all(type(v) in (float, np.float64) for v in values):
        arr = np.asarray(values, float)
    else:
        return None
    arr = np.round(arr, 12) + 0.0
    return "f64:" + hashlib.sha256(arr.tobytes()).hexdigest()


def content_hash(*parts: Any) -> str:
    """Stable SHA-256 of JSON-serialisable parts (float arrays and lists by their rounded bytes)."""

    def norm(x):
        block = _float_block(x)
        if block is not None:
            return block
        if isinstance(x, np.ndarray):
            return [norm(v) for v in x.tolist()]
        if isinstance(x, list) and all(type(v) is str for v in x):  # labels: already canonical
            return x
        if isinstance(x, (list, tuple)):
            return [norm(v) for v in x]
        if isinstance(x, dict):
            return {str(k): norm(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
        if isinstance(x, (float, np.floating)):
            x = float(x)
            if math.isnan(x):
                return "nan"
            return float(f"{x:.12g}")
        if isinstance(x, np.integer):
            return int(x)
        return x

    blob = json.dumps([norm(p) for p in parts], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Summary:
    """Posterior (or sampling-distribution) summary of one scalar."""

    mean: float
    sd: float | None = None
    q025: float | None = None
    q50: float | None = None
    q975: float | None = None


@dataclass
class StudyEstimate:
    """One input effect with its shrunken (study-specific) estimate."""

    label: str
    yi: float
    vi: float
    shrunken_mean: float | None = None
    shrunken_q025: float | None = None
    shrunken_q975: float | None = None
    weight: float | None = None  # percent weight in the pooled estimate, where defined


@dataclass
class Diagnostics:
    """Sampler diagnostics, present only when sampling was used."""

    sampler: str
    draws: int
    tune: int
    chains: int
    seed: int
    divergences: int
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    seconds: float


@dataclass
class MetaResult:
    """What a meta-analysis says, plus what produced it.

    ``model`` names the engine/model (e.g. ``"exact-normal-normal"``, ``"REML"``,
    ``"pymc-robust-t"``); ``spec`` holds the model specification (priors, moderators, options);
    ``data`` the effects used (labels, yi, vi, moderators) so a result can be reproduced.
    """

    model: str
    k: int
    measure: str | None
    spec: dict
    data: dict
    mu: Summary
    tau: Summary | None = None
    theta_new: Summary | None = None  # predictive distribution of a new programme's true effect
    p_below_0: float | None = None  # P(mu < 0)
    p_abs_above: dict[str, float] = field(default_factory=dict)  # threshold (str) -> P(|mu| > t)
    i2: float | None = None  # percent
    studies: list[StudyEstimate] = field(default_factory=list)
    coefficients: dict[str, Summary] = field(default_factory=dict)  # meta-regression terms
    densities: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # name -> {x, y}
    frequentist: dict[str, Any] = field(default_factory=dict)  # estimator outputs (metafor names)
    diagnostics: Diagnostics | None = None
    warnings: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=package_versions)
    catalog_version: str | None = None
    seed: int | None = None
    hash: str = ""
    idata: Any = field(default=None, repr=False, compare=False)  # arviz.InferenceData, not serialised

    def __post_init__(self):
        if not self.hash:
            self.hash = content_hash(self.model, self.spec, self.data)

    # -- probabilities -------------------------------------------------------------------------
    def prob_abs_above(self, threshold: float) -> float | None:
        """P(|mu| > threshold), if the engine recorded it for this threshold."""
        return self.p_abs_above.get(_tkey(threshold))

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("idata", None)
        return json_safe(d)

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def from_dict(cls, d: dict) -> MetaResult:
        d = dict(d)
        for key in ("mu", "tau", "theta_new"):
            if d.get(key) is not None:
                d[key] = Summary(**d[key])
        d["studies"] = [StudyEstimate(**s) for s in d.get("studies", [])]
        d["coefficients"] = {k: Summary(**v) for k, v in d.get("coefficients", {}).items()}
        if d.get("diagnostics") is not None:
            d["diagnostics"] = Diagnostics(**d["diagnostics"])
        return cls(**d)

    @classmethod
    def from_json(cls, s: str) -> MetaResult:
        return cls.from_dict(json.loads(s))


def _tkey(threshold: float) -> str:
    return f"{float(threshold):g}"


def json_safe(x):
    """Make a nested structure JSON-safe (numpy scalars -> Python, NaN -> None)."""
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, np.ndarray):
        return [json_safe(v) for v in x.tolist()]
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x
