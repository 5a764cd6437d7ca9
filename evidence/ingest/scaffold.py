"""``evidence new``: start a study file from a BibTeX or RIS record, after a duplicate check.

The skeleton is valid against the schema; what only a researcher can fill (programme, countries,
intervention type, design) is ``FILL-IN``, which ``evidence validate`` then reports by line. Status
starts at ``mapped``: no numbers until someone reads the paper.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from evidence import config
from evidence.errors import EvidenceError
from evidence.ingest import dedup
from evidence.ingest.loader import load


@dataclass
class BibRecord:
    title: str | None = None
    authors: list[str] = field(default_factory=list)  # 'Family, Given'
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    url: str | None = None
    type: str = "other"  # a Study.publication_type


class DuplicateFound(EvidenceError):
    def __init__(self, candidates, threshold):
        self.candidates = candidates
        super().__init__("likely duplicate of an existing study (use --force if it is not):\n"
                         + dedup.report_table(candidates, threshold))


# --- reading a reference file ---------------------------------------------------------------------

MAX_REFERENCE_BYTES = 5_000_000


def read_reference(path: Path) -> str:
    """The text of a BibTeX or RIS file: UTF-8 (with or without BOM) or UTF-16 with a BOM (as some
    reference managers export); anything else is one clear ``EvidenceError``, never a traceback."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_REFERENCE_BYTES:
            raise EvidenceError(f"{path.name} is {size:,} bytes: too large for one reference (export only it)")
        data = path.read_bytes()
    except OSError as exc:
        raise EvidenceError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise EvidenceError(f"{path.name} claims to be UTF-16 but is not; export it as UTF-8") from None
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
        raise EvidenceError(f"{path.name} is not a text file (a binary or archive); export the reference as .bib or .ris")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvidenceError(f"{path.name} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start:,}); "
                            "export it as UTF-8") from None


# --- BibTeX (bibtexparser 1.x: @string macros, '#' concatenation, LaTeX to Unicode) ---------------

_BIB_TYPES = {"article": "journal_article", "techreport": "report", "report": "report", "phdthesis": "thesis",
              "mastersthesis": "thesis", "thesis": "thesis", "unpublished": "working_paper"}


def _tidy(text: str | None) -> str | None:
    """What LaTeX decoding leaves: protective braces, '--' for an en dash, runs of spaces."""
    if text is None:
        return None
    text = text.replace("\\&", "&").replace("--", "\u2013").replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip() or None


def parse_bibtex(text: str) -> BibRecord:
    """The first entry of a BibTeX file, with ``@string`` macros and ``#`` concatenation resolved."""
    import bibtexparser
    from bibtexparser.bparser import BibTexParser
    from bibtexparser.customization import convert_to_unicode

    parser = BibTexParser(common_strings=True, interpolate_strings=True, ignore_nonstandard_types=False)
    parser.customization = convert_to_unicode
    try:
        entries = bibtexparser.loads(text, parser).entries
    except Exception as exc:  # noqa: BLE001 - pyparsing raises assorted errors on malformed input
        raise EvidenceError(f"the BibTeX file cannot be read: {str(exc).splitlines()[0][:200]}") from None
    if not entries:
        raise EvidenceError("no BibTeX entry found (expected '@article{key, ...}')")
    f = {k.lower(): _tidy(v) for k, v in entries[0].items() if isinstance(v, str)}
    ptype = _BIB_TYPES.get((f.get("entrytype") or "").lower(), "other")
    if "working paper" in " ".join(f.get(k) or "" for k in ("type", "series", "number", "note", "howpublished")).lower():
        ptype = "working_paper"
    year = re.search(r"\d{4}", f.get("year") or f.get("date") or "")
    authors = [_author(a) for a in re.split(r"\s+and\s+", f.get("author") or "") if a.strip()]
    doi = f.get("doi")
    return BibRecord(f.get("title"), authors, int(year.group()) if year else None,
                     f.get("journal") or f.get("booktitle") or f.get("institution") or f.get("school"),
                     doi if dedup.normalise_doi(doi) else None, f.get("url"), ptype)


def _author(name: str) -> str:
    """'Kevin A. Gee' -> 'Gee, Kevin A.'; 'Gee, Kevin A.' stays."""
    name = name.strip()
    if "," in name or " " not in name:
        return name
    *given, family = name.split()
    return f"{family}, {' '.join(given)}"


# --- RIS (rispy) ------------------------------------------------------------------------------------

_RIS_TYPES = {"JOUR": "journal_article", "RPRT": "report", "THES": "thesis", "UNPB": "working_paper",
              "MANSCPT": "working_paper"}


def parse_ris(text: str) -> BibRecord:
    """The first record of a RIS file (TY ... ER)."""
    import rispy

    try:
        records = rispy.loads(text)
    except Exception as exc:  # noqa: BLE001 - rispy raises IOError and friends on malformed input
        raise EvidenceError(f"the RIS file cannot be read: {str(exc).splitlines()[0][:200]}") from None
    if not records or "type_of_reference" not in records[0]:
        raise EvidenceError("no RIS record found (expected a 'TY  - ' line)")
    r = records[0]
    first = lambda *ks: next((_tidy(str(r[k][0] if isinstance(r[k], list) else r[k])) for k in ks if r.get(k)), None)  # noqa: E731
    ptype = _RIS_TYPES.get(r["type_of_reference"].strip(), "other")
    if "working paper" in " ".join(str(r.get(k) or "") for k in ("tertiary_title", "type_of_work")).lower():
        ptype = "working_paper"
    year = re.search(r"\d{4}", first("year", "publication_year", "date") or "")
    authors = [_author(a) for a in (r.get("authors") or []) + (r.get("first_authors") or []) if a.strip()]
    return BibRecord(first("title", "primary_title"), authors, int(year.group()) if year else None,
                     first("journal_name", "alternate_title3", "secondary_title", "alternate_title2", "publisher"),
                     first("doi"), first("urls"), ptype)


# --- id and skeleton ------------------------------------------------------------------------------

def slugify(text: str, words: int = 3) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return "-".join(re.findall(r"[a-z0-9]+", text)[:words])


def programme_slug(programme: str | None, title: str | None) -> str:
    """'Red de Protección Social (RPS)' -> 'rps'; 'Progresa' -> 'progresa'; else title words."""
    if programme:
        acronym = re.search(r"\(([A-Za-z0-9-]{2,12})\)", programme)
        if acronym:
            return slugify(acronym.group(1))
        words = re.findall(r"\w+", programme)
        return slugify(programme) if len(words) <= 2 else "".join(w[0] for w in words if w[0].isupper()).lower() or slugify(programme)
    skip = dedup.STOP_WORDS | {"impact", "impacts", "effect", "effects", "child", "children", "labour", "labor",
                               "reducing", "reduce", "through", "evaluation", "evaluating", "study", "analysis",
                               "randomized", "randomised", "experimental", "role", "new", "work", "working"}
    content = [w for w in dedup.normalise_title(title or "").split() if w not in skip]
    return slugify(" ".join(content), 2) or "study"


def make_id(rec: BibRecord, programme: str | None = None) -> str:
    first = rec.authors[0] if rec.authors else ""
    family = first.split(",")[0] if "," in first else (first.split() or ["anon"])[-1]
    return "-".join(x for x in (slugify(family, 3) or "anon", str(rec.year or "nd"), programme_slug(programme, rec.title)) if x)


def _q(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid double-quoted YAML scalar


def skeleton(study_id: str, rec: BibRecord, programme: str | None, coder: str, today: dt.date) -> str:
    opt = lambda key, v, note="": f"{key}: {_q(v)}{note}\n" if v else f"# {key}:{note}\n"  # noqa: E731
    src_kind = rec.type if rec.type in ("journal_article", "working_paper", "report", "thesis") else "other"
    locator = (opt("    doi", rec.doi) if rec.doi else "") + (opt("    url", rec.url) if rec.url else "")
    return f"""# yaml-language-server: $schema=../schema/study.schema.json
# Scaffolded by `evidence new` on {today}. Fill every FILL-IN from the source, leave unknowns out,
# then run `evidence validate {study_id}.yaml`. See docs/study-file.md.
id: {study_id}
title: {_q(rec.title or "FILL-IN")}
authors: {_q(rec.authors or ["FILL-IN, Given"])}   # 'Family, Given'
year: {rec.year}
publication_type: {rec.type}
{opt("venue", rec.venue)}{opt("doi", rec.doi, "   # only if seen in a source")}{opt("url", rec.url)}programme:
  name: {_q(programme or "FILL-IN")}   # as the country calls it
  countries: [FILL-IN]   # ISO 3166-1 alpha-3, e.g. [MEX]
interventions:
  - id: arm
    type: FILL-IN   # a term from evidence/data/taxonomy.yaml, e.g. conditional_cash_transfer
design:
  type: FILL-IN   # e.g. cluster_rct, did, rdd (evidence/data/taxonomy.yaml)
coding:
  status: mapped   # headline once an estimate is coded; coded once it has a variance
  coder: {_q(coder)}
  date: {today}
sources:
  - id: paper
    kind: {src_kind}
{locator or "    url: FILL-IN   # where the document can be found" + chr(10)}effects: []
# effects:
#   - id: work
#     intervention: arm
#     outcome: economic_activity
#     reported: {{form: coefficient, estimate: -0.05, unit: percentage_points, se: 0.02}}
#     provenance: {{source: paper, location: "Table 2, col 1", quote: "verbatim text with -0.05"}}
"""


def existing_studies(studies_dir: Path) -> list[dict]:
    out = []
    for p in sorted(Path(studies_dir).glob("*.yaml")):
        loaded = load(p)
        if isinstance(loaded.data, dict):
            out.append(loaded.data)
    return out


def new_study(rec: BibRecord, *, study_id: str | None = None, programme: str | None = None,
              coder: str = "FILL-IN", studies_dir: Path | None = None, force: bool = False,
              threshold: float = config.DEDUP_THRESHOLD, today: dt.date | None = None) -> Path:
    """Write ``<studies_dir>/<id>.yaml``; refuses likely duplicates unless ``force``."""
    if rec.year is None:
        raise EvidenceError("the year is unknown: give --year or a record with a year")
    studies_dir = Path(studies_dir or config.STUDIES_DIR)
    study_id = study_id or make_id(rec, programme)
    target = studies_dir / f"{study_id}.yaml"
    if target.exists():
        raise EvidenceError(f"{target} already exists (choose another --id)")
    probe = {"id": study_id, "title": rec.title, "authors": rec.authors, "year": rec.year, "doi": rec.doi}
    candidates = dedup.find_duplicates([probe], threshold, against=existing_studies(studies_dir))
    if candidates and not force:
        raise DuplicateFound(candidates, threshold)
    studies_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(skeleton(study_id, rec, programme, coder, today or dt.date.today()), encoding="utf-8")
    return target
