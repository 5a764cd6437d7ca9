"""Exact Bayesian normal-normal random-effects meta-analysis (no sampling; never imports pymc).

Model: y_i ~ N(theta_i, v_i), theta_i ~ N(mu, tau^2), a prior on tau (``evidence.meta.priors``) and
a flat or normal prior on mu. Given tau, mu's posterior is normal in closed form, so the only
integral left is the one over tau. As in bayesmeta's DIRECT algorithm, the tau posterior is
discretised on a grid and every marginal becomes a finite mixture of normals:

* tau is mapped to z (``TauGrid``: tau = c sinh z, or a tanh-sinh map for bounded supports). The
  likelihood depends on tau^2 and the priors are even in tau, so the density in z extends to an even
  analytic function and the trapezoid rule is spectrally accurate (error ~ exp(-const/step)).
* a coarse scan locates the mass, a zoom brackets it (density > e^-32 of the maximum), and the
  step is halved until two successive grids give CDFs of mu, theta_new and tau (and E[tau]) that
  agree; ``spec['grid']['accuracy']`` states 10x that difference, which must be below ``tol``.
* mu | y = sum_j pi_j N(mu_hat(tau_j), V(tau_j)); theta_new | y adds tau_j^2 to each variance;
  theta_i | y mixes N(B m + (1 - B) y_i, (1 - B) v_i + B^2 V) with B = v_i / (v_i + tau^2).
  Quantiles: vectorised safeguarded Newton on probit(F(x)), which is nearly linear.
* tau's CDF between grid nodes is the integral of the sinc interpolant of the grid (the function
  whose integral the trapezoid rule computes exactly), so tau quantiles are as accurate as the grid.

Whether the posterior is proper and which moments exist is decided analytically from the prior's
tail order (``TauPrior.tail_order``): an improper posterior raises ``MetaAnalysisError``; moments
that do not exist are reported as NaN with a warning (quantiles always exist).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from scipy.special import ndtr, ndtri, sici

from evidence.errors import MetaAnalysisError
from evidence.meta.priors import MuPrior, TauPrior, parse_mu_prior, parse_tau_prior
from evidence.meta.result import MetaResult, StudyEstimate, Summary, package_versions

DROP = 32.0  # the grid brackets log-density > max - DROP (neglected mass ~1e-14)
N_ZOOM = 33
SAFETY = 10.0  # stated accuracy = SAFETY x |grid - grid with half the step|
MAX_POINTS = 4097
_SQ2PI = math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# mixtures of normals
# --------------------------------------------------------------------------------------------
def _cols(x, M, S):
    """Broadcast x (shape (...,) + M.shape[1:]) against components M, S: (G, prod(x.shape))."""
    G = M.shape[0]
    x = np.asarray(x, float)
    lead = x.shape[: x.ndim - (M.ndim - 1)]
    n_lead = int(np.prod(lead)) if lead else 1
    X = x.reshape(1, n_lead, -1)
    return (X - M.reshape(G, 1, -1)) / S.reshape(G, 1, -1), S.reshape(G, 1, -1), x.shape


def mix_cdf(x, pi, M, S) -> np.ndarray:
    """CDF of sum_j pi_j N(M_j, S_j^2) at x; M, S are (G,) or (G, n) with x of shape (..., n)."""
    u, _, shape = _cols(x, M, S)
    return (pi @ ndtr(u).reshape(len(pi), -1)).reshape(shape)


def mix_pdf(x, pi, M, S) -> np.ndarray:
    """Density of the mixture (components of total weight < 1e-10 are skipped)."""
    keep = _major(pi)
    pi, M, S = pi[keep], M[keep], S[keep]
    u, Sc, shape = _cols(x, M, S)
    return (pi @ (np.exp(-0.5 * u * u) / Sc).reshape(len(pi), -1)).reshape(shape) / _SQ2PI


def _major(pi, mass=1e-10):
    """Components to keep: dropping the lightest ones, of total weight < mass, moves the CDF by < mass."""
    order = np.argsort(pi)
    keep = np.ones(len(pi), bool)
    keep[order[np.cumsum(pi[order]) < mass]] = False
    return keep


def _newton(fun, x, lo, hi, xtol, iters=100):
    """Vectorised safeguarded Newton for increasing functions: fun(x) -> (g(x) - target, g'(x)).

    Newton steps that leave the current bracket [lo, hi] are replaced by bisection. Stops once every
    Newton step is below ``xtol`` (the step is still applied: the error left is ~step^2/scale)."""
    for _ in range(iters):
        F, f = fun(x)
        neg = F < 0
        lo = np.where(neg, x, lo)
        hi = np.where(neg, hi, np.where(F > 0, x, hi))
        step = F / np.maximum(f, 1e-300)
        xn = x - step
        small = np.abs(step) <= xtol
        stuck = small & (np.abs(F) > 1e-4)  # a tiny step far from the target (probit units): bisect
        x = np.where((xn >= lo) & (xn <= hi) & ~stuck, xn, 0.5 * (lo + hi))  # NaN steps bisect too
        if np.all(small & ~stuck):
            break
    return x


def mix_quantile(p, pi, M, S) -> np.ndarray:
    """Quantiles of the mixture (p has shape (n,) when M is (G, n), any shape when M is (G,))."""
    p = np.asarray(p, float)
    keep = _major(pi)
    pi, M, S = pi[keep], M[keep], S[keep]
    G, shape = len(pi), p.shape
    if M.ndim == 1:
        Mc, Sc, pt = M[:, None], S[:, None], p.reshape(1, -1)
    else:
        Mc, Sc, pt = np.tile(M, p.size // M.shape[1]), np.tile(S, p.size // M.shape[1]), p.reshape(1, -1)
    zp = ndtri(pt)
    q = Mc + Sc * zp  # each component's quantile; the mixture's lies between them
    lo, hi = q.min(0), q.max(0)
    mean = pi @ Mc  # start from the moment-matched normal (near-normal mixtures: 2-3 Newton steps)
    x0 = mean + np.sqrt(np.maximum(pi @ (Sc * Sc + Mc * Mc) - mean * mean, 0.0)) * zp[0]
    x0, zt, iS = np.minimum(np.maximum(x0, lo), hi), zp[0], 1.0 / Sc
    wS = pi[:, None] * iS / _SQ2PI

    def fun(x):  # Newton on ndtri(F(x)) = ndtri(p): nearly linear for near-normal mixtures
        u = (x - Mc) * iS
        return _probit((pi @ ndtr(u), np.einsum("gn,gn->n", wS, np.exp(-0.5 * u * u))), zt, False)

    xtol = 1e-5 * (pi @ Sc)  # per column; the error after the last step is ~ xtol^2 / scale
    return _newton(fun, x0, lo, hi, xtol).reshape(shape)


# --------------------------------------------------------------------------------------------
# the tau grid
# --------------------------------------------------------------------------------------------
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
        return self.tau_of(_newton(lambda z: _probit(self.sinc.cdf_pdf(z), p), x0, lo, hi, 1e-5 * self.step))

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


def _probit(Ff, p, is_prob=True):
    """(CDF, pdf) -> Newton pair for ndtri(CDF) = ndtri(p), nearly linear in the bulk. Where the CDF
    under/overflows the probit saturates and the derivative is NaN, so ``_newton`` bisects."""
    G = np.minimum(np.maximum(ndtri(np.minimum(np.maximum(Ff[0], 0.0), 1.0)), -37.0), 37.0)
    dG = np.where(np.abs(G) < 37.0, Ff[1] * _SQ2PI * np.exp(0.5 * G * G), np.nan)
    return G - (ndtri(p) if is_prob else p), dG


def _interleave(a, b):
    out = np.empty((a.shape[0] + b.shape[0],) + a.shape[1:])
    out[0::2], out[1::2] = a, b
    return out


@lru_cache(maxsize=1)
def _versions_cached() -> tuple:
    return tuple(package_versions().items())


def recorded_versions() -> dict[str, str]:
    """Package versions for the result (read once per process: reading metadata costs ~10 ms)."""
    return dict(_versions_cached())


def _norm(x):
    """``result.content_hash``'s normalisation, with a fast path for lists of floats."""
    if isinstance(x, list) and x and all(type(v) is float for v in x):
        return [("nan" if v != v else float(f"{v:.12g}")) for v in x]
    if isinstance(x, list) and all(type(v) is str for v in x):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind == "f" and x.ndim == 1 and np.isfinite(x).all():
            return [float(f"{v:.12g}") for v in x.tolist()]
        return _norm(x.tolist())
    if isinstance(x, (list, tuple)):
        return [_norm(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _norm(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, (float, np.floating)):
        return "nan" if math.isnan(x) else float(f"{float(x):.12g}")
    if isinstance(x, np.integer):
        return int(x)
    return x


def fast_hash(*parts) -> str:
    """Same value as ``result.content_hash`` (tested), ~30x faster on long effect lists."""
    blob = json.dumps([_norm(p) for p in parts], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def check_effects(yi, vi, labels=None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validate effects and variances (finite; variances > 0), with default labels."""
    y = np.asarray(yi, float).ravel()
    v = np.asarray(vi, float).ravel()
    if y.size == 0:
        raise MetaAnalysisError("no effects to meta-analyse")
    if y.shape != v.shape:
        raise MetaAnalysisError(f"yi and vi have different lengths ({y.size} and {v.size})")
    if not np.all(np.isfinite(y)):
        raise MetaAnalysisError("every effect size yi must be a finite number")
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        bad = [int(i) + 1 for i in np.flatnonzero(~(np.isfinite(v) & (v > 0)))]
        raise MetaAnalysisError(f"sampling variances vi must be finite and > 0 (offending rows: {bad[:10]})")
    return y, v, study_labels(labels, y.size)


def study_labels(labels, k: int) -> list[str]:
    labels = [f"study {i + 1}" for i in range(k)] if labels is None else [str(s) for s in labels]
    if len(labels) != k:
        raise MetaAnalysisError(f"{len(labels)} labels for {k} effects")
    return labels


def typical_variance(v: np.ndarray, n_params: int = 1) -> float:
    """Higgins & Thompson's 'typical' within-study variance s^2 = (k-1) sum w / ((sum w)^2 - sum w^2)."""
    w = 1.0 / v
    k = v.size
    den = w.sum() ** 2 - (w**2).sum()
    return float((k - n_params) * w.sum() / den) if k > n_params and den > 0 else float(np.mean(v))


# --------------------------------------------------------------------------------------------
# the normal-normal model
# --------------------------------------------------------------------------------------------
class ExactPosterior:
    """Exact posterior of the normal-normal random-effects model (see the module docstring).

    The mixture components on the final grid are ``pi`` (weights), ``tau``, ``m`` (= E[mu | tau, y])
    and ``V`` (= Var[mu | tau, y]).
    """

    def __init__(self, yi, vi, tau_prior: "str | TauPrior" = "halfnormal:0.5", mu_prior: "str | MuPrior" = "flat",
                 tol: float = 1e-5):
        self.y, self.v, _ = check_effects(yi, vi)
        self.tau_prior, self.mu_prior = parse_tau_prior(tau_prior), parse_mu_prior(mu_prior)
        self.k = self.y.size
        flat = self.mu_prior.kind == "flat"
        # centre y (weights 1/v) so the quadratic form below loses no digits
        self._c = float(np.sum(self.y / self.v) / np.sum(1.0 / self.v))
        self._yc = self.y - self._c
        self._w0, self._d0 = self.mu_prior.precision, (0.0 if flat else self.mu_prior.mean - self._c)
        self.grid = TauGrid(self.tau_prior, self._model, self.k - (1 if flat else 0),
                            float(np.sqrt(np.median(self.v))), tol)
        g = self.grid
        self.pi, self.tau = g.pi, g.tau
        self.m, self.V = g.pairs[0][0], g.pairs[0][1] ** 2
        self.mu_finite = (not flat) or g.tail > 2, (not flat) or g.tail > 3  # (mean, variance) exist
        self.pred_finite = g.tail > 2, g.tail > 3

    def _model(self, tau):
        t2 = tau * tau
        den = self.v[None, :] + t2[:, None]
        w = 1.0 / den
        sw = w.sum(1) + self._w0
        swy = w @ self._yc + self._w0 * self._d0
        mh = swy / sw
        q = np.maximum(w @ self._yc**2 + self._w0 * self._d0**2 - mh * swy, 0.0)
        ll = -0.5 * np.log(den).sum(1) - 0.5 * np.log(sw) - 0.5 * q
        return ll, [(mh + self._c, np.sqrt(1.0 / sw)), (mh + self._c, np.sqrt(1.0 / sw + t2))]

    # -- mu ------------------------------------------------------------------------------------
    def mu_cdf(self, x):
        return mix_cdf(x, self.pi, self.m, np.sqrt(self.V))

    def mu_pdf(self, x):
        return mix_pdf(x, self.pi, self.m, np.sqrt(self.V))

    def mu_quantile(self, p):
        return mix_quantile(p, self.pi, self.m, np.sqrt(self.V))

    def p_abs_above(self, t: float) -> float:
        """P(|mu| > t)."""
        return float(1.0 - self.mu_cdf(abs(t)) + self.mu_cdf(-abs(t)))

    # -- tau -----------------------------------------------------------------------------------
    def tau_pdf(self, t):
        return self.grid.tau_pdf(t)

    def tau_cdf(self, t):
        return self.grid.tau_cdf(t)

    def tau_quantile(self, p):
        return self.grid.tau_quantile(p)

    # -- a new study's true effect ------------------------------------------------------------
    def _pred_sd(self):
        return np.sqrt(self.V + self.tau**2)

    def predictive_cdf(self, x):
        return mix_cdf(x, self.pi, self.m, self._pred_sd())

    def predictive_pdf(self, x):
        return mix_pdf(x, self.pi, self.m, self._pred_sd())

    def predictive_quantile(self, p):
        return mix_quantile(p, self.pi, self.m, self._pred_sd())

    # -- studies -------------------------------------------------------------------------------
    def shrunken(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Posterior mean, 2.5% and 97.5% quantiles of each theta_i, and each study's % weight in E[mu|y]."""
        mean, weight, (pi, M, S) = self._shrunken_parts()
        k = self.k
        q = mix_quantile(np.repeat([0.025, 0.975], k), pi, np.hstack([M, M]), np.hstack([S, S]))
        return mean, q[:k], q[k:], weight

    def _shrunken_parts(self):
        """Study means and weights, and the mixture (weights, means, sds) for the study quantiles.

        For large k x grid that mixture uses a Gauss rule for the tau posterior (``TauGrid.compressed``)
        when it reproduces the full grid's study means, sds and mu CDF to within ``tol``."""
        M, S = self._study_components(self.pi, self.tau, self.m, self.V)
        pi, Mq, Sq = self.pi, M, S
        if self.k * len(self.pi) > 4000:
            mean, sd = self.pi @ M, np.sqrt(self.pi @ (S * S + M * M) - (self.pi @ M) ** 2)
            j = int(np.argmax(self.pi))
            xt = self.m[j] + np.sqrt(self.V[j]) * np.array([-2.0, 0.0, 2.0])
            for n in (6, 12, 24):
                tn, wn, _ = self.grid.compressed(n)
                (mn, sn), _ = self._model(tn)[1]
                Mn, Sn = self._study_components(wn, tn, mn, sn**2)
                err = max(np.max(np.abs(wn @ Mn - mean) / sd),
                          np.max(np.abs(np.sqrt(wn @ (Sn * Sn + Mn * Mn) - (wn @ Mn) ** 2) - sd) / sd),
                          np.max(np.abs(mix_cdf(xt, wn, mn, sn) - self.mu_cdf(xt))))
                if err < self.grid.tol:
                    pi, Mq, Sq = wn, Mn, Sn
                    break
        weight = 100.0 * (self.pi @ (self.V[:, None] / (self.v[None, :] + (self.tau**2)[:, None])))
        return self.pi @ M, weight, (pi, Mq, Sq)

    def _study_components(self, pi, tau, m, V):
        """theta_i | tau, y ~ N(B m + (1 - B) y_i, (1 - B) v_i + B^2 V), B = v_i / (v_i + tau^2)."""
        B = self.v[None, :] / (self.v[None, :] + (tau**2)[:, None])
        return B * m[:, None] + (1.0 - B) * self.y[None, :], np.sqrt((1.0 - B) * self.v[None, :] + B * B * V[:, None])

    def i2_median(self, tau_median: float | None = None) -> float:
        """Posterior median of I^2 = tau^2 / (tau^2 + s^2), percent (monotone in tau: I^2 at tau's median)."""
        s2 = typical_variance(self.v)
        t2 = (float(self.tau_quantile(0.5)[0]) if tau_median is None else tau_median) ** 2
        return 100.0 * t2 / (t2 + s2)

    # -- the result ----------------------------------------------------------------------------
    def result(self, labels=None, thresholds: Sequence[float] = (), measure: str | None = None) -> MetaResult:
        labels = study_labels(labels, self.k)
        P = np.array([0.001, 0.025, 0.5, 0.975, 0.999])
        sv, sp = np.sqrt(self.V), self._pred_sd()
        M2, S2 = np.stack((self.m, self.m), 1), np.stack((sv, sp), 1)  # columns: mu, theta_new
        smean, wt, (piq, Mq, Sq) = self._shrunken_parts()
        k = self.k
        if piq is self.pi:  # one solve for mu, theta_new and the studies (same mixture weights)
            qa = mix_quantile(np.concatenate((P, P, np.repeat([0.025, 0.975], k))), self.pi,
                              np.hstack([np.repeat(M2, 5, 1), Mq, Mq]), np.hstack([np.repeat(S2, 5, 1), Sq, Sq]))
            q, slo, shi = qa[:10].reshape(2, 5).T, qa[10:10 + k], qa[10 + k:]
        else:
            q = mix_quantile(np.repeat(P[:, None], 2, 1), self.pi, M2, S2)
            qs = mix_quantile(np.repeat([0.025, 0.975], k), piq, np.hstack([Mq, Mq]), np.hstack([Sq, Sq]))
            slo, shi = qs[:k], qs[k:]
        qm, qp = q[:, 0], q[:, 1]
        mean = float(self.pi @ self.m)
        mu = Summary(mean if self.mu_finite[0] else math.nan,
                     float(np.sqrt(max(self.pi @ (self.V + self.m**2) - mean**2, 0))) if self.mu_finite[1] else math.nan,
                     *map(float, qm[1:4]))
        pred = Summary(mean if self.pred_finite[0] else math.nan,
                       float(np.sqrt(max(self.pi @ (sp**2 + self.m**2) - mean**2, 0))) if self.pred_finite[1] else math.nan,
                       *map(float, qp[1:4]))
        tq = self.tau_quantile([0.025, 0.5, 0.975, 0.999])
        tau = Summary(*self.grid.tau_moments(), *map(float, tq[:3]))
        cols = zip(labels, self.y.tolist(), self.v.tolist(), smean.tolist(), slo.tolist(), shi.tolist(), wt.tolist())
        studies = [StudyEstimate(*c) for c in cols]
        g = self.grid
        x = np.linspace(q[0], q[-1], 200)  # mu and theta_new in one pass: columns share the weights
        y = mix_pdf(x, self.pi, M2, S2)
        dens = {"mu": {"x": x[:, 0].tolist(), "y": y[:, 0].tolist()},
                "tau": g.density(self.tau_pdf, g.lo, min(g.hi, float(tq[3]))),
                "theta_new": {"x": x[:, 1].tolist(), "y": y[:, 1].tolist()}}
        spec = {"tau_prior": self.tau_prior.label, "mu_prior": self.mu_prior.label, "grid": g.grid_spec()}
        data = {"labels": labels, "yi": self.y.tolist(), "vi": self.v.tolist()}
        return MetaResult(
            model="exact-normal-normal", k=self.k, measure=measure, spec=spec, data=data,
            hash=fast_hash("exact-normal-normal", spec, {"labels": labels, "yi": self.y, "vi": self.v}),
            mu=mu, tau=tau, theta_new=pred, p_below_0=float(self.mu_cdf(0.0)),
            p_abs_above={f"{float(t):g}": self.p_abs_above(t) for t in thresholds},
            i2=self.i2_median(float(tq[1])), studies=studies, densities=dens, warnings=moment_warnings(g, self.mu_finite, self.pred_finite),
            versions=recorded_versions())


def moment_warnings(grid: TauGrid, mu_finite, pred_finite) -> list[str]:
    out = list(grid.warnings)
    names = [("tau", (grid.tail > 2, grid.tail > 3)), ("mu", mu_finite), ("theta_new", pred_finite)]
    for name, (m1, m2) in names:
        if not m1:
            out.append(f"the posterior mean and sd of {name} do not exist (heavy tail); reported as NaN, use quantiles")
        elif not m2:
            out.append(f"the posterior sd of {name} does not exist (heavy tail); reported as NaN")
    return out


def posterior(yi, vi, tau_prior: "str | TauPrior" = "halfnormal:0.5", mu_prior: "str | MuPrior" = "flat",
              labels=None, thresholds: Sequence[float] = (), measure: str | None = None, tol: float = 1e-5) -> MetaResult:
    """Exact posterior of the normal-normal random-effects model as a :class:`MetaResult`.

    ``i2`` is a Bayesian analogue of Higgins & Thompson's I^2: the posterior median of
    tau^2 / (tau^2 + s^2), s^2 being their typical within-study variance (percent).
    ``p_abs_above`` holds P(|mu| > t) for each threshold t. Grid and accuracy are in ``spec['grid']``.
    """
    return ExactPosterior(yi, vi, tau_prior, mu_prior, tol).result(labels, thresholds, measure)
