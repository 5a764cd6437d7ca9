"""Double coding: two hand-written codings of one study with known disagreements, agreement and a
hand-computed Cohen's kappa, the reconciled file (CLI), and validation refusing an unreconciled study."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evidence.catalog.build import build_catalog, study_files
from evidence.cli.main import app
from evidence.coding import reconcile, yamlio
from evidence.errors import BuildError
from evidence.ingest.validate import validate_paths

FIX = Path(__file__).resolve().parent / "fixtures" / "coding"


def _load(name: str) -> dict:
    return yamlio.plain(yamlio.parse((FIX / name).read_text(encoding="utf-8")))


def test_disagreements_field_by_field():
    cmp = reconcile.compare(_load("omega-2015-cct.yaml"), _load("omega-2015-cct.ben.yaml"))
    assert [d.field for d in cmp.disagreements] == [
        "design.type", "effects[hours].provenance.quote", "effects[hours].reported.estimate",
        "effects[work].provenance.quote", "effects[work].reported.se", "risk_of_bias.domains.deviations"]
    se = next(d for d in cmp.disagreements if d.field == "effects[work].reported.se")
    assert (se.first, se.second, se.first_quote, se.second_quote) == (1.2, 1.3, "-3.1 (1.2)", "-3.1 (1.3)")
    assert [d.field for d in cmp.disagreements if d.categorical] == ["design.type", "risk_of_bias.domains.deviations"]


def test_agreement_and_kappa_by_hand():
    # 10 categorical items: design, overall, 5 domains, 3 effect directions; 7 agree -> p_o = 0.7.
    # Marginals (first / second): cluster_rct 1/0, individual_rct 0/1, some_concerns 2/3, low 4/3,
    # decrease 2/1, increase 1/2 -> p_e = (0 + 0 + 6 + 12 + 2 + 2) / 100 = 0.22;
    # kappa = (0.7 - 0.22) / (1 - 0.22) = 0.48 / 0.78 = 8/13.
    cmp = reconcile.compare(_load("omega-2015-cct.yaml"), _load("omega-2015-cct.ben.yaml"))
    assert len(cmp.paired) == 10
    assert cmp.percent_agreement == pytest.approx(70.0)
    assert cmp.kappa == pytest.approx(8 / 13)
    assert reconcile.cohen_kappa(["a", "a"], ["a", "a"]) is None  # p_e = 1: undefined
    assert reconcile.cohen_kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)


@pytest.fixture
def studies(tmp_path):
    d = tmp_path / "studies"
    (d / "second-coding").mkdir(parents=True)
    shutil.copy(FIX / "omega-2015-cct.yaml", d / "omega-2015-cct.yaml")
    shutil.copy(FIX / "omega-2015-cct.ben.yaml", d / "second-coding" / "omega-2015-cct.ben.yaml")
    return d


def test_unreconciled_second_coding_is_refused_and_its_folder_skipped(studies, tmp_path):
    report = validate_paths([studies])
    assert report.files == 1  # the second-coding folder holds no study files
    assert [(p.rule, p.field) for p in report.errors] == [("second-coding-reconciled", "coding.reconciled")]
    assert [p.name for p in study_files(studies)] == ["omega-2015-cct.yaml"]
    with pytest.raises(BuildError, match="never reconciled"):
        build_catalog(studies, tmp_path / "catalog.db", progress=False)


def test_reconcile_cli_writes_a_valid_file_keeping_layout(studies):
    first, second = studies / "omega-2015-cct.yaml", studies / "second-coding" / "omega-2015-cct.ben.yaml"
    runner = CliRunner()
    shown = runner.invoke(app, ["reconcile", str(first), str(second)])
    assert shown.exit_code == 1 and "6 disagreement(s) between ana (first) and ben (second)" in shown.output
    assert "Cohen's kappa 0.615" in shown.output and "agreement 70.0%" in shown.output
    assert "quotes: first '-3.1 (1.2)' | second '-3.1 (1.3)'" in shown.output
    done = runner.invoke(app, ["reconcile", str(first), str(second), "--prefer", "first", "--by", "carla",
                               "--take", "effects[work].reported.se=second",
                               "--take", "effects[work].provenance.quote=second"])
    assert done.exit_code == 0, done.output
    text = first.read_text(encoding="utf-8")
    assert "# First coder's file (fictional test data)." in text and "type: cluster_rct   # villages randomised" in text
    doc = yaml.safe_load(text)
    assert doc["effects"][0]["reported"]["se"] == 1.3 and doc["effects"][1]["reported"]["estimate"] == -1.5
    assert doc["coding"]["second_coder"] == "ben" and doc["coding"]["reconciled"] is True
    kept = {r["field"]: r["kept"] for r in doc["coding"]["resolutions"]}
    assert kept["effects[work].reported.se"] == "second" and kept["design.type"] == "first"
    assert {r["by"] for r in doc["coding"]["resolutions"]} == {"carla"}
    assert validate_paths([studies]).ok
    built = build_catalog(studies, studies.parent / "catalog.db", progress=False)
    assert (built.n_files, built.n_studies, built.n_effects) == (1, 1, 3)


def test_reconcile_needs_every_choice():
    a, b = _load("omega-2015-cct.yaml"), _load("omega-2015-cct.ben.yaml")
    with pytest.raises(Exception, match="without a choice"):
        reconcile.reconcile(a, b, {"design.type": "second"}, by="carla")
    merged = reconcile.reconcile(a, b, {d.field: "second" for d in reconcile.compare(a, b).disagreements}, by="carla")
    assert reconcile.compare(merged, b).disagreements == []
