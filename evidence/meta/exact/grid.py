"""The posterior of tau on an adaptive grid: the numerical core of the exact engines.

The random-effects model (:mod:`evidence.meta.exact.normal`) and the meta-regression
(:mod:`evidence.meta.exact.metareg`) integrate their location parameters out in closed form;
what remains is a one-dimensional integral over tau, done here as in bayesmeta's DIRECT algorithm:

* tau is mapped to z (tau = c sinh z, or a tanh-sinh map for bounded supports). The likelihood
  depends on tau^2 and the priors are even in tau, so the density in z extends to an even analytic
  function and the trapezoid rule is spectrally accurate (error ~ exp(-const/step)).
* a coarse scan locates the mass, a zoom brackets it (density > e^-32 of the maximum), and the
  step is halved until two successive grids give CDFs of the model's quantities, of tau and
  E[tau] that agree; ``grid_spec()['accuracy']`` states 10x that difference, which must be below ``tol``.
* tau's CDF between grid nodes is the integral of the sinc interpolant of the grid (the function
  whose integral the trapezoid rule computes exactly), so tau quantiles are as accurate as the grid.

Whether the posterior is proper and which moments exist is decided analytically from the prior's
tail order (``TauPrior.tail_order``): an improper posterior raises ``MetaAnalysisError``;
``moment_warnings`` names the moments that do not exist.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import sici

from evidence.errors import MetaAnalysisError
from evidence.meta.exact.mixture import mix_cdf, newton, probit_residual
from evidence.meta.priors import TauPrior

DROP = 32.0  # the grid brackets log-density > max - DROP (neglected mass ~1e-14)
N_ZOOM = 33
SAFETY = 10.0  # stated accuracy = SAFETY x |grid - grid with half the step|
MAX_POINTS = 4097


class TauGrid:
    """Posterior of tau on an adaptive grid, shared by the random-effects and regression engines.

    ``model(tau) -> (loglik, pairs)`` evaluates the log marginal likelihood (mu or beta integrated
    out) on a vector of tau values and returns the normal components (means, sds) of the quantities
    whose CDFs must converge. ``k_eff`` is the number of observations minus the number of
    flat-prior location parameters: the likelihood's tail in tau is tau^-k_eff.

    Transforms z -> tau (c = a data scale): tau = c sinh(z) on [0, inf); U tanh(c sinh(z) / U) on
    [0, U]. The likelihood depends on tau^2 and the priors are even in tau, so the density in z
    extends to an even analytic function: the trapezoid rule on z >= 0 (half weight at 0) stays
    spectrally accurate, with no grid wasted on a log-scale left tail, and the tanh(sinh) map makes
    the density vanish double-exponentially at a hard upper bound. Supports with lower bound
    L > 0 use L + (U - L)(1 + tanh(sinh z))/2 or L + c exp(sinh z) over the whole line.
    """

    def __init__(self, prior: TauPrior, model: Callable, k_eff: int, scale: float, tol: float = 1e-5):
        self.prior, self.model, self.tol = prior, model, float(tol)
        self.lo, self.hi = prior.support
        self.bounded = math.isfinite(self.hi)
        self.kind = ("tanh" if self.bounded else "sinh") if self.lo == 0 else ("logit" if self.bounded else "log")
        self.mirror = self.kind in ("sinh", "tanh")
        # the map is linear below c and logarithmic above: c = the smaller of the data's and the
        # prior's scales, so both (possibly decades apart) are resolved on one grid
        self.c = min(float(scale), prior.scale or math.inf, self.hi - self.lo)
        self.tail = math.inf if self.bounded else prior.tail_order + k_eff  # posterior density ~ tau^-tail
        if self.tail <= 1:
            raise MetaAnalysisError(
                f"the posterior of tau is improper with prior {prior.label} and {k_eff} effective "
                f"observation(s) (its density decays like tau^-{self.tail:g}); use a proper prior on tau, "
                "a normal prior on mu, or more studies")
        self.warnings: list[str] = []
        self._cache: Any = None  # the (sinc, E[tau]) of the coarse and fine grids of the last comparison
        self._build()

    # -- transform z -> tau --------------------------------------------------------------------
    def tau_of(self, z):
        z = np.asarray(z, float)
        if self.kind == "sinh":
            return self.c * np.sinh(z)
        if self.kind == "tanh":
            return self.hi * np.tanh(self.c * np.sinh(z) / self.hi)
        if self.kind == "logit":
            return self.lo + (self.hi - self.lo) * 0.5 * (1.0 + np.tanh(np.sinh(z)))
        return self.lo + self.c * np.exp(np.sinh(z))

    def z_of(self, tau):
        t = np.asarray(tau, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "sinh":
                return np.arcsinh(t / self.c)
            if self.kind == "tanh":
                return np.arcsinh(self.hi / self.c * np.arctanh(np.minimum(t / self.hi, 1.0)))
            if self.kind == "logit":
                return np.arcsinh(np.arctanh(2.0 * (t - self.lo) / (self.hi - self.lo) - 1.0))
            return np.arcsinh(np.log((t - self.lo) / self.c))

    def _logjac(self, z):
        lc = _lcosh(z)
        if self.kind == "sinh":
            return math.log(self.c) + lc
        if self.kind == "tanh":
            return math.log(self.c) + lc - 2.0 * _lcosh(self.c * np.sinh(z) / self.hi)
        if self.kind == "logit":
            return math.log(0.5 * (self.hi - self.lo)) + lc - 2.0 * _lcosh(np.sinh(z))
        return math.log(self.c) + np.sinh(z) + lc

    def _eval(self, z):
        tau = self.tau_of(z)
        ll, pairs = self.model(tau)
        lh = self.prior.logpdf(tau) + ll + self._logjac(z)
        return np.where(np.isfinite(lh), lh, -np.inf), pairs

    def _weights(self, z, lh):
        """Normalised trapezoid weights (half weight at z=0 when the density is mirrored there)."""
        e = np.exp(lh - lh.max())
        if self.mirror and z[0] == 0.0:
            e[0] *= 0.5
        return e / e.sum(), e.sum()

    # -- construction --------------------------------------------------------------------------
    def _build(self):
        # 1. coarse scan (31 points), widened while the density has not yet fallen off.
        a, b = {"sinh": (0.0, 60.0), "tanh": (0.0, math.asinh(40.0 * self.hi / self.c) + 0.5),
                "logit": (-4.5, 4.5), "log": (-5.5, 6.5)}[self.kind]
        for _ in range(6):
            z = np.linspace(a, b, 31)
            lh, pairs = self._eval(z)
            if not np.isfinite(lh.max()):
                raise MetaAnalysisError("the posterior of tau is zero everywhere (check the prior and the data)")
            crit = self._crit(z, lh)
            top = crit.max() - DROP
            right_open = not self.bounded and crit[-1] >= top
            if not right_open or self.kind == "log" or b > 340:
                break
            b = min(b + 60.0, 345.0)
        if right_open:
            self.warnings.append("the posterior of tau has a very heavy right tail; it was truncated at tau=%.3g" % self.tau_of(z[-1]))
        # 2. zoom onto the bracket where the (moment-weighted) density exceeds max - DROP.
        for _ in range(12):
            keep = np.flatnonzero(crit > crit.max() - DROP)
            i0, i1 = max(keep[0] - 1, 0), min(keep[-1] + 1, len(z) - 1)
            if (i1 - i0) >= 0.6 * (len(z) - 1):
                break
            z = np.linspace(z[i0], z[i1], N_ZOOM)
            lh, pairs = self._eval(z)
            crit = self._crit(z, lh)
        # 3. halve the step until two successive grids agree.
        # The reported grid is the coarser of the first pair that agrees: its error is estimated as
        # SAFETY x the difference from the grid with half the step (spectral convergence makes the
        # finer grid's own error negligible, and the factor covers points other than the tested ones).
        level, n_levels = (z, lh, pairs), 1
        while True:
            zc, lhc, pc = level
            zm = 0.5 * (zc[:-1] + zc[1:])
            lhm, pm = self._eval(zm)
            pf = [(_interleave(Mc, Mm), _interleave(Sc, Sm)) for (Mc, Sc), (Mm, Sm) in zip(pc, pm)]
            fine = (_interleave(zc, zm), _interleave(lhc, lhm), pf)
            n_levels += 1
            err = SAFETY * self._discrepancy(level, fine)
            if err < self.tol:
                self._cache = self._cache[0]
                break
            level = fine
            self._cache = self._cache[1]
            if len(fine[0]) >= MAX_POINTS:
                self.warnings.append(f"accuracy target {self.tol:g} not reached (achieved {err:.2g})")
                break
        self.z, self.lh, self.pairs = level
        self.tau = self.tau_of(self.z)
        self.step = float(self.z[1] - self.z[0])
        self.pi, tot = self._weights(self.z, self.lh)
        self.logZ = float(self.lh.max() + math.log(self.step * tot))
        self.accuracy, self.levels, self.n_points = float(err), n_levels, len(self.z)
        self.sinc, self._m1 = self._cache
        self._m2 = float(self.pi @ self.tau**2)
        # components with negligible weight (< 1e-15 of the largest) are dropped from the mixtures
        keep = self.pi > 1e-15 * self.pi.max()
        self.pi, self.tau, self.z = self.pi[keep] / self.pi[keep].sum(), self.tau[keep], self.z[keep]
        self.pairs = [(M[keep], S[keep]) for M, S in self.pairs]

    def _mean_tau(self, z, lh, tau) -> float:
        """E[tau] on a grid. tau is odd in z, so with the mirrored extension its integrand f = tau h
        has a kink at 0 and the trapezoid error is the Euler-Maclaurin series
        -sum B_2m/(2m)! step^2m f^(2m-1)(0); its first three terms are added back, with the even
        derivatives of h at 0 taken from the sinc interpolant (spectrally accurate)."""
        w, tot = self._weights(z, lh)
        m = float(w @ tau)
        if self.mirror and z[0] == 0.0:
            step = z[1] - z[0]
            e = np.exp(lh - lh.max())
            n = np.arange(1, len(z))
            sg = np.where(n % 2 == 1, -1.0, 1.0)
            h0 = e[0]
            h2 = (-np.pi**2 / 3 * h0 + 2 * np.sum(e[1:] * -2 * sg / n**2)) / step**2
            h4 = (np.pi**4 / 5 * h0 + 2 * np.sum(e[1:] * sg * (4 * np.pi**2 / n**2 - 24 / n**4))) / step**4
            a2 = (self.c / self.hi) ** 2 if self.kind == "tanh" else 0.0
            # odd Taylor coefficients of tau(z) at 0 (1st, 3rd, 5th derivatives)
            t1, t3, t5 = self.c, self.c * (1 - 2 * a2), self.c * (1 - 20 * a2 + 16 * a2 * a2)
            f1, f3, f5 = t1 * h0, t3 * h0 + 3 * t1 * h2, t5 * h0 + 10 * t3 * h2 + 5 * t1 * h4
            m += float((step**2 / 12 * f1 - step**4 / 720 * f3 + step**6 / 30240 * f5) / (step * tot))
        return m

    def _crit(self, z, lh):
        """Log-density weighted by tau^m for the highest posterior moment m that exists."""
        if self.bounded:
            return lh
        m = 2 if self.tail > 3 else (1 if self.tail > 2 else 0)
        return lh + m * np.maximum(z - z[np.argmax(lh)], 0.0)

    def _discrepancy(self, coarse, fine) -> float:
        """Max difference between the two grids' CDFs (mu-like quantities and tau) near the bulk."""
        (zc, lhc, pc), (zf, lhf, pf) = coarse, fine
        wc, wf = self._weights(zc, lhc)[0], self._weights(zf, lhf)[0]
        j = int(np.argmax(wf))
        d = 0.0
        c = np.array([-2.0, -1.0, 0.0, 1.0, 2.0]).reshape((5,) + (1,) * (pf[0][0].ndim - 1))
        for (Mc, Sc), (Mf, Sf) in zip(pc, pf):
            # test points: the dominant component's bulk and the whole mixture's (mean +- 1, 2 sd)
            mean = wf @ Mf
            sd = np.sqrt(np.maximum(wf @ (Sf * Sf + Mf * Mf) - mean * mean, 0.0))
            x = np.concatenate((Mf[j] + Sf[j] * c[::2], mean + sd * c))
            d = max(d, float(np.max(np.abs(mix_cdf(x, wc, Mc, Sc) - mix_cdf(x, wf, Mf, Sf)))))
        zt = np.interp([0.05, 0.5, 0.95], np.cumsum(wf), zf)
        mirror = self.mirror and zc[0] == 0.0
        step = zc[1] - zc[0]
        sc, sf = _Sinc(zc, wc, step, mirror), _Sinc(zf, wf, step / 2, mirror)
        d = max(d, float(np.max(np.abs(sc.cdf(zt) - sf.cdf(zt)))))
        tf = self.tau_of(zf)
        mc, mf = self._mean_tau(zc, lhc, tf[::2]), self._mean_tau(zf, lhf, tf)
        if self.tail > 3:  # E[tau], in units of tau's posterior sd
            d = max(d, abs(mc - mf) / math.sqrt(max(wf @ tf**2 - (wf @ tf) ** 2, 1e-300)))
        self._cache = (sc, mc), (sf, mf)  # reused for the reported grid
        return d

    # -- tau's posterior -----------------------------------------------------------------------
    def tau_pdf(self, t) -> np.ndarray:
        """Exact posterior density of tau (the model re-evaluated at t, normalised by the grid)."""
        t = np.atleast_1d(np.asarray(t, float))
        out = np.zeros(t.shape)
        ok = (t >= self.lo) & (t <= self.hi)
        if ok.any():
            ll, _ = self.model(t[ok])
            out[ok] = np.exp(self.prior.logpdf(t[ok]) + ll - self.logZ)
        return out

    def tau_cdf(self, t) -> np.ndarray:
        t = np.asarray(t, float)
        F = self.sinc.cdf(self.z_of(np.clip(t, self.lo, self.hi)))
        return np.clip(np.where(t <= self.lo, 0.0, np.where(t >= self.hi, 1.0, F)), 0.0, 1.0)

    def tau_quantile(self, p) -> np.ndarray:
        p = np.atleast_1d(np.asarray(p, float))
        lo = np.full(p.shape, max(self.z[0] - self.step, 0.0) if self.sinc.mirror else self.z[0] - self.step)
        hi = np.full(p.shape, self.z[-1] + self.step)
        edges = np.concatenate(([max(self.z[0] - self.step / 2, lo[0] if p.size else 0.0)], self.z + self.step / 2))
        x0 = np.clip(np.interp(p, np.concatenate(([0.0], np.cumsum(self.pi))), edges), lo, hi)
        return self.tau_of(newton(lambda z: probit_residual(self.sinc.cdf_pdf(z), p), x0, lo, hi, 1e-5 * self.step))

    def tau_moments(self) -> tuple[float, float]:
        mean = self._m1 if self.tail > 2 else math.nan
        sd = math.sqrt(max(self._m2 - mean**2, 0.0)) if self.tail > 3 else math.nan
        return mean, sd

    def grid_spec(self) -> dict:
        zmap = {"sinh": "asinh(tau/%g)" % self.c, "tanh": "asinh(%g/%g atanh(tau/%g))" % (self.hi, self.c, self.hi),
                "logit": "asinh(atanh(2 (tau - %g)/%g - 1))" % (self.lo, self.hi - self.lo),
                "log": "asinh(log((tau - %g)/%g))" % (self.lo, self.c)}[self.kind]
        return {"method": f"adaptive trapezoid grid over z = {zmap}; the step is halved until two successive "
                          "grids agree; 'accuracy' = 10 x their max difference in the CDFs of mu, theta_new "
                          "and tau and in E[tau] (in sds of tau); the coarser grid is reported",
                "points": self.n_points, "levels": self.levels, "tol": self.tol,
                "accuracy": self.accuracy, "tau_range": [float(self.tau[0]), float(self.tau[-1])]}

    def density(self, pdf: Callable, lo: float, hi: float, n: int = 200) -> dict[str, list[float]]:
        x = np.linspace(lo, hi, n)
        return {"x": x.tolist(), "y": np.asarray(pdf(x), float).tolist()}

    def compressed(self, max_nodes: int = 24) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gauss quadrature for the discrete tau posterior: (tau nodes, weights, z nodes) with n nodes.

        Study-level summaries cost (k x grid) normal CDFs; an n-point Gauss rule for the grid's own
        measure integrates polynomials in z of degree 2n-1 exactly, so a few nodes suffice when the
        posterior of tau is concentrated (large k). The caller checks the accuracy."""
        zs = (self.z - self.pi @ self.z) / max(np.sqrt(self.pi @ (self.z - self.pi @ self.z) ** 2), 1e-300)
        n = min(max_nodes, len(self.z) // 2)
        Q = np.zeros((len(zs), n))
        q = np.sqrt(self.pi)
        alpha, beta = np.zeros(n), np.zeros(n)
        for i in range(n):
            Q[:, i] = q
            r = zs * q
            alpha[i] = q @ r
            r -= Q[:, : i + 1] @ (Q[:, : i + 1].T @ r)  # full re-orthogonalisation (Lanczos)
            r -= Q[:, : i + 1] @ (Q[:, : i + 1].T @ r)
            beta[i] = np.linalg.norm(r)
            if beta[i] < 1e-13:
                n = i + 1
                break
            q = r / beta[i]
        ev, vec = np.linalg.eigh(np.diag(alpha[:n]) + np.diag(beta[: n - 1], 1) + np.diag(beta[: n - 1], -1))
        zn = self.pi @ self.z + ev * np.sqrt(self.pi @ (self.z - self.pi @ self.z) ** 2)
        zn = np.clip(zn, self.z[0], self.z[-1])
        return self.tau_of(zn), vec[0] ** 2, zn


class _Sinc:
    """CDF/pdf (in z) of the sinc interpolant through equispaced trapezoid weights: the function the
    trapezoid rule integrates exactly. With ``mirror`` the weights are reflected about z = 0."""

    def __init__(self, nodes, w, step, mirror):
        self.mirror, self.step = mirror, step
        if mirror:
            w = w.copy()
            w[0] *= 2.0  # back from the half trapezoid weight to the sample value
            nodes, w = np.concatenate((-nodes[:0:-1], nodes)), np.concatenate((w[:0:-1], w))
        keep = w > 1e-16 * w.max()  # dropping a node = a zero sample: changes the CDF by < 1e-16 each
        self.nodes, self.w = nodes[keep], w[keep]
        self.S_lo = self._S(np.zeros(1))[0] if mirror else -0.5 * np.pi * self.w.sum()
        self.D = 0.5 * np.pi * self.w.sum() - self.S_lo

    def _S(self, z):
        return self.w @ sici(np.pi * (z.reshape(1, -1) - self.nodes[:, None]) / self.step)[0]

    def cdf(self, z):
        z = np.asarray(z, float)
        return ((self._S(z) - self.S_lo) / self.D).reshape(z.shape)

    def cdf_pdf(self, z):
        d = np.pi * (z.reshape(1, -1) - self.nodes[:, None]) / self.step
        si = sici(d)[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            sn = np.where(d == 0.0, 1.0, np.sin(d) / d)
        return (self.w @ si - self.S_lo) / self.D, np.pi / self.step * (self.w @ sn) / self.D


def _lcosh(x):
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax)) - math.log(2.0)


def _interleave(a, b):
    out = np.empty((a.shape[0] + b.shape[0],) + a.shape[1:])
    out[0::2], out[1::2] = a, b
    return out


def moment_warnings(grid: TauGrid, mu_finite, pred_finite) -> list[str]:
    """The grid's warnings plus one per posterior moment that does not exist (mu_finite and
    pred_finite are (mean exists, variance exists) pairs, decided from the tails by the caller)."""
    out = list(grid.warnings)
    names = [("tau", (grid.tail > 2, grid.tail > 3)), ("mu", mu_finite), ("theta_new", pred_finite)]
    for name, (m1, m2) in names:
        if not m1:
            out.append(f"the posterior mean and sd of {name} do not exist (heavy tail); reported as NaN, use quantiles")
        elif not m2:
            out.append(f"the posterior sd of {name} does not exist (heavy tail); reported as NaN")
    return out
