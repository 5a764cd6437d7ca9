"""Exact Bayesian normal-normal random-effects meta-analysis (no sampling; never imports pymc).

Model: y_i ~ N(theta_i, v_i), theta_i ~ N(mu, tau^2), a prior on tau (``evidence.meta.priors``) and
a flat or normal prior on mu. Given tau, mu's posterior is normal in closed form, so the only
integral left is the one over tau, done on an adaptive grid (:mod:`evidence.meta.exact.grid`).
Every marginal then becomes a finite mixture of normals (:mod:`evidence.meta.exact.mixture`):

* mu | y = sum_j pi_j N(mu_hat(tau_j), V(tau_j)); theta_new | y adds tau_j^2 to each variance;
  theta_i | y mixes N(B m + (1 - B) y_i, (1 - B) v_i + B^2 V) with B = v_i / (v_i + tau^2).
* the grid is refined until the CDFs of mu, theta_new and tau (and E[tau]) agree between two
  successive grids; ``spec['grid']['accuracy']`` states 10x that difference, which must be below ``tol``.

Whether the posterior is proper and which moments exist is decided analytically from the prior's
tail order (``TauPrior.tail_order``): an improper posterior raises ``MetaAnalysisError``; moments
that do not exist are reported as NaN with a warning (quantiles always exist).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from evidence.meta.exact.grid import TauGrid, moment_warnings
from evidence.meta.exact.mixture import mix_cdf, mix_pdf, mix_quantile
from evidence.meta.inputs import check_effects, study_labels, typical_variance
from evidence.meta.priors import DEFAULT_MU_PRIOR, DEFAULT_TAU_PRIOR, MuPrior, TauPrior, parse_mu_prior, parse_tau_prior
from evidence.meta.result import MetaResult, StudyEstimate, Summary, content_hash
from evidence.provenance import package_versions


# --------------------------------------------------------------------------------------------
# the normal-normal model
# --------------------------------------------------------------------------------------------
class ExactPosterior:
    """Exact posterior of the normal-normal random-effects model (see the module docstring).

    The mixture components on the final grid are ``pi`` (weights), ``tau``, ``m`` (= E[mu | tau, y])
    and ``V`` (= Var[mu | tau, y]).
    """

    def __init__(self, yi, vi, tau_prior: str | TauPrior = DEFAULT_TAU_PRIOR, mu_prior: str | MuPrior = DEFAULT_MU_PRIOR,
                 tol: float = 1e-5):
        self.y, self.v = check_effects(yi, vi)
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
                # each tau point re-evaluates the model (k terms): 80 points draw the curve smoothly
                "tau": g.density(self.tau_pdf, g.lo, min(g.hi, float(tq[3])), n=80),
                "theta_new": {"x": x[:, 1].tolist(), "y": y[:, 1].tolist()}}
        spec = {"tau_prior": self.tau_prior.label, "mu_prior": self.mu_prior.label, "grid": g.grid_spec()}
        data = {"labels": labels, "yi": self.y.tolist(), "vi": self.v.tolist()}
        return MetaResult(
            model="exact-normal-normal", k=self.k, measure=measure, spec=spec, data=data,
            hash=content_hash("exact-normal-normal", spec, {"labels": labels, "yi": self.y, "vi": self.v}),
            mu=mu, tau=tau, theta_new=pred, p_below_0=float(self.mu_cdf(0.0)),
            p_abs_above={f"{float(t):g}": self.p_abs_above(t) for t in thresholds},
            i2=self.i2_median(float(tq[1])), studies=studies, densities=dens, warnings=moment_warnings(g, self.mu_finite, self.pred_finite),
            versions=package_versions())


def posterior(yi, vi, tau_prior: str | TauPrior = DEFAULT_TAU_PRIOR, mu_prior: str | MuPrior = DEFAULT_MU_PRIOR,
              labels=None, thresholds: Sequence[float] = (), measure: str | None = None, tol: float = 1e-5) -> MetaResult:
    """Exact posterior of the normal-normal random-effects model as a :class:`MetaResult`.

    ``i2`` is a Bayesian analogue of Higgins & Thompson's I^2: the posterior median of
    tau^2 / (tau^2 + s^2), s^2 being their typical within-study variance (percent).
    ``p_abs_above`` holds P(|mu| > t) for each threshold t. Grid and accuracy are in ``spec['grid']``.
    """
    return ExactPosterior(yi, vi, tau_prior, mu_prior, tol).result(labels, thresholds, measure)
