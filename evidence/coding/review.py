"""Reviews in CI: what a change introduces, relative to a base revision (``--base REV``).

A pull request should be judged on what it adds: the study files changed since ``REV`` (per git,
including uncommitted and untracked files of the working tree) get every validation rule, and
duplicate studies are reported only for pairs that involve a changed file. Files elsewhere (e.g.
``studies/second-coding/``) are not study files and are not picked up.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from evidence import config
from evidence.errors import EvidenceError
from evidence.ingest.dedup import Candidate, find_duplicates
from evidence.ingest.loader import load
from evidence.ingest.problems import Problem
from evidence.ingest.validate import ValidationReport, expand, validate_paths


def _git(args: list[str], cwd: Path) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise EvidenceError("git is not installed: --base needs git") from exc
    if out.returncode != 0:
        raise EvidenceError(f"git {' '.join(args)} failed: {out.stderr.strip() or out.stdout.strip()}")
    return out.stdout


def changed_study_files(base: str, studies_dir: Path | None = None) -> list[Path]:
    """Study files (``<studies>/<id>.yaml``) added, modified or renamed since ``base``, plus untracked ones."""
    studies = Path(studies_dir or config.STUDIES_DIR).resolve()
    if not studies.is_dir():
        raise EvidenceError(f"studies directory not found: {studies}")
    top = Path(_git(["rev-parse", "--show-toplevel"], studies).strip())
    _git(["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], top)
    names = _git(["diff", "--name-only", "--diff-filter=ACMRT", base, "--", str(studies)], top).splitlines()
    names += _git(["ls-files", "--others", "--exclude-standard", "--", str(studies)], top).splitlines()
    paths = {(top / n).resolve() for n in names if n.strip()}
    return sorted(p for p in paths if p.parent == studies and p.suffix == ".yaml" and p.is_file())


def _records(paths: list[Path]) -> list[dict]:
    return [d for d in (load(p).data for p in paths) if isinstance(d, dict) and isinstance(d.get("id"), str)]


def introduced_duplicates(changed: list[Path], studies_dir: Path | None = None,
                          threshold: float = config.DEDUP_THRESHOLD) -> list[Candidate]:
    """Likely duplicate pairs with at least one changed study (among the changed, or against the rest)."""
    rest = [p for p in expand([Path(studies_dir or config.STUDIES_DIR)]) if p.resolve() not in set(changed)]
    new = _records(changed)
    pairs = find_duplicates(new, threshold) + find_duplicates(new, threshold, against=_records(rest))
    return sorted(set(pairs), key=lambda c: (-c.score, c.a, c.b))


def validate_changed(base: str, studies_dir: Path | None = None) -> ValidationReport:
    """Every rule on the changed files, and duplicate ids and likely duplicate studies involving them."""
    studies_dir = Path(studies_dir or config.STUDIES_DIR)
    changed = changed_study_files(base, studies_dir)
    report = validate_paths(changed) if changed else ValidationReport()
    where = {d["id"]: p for p, d in zip(changed, _records(changed))}
    rest = [p for p in expand([studies_dir]) if p.resolve() not in set(changed)]
    taken = {d["id"]: p for p, d in zip(rest, _records(rest))}
    extra = [Problem(p, 1, "id", f"duplicate study id '{sid}'", f"also in {taken[sid]}", "duplicate-study-id")
             for sid, p in where.items() if sid in taken]
    seen = {(str(p.path), p.message) for p in report.problems}
    for c in introduced_duplicates(changed, studies_dir):
        a, b = (c.a, c.b) if c.a in where else (c.b, c.a)
        p = Problem(where[a], load(where[a]).line_of(("title",)), "title", f"possible duplicate of '{b}' (score {c.score:g}: {'; '.join(c.reasons)})",
                    f"merge as versions, or list '{b}' in links or not_duplicates", "possible-duplicate", "warning")
        if (str(p.path), p.message) not in seen:
            extra.append(p)
    report.problems = sorted(report.problems + extra, key=Problem.sort_key)
    report.files = len(changed)
    return report
