"""Weighted least squares and metafor's P matrix in O(k p^2), without ever forming a k x k matrix.

metafor writes its estimators with P = W - W X (X'WX)^-1 X'W (k x k). Every quantity they need is
a trace or a quadratic form in P, and each has an O(k p^2) expression through Q = W^(1/2) X L^-T,
L the Cholesky factor of X'WX (Q has orthonormal columns, like the thin QR's; h = row sums of
Q^2, the leverages; S(d) = Q' diag(w d) Q, p x p):

* P y = W r, with r the weighted least-squares residuals, so y'Py = sum w r^2, y'PPy = sum (w r)^2;
* tr(P D) = sum w d (1 - h) for a diagonal D = diag(d);
* tr(P D1 P D2) = sum w^2 d1 d2 (1 - 2 h) + tr(S(d1) S(d2))  (e.g. sum(P * P) = tr(P P)).

Why: REML at k = 1,000 used to cost 190x its cost at k = 100 and 100,000 effects needed 80 GB for
one P; these are linear in k and exact (the same algebra, not an approximation).
"""

from __future__ import annotations

import math

import numpy as np

from evidence.errors import MetaAnalysisError

#: Below this a sampling variance's weights (1/v^2 appears in tr(P P)) overflow double precision
#: on large k; such a variance is an error in the data or its units, so it is refused, not rounded.
MIN_VARIANCE = 1e-100


def check_variances(v: np.ndarray) -> None:
    """Refuse variances so small that the estimators' weights would overflow (see MIN_VARIANCE)."""
    tiny = v < MIN_VARIANCE
    if tiny.any():
        rows = [int(i) + 1 for i in np.flatnonzero(tiny)[:10]]
        raise MetaAnalysisError(
            f"Sampling variances below {MIN_VARIANCE:g} (rows {rows}: {v[tiny][:10].tolist()}) cannot be weighted "
            "without overflow (the weights are 1/vi and 1/vi^2); check the variances or rescale the effect sizes.")


class Wls:
    """Weighted least squares of y on X with weights w, and the traces of metafor's P (see the module)."""

    def __init__(self, X: np.ndarray, w: np.ndarray, y: np.ndarray | None = None):
        self.w = w
        # without y only the traces are defined: the fit and its quadratic forms are NaN
        self.beta: np.ndarray = np.full(X.shape[1], np.nan)
        self.r: np.ndarray = np.full(X.shape[0], np.nan)
        if X.shape[1] == 1:  # one coefficient (intercept-only models): scalars, no LAPACK call
            x = X[:, 0]
            wx = w * x
            a = float(wx @ x)
            if not (math.isfinite(a) and a > 0):
                raise MetaAnalysisError("Model matrix is not of full rank; cannot fit the model.")
            self._logdet, self.C = math.log(a), np.array([[1.0 / a]])
            self.Q = (np.sqrt(w) * x / math.sqrt(a))[:, None]
            self.h = wx * x / a
            if y is not None:
                self.beta = np.array([float(wx @ y) / a])
                self.r = y - x * self.beta[0]
            return
        WX = X * w[:, None]
        A = X.T @ WX  # X'WX, p x p
        try:
            L = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            raise MetaAnalysisError("Model matrix is not of full rank; cannot fit the model.") from None
        dL = np.diag(L)
        if not np.all(np.isfinite(dL)) or dL.min() <= dL.max() * 1e-12:
            raise MetaAnalysisError("Model matrix is not of full rank; cannot fit the model.")
        Linv = np.linalg.inv(L)
        self._logdet = float(2.0 * np.sum(np.log(dL)))
        self.C = Linv.T @ Linv  # (X'WX)^-1
        self.Q = np.sqrt(w)[:, None] * (X @ Linv.T)  # W^(1/2) X L^-T: orthonormal columns, as QR's Q
        self.h = np.einsum("ij,ij->i", self.Q, self.Q)  # leverages of the weighted fit
        if y is not None:
            self.beta = self.C @ (WX.T @ y)
            self.r = y - X @ self.beta

    # -- quadratic forms in P ------------------------------------------------------------------
    @property
    def yPy(self) -> float:
        """y'Py: the weighted residual sum of squares (the generalised Q statistic)."""
        return float(np.sum(self.w * self.r * self.r))

    @property
    def yPPy(self) -> float:
        return float(np.sum((self.w * self.r) ** 2))

    # -- traces ---------------------------------------------------------------------------------
    def tr(self, d: np.ndarray | float = 1.0) -> float:
        """tr(P D), D = diag(d) (default: tr(P))."""
        return float(np.sum(self.w * d * (1.0 - self.h)))

    def _S(self, d) -> np.ndarray:
        """S(d) = Q' diag(w d) Q (p x p)."""
        return self.Q.T @ (self.Q * (self.w * d)[:, None])

    def tr2(self, d1: np.ndarray | float = 1.0, d2: np.ndarray | float = 1.0) -> float:
        """tr(P D1 P D2) for diagonal D1, D2 (default: tr(P P) = sum(P * P))."""
        d1 = np.broadcast_to(np.asarray(d1, float), self.w.shape)
        d2 = np.broadcast_to(np.asarray(d2, float), self.w.shape)
        S1 = self._S(d1)
        S2 = S1 if d2 is d1 or np.array_equal(d1, d2) else self._S(d2)
        return float(np.sum(self.w**2 * d1 * d2 * (1.0 - 2.0 * self.h)) + np.sum(S1 * S2.T))

    def logdet(self) -> float:
        """log det(X'WX) (from its Cholesky factor)."""
        return self._logdet

    def cov(self) -> np.ndarray:
        """(X'WX)^-1."""
        return self.C
