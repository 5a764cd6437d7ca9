"""Which software produced a number: the one list of packages whose versions are recorded.

Every place that records versions reads :data:`RECORDED_PACKAGES` through :func:`package_versions`:
each ``MetaResult``, the fit cache's key, the evidence summaries, the catalogue's build facts and
the app's Method page. One list, so a result, an export and the catalogue it came from can always
be compared package by package.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata

#: Packages that can change a number (the engines, the data stack, the catalogue and the app).
RECORDED_PACKAGES = ("evidence", "numpy", "scipy", "pandas", "formulae", "pymc", "pytensor", "bambi", "arviz",
                     "nutpie", "pydantic", "sqlmodel", "SQLAlchemy", "streamlit", "altair")


@lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    out = []
    for name in RECORDED_PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return tuple(out)


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`RECORDED_PACKAGES` (read from metadata once per process: reading
    costs ~10 ms and importing the packages would cost seconds)."""
    return dict(_versions())
