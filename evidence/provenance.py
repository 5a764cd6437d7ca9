"""Which software produced a number: the one list of packages whose versions are recorded.

Every place that records versions reads :data:`RECORDED_PACKAGES` through :func:`package_versions`:
each ``MetaResult``, the fit cache's key, the evidence summaries, the catalogue's build facts and
the app's Method page. One list, so a result, an export and the catalogue it came from can always
be compared package by package.
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache

#: Packages that can change a number (the engines, the data stack, the catalogue and the app).
RECORDED_PACKAGES = ("evidence", "numpy", "scipy", "pandas", "formulae", "pymc", "pytensor", "bambi", "arviz",
                     "nutpie", "pydantic", "sqlmodel", "SQLAlchemy", "streamlit", "altair")


def _normal(name: str) -> str:
    """A distribution name as wheel directory names spell it (PEP 503 normalised, ``_`` for runs)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _installed() -> dict[str, str]:
    """Normalised name -> version, read from the ``NAME-VERSION.dist-info`` directory names on
    ``sys.path`` (first one wins, as for imports): a directory listing per path entry instead of one
    metadata search and file read per package."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for n in names:
            if n.endswith(".dist-info"):
                name, sep, version = n[: -len(".dist-info")].partition("-")
                if sep and version:
                    found.setdefault(_normal(name), version)
    return found


@lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    listed = _installed()
    out = []
    for name in RECORDED_PACKAGES:
        version = listed.get(_normal(name))
        if version is None:  # not a plain wheel install (an egg, a zip): ask the metadata
            from importlib import metadata

            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = "not installed"
        out.append((name, version))
    return tuple(out)


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`RECORDED_PACKAGES` (read once per process, from directory names:
    importing the packages would cost seconds, and a metadata look-up per package ~25 ms in all)."""
    return dict(_versions())
