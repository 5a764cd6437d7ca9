"""Validate study files: parse with line numbers, run every rule, then the checks across files.

Nothing stops at the first problem: each file gets all of its problems (the file-scope rules), and
the set gets the tree-scope rules: duplicate ids, links that point nowhere (errors) and likely
duplicate studies (warnings, unless declared in links/not_duplicates). Every problem comes from a
rule in ``evidence.ingest.rules.REGISTRY``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evidence import config
from evidence.ingest.loader import load, loads, study_files
from evidence.ingest.problems import Problem
from evidence.ingest.rules import READ_RULES, Context, run_rules, run_tree_rules
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
    """Load one file (or ``text`` standing for it) and run every file rule on it; a file that does
    not parse gets only the reading rules (there is nothing else to check)."""
    path = Path(path)
    loaded = loads(text, path) if text is not None else load(path)
    ctx = Context(path, loaded.line_of, file_stem=path.stem, duplicate_keys=loaded.duplicate_keys, loaded=loaded)
    if loaded.data is None:
        return FileResult(path, None, None, run_rules(None, ctx, READ_RULES), loaded.line_of)
    if not isinstance(loaded.data, dict):  # a list or a scalar: the schema says so, nothing else applies
        return FileResult(path, loaded.data, None, run_rules(loaded.data, ctx, READ_RULES + ("schema",)),
                          loaded.line_of)
    problems = run_rules(None, ctx, READ_RULES) + run_rules(loaded.data, ctx)
    return FileResult(path, loaded.data, ctx.model, problems, loaded.line_of)


def expand(paths: list[Path] | None) -> list[Path]:
    """Directories expand to their study files (``loader.study_files``: ``*.yaml`` and the near
    misses the reading rules refuse); default is the studies directory."""
    out: list[Path] = []
    for p in [Path(x) for x in (paths or [config.STUDIES_DIR])]:
        out.extend(study_files(p) if p.is_dir() else [p])
    return out


def _neighbour_ids(files: list[Path]) -> set[str]:
    """Study ids a link may name: the stems of the study files beside each validated file."""
    dirs = {p.parent for p in files if p.parent.is_dir()}
    return {q.stem for dirpath in dirs for q in study_files(dirpath)}


def validate_paths(paths: list[Path] | None = None) -> ValidationReport:
    """Validate the given files/directories (default: ``config.STUDIES_DIR``)."""
    files = expand(paths)
    results = [check_file(p) for p in files]
    ctx = Context("(files)", known_ids=_neighbour_ids(files))
    problems = [p for r in results for p in r.problems] + run_tree_rules(results, ctx)
    bad = {str(p.path) for p in problems if p.severity == "error"}
    studies = sorted((r.model for r in results if r.model is not None and str(r.path) not in bad),
                     key=lambda s: s.id)
    return ValidationReport(studies, sorted(problems, key=Problem.sort_key), len(files))
