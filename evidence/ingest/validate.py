"""Validate study files: parse with line numbers, run every rule, then the checks across files.

Nothing stops at the first problem: each file gets all of its problems, and the set gets duplicate
ids (errors) and likely duplicate studies (warnings, unless declared in links/not_duplicates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evidence import config
from evidence.ingest import dedup
from evidence.ingest.loader import load, loads
from evidence.ingest.problems import Problem
from evidence.ingest.rules import Context, run_rules
from evidence.schema import Study


@dataclass
class ValidationReport:
    studies: list[Study] = field(default_factory=list)  # valid ones (no errors), sorted by id
    problems: list[Problem] = field(default_factory=list)  # sorted by path, line
    files: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return (f"{self.files} file(s), {len(self.studies)} valid, "
                f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)")


@dataclass
class FileResult:
    path: Path
    data: object
    model: Study | None
    problems: list[Problem]
    line_of: object


def check_file(path: Path | str, text: str | None = None) -> FileResult:
    """Load one file (or ``text`` standing for it) and run every rule on it."""
    path = Path(path)
    loaded = loads(text, path) if text is not None else load(path)
    if loaded.error:
        line, msg = loaded.error
        return FileResult(path, None, None, [Problem(path, line, "(file)", msg, None, "yaml")], loaded.line_of)
    ctx = Context(path, loaded.line_of, file_stem=path.stem, duplicate_keys=loaded.duplicate_keys)
    problems = run_rules(loaded.data, ctx)
    return FileResult(path, loaded.data, ctx.model, problems, loaded.line_of)


def expand(paths: list[Path] | None) -> list[Path]:
    """Directories expand to their ``*.yaml`` files; default is the studies directory."""
    out: list[Path] = []
    for p in [Path(x) for x in (paths or [config.STUDIES_DIR])]:
        out.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    return out


def cross_file(results: list[FileResult]) -> list[Problem]:
    """Duplicate study ids (errors) and likely duplicate studies (warnings)."""
    out = []
    by_id: dict[str, list[FileResult]] = {}
    for r in results:
        sid = r.data.get("id") if isinstance(r.data, dict) else None
        if isinstance(sid, str):
            by_id.setdefault(sid, []).append(r)
    for sid, rs in by_id.items():
        for r in rs[1:] if len(rs) > 1 else []:
            first = rs[0]
            out.append(Problem(r.path, r.line_of(("id",)), "id", f"duplicate study id '{sid}'",
                               f"also in {first.path}", "duplicate-study-id"))
    usable = [r for r in results if isinstance(r.data, dict) and isinstance(r.data.get("id"), str)]
    where = {r.data["id"]: r for r in usable}
    try:
        candidates = dedup.find_duplicates([r.data for r in where.values()], config.DEDUP_THRESHOLD)
    except (TypeError, ValueError, AttributeError):  # malformed titles etc. are reported by the rules
        candidates = []
    for c in candidates:
        r = where[c.a]
        out.append(Problem(r.path, r.line_of(("title",)), "title",
                           f"possible duplicate of '{c.b}' (score {c.score:g}: {'; '.join(c.reasons)})",
                           f"merge as versions, or list '{c.b}' in links or not_duplicates",
                           "possible-duplicate", "warning"))
    return out


def validate_paths(paths: list[Path] | None = None) -> ValidationReport:
    """Validate the given files/directories (default: ``config.STUDIES_DIR``)."""
    files = expand(paths)
    results = []
    for p in files:
        if not p.is_file():
            results.append(FileResult(p, None, None, [Problem(p, 1, "(file)", "no such file", None, "yaml")],
                                      lambda loc: 1))
        else:
            results.append(check_file(p))
    problems = [p for r in results for p in r.problems] + cross_file(results)
    bad = {str(p.path) for p in problems if p.severity == "error"}
    studies = sorted((r.model for r in results if r.model is not None and str(r.path) not in bad),
                     key=lambda s: s.id)
    return ValidationReport(studies, sorted(problems, key=Problem.sort_key), len(files))
