"""Duplicate detection: versions of one paper are found, declared pairs are silenced, and title
normalisation is idempotent and insensitive to case, accents and punctuation (hypothesis)."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import given, strategies as st
from typer.testing import CliRunner

from evidence.cli.main import app
from evidence.config import DEDUP_THRESHOLD
from evidence.ingest.dedup import Record, family_name, find_duplicates, normalise_doi, normalise_title, report_table

WP = {"id": "fixture-2018-wp", "title": "Cash transfers and child labour: evidence from a randomized experiment "
      "in rural Mexico (NBER Working Paper 12345)", "authors": ["Fixture, Ada", "Example, Ben"], "year": 2018}
JOURNAL = {"id": "fixture-2019-journal", "title": "Do cash transfers reduce child labour? Evidence from a "
           "randomised experiment in rural Mexico", "authors": ["Fixture, A."], "year": 2019}
OTHER = {"id": "other-2019-feeding", "title": "School feeding and learning in Kenya",
         "authors": ["Someone, Else"], "year": 2019}


def test_working_paper_and_journal_version_found():
    found = find_duplicates([WP, JOURNAL, OTHER])
    assert [(c.a, c.b) for c in found] == [("fixture-2018-wp", "fixture-2019-journal")]
    c = found[0]
    assert DEDUP_THRESHOLD <= c.score <= 100
    assert any("same first author" in r for r in c.reasons) and any("within window" in r for r in c.reasons)


def test_different_first_author_or_distant_years_lower_the_score():
    base = find_duplicates([WP, JOURNAL], threshold=0)[0].score
    other_author = dict(JOURNAL, authors=["Different, Person"])
    far = dict(JOURNAL, year=2023)
    assert find_duplicates([WP, other_author], threshold=0)[0].score == pytest.approx(base - 20)
    assert find_duplicates([WP, far], threshold=0)[0].score == pytest.approx(base - 40)  # 5 years: 4 beyond window
    assert find_duplicates([WP, far]) == []


def test_same_doi_is_100_whatever_the_title():
    a = dict(WP, doi="10.1000/ABC.1")
    b = dict(OTHER, sources=[{"id": "s", "kind": "report", "doi": "https://doi.org/10.1000/abc.1"}])
    (c,) = find_duplicates([a, b])
    assert c.score == 100 and c.reasons == ("same DOI 10.1000/abc.1",)


def test_declared_pairs_are_silenced():
    for key in ("not_duplicates", "links"):
        assert find_duplicates([dict(WP, **{key: ["fixture-2019-journal"]}), JOURNAL]) == []
        assert find_duplicates([WP, dict(JOURNAL, **{key: ["fixture-2018-wp"]})]) == []
    assert find_duplicates([dict(WP, links=["unrelated"]), JOURNAL]) != []


def test_versions_add_titles_to_match_on():
    study = dict(OTHER, versions=[{"kind": "working_paper", "title": JOURNAL["title"], "year": 2018}],
                 authors=["Fixture, Ada"])
    found = find_duplicates([JOURNAL], against=[study])
    assert [(c.a, c.b) for c in found] == [("fixture-2019-journal", "other-2019-feeding")]


def test_against_compares_only_across():
    assert find_duplicates([OTHER], against=[WP, JOURNAL]) == []


def test_report_table():
    found = find_duplicates([WP, JOURNAL])
    text = report_table(found, 88)
    assert text.splitlines()[0] == "1 likely duplicate pair(s) at score >= 88"
    assert "fixture-2018-wp" in text and "fixture-2019-journal" in text and f"{found[0].score:>5.1f}" in text
    assert report_table([], 90) == "0 likely duplicate pair(s) at score >= 90"


def test_cli_dedup(tmp_path):
    import yaml
    for rec in (WP, JOURNAL, OTHER):
        (tmp_path / f"{rec['id']}.yaml").write_text(yaml.safe_dump(rec), encoding="utf-8")
    result = CliRunner().invoke(app, ["dedup", str(tmp_path), "--threshold", "85"])
    assert result.exit_code == 1 and "at score >= 85" in result.output and "fixture-2019-journal" in result.output
    result = CliRunner().invoke(app, ["dedup", str(tmp_path), "--threshold", "100"])
    assert result.exit_code == 0 and "0 likely duplicate" in result.output


def test_helpers():
    assert normalise_title("The Impact of [Working Paper] Cash (NBER) Transfers: évidence!") == "impact cash transfers"  # 'evidence' is a stop-word
    assert family_name("Gee, Kevin A.") == family_name("Kevin A. Gee") == "gee"
    assert normalise_doi("doi: 10.1/X") == "10.1/x" and normalise_doi(None) is None
    assert Record.of(WP).years == [2018]


# --- properties of title normalisation ------------------------------------------------------------

WORDS = st.lists(st.text(alphabet=string.ascii_letters + "éèüñçøåÉÑ", min_size=1, max_size=10), min_size=1, max_size=8)
PUNCT = st.sampled_from(list(" ,.:;!?-—'\"/&*") + [" - ", ": ", "... "])


@given(st.text())
def test_normalise_idempotent(text):
    once = normalise_title(text)
    assert normalise_title(once) == once


@given(WORDS)
def test_normalise_case_insensitive(words):
    title = " ".join(words)
    assert normalise_title(title.upper()) == normalise_title(title.lower()) == normalise_title(title)


@given(WORDS)
def test_normalise_accent_insensitive(words):
    title = " ".join(words)
    plain = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c))
    assert normalise_title(plain) == normalise_title(title)


@given(WORDS, st.data())
def test_normalise_punctuation_insensitive(words, data):
    seps = [data.draw(PUNCT) for _ in words]
    punctuated = "".join(w + s for w, s in zip(words, seps))
    assert normalise_title(punctuated) == normalise_title(" ".join(words))
