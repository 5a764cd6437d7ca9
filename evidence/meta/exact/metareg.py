"""Exact Bayesian meta-regression: y ~ N(X beta, diag(v) + tau^2 I), no sampling.

Given tau, beta's posterior is Gaussian in closed form (flat prior, or independent normal priors
on each coefficient), and the log marginal likelihood of tau is

    -1/2 sum log(v_i + tau^2) - 1/2 log det(X'WX + P0) - 1/2 [sum w_i r_i^2 + (beta_hat - b0)' P0 (beta_hat - b0)]

with W = diag(1/(v + tau^2)) and P0 the prior precision. The tau integral uses the adaptive grid
of :mod:`evidence.meta.exact.grid` (``TauGrid``, shared with :mod:`evidence.meta.exact.normal`), so every
coefficient's posterior, the linear predictor at a moderator vector x0 and the predictive
distribution of a new programme's true effect at x0 (adding tau^2) are finite mixtures of normals
over the grid (:mod:`evidence.meta.exact.mixture`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evidence.errors import MetaAnalysisError
from evidence.meta.exact.grid import TauGrid, moment_warnings
from evidence.meta.exact.mixture import mix_cdf, mix_pdf, mix_quantile, mix_summary
from evidence.meta.inputs import check_effects, study_labels
from evidence.meta.moderators import code_moderators
from evidence.meta.priors import DEFAULT_MU_PRIOR, DEFAULT_TAU_PRIOR, MuPrior, TauPrior, parse_mu_prior, parse_tau_prior
from evidence.meta.result import MetaResult, StudyEstimate, Summary, content_hash
from evidence.provenance import package_versions


class ExactRegression:
    """Exact posterior of the random-effects meta-regression (components ``pi``, ``tau``, ``beta``, ``C``)."""

    def __init__(self, yi, vi, X, names: Sequence[str] | None = None, tau_prior: str | TauPrior = DEFAULT_TAU_PRIOR,
                 beta_prior: str | MuPrior = DEFAULT_MU_PRIOR, x_new=None, tol: float = 1e-5):
        self.y, self.v = check_effects(yi, vi)
        if hasattr(X, "columns"):  # a DataFrame of moderators: intercept + R's treatment coding
            X, names, x_new = _coded(X, names, x_new)
        X = np.asarray(X, float)
        X = X[:, None] if X.ndim == 1 else X
        k = self.y.size
        if X.ndim != 2 or X.shape[0] != k:
            raise MetaAnalysisError(f"the moderator matrix X must have one row per effect ({k}), got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise MetaAnalysisError("moderators must be finite numbers (drop or impute rows with missing moderators)")
        self.X, self.p = X, X.shape[1]
        self.names = [f"b{j}" for j in range(self.p)] if names is None else [str(n) for n in names]
        if len(self.names) != self.p:
            raise MetaAnalysisError(f"{len(self.names)} coefficient names for {self.p} columns of X")
        self.tau_prior, self.beta_prior = parse_tau_prior(tau_prior), parse_mu_prior(beta_prior)
        flat = self.beta_prior.kind == "flat"
        if flat and np.linalg.matrix_rank(X) < self.p:
            raise MetaAnalysisError(
                f"the moderators are collinear or too few studies (rank {np.linalg.matrix_rank(X)} < {self.p} "
                "coefficients); drop a moderator or use a normal prior on the coefficients")
        self.P0 = self.beta_prior.precision * np.eye(self.p)
        self.b0 = np.full(self.p, self.beta_prior.mean if not flat else 0.0)
        self.x0 = None
        if x_new is not None:
            self.x0 = np.asarray(x_new, float).ravel()
            if self.x0.size != self.p or not np.all(np.isfinite(self.x0)):
                raise MetaAnalysisError(f"x_new must hold {self.p} finite moderator values (one per coefficient)")
        self.grid = TauGrid(self.tau_prior, self._model, k - (self.p if flat else 0),
                            float(np.sqrt(np.median(self.v))), tol)
        self.pi, self.tau = self.grid.pi, self.grid.tau
        self.beta, self.C = self._solve(self.tau)[:2]
        self.finite = (not flat) or self.grid.tail > 2, (not flat) or self.grid.tail > 3
        self.pred_finite = self.grid.tail > 2, self.grid.tail > 3

    def _solve(self, tau):
        t2 = tau * tau
        den = self.v[None, :] + t2[:, None]
        w = 1.0 / den
        A = np.einsum("gk,ki,kj->gij", w, self.X, self.X) + self.P0
        b = (w * self.y) @ self.X + self.P0 @ self.b0
        C = np.linalg.inv(A)
        beta = np.einsum("gij,gj->gi", C, b)
        return beta, C, w, den, A

    def _model(self, tau):
        beta, C, w, den, A = self._solve(tau)
        r = self.y[None, :] - beta @ self.X.T
        d = beta - self.b0
        q = np.einsum("gk,gk->g", w, r * r) + np.einsum("gi,ij,gj->g", d, self.P0, d)
        ll = -0.5 * np.log(den).sum(1) - 0.5 * np.linalg.slogdet(A)[1] - 0.5 * q
        pairs = [(beta, np.sqrt(np.einsum("gii->gi", C)))]
        if self.x0 is not None:
            pairs.append((beta @ self.x0, np.sqrt(np.einsum("i,gij,j->g", self.x0, C, self.x0) + tau * tau)))
        return ll, pairs

    # -- summaries -----------------------------------------------------------------------------
    def linear_predictor(self, x0) -> tuple[np.ndarray, np.ndarray]:
        """Components (means, sds) of x0' beta given tau."""
        x0 = np.asarray(x0, float)
        return self.beta @ x0, np.sqrt(np.einsum("i,gij,j->g", x0, self.C, x0))

    def predictive(self, x0) -> tuple[np.ndarray, np.ndarray]:
        """Components of theta_new | x0: N(x0' beta_hat, x0' C x0 + tau^2)."""
        m, s = self.linear_predictor(x0)
        return m, np.sqrt(s * s + self.tau**2)

    def residual_i2(self) -> float:
        """Posterior median of residual I^2 with s^2 = (k - p) / tr(P) (metafor's definition for rma with mods)."""
        k, W = self.y.size, 1.0 / self.v
        XtWX = (self.X * W[:, None]).T @ self.X
        trP = W.sum() - np.trace(np.linalg.solve(XtWX, (self.X * W[:, None] ** 2).T @ self.X)) if k > self.p else 0.0
        s2 = (k - self.p) / trP if k > self.p and trP > 0 else float(np.mean(self.v))
        t2 = float(self.grid.tau_quantile(0.5)[0]) ** 2
        return 100.0 * t2 / (t2 + s2)

    def result(self, labels=None, thresholds: Sequence[float] = (), measure: str | None = None) -> MetaResult:
        labels = study_labels(labels, self.y.size)
        g, pi = self.grid, self.pi
        coefs = mix_summary(pi, self.beta, np.sqrt(np.einsum("gii->gi", self.C)), *self.finite)
        mM, mS = self.linear_predictor(self.x0) if self.x0 is not None else (self.beta[:, 0], np.sqrt(self.C[:, 0, 0]))
        P = np.array([0.001, 0.025, 0.5, 0.975, 0.999])
        mu = mix_summary(pi, mM, mS, *self.finite, probs=(0.025, 0.5, 0.975))[0]
        qm = mix_quantile(P, pi, mM, mS)
        dens = {"mu": g.density(lambda x: mix_pdf(x, pi, mM, mS), qm[0], qm[-1])}
        pred = None
        if self.x0 is not None:
            pM, pS = self.predictive(self.x0)
            pred = mix_summary(pi, pM, pS, *self.pred_finite)[0]
            qp = mix_quantile(P, pi, pM, pS)
            dens["theta_new"] = g.density(lambda x: mix_pdf(x, pi, pM, pS), qp[0], qp[-1])
        tq = g.tau_quantile([0.025, 0.5, 0.975, 0.999])
        dens["tau"] = g.density(g.tau_pdf, g.lo, min(g.hi, float(tq[3])))
        # shrunken estimates: theta_i | tau, y ~ N(B x_i'b + (1 - B) y_i, (1 - B) v_i + B^2 x_i'C x_i)
        B = self.v[None, :] / (self.v[None, :] + (self.tau**2)[:, None])
        fit = self.beta @ self.X.T
        vfit = np.einsum("ki,gij,kj->gk", self.X, self.C, self.X)
        M, S = B * fit + (1 - B) * self.y, np.sqrt((1 - B) * self.v + B * B * vfit)
        k = self.y.size
        q = mix_quantile(np.repeat([0.025, 0.975], k), pi, np.hstack([M, M]), np.hstack([S, S]))
        studies = [StudyEstimate(lab, y, v, m, lo, hi) for lab, y, v, m, lo, hi in
                   zip(labels, self.y.tolist(), self.v.tolist(), (pi @ M).tolist(), q[:k].tolist(), q[k:].tolist())]
        spec = {"tau_prior": self.tau_prior.label, "beta_prior": self.beta_prior.label, "moderators": self.names,
                "x_new": None if self.x0 is None else self.x0.tolist(),
                "mu": "linear predictor at x_new" if self.x0 is not None else f"coefficient {self.names[0]}",
                "grid": g.grid_spec()}
        data = {"labels": labels, "yi": self.y.tolist(), "vi": self.v.tolist(),
                "moderators": {n: self.X[:, j].tolist() for j, n in enumerate(self.names)}}
        return MetaResult(
            model="exact-meta-regression", k=k, measure=measure, spec=spec, data=data,
            hash=content_hash("exact-meta-regression", spec, data), versions=package_versions(),
            mu=mu, tau=Summary(*g.tau_moments(), *map(float, tq[:3])), theta_new=pred,
            p_below_0=float(mix_cdf(0.0, pi, mM, mS)),
            p_abs_above={f"{float(t):g}": float(1 - mix_cdf(abs(t), pi, mM, mS) + mix_cdf(-abs(t), pi, mM, mS))
                         for t in thresholds},
            i2=self.residual_i2(), studies=studies, coefficients=dict(zip(self.names, coefs)), densities=dens,
            warnings=moment_warnings(g, self.finite, self.pred_finite))


def _coded(frame, names, x_new):
    """(X, names, x_new) for a DataFrame of moderators, coded by :func:`code_moderators`;
    ``x_new`` may then be a mapping moderator -> value (e.g. {"region": "South Asia"})."""
    coding = code_moderators(frame)
    if not coding.keep.all():
        raise MetaAnalysisError(f"moderators are missing in rows {[int(i) + 1 for i in np.flatnonzero(~coding.keep)][:10]}"
                                " (drop or impute rows with missing moderators)")
    X = np.column_stack([np.ones(len(coding.keep)), coding.X])
    names = ["intercept", *coding.names] if names is None else names
    if x_new is not None and hasattr(x_new, "keys"):
        x_new = np.concatenate(([1.0], coding.row(x_new)))
    return X, names, x_new


def regression(yi, vi, X, names: Sequence[str] | None = None, tau_prior: str | TauPrior = DEFAULT_TAU_PRIOR,
               beta_prior: str | MuPrior = DEFAULT_MU_PRIOR, x_new=None, labels=None, thresholds: Sequence[float] = (),
               measure: str | None = None, tol: float = 1e-5) -> MetaResult:
    """Exact random-effects meta-regression as a :class:`MetaResult`.

    ``X`` is a design matrix (intercept included by the caller) or a DataFrame of moderators, which
    is coded as metafor codes it (intercept + :func:`evidence.meta.moderators.code_moderators`);
    with a DataFrame, ``x_new`` may be a mapping moderator -> value.

    ``coefficients`` holds each term's posterior; ``mu`` is the linear predictor x_new' beta when
    ``x_new`` is given (the mean effect for programmes like x_new), otherwise the first coefficient
    (the intercept, if X has one); ``theta_new`` is the predictive distribution of a new programme's
    true effect at x_new (None without x_new). ``i2`` is the posterior median of the residual I^2.
    """
    return ExactRegression(yi, vi, X, names, tau_prior, beta_prior, x_new, tol).result(labels, thresholds, measure)
