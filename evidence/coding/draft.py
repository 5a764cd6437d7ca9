"""A study being coded: where it starts (DOI, BibTeX, RIS or an existing id), the duplicate check,
the same validation as ``evidence validate``, the effect sizes the build will derive, and saving.

The check runs the project's validator on the exact text that would be saved (``check_file`` of
``evidence.ingest.validate``, at the path the file will have), so the form can show nothing that
``evidence validate`` would not say, and saves nothing it would refuse without showing why.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from evidence import config
from evidence.coding import yamlio
from evidence.config import SECOND_CODING_DIR
from evidence.errors import EffectSizeError, EvidenceError
from evidence.ingest.dedup import Candidate, find_duplicates, normalise_doi
from evidence.ingest.problems import Problem
from evidence.ingest.scaffold import BibRecord, existing_studies, make_id, parse_bibtex, parse_ris
from evidence.ingest.validate import check_file

START_KINDS = ("doi", "bibtex", "ris", "id")
SECOND_CODING_RULE = "second-coding-reconciled"


@dataclass
class Start:
    study: dict
    original: str | None  # the file's text when an existing study is opened
    duplicates: list[Candidate] = field(default_factory=list)


def _skeleton(rec: BibRecord, coder: str, today: dt.date) -> dict:
    src = {"id": "paper", "kind": rec.type if rec.type in ("journal_article", "working_paper", "report", "thesis")
           else "other"}
    if rec.doi:
        src["doi"] = rec.doi
    if rec.url:
        src["url"] = rec.url
    study = {"id": make_id(rec) if rec.authors or rec.year else "", "title": rec.title, "authors": rec.authors,
             "year": rec.year, "publication_type": rec.type, "venue": rec.venue, "doi": rec.doi, "url": rec.url,
             "programme": {}, "interventions": [{"id": "arm"}], "design": {},
             "coding": {"status": "mapped", "coder": coder, "date": today}, "sources": [src], "effects": []}
    return {k: v for k, v in study.items() if v not in (None, [], "") or k in ("effects",)}


@lru_cache(maxsize=4)
def _studies(folder: str, signature: tuple) -> tuple[dict, ...]:
    return tuple(existing_studies(Path(folder)))


def coded_studies(studies_dir: Path | None = None) -> tuple[dict, ...]:
    """The study files already coded (raw dicts, read-only), re-read only when a file changed: the page
    reruns on every keystroke and shows plots across all studies."""
    folder = Path(studies_dir or config.STUDIES_DIR)
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return _studies(str(folder), tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files))


#: What an independent second coding starts with from the first coder's file: the study's identity and
#: its sources (what was coded from them is not shown, so the second coding stays independent).
IDENTITY_KEYS = ("id", "title", "authors", "year", "publication_type", "venue", "doi", "url", "language",
                 "versions", "sources")


def start(kind: str, text: str, coder: str = "", studies_dir: Path | None = None,
          today: dt.date | None = None, independent: bool = False) -> Start:
    """A draft from a DOI, a BibTeX or RIS entry, or an existing study id, with the likely duplicates
    among the studies already coded (``evidence.ingest.dedup``, the same check as ``evidence new``).
    ``independent``: a second coder's draft of an existing study, with only its identity and sources."""
    studies_dir = Path(studies_dir or config.STUDIES_DIR)
    text = (text or "").strip()
    if kind not in START_KINDS:
        raise EvidenceError(f"start from one of {', '.join(START_KINDS)}, not '{kind}'")
    if not text:
        raise EvidenceError(f"give the {kind.upper() if kind != 'id' else 'study id'} to start from")
    others = list(coded_studies(studies_dir))
    if kind == "id":
        path = studies_dir / f"{text}.yaml"
        if not path.is_file():
            raise EvidenceError(f"no study file {path.name} in {studies_dir}")
        original = path.read_text(encoding="utf-8")
        study = yamlio.plain(yamlio.parse(original))
        dups = find_duplicates([study], config.DEDUP_THRESHOLD, against=[s for s in others if s.get("id") != text])
        if independent:
            blank = {k: study[k] for k in IDENTITY_KEYS if k in study}
            blank.update(programme={}, interventions=[{"id": "arm"}], design={}, effects=[],
                         coding={"status": "mapped", "coder": coder, "date": today or dt.date.today()})
            return Start(blank, None, [])
        return Start(study, original, dups)
    if kind == "doi":
        doi = normalise_doi(text)
        if not doi or not doi.startswith("10."):
            raise EvidenceError(f"'{text}' is not a DOI (it looks like 10.1111/abc)")
        rec = BibRecord(doi=doi, type="other")
    else:
        rec = parse_bibtex(text) if kind == "bibtex" else parse_ris(text)
        if not rec.title and not rec.authors:
            raise EvidenceError(f"no {kind.upper()} entry found in the text")
    study = _skeleton(rec, coder, today or dt.date.today())
    probe = {"id": study.get("id") or "(new)", "title": rec.title, "authors": rec.authors, "year": rec.year,
             "doi": rec.doi}
    return Start(study, None, find_duplicates([probe], config.DEDUP_THRESHOLD, against=others))


@dataclass
class Check:
    text: str  # the file as it would be saved
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def at(self, field_name: str) -> list[Problem]:
        return [p for p in self.problems if p.field == field_name]

    def elsewhere(self, shown: set[str]) -> list[Problem]:
        return [p for p in self.problems if p.field not in shown]


def target_path(study: dict, studies_dir: Path | None = None, second_coder: str | None = None) -> Path:
    """``studies/<id>.yaml``, or ``studies/second-coding/<id>.<coder>.yaml`` for a second coder."""
    studies_dir = Path(studies_dir or config.STUDIES_DIR)
    sid = study.get("id") or "new-study"
    if second_coder:
        who = re.sub(r"[^a-z0-9_-]+", "-", str(second_coder).casefold()).strip("-") or "second"
        return studies_dir / SECOND_CODING_DIR / f"{sid}.{who}.yaml"
    return studies_dir / f"{sid}.yaml"


def check(study: dict, original: str | None = None, studies_dir: Path | None = None,
          second_coder: str | None = None) -> Check:
    """Every problem ``evidence validate`` reports for the file this draft would be; a second coder's
    independent file is checked as the study file it stands for, less the reconciliation rule."""
    text = yamlio.dump(study, original)
    as_study = target_path(study, studies_dir)
    problems = check_file(as_study, text).problems
    if second_coder:
        problems = [p for p in problems if p.rule != SECOND_CODING_RULE]
    return Check(text, sorted(problems, key=Problem.sort_key))


@dataclass
class Preview:
    """What the build will derive for one effect: the effect size, or why it cannot."""

    effect: object = None  # evidence.reported.EffectSize
    error: str | None = None
    empty: bool = False


def preview(reported: dict, design: dict | None = None) -> Preview:
    """The effect size and variance the catalogue build derives from ``reported``, with every conversion
    noted (``evidence.reported.effect_from_reported``, given the design's clustering as the build does)."""
    from evidence.catalog.build import NUMBERS
    from evidence.reported import effect_from_reported

    rep = {k: v for k, v in (reported or {}).items() if v is not None}
    if all(rep.get(k) is None for k in NUMBERS):
        return Preview(empty=True)
    design = design or {}
    clustered = design.get("type") == "cluster_rct" or bool(design.get("clusters"))
    try:
        return Preview(effect_from_reported({**rep, "clustered": clustered}))
    except (EffectSizeError, TypeError, ValueError) as exc:
        return Preview(error=str(exc))


def writable(studies_dir: Path | None = None) -> bool:
    """Whether the app can save into the studies directory (a writable checkout), else download only."""
    d = Path(studies_dir or config.STUDIES_DIR)
    return d.is_dir() and os.access(d, os.W_OK)


def save(study: dict, original: str | None = None, studies_dir: Path | None = None,
         second_coder: str | None = None) -> Path:
    """Write the file; refuses a file validation rejects, and never overwrites another study's file
    when starting a new one."""
    result = check(study, original, studies_dir, second_coder)
    if result.errors:
        raise EvidenceError(f"{len(result.errors)} problem(s) to fix first: " + "; ".join(
            f"{p.field}: {p.message}" for p in result.errors[:5]))
    path = target_path(study, studies_dir, second_coder)
    if original is None and path.exists():
        raise EvidenceError(f"{path.name} already exists: open it by its id to edit it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.text, encoding="utf-8")
    return path
