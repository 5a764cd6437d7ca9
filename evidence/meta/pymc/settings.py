"""The one set of sampler settings, used by every sampled model, the fit cache and the app.

Why one object: the defaults (draws, warm-up, chains, seed, target acceptance) were spelled out in
three signatures; a change in one silently left the others behind, and a cached fit could be keyed
on different defaults than the fit that produced it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from evidence.config import SEED
from evidence.errors import MetaAnalysisError

SAMPLERS = ("nutpie", "pymc")


@dataclass(frozen=True)
class SamplerSettings:
    """How a model is sampled: ``draws`` kept per chain after ``tune`` warm-up steps, ``chains``,
    ``seed`` (``evidence.config.SEED`` by default), ``sampler`` ("nutpie", falling back to PyMC's
    NUTS, or "pymc") and NUTS's ``target_accept`` (0.9: small k and tau near 0 make funnels)."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    seed: int = SEED
    sampler: str = "nutpie"
    target_accept: float = 0.9

    def __post_init__(self):
        if self.sampler not in SAMPLERS:
            raise MetaAnalysisError(f"sampler must be one of {', '.join(SAMPLERS)}, not {self.sampler!r}")
        for name, low in (("draws", 1), ("tune", 0), ("chains", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise MetaAnalysisError(f"{name} must be a whole number >= {low}, got {value!r}")
        if not 0 < self.target_accept < 1:
            raise MetaAnalysisError(f"target_accept must lie strictly between 0 and 1, got {self.target_accept!r}")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def resolve(cls, settings: SamplerSettings | None, options: dict) -> tuple[SamplerSettings, dict]:
        """``settings`` (default: the defaults) with any of its fields given in ``options`` overriding
        them (e.g. ``draws=500``); returns the settings and the remaining options."""
        names = {f.name for f in dataclasses.fields(cls)}
        overrides = {k: v for k, v in options.items() if k in names}
        rest = {k: v for k, v in options.items() if k not in names}
        base = settings if settings is not None else cls()
        return (dataclasses.replace(base, **overrides) if overrides else base), rest
