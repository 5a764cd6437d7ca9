"""Guards the honesty of the shipped evidence in studies/.

Every effect with a number has a source and a verbatim quote in which the number appears; every
study can be traced to a URL or DOI; no two studies are unflagged duplicates; the whole set
validates without a single problem (warnings included); and the evidence base is large and broad
enough to be what a policy adviser sees first.
"""

from __future__ import annotations

from collections import Counter

import pytest

from evidence.config import STUDIES_DIR
from evidence.ingest import find_duplicates, validate_paths
from evidence.taxonomy import taxonomy


@pytest.fixture(scope="module")
def report():
    return validate_paths([STUDIES_DIR])


@pytest.fixture(scope="module")
def studies(report):
    return report.studies


def test_every_study_file_is_valid_without_warnings(report):
    assert report.files >= 80
    assert not report.problems, "\n".join(map(str, report.problems[:20]))
    assert len(report.studies) == report.files


def test_every_effect_with_a_number_has_a_quote_and_a_source(studies):
    for s in studies:
        sources = {src.id: src for src in s.sources}
        for e in s.effects:
            r = e.reported
            numbers = [v for v in (r.estimate, r.se, r.t, r.p, r.ci_low, r.ci_high) if v is not None]
            if not numbers:
                continue
            assert e.provenance.quote.strip(), f"{s.id}/{e.id}: number without a quote"
            src = sources.get(e.provenance.source)
            assert src is not None and (src.url or src.doi), f"{s.id}/{e.id}: source {e.provenance.source!r} has no URL/DOI"


def test_the_number_as_reported_appears_in_its_quote(studies):
    from evidence.ingest.rules.provenance import match_number  # the validator's own matcher

    for s in studies:
        for e in s.effects:
            if e.reported.estimate is None:
                continue
            how, _ = match_number(e.reported.estimate, e.provenance.quote)
            assert how in ("exact", "sign-worded"), (
                f"{s.id}/{e.id}: {e.reported.estimate} not as reported in quote {e.provenance.quote!r} ({how})")


def test_quotes_are_short(studies):
    for s in studies:
        for e in s.effects:
            assert len(e.provenance.quote.split()) <= 40, f"{s.id}/{e.id}: quote over 40 words"


def test_every_study_has_a_source_url_or_doi(studies):
    for s in studies:
        assert s.url or s.doi or any(src.url or src.doi for src in s.sources), s.id


def test_no_unflagged_duplicates(studies):
    pairs = find_duplicates(studies)
    assert not pairs, "\n".join(f"{c.a} ~ {c.b}: {c.score:.0f} ({', '.join(c.reasons)})" for c in pairs)


def test_links_point_to_existing_studies(studies):
    ids = {s.id for s in studies}
    for s in studies:
        for other in [*s.links, *s.not_duplicates]:
            assert other in ids, f"{s.id} links to unknown study {other}"


def test_coverage_of_the_three_families(studies):
    t = taxonomy()
    families = Counter(t.family_of(i.type) for s in studies for i in s.interventions)
    for family in ("social_protection", "education", "child_protection"):
        assert families[family] >= 3, families


def test_clear_ratings_are_the_sources_judgement(studies):
    """A CLEAR rating is its quality rating, with its source, and never coded as a risk-of-bias judgement."""
    rated = [s for s in studies if s.evidence_quality is not None]
    assert len(rated) >= 36
    for s in rated:
        q = s.evidence_quality
        assert q.source, f"{s.id}: a CLEAR rating needs its source"
        assert q.rater == "clear" and q.rating in ("high", "moderate", "low")
    assert not [s.id for s in studies if s.risk_of_bias is not None and s.risk_of_bias.tool not in ("rob2", "rob2_cluster", "robins_i")]


def test_every_effect_without_numbers_carries_its_stated_direction(studies):
    """Syntheses without numbers (vote counts, harvest plots, harms) read the direction a source states."""
    missing = [f"{s.id}/{e.id}" for s in studies for e in s.effects
               if e.reported.direction is None and all(getattr(e.reported, f) is None for f in
                                                       ("estimate", "p1", "p2", "m1", "m2", "ai", "bi", "ci", "di", "r"))]
    assert not missing, f"effects without an estimate and without a stated direction: {missing[:20]}"


def test_secondary_sources_are_labelled_and_never_the_citation(studies):
    """A number taken from a review's table is marked secondary (a source of kind 'review' whose note says
    so), and the study keeps its own paper as its citation (its own URL or DOI, not the review's)."""
    for s in studies:
        for src in s.sources:
            if src.kind != "review":
                continue
            assert src.note and "secondary" in src.note.lower(), f"{s.id}/{src.id}: a review source must say it is secondary"
            assert (s.url or s.doi) and s.url != src.url and s.doi != src.doi, f"{s.id}: cites the review, not its own paper"
