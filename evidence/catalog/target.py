"""Naming the catalogue: one rule for "a SQLite path or a SQLAlchemy URL", its connection errors in
words, and the one stamp that tells caches when the catalogue was rebuilt.

Why one module: the CLI (``--catalog``), the environment (``EVIDENCE_CATALOG_URL``), the build, the
queries and the app's caches all have to agree on what a target names. Before, ``--out`` was a
``Path`` (so ``postgresql+psycopg://host/db`` became a folder named ``postgresql+psycopg:``) and two
stamps disagreed about server databases.

Rules:
- anything that starts like a URL scheme (``letters+letters:``, two characters or more, so ``C:`` is
  not one) is a URL and is parsed as one, never used as a file name; ``sqlite:///file`` is a file;
- anything else is a file path (SQLite);
- nothing given: ``EVIDENCE_CATALOG_URL`` (``config.CATALOG_URL``), else the shipped ``catalog.db``.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from evidence import config
from evidence.errors import CatalogError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")
DRIVER_HINT = {"postgresql": "pip install -e '.[postgres]' (psycopg)"}


def is_url(target: str | Path) -> bool:
    """True when ``target`` is written as a URL (a scheme before a colon), whatever follows."""
    return isinstance(target, str) and bool(_SCHEME.match(target))


def resolve(target: str | Path | None = None) -> str:
    """The SQLAlchemy URL of ``target`` (a path becomes ``sqlite:///<absolute path>``), checked:
    a malformed URL or an unknown/uninstalled driver is a :class:`CatalogError` naming the problem."""
    raw = target if target not in (None, "") else (config.CATALOG_URL or config.CATALOG_PATH)
    if not is_url(raw):
        return f"sqlite:///{Path(raw).expanduser().resolve()}"
    url = parse(str(raw))
    return url.render_as_string(hide_password=False)


def parse(text: str) -> URL:
    """``make_url`` with the errors a person can act on (bad syntax, unknown backend, missing driver)."""
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise CatalogError(f"not a valid catalogue URL: {display(text)!r} (expected e.g. "
                           "postgresql+psycopg://user@host:5432/evidence or a SQLite file path)") from None
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise CatalogError(f"unknown database type {url.drivername!r} in {display(text)!r} "
                           "(use sqlite:///file.db or postgresql+psycopg://...)") from None
    except ImportError as exc:
        hint = DRIVER_HINT.get(url.get_backend_name(), f"install the driver for {url.drivername}")
        raise CatalogError(f"the database driver for {url.drivername} is not installed ({exc.name}): {hint}") from None
    if url.get_backend_name() != "sqlite" and not url.database:
        raise CatalogError(f"the catalogue URL names no database: {display(text)!r} (add /DBNAME)")
    return url


def display(url: str | URL) -> str:
    """The URL with its password hidden, for messages and cache keys."""
    try:
        return (url if isinstance(url, URL) else make_url(url)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", str(url))


def sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite:///`` URL reads, or None (a server database or in-memory SQLite)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return None
    return Path(u.database)


def connection_error(exc: BaseException, url: str) -> CatalogError:
    """One line for a failed connection or query: unreachable server, missing database, wrong
    credentials, no catalogue built there yet, permission denied; else the driver's own first line."""
    orig = getattr(exc, "orig", None) or exc
    msg = str(orig).strip()
    low = msg.lower()
    u = make_url(url)
    where = display(u)
    server = f"{u.host or 'localhost'}:{u.port or 5432}"
    if "password authentication failed" in low or ("role" in low and "does not exist" in low) \
            or "no password supplied" in low or "authentication failed" in low:
        return CatalogError(f"the database server at {server} refused the credentials of user "
                            f"{u.username or '(default)'!r}: check the user and password in the catalogue URL")
    if "database" in low and "does not exist" in low:
        return CatalogError(f"no database {u.database!r} on the server at {server}: create it "
                            f"(createdb {u.database}) or correct the catalogue URL")
    if any(s in low for s in ("connection refused", "could not connect", "timeout expired", "could not translate host",
                              "name or service not known", "no route to host", "server closed the connection",
                              "connection timed out", "terminating connection")):
        return CatalogError(f"cannot reach the database server at {server} ({where}): is it running and listening there?")
    if "no such table" in low or ("relation" in low and "does not exist" in low):
        return CatalogError(f"no catalogue in {where} yet: run `evidence build --catalog {where}`")
    if "permission denied" in low or "read-only" in low or "readonly" in low:
        return CatalogError(f"{where}: permission denied ({msg.splitlines()[0]})")
    return CatalogError(f"cannot read the catalogue at {where} ({msg.splitlines()[0] if msg else type(orig).__name__}); "
                        "rebuild it with `evidence build`")


def stamp(target: str | Path | None = None, engine=None) -> tuple:
    """What changes when the catalogue is rebuilt, so caches never outlive it. Every cache in front
    of the catalogue (queries' results, the app's loaders) keys on this one value.

    A SQLite file: (path, mtime_ns, size, inode) -- ``evidence build`` replaces the file, so a new
    inode and mtime; ``(path, None, None, None)`` while it does not exist. A server database: (URL
    without password, studies hash from ``catalog_meta``) -- the build writes that hash in the same
    transaction as the rows. ``engine``: read the server through this engine (else a read-only one)."""
    url = resolve(target)
    path = sqlite_file(url)
    if path is not None:
        path = path.resolve()
        try:
            st = path.stat()
        except OSError:
            return (str(path), None, None, None)
        return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)
    from sqlalchemy import text

    from evidence.catalog.queries import connect

    engine = engine or connect(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT value FROM catalog_meta WHERE key = 'studies_hash'")).first()
    except DBAPIError as exc:
        raise connection_error(exc, url) from None
    return (display(url), row[0] if row else None)


__all__ = ["connection_error", "display", "is_url", "parse", "resolve", "sqlite_file", "stamp"]
