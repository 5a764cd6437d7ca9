"""Priors of the Bayesian engines (exact and sampled: both parse the same strings here).

Priors on the between-study standard deviation tau are small immutable objects with a vectorised,
*normalised* ``logpdf`` (so the engine can report a proper posterior density of tau), their support,
and the polynomial order of their right tail: the engine uses that order to decide, analytically,
whether the posterior is proper and which posterior moments exist (numerical integration alone
cannot tell a heavy tail from an infinite one).

Every prior has a short string form for the CLI and catalogue files, parsed by
:func:`parse_tau_prior` / :func:`parse_mu_prior`; the ``label`` form (``"halfnormal(0.5)"``, as in
the reference files) parses too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from evidence.errors import MetaAnalysisError

_LOG2PI = math.log(2.0 * math.pi)
TAU_PRIOR_FORMS = "halfnormal:SCALE, halfcauchy:SCALE, halft:DF:SCALE, lognormal:MU:SIGMA, uniform:LOWER:UPPER"
MU_PRIOR_FORMS = "flat, normal:MEAN:SD"

#: Defaults of every engine (exact, sampled): a half-normal(0.5) on tau, a flat prior on mu.
DEFAULT_TAU_PRIOR = "halfnormal:0.5"
DEFAULT_MU_PRIOR = "flat"


def _g(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class TauPrior:
    """A prior on tau >= 0.

    ``kind`` is one of halfnormal, halft (half-Cauchy is halft with df=1), lognormal, uniform;
    ``params`` its parameters in the string-form order. ``tail_order`` is ``a`` when the density
    decays like ``tau**-a`` (``inf`` for lighter tails, 0 for the improper ``uniform(0, inf)``).
    """

    kind: str
    params: tuple[float, ...]

    # -- description ---------------------------------------------------------------------------
    @property
    def label(self) -> str:
        p = self.params
        if self.kind == "halft" and p[0] == 1.0:
            return f"halfcauchy({_g(p[1])})"
        return f"{self.kind}({', '.join(_g(v) for v in p)})"

    @property
    def spec(self) -> str:
        """The string form that :func:`parse_tau_prior` reads back."""
        p = self.params
        if self.kind == "halft" and p[0] == 1.0:
            return f"halfcauchy:{_g(p[1])}"
        return ":".join([self.kind, *(_g(v) for v in p)])

    @property
    def support(self) -> tuple[float, float]:
        if self.kind == "uniform":
            return self.params[0], self.params[1]
        return 0.0, math.inf

    @property
    def proper(self) -> bool:
        return math.isfinite(self.support[1]) or self.kind != "uniform"

    @property
    def tail_order(self) -> float:
        if self.kind == "halft":
            return self.params[0] + 1.0
        if self.kind == "uniform":
            return math.inf if math.isfinite(self.params[1]) else 0.0
        return math.inf

    @property
    def scale(self) -> float | None:
        """A typical value of tau under the prior (used only to place the search grid)."""
        if self.kind in ("halfnormal", "halft"):
            return self.params[-1]
        if self.kind == "lognormal":
            return math.exp(self.params[0])
        lo, hi = self.params
        return None if not math.isfinite(hi) else 0.5 * (lo + hi)

    # -- density -------------------------------------------------------------------------------
    def logpdf(self, tau) -> np.ndarray:
        """Normalised log density (``-inf`` outside the support; unnormalised if improper)."""
        t = np.asarray(tau, dtype=float)
        lo, hi = self.support
        inside = (t >= lo) & (t <= hi)
        ts = np.where(inside, t, max(lo, 1.0) if not math.isfinite(hi) else 0.5 * (lo + hi))
        k, p = self.kind, self.params
        if k == "halfnormal":
            s = p[0]
            out = 0.5 * math.log(2.0 / math.pi) - math.log(s) - 0.5 * (ts / s) ** 2
        elif k == "halft":
            df, s = p
            c = math.log(2.0) + gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * math.log(df * math.pi) - math.log(s)
            out = c - (df + 1) / 2 * np.log1p((ts / s) ** 2 / df)
        elif k == "lognormal":
            m, sg = p
            pos = ts > 0
            lt = np.log(np.where(pos, ts, 1.0))
            out = np.where(pos, -lt - math.log(sg) - 0.5 * _LOG2PI - 0.5 * ((lt - m) / sg) ** 2, -np.inf)
        else:  # uniform
            out = np.full(ts.shape, -math.log(hi - lo) if math.isfinite(hi) else 0.0)
        return np.where(inside, out, -np.inf)

    def pdf(self, tau) -> np.ndarray:
        return np.exp(self.logpdf(tau))


@dataclass(frozen=True)
class MuPrior:
    """Prior on the overall effect mu (or on each regression coefficient): flat or normal(mean, sd)."""

    kind: str = "flat"
    mean: float = 0.0
    sd: float = math.inf

    @property
    def label(self) -> str:
        return "flat" if self.kind == "flat" else f"normal({_g(self.mean)}, {_g(self.sd)})"

    @property
    def spec(self) -> str:
        return "flat" if self.kind == "flat" else f"normal:{_g(self.mean)}:{_g(self.sd)}"

    @property
    def precision(self) -> float:
        return 0.0 if self.kind == "flat" else 1.0 / self.sd**2


def _split(text: str, what: str, forms: str) -> tuple[str, list[float]]:
    """'name:a:b' or 'name(a, b)' -> ('name', [a, b]) with a clear error on anything else."""
    s = str(text).strip().lower().replace(" ", "")
    m = re.fullmatch(r"([a-z_\-]+)\((.*)\)", s)
    name, args = (m.group(1), m.group(2).split(",")) if m else (s.split(":")[0], s.split(":")[1:])
    args = [a for a in args if a != ""] if m else args
    try:
        vals = [float(a) for a in args]
    except ValueError:
        raise MetaAnalysisError(f"{what} {text!r}: parameters must be numbers; expected one of {forms}") from None
    if any(math.isnan(v) for v in vals):
        raise MetaAnalysisError(f"{what} {text!r}: parameters must be numbers; expected one of {forms}")
    return name.replace("-", "").replace("_", ""), vals


def _need(text, name, vals, n, names):
    if len(vals) != n:
        raise MetaAnalysisError(f"tau prior {text!r}: {name} takes {n} parameter(s) ({names}), got {len(vals)}")


def parse_tau_prior(spec: str | TauPrior) -> TauPrior:
    """Read a tau prior from ``"halfnormal:0.5"``, ``"halfcauchy:1"``, ``"halft:3:0.5"``,
    ``"lognormal:-1.5:1"``, ``"uniform:0:5"`` (or the label form, ``"halfnormal(0.5)"``)."""
    if isinstance(spec, TauPrior):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise MetaAnalysisError(f"tau prior {spec!r}: expected a string, one of {TAU_PRIOR_FORMS}")
    name, v = _split(spec, "tau prior", TAU_PRIOR_FORMS)
    if name in ("halfnormal", "hn"):
        _need(spec, "halfnormal", v, 1, "scale")
        prior = TauPrior("halfnormal", (v[0],))
    elif name in ("halfcauchy", "hc"):
        _need(spec, "halfcauchy", v, 1, "scale")
        prior = TauPrior("halft", (1.0, v[0]))
    elif name in ("halft", "halfstudent", "halfstudentt"):
        _need(spec, "halft", v, 2, "df, scale")
        if not (v[0] > 0 and math.isfinite(v[0])):
            raise MetaAnalysisError(f"tau prior {spec!r}: degrees of freedom must be a positive number, got {v[0]:g}")
        prior = TauPrior("halft", (v[0], v[1]))
    elif name == "lognormal":
        _need(spec, "lognormal", v, 2, "mu, sigma of log tau")
        if not math.isfinite(v[0]):
            raise MetaAnalysisError(f"tau prior {spec!r}: the log-scale location must be finite")
        prior = TauPrior("lognormal", (v[0], v[1]))
    elif name == "uniform":
        _need(spec, "uniform", v, 2, "lower, upper")
        lo, hi = v
        if not (0 <= lo < hi) or not math.isfinite(lo):
            raise MetaAnalysisError(f"tau prior {spec!r}: need 0 <= lower < upper, got lower={lo:g}, upper={hi:g}")
        prior = TauPrior("uniform", (lo, hi))
    else:
        raise MetaAnalysisError(f"unknown tau prior {spec!r}; expected one of {TAU_PRIOR_FORMS}")
    if prior.kind != "uniform":
        s = prior.params[-1]
        if not (s > 0 and math.isfinite(s)):
            raise MetaAnalysisError(f"tau prior {spec!r}: the scale must be a positive finite number, got {s:g}")
    return prior


def parse_mu_prior(spec: str | MuPrior | None) -> MuPrior:
    """Read a prior for mu / regression coefficients: ``"flat"`` (default) or ``"normal:MEAN:SD"``."""
    if spec is None:
        return MuPrior()
    if isinstance(spec, MuPrior):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise MetaAnalysisError(f"mu prior {spec!r}: expected one of {MU_PRIOR_FORMS}")
    name, v = _split(spec, "mu prior", MU_PRIOR_FORMS)
    if name in ("flat", "uniform", "improper"):
        if v:
            raise MetaAnalysisError(f"mu prior {spec!r}: 'flat' takes no parameters")
        return MuPrior()
    if name == "normal":
        if len(v) != 2:
            raise MetaAnalysisError(f"mu prior {spec!r}: normal takes 2 parameters (mean, sd), got {len(v)}")
        if not (math.isfinite(v[0]) and v[1] > 0 and math.isfinite(v[1])):
            raise MetaAnalysisError(f"mu prior {spec!r}: need a finite mean and a positive finite sd")
        return MuPrior("normal", v[0], v[1])
    raise MetaAnalysisError(f"unknown mu prior {spec!r}; expected one of {MU_PRIOR_FORMS}")
