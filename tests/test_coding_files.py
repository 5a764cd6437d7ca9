"""The files the coding workspace writes: round-trip of every shipped study (unchanged bytes), an edit
that keeps comments and layout, the form state <-> study mapping, and reviews of a change (--base)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evidence.cli.main import app
from evidence.coding import draft, form, yamlio
from evidence.schema import Reported

REPO = Path(__file__).resolve().parents[1]
FILES = sorted((REPO / "studies").glob("*.yaml")) + sorted((REPO / "tests" / "fixtures" / "studies").glob("*.yaml"))


def test_every_shipped_study_round_trips_through_the_form_unchanged():
    for f in FILES:
        text = f.read_text(encoding="utf-8")
        study = yamlio.plain(yamlio.parse(text))
        back, errors = form.from_state(form.to_state(study), study)
        assert not errors and back == study, f.name
        assert yamlio.dump(back, text) == text, f.name


def test_an_edit_keeps_comments_and_changes_only_its_lines():
    text = (REPO / "tests" / "fixtures" / "coding" / "omega-2015-cct.yaml").read_text(encoding="utf-8")
    study = yamlio.plain(yamlio.parse(text))
    st = form.to_state(study)
    st[form.key("effects[0].reported.se")] = "1.25"
    st[form.key("population.n_total")] = "2400"
    out = yamlio.dump(form.from_state(st, study)[0], text)
    changed = [ln for ln in out.splitlines() if ln not in text.splitlines()]
    assert changed == ["population:", "  n_total: 2400",
                       "    reported: {form: coefficient, estimate: -3.1, unit: percentage_points, se: 1.25}"]
    assert "type: cluster_rct   # villages randomised" in out and out.startswith("# yaml-language-server")
    assert yaml.safe_load(out)["population"]["n_total"] == 2400  # an integer stays an integer


def test_typed_text_that_is_not_a_number_is_reported_at_its_field():
    study = yamlio.plain(yamlio.parse((REPO / "tests/fixtures/coding/omega-2015-cct.yaml").read_text(encoding="utf-8")))
    st = form.to_state(study)
    st[form.key("effects[1].reported.se")] = "0,6x"
    _, errors = form.from_state(st, study)
    assert list(errors) == ["effects[1].reported.se"] and "not a number" in errors["effects[1].reported.se"]


def test_a_direction_only_result_and_the_effect_preview():
    rep = {"form": "coefficient", "direction": "decrease"}
    assert form.reported_form(rep) == form.DIRECTION_ONLY
    assert draft.preview(rep).empty
    pv = draft.preview({"form": "coefficient", "estimate": -0.031, "unit": "proportion", "t": -2.5},
                       {"type": "cluster_rct"})
    assert pv.effect.yi == pytest.approx(-3.1) and pv.effect.se == pytest.approx(1.24)
    assert any("x100" in n for n in pv.effect.notes) and any("cluster" in n for n in pv.effect.notes)
    assert "outside its CI" in draft.preview({"estimate": 5.0, "ci_low": 1.0, "ci_high": 2.0}).error


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_reviews_report_only_what_a_change_introduces(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    studies = repo / "studies"
    studies.mkdir(parents=True)
    for f in (REPO / "tests" / "fixtures" / "studies").glob("*.yaml"):
        shutil.copy(f, studies / f.name)
    bad = yaml.safe_load((studies / "beta-2006-uct.yaml").read_text(encoding="utf-8"))
    (studies / "beta-2006-uct.yaml").write_text(yaml.safe_dump({**bad, "year": 1900}, sort_keys=False), encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "base")
    alpha = yaml.safe_load((studies / "alpha-2010-cct.yaml").read_text(encoding="utf-8"))
    copy = {**alpha, "id": "alpha-2011-cct", "links": [], "versions": [], "year": 2011}
    (studies / "alpha-2011-cct.yaml").write_text(yaml.safe_dump(copy, sort_keys=False), encoding="utf-8")
    (studies / "second-coding").mkdir()
    shutil.copy(studies / "alpha-2010-cct.yaml", studies / "second-coding" / "alpha-2010-cct.ben.yaml")
    runner = CliRunner()
    full = runner.invoke(app, ["validate", str(studies)])
    assert "year 1900" in full.output  # the old problem is there in a full run ...
    changed = runner.invoke(app, ["validate", str(studies), "--changed", "--base", "HEAD"])
    assert "year 1900" not in changed.output and "1 file(s)" in changed.output  # ... but not introduced
    assert "possible duplicate of 'alpha-2010-cct'" in changed.output and "alpha-2011-cct.yaml" in changed.output
    dups = runner.invoke(app, ["dedup", str(studies), "--base", "HEAD"])
    assert dups.exit_code == 1 and "1 likely duplicate pair(s)" in dups.output
    assert "alpha-2011-cct" in dups.output and "beta" not in dups.output
    nothing = runner.invoke(app, ["validate", str(studies), "--changed", "--base", "nonexistent-rev"])
    assert nothing.exit_code == 1 and "git rev-parse" in nothing.output


BIB = """@article{nu2020, author = {Nu, Nina and Xi, Xavier}, title = {Cash transfers and child work in Colombia},
journal = {Journal of Fixtures}, year = {2020}, doi = {10.5555/fixture.bib}}"""
RIS = "TY  - RPRT\nAU  - Pi, Paula\nTI  - Meals at school and child work\nPY  - 2019\nUR  - https://example.org/pi\nER  -\n"


def test_start_from_bibtex_ris_doi_or_an_id(tmp_path):
    studies = tmp_path / "studies"
    studies.mkdir()
    for f in (REPO / "tests" / "fixtures" / "studies").glob("*.yaml"):
        shutil.copy(f, studies / f.name)
    bib = draft.start("bibtex", BIB, "ana", studies)
    assert bib.study["id"] == "nu-2020-cash-transfers" and bib.study["authors"] == ["Nu, Nina", "Xi, Xavier"]
    assert bib.study["sources"] == [{"id": "paper", "kind": "journal_article", "doi": "10.5555/fixture.bib"}]
    assert bib.original is None and bib.duplicates == []
    ris = draft.start("ris", RIS, "ana", studies)
    assert ris.study["publication_type"] == "report" and ris.study["url"] == "https://example.org/pi"
    with pytest.raises(Exception, match="is not a DOI"):
        draft.start("doi", "not-a-doi", "ana", studies)
    dup = draft.start("doi", "doi:10.0000/FIXTURE.ALPHA", "ana", studies)
    assert [c.b for c in dup.duplicates] == ["alpha-2010-cct"]
    opened = draft.start("id", "alpha-2010-cct", "ana", studies)
    assert opened.original.startswith("id: alpha-2010-cct") and opened.study["effects"][0]["id"] == "work-all"
    second = draft.start("id", "alpha-2010-cct", "ben", studies, independent=True)
    assert second.original is None and second.study["effects"] == [] and "risk_of_bias" not in second.study
    assert second.study["title"] == opened.study["title"] and second.study["coding"]["coder"] == "ben"
    assert draft.target_path(second.study, studies, "Ben K.") == studies / "second-coding" / "alpha-2010-cct.ben-k.yaml"


def test_every_form_field_is_a_schema_field():
    """A field the form shows but the schema does not know would be written as an unknown key."""
    from evidence.ingest.structure import annotation_at

    names = [form.full(base, f.name) for base, fs in form.SECTIONS.items() for f in fs]
    names += [f"{n}.0.{f.name}" for n, fs in form.LISTS.items() for f in fs]
    names += [f"effects.0.{f.name}" for f in form.REPORTED.values()]
    for name in names:
        loc = tuple(int(p) if p.isdigit() else p for p in name.split("."))
        assert annotation_at(loc) is not None, name
    assert set(form.FORMS) - {form.DIRECTION_ONLY} == set(form.options(Reported, "form"))
