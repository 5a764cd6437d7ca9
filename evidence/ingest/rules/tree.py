"""Rules across the files validated together: duplicate study ids, likely duplicate studies, and
links that point nowhere.

``files`` are ``evidence.ingest.validate.FileResult`` values (path, data, line_of); ``ctx.known_ids``
holds every study id a link may name: the files validated and the other study files of their
directories (validating one file still sees its neighbours).
"""

from __future__ import annotations

import re

from evidence import config
from evidence.ingest import dedup
from evidence.ingest.problems import Problem
from evidence.ingest.rules.base import d, rule


def _sid(r):
    sid = r.data.get("id") if isinstance(r.data, dict) else None
    return sid if isinstance(sid, str) else None


def _at(r, loc, message, hint, ctx, rule_severity=None) -> Problem:
    return Problem(r.path, r.line_of(loc), ctx.field_of(loc), message, hint, "", rule_severity or ctx.severity)


@rule("duplicate-study-id", "No two files hold the same study id.", scope="tree")
def _duplicate_ids(files, ctx):
    by_id: dict[str, list] = {}
    for r in files:
        if _sid(r):
            by_id.setdefault(_sid(r), []).append(r)
    for sid, rs in by_id.items():
        for r in rs[1:]:
            yield _at(r, ("id",), f"duplicate study id '{sid}'", f"also in {rs[0].path}", ctx)


def _records(files, ctx, failures: list) -> dict:
    """De-duplication records by id; a file whose record cannot be made is a failure, not skipped."""
    out = {}
    for r in files:
        if _sid(r) is None or _sid(r) in out:
            continue
        try:
            out[_sid(r)] = (r, dedup.Record.of(r.data))
        except (TypeError, ValueError, AttributeError) as exc:
            failures.append(_at(r, ("title",), f"the duplicate check cannot read this study: {exc}",
                                "fix the errors above (titles, authors, years) and validate again", ctx, "error"))
    return out


@rule("possible-duplicate", "No two studies look like the same study unless declared in links or not_duplicates.",
      scope="tree", severity="warning")
def _possible_duplicates(files, ctx):
    failures: list[Problem] = []
    records = _records(files, ctx, failures)
    yield from failures
    try:
        candidates = dedup.find_duplicates([rec for _, rec in records.values()], config.DEDUP_THRESHOLD)
    except (TypeError, ValueError, AttributeError) as exc:
        first = next(iter(records.values()))[0]
        yield _at(first, ("title",), f"the duplicate check failed on these files: {exc}",
                  "report this with the files validated", ctx, "error")
        return
    for c in candidates:
        r = records[c.a][0]
        yield _at(r, ("title",), f"possible duplicate of '{c.b}' (score {c.score:g}: {'; '.join(c.reasons)})",
                  f"merge as versions, or list '{c.b}' in links or not_duplicates", ctx)


_PATHLIKE = re.compile(r"[/\\]|\.ya?ml$", re.I)


@rule("links-exist", "links and not_duplicates name existing study ids (not paths).", scope="tree")
def _links(files, ctx):
    known = set(ctx.known_ids or ()) | {s for s in map(_sid, files) if s}
    for r in files:
        s = d(r.data)
        for key in ("links", "not_duplicates"):
            values = s.get(key)
            for j, other in enumerate(values if isinstance(values, list) else []):
                loc = (key, j)
                if not isinstance(other, str):
                    continue
                if _PATHLIKE.search(other):
                    stem = re.split(r"[/\\]", other)[-1]
                    stem = re.sub(r"\.ya?ml$", "", stem, flags=re.I)
                    yield _at(r, loc, f"'{other}' is a path, not a study id", f"write the id: {stem}", ctx)
                elif other == _sid(r):
                    yield _at(r, loc, f"the study lists itself in {key}", "remove it", ctx)
                elif other not in known:
                    yield _at(r, loc, f"no study with id '{other}'", "check the spelling, or add that study first", ctx)
