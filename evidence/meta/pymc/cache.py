"""Content-addressed cache of sampled fits, in memory and on disk.

A fit is identified by ``MetaResult.hash`` (model name + spec + data, computed by
:func:`evidence.meta.pymc.models.describe` *before* sampling) combined with the sampler settings and the
recorded package versions (:mod:`evidence.provenance`), so changing a prior, an effect, the seed
or upgrading a package refits, and nothing else does. On disk (``~/.cache/evidence/fits``, or
``$EVIDENCE_CACHE_DIR``) each entry is ``<key>.json`` (the ``MetaResult``) plus ``<key>.nc`` (the
``InferenceData`` as netCDF). No pickle: both formats are data, safe to share and readable by other tools.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import tempfile
from pathlib import Path

from evidence.meta.pymc import models
from evidence.meta.pymc.settings import SamplerSettings
from evidence.meta.result import MetaResult, content_hash
from evidence.provenance import package_versions

_MEMORY: dict[str, MetaResult] = {}


def cache_dir(directory=None) -> Path:
    """The on-disk cache directory: argument, else :func:`evidence.config.fit_cache_dir`."""
    from evidence import config

    return Path(directory) if directory is not None else config.fit_cache_dir()


def cache_key(kind, yi, vi, *, settings: SamplerSettings | None = None, log_likelihood: bool = True,
              **options) -> str:
    """Key of a fit: ``MetaResult.hash`` + sampler settings (and whether the pointwise log-likelihood
    was stored) + the recorded package versions. ``options`` as for ``models.fit`` (sampler-setting
    fields among them override ``settings``)."""
    settings, options = SamplerSettings.resolve(settings, options)
    options.pop("measure", None)  # a label only
    name, spec, data = models.describe(kind, yi, vi, **options)
    result_hash = content_hash(name, spec, data)
    return content_hash(result_hash, {**settings.as_dict(), "log_likelihood": bool(log_likelihood)}, package_versions())


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600: replicas running as other users must read it
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(result: MetaResult, key: str, directory=None) -> Path:
    """Write ``result`` (JSON) and its ``idata`` (netCDF) under ``key``; returns the JSON path."""
    d = cache_dir(directory)
    d.mkdir(parents=True, exist_ok=True)
    if result.idata is not None:
        _atomic_write(d / f"{key}.nc", lambda tmp: result.idata.to_netcdf(tmp))
    path = d / f"{key}.json"
    _atomic_write(path, lambda tmp: Path(tmp).write_text(result.to_json(indent=1)))
    return path


def load(key: str, directory=None) -> MetaResult | None:
    """The cached result for ``key`` from disk, or None (also None for an unreadable entry)."""
    import arviz as az

    d = cache_dir(directory)
    jpath, npath = d / f"{key}.json", d / f"{key}.nc"
    if not jpath.exists():
        return None
    try:
        result = MetaResult.from_json(jpath.read_text())
        if npath.exists():
            idata = az.from_netcdf(npath)
            for group in idata.groups():
                getattr(idata, group).load()  # read everything now: the file may be replaced later
            result.idata = idata
    except (OSError, ValueError, TypeError, json.JSONDecodeError):
        return None
    return result


def cached_fit(kind, yi, vi, *, directory=None, refresh=False, **kw) -> MetaResult:
    """``models.fit(kind, yi, vi, **kw)``, unless the same fit is cached (memory first, then disk).

    Returns a fresh (shallow) copy each time, so a caller changing fields never alters the cache; on a
    hit ``measure`` is the caller's (it is a label only: not part of the key)."""
    key = cache_key(kind, yi, vi, **kw)
    mem_key = f"{cache_dir(directory).resolve()}::{key}"
    if not refresh:
        result = _MEMORY.get(mem_key)
        if result is None:
            result = load(key, directory)
            if result is not None:
                _MEMORY[mem_key] = result
        if result is not None:
            return _handout(result, measure=kw.get("measure"))
    result = models.fit(kind, yi, vi, **kw)
    save(result, key, directory)
    _MEMORY[mem_key] = result
    return _handout(result)


def _handout(result: MetaResult, **changes) -> MetaResult:
    """A copy of a cached result (its lists and dicts copied too; ``idata`` shared: treat it as read-only)."""
    fresh = {f.name: copy.copy(v) for f in dataclasses.fields(result)
             if isinstance(v := getattr(result, f.name), (list, dict))}
    return dataclasses.replace(result, **{**fresh, **changes})


def clear_memory() -> None:
    """Forget the in-memory cache (the disk cache stays)."""
    _MEMORY.clear()
