"""Find likely duplicate studies (e.g. a working paper and its journal version coded twice).

Signals and how the score (0-100) combines them:
- same DOI (study, version or source DOIs, normalised) -> score 100, whatever else differs;
- title: the best pair over each record's titles (its own and its versions'), normalised (casefold,
  accents and punctuation stripped, stop-words and bracketed venue info dropped), scored as the mean
  of rapidfuzz ``token_set_ratio`` (tolerates added subtitles) and ``token_sort_ratio`` (penalises
  titles that merely share a few words);
- first author: family names agree (fuzzy ratio >= 90) -> +5; both known and different -> -15;
- year: the closest pair of years (own and versions'); within ``DEDUP_YEAR_WINDOW`` -> +0, else
  -10 per year beyond the window.
score = clip(title + author + year, 0, 100); pairs at or above the threshold are candidates.
A pair is silenced when either record lists the other's id in ``links`` or ``not_duplicates``.
Versions are *not* a silencer: they add titles, years and DOIs to match on, so a new record that is
a declared version of an existing study is found (it belongs in that study's file).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from evidence.config import DEDUP_THRESHOLD, DEDUP_YEAR_WINDOW

STOP_WORDS = frozenset(
    "a an the of and or in on for to from at by with without into its their is are do does can evidence "
    "de la el los las del y en e o para".split()
)


def normalise_title(title: str | None) -> str:
    """Casefold, strip accents, bracketed venue info, punctuation and stop-words; collapse spaces."""
    if not title:
        return ""
    text = str(title)
    for _ in range(2):  # twice: casefolding can expose new compatibility forms and vice versa ('𝐀', 'İ')
        text = unicodedata.normalize("NFKD", text.casefold())
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("ı", "i")  # dotless i as I
    text = re.sub(r"\([^()]*\)|\[[^\[\]]*\]", " ", text)
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(w for w in text.split() if w not in STOP_WORDS)


def normalise_doi(doi: str | None) -> str | None:
    if not doi:
        return None
    doi = re.sub(r"^(https?://)?(dx\.)?doi\.org/|^doi:\s*", "", str(doi).strip(), flags=re.I)
    return doi.casefold() or None


def family_name(author: str | None) -> str:
    """'Gee, Kevin A.' -> 'gee'; 'Kevin A. Gee' -> 'gee' (accents stripped)."""
    if not author:
        return ""
    author = str(author).strip()
    name = author.split(",")[0] if "," in author else (author.split() or [""])[-1]
    return normalise_title(name).replace(" ", "")


@dataclass
class Record:
    """What de-duplication looks at, from a study dict, a ``Study`` or a bibliographic entry."""

    id: str
    titles: list[str] = field(default_factory=list)
    first_author: str = ""
    years: list[int] = field(default_factory=list)
    dois: set[str] = field(default_factory=set)
    silenced: set[str] = field(default_factory=set)  # ids in links / not_duplicates

    @classmethod
    def of(cls, obj) -> Record:
        if isinstance(obj, Record):
            return obj
        s = obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)
        versions = [v for v in s.get("versions") or [] if isinstance(v, dict)]
        sources = [v for v in s.get("sources") or [] if isinstance(v, dict)]
        authors = s.get("authors") or []
        return cls(
            id=str(s.get("id")),
            titles=[t for t in [s.get("title")] + [v.get("title") for v in versions] if isinstance(t, str)],
            first_author=family_name(authors[0]) if isinstance(authors, list) and authors else "",
            years=[y for y in [s.get("year")] + [v.get("year") for v in versions] if isinstance(y, int)],
            dois={x for x in (normalise_doi(o.get("doi")) for o in [s] + versions + sources) if x},
            silenced={str(x) for x in (s.get("links") or []) + (s.get("not_duplicates") or [])},
        )


@dataclass(frozen=True)
class Candidate:
    a: str
    b: str
    score: float
    reasons: tuple[str, ...]


def _title_matrix(records: list[Record]) -> np.ndarray:
    """Best title score for every record pair (over own and version titles), one rapidfuzz ``cdist``."""
    n = len(records)
    owner, titles = [], []
    for i, r in enumerate(records):
        for t in r.titles:
            if t_norm := normalise_title(t):
                owner.append(i)
                titles.append(t_norm)
    out = np.zeros((n, n))
    if not titles:
        return out
    m = (process.cdist(titles, titles, scorer=fuzz.token_set_ratio, workers=-1)
         + process.cdist(titles, titles, scorer=fuzz.token_sort_ratio, workers=-1)) / 2
    ids, starts = np.unique(np.asarray(owner), return_index=True)  # owner is non-decreasing
    per_record = np.maximum.reduceat(np.maximum.reduceat(m, starts, axis=0), starts, axis=1)
    out[np.ix_(ids, ids)] = per_record
    return out


def _candidate_pairs(records: list[Record], threshold: float) -> dict[tuple[int, int], float]:
    """Pairs that could reach ``threshold``, with their title score.

    The whole score of ``score_pair`` is bounded from above in matrix form (title, author bonus or
    penalty, the smallest possible year gap), so only plausible pairs are scored one by one: 1,000
    studies cost a fraction of a second instead of half a million Python comparisons.
    """
    n = len(records)
    if n < 2:
        return {}
    title = _title_matrix(records)
    authors = [r.first_author for r in records]
    has_author = np.array([bool(a) for a in authors])
    same = process.cdist(authors, authors, scorer=fuzz.ratio, workers=-1) >= 90
    both = np.outer(has_author, has_author)
    bound = title + np.where(both, np.where(same, 5.0, -15.0), 0.0)
    lo = np.array([min(r.years) if r.years else np.nan for r in records], float)
    hi = np.array([max(r.years) if r.years else np.nan for r in records], float)
    gap = np.maximum(0, np.maximum(lo[:, None] - hi[None, :], lo[None, :] - hi[:, None]))
    bound -= np.nan_to_num(10 * np.maximum(0, gap - DEDUP_YEAR_WINDOW))
    xs, ys = np.nonzero(np.triu(bound >= threshold, k=1))
    return {(int(i), int(j)): float(title[i, j]) for i, j in zip(xs, ys)}


def _doi_pairs(records: list[Record]) -> set[tuple[int, int]]:
    """Record pairs sharing a DOI (always candidates, whatever their titles)."""
    by_doi: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        for d in r.dois:
            by_doi.setdefault(d, []).append(i)
    return {(a, b) for ids in by_doi.values() for k, a in enumerate(ids) for b in ids[k + 1:] if a != b}


def score_pair(a: Record, b: Record, title: float | None = None) -> tuple[float, tuple[str, ...]]:
    """Combined score and human-readable reasons (see the module docstring)."""
    shared = a.dois & b.dois
    if shared:
        return 100.0, (f"same DOI {sorted(shared)[0]}",)
    if title is None:
        pairs = [(normalise_title(x), normalise_title(y)) for x in a.titles for y in b.titles]
        title = max(((fuzz.token_set_ratio(x, y) + fuzz.token_sort_ratio(x, y)) / 2 for x, y in pairs if x and y),
                    default=0.0)
    reasons = [f"title {title:.0f}"]
    score = title
    if a.first_author and b.first_author:
        if fuzz.ratio(a.first_author, b.first_author) >= 90:
            score += 5
            reasons.append(f"same first author ({a.first_author})")
        else:
            score -= 15
            reasons.append(f"first authors differ ({a.first_author} / {b.first_author})")
    if a.years and b.years:
        gap = min(abs(x - y) for x in a.years for y in b.years)
        if gap > DEDUP_YEAR_WINDOW:
            score -= 10 * (gap - DEDUP_YEAR_WINDOW)
            reasons.append(f"years {gap} apart")
        else:
            reasons.append("same year" if gap == 0 else f"years {gap} apart (within window)")
    return max(0.0, min(100.0, score)), tuple(reasons)


def find_duplicates(records, threshold: float = DEDUP_THRESHOLD, against=None) -> list[Candidate]:
    """Likely duplicate pairs among ``records`` (study dicts, ``Study`` models or ``Record``s), best
    first. With ``against``, only pairs between ``records`` and ``against`` are compared."""
    recs = [Record.of(r) for r in records]
    n_new = len(recs)
    if against is not None:
        recs += [Record.of(r) for r in against]
    titles = _candidate_pairs(recs, threshold)
    out = []
    for i, j in sorted(set(titles) | _doi_pairs(recs)):
        if against is not None and (i >= n_new) == (j >= n_new):
            continue
        a, b = recs[i], recs[j]
        if a.id in b.silenced or b.id in a.silenced:
            continue
        score, reasons = score_pair(a, b, titles.get((i, j), 0.0))
        if score >= threshold:
            out.append(Candidate(a.id, b.id, round(score, 1), reasons))
    return sorted(out, key=lambda c: (-c.score, c.a, c.b))


def report_table(candidates: list[Candidate], threshold: float = DEDUP_THRESHOLD) -> str:
    """A plain-text table of candidate pairs, with the threshold used."""
    head = f"{len(candidates)} likely duplicate pair(s) at score >= {threshold:g}"
    if not candidates:
        return head
    wa = max(len("study A"), *(len(c.a) for c in candidates))
    wb = max(len("study B"), *(len(c.b) for c in candidates))
    lines = [head, f"{'score':>5}  {'study A':<{wa}}  {'study B':<{wb}}  reasons"]
    lines += [f"{c.score:>5.1f}  {c.a:<{wa}}  {c.b:<{wb}}  {'; '.join(c.reasons)}" for c in candidates]
    return "\n".join(lines)
