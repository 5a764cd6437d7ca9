"""The few distribution functions the estimators need, taken from ``scipy.special``: the same routines
``scipy.stats`` calls underneath (``norm._ppf`` is ``ndtri``, ``t._sf`` is ``stdtr(df, -x)``, ``chi2._isf``
is ``chdtri`` ...), so the numbers are identical. Why not ``scipy.stats`` itself: importing it costs
about half a second, which every ``evidence meta`` run would pay for a handful of quantiles."""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_ppf(q):
    return special.ndtri(q)


def norm_sf(x):
    return special.ndtr(-np.asarray(x, dtype=float))


def t_ppf(q, df):
    return special.stdtrit(df, q)


def t_sf(x, df):
    return special.stdtr(df, -np.asarray(x, dtype=float))


def chi2_sf(x, df):
    return special.chdtrc(df, x)


def chi2_isf(q, df):
    return special.chdtri(df, q)


def chi2_ppf(q, df):
    return special.chdtri(df, 1.0 - q)


def f_sf(x, dfn, dfd):
    return special.fdtrc(dfn, dfd, x)
