"""The coding queue (``evidence todo``): ranking on a small invented catalogue whose cells are known,
and the command on the shipped catalogue. Every study below is fictional test data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evidence.catalog import bulk, queries
from evidence.catalog.build import build_catalog
from evidence.cli.main import app
from evidence.errors import EvidenceError
from evidence.synthesis.queue import QUEUE_COLUMNS, coding_queue, queue_frame, where_numbers

CCT, UCT = "conditional_cash_transfer", "unconditional_cash_transfer"
WORK, ENROL = "economic_activity", "enrolment"


def _study(sid: str, status: str, arm: str, effects: list[dict], scale: str | None = None, doi: str | None = None,
           url: str | None = None, source_note: str | None = None, rob: dict | None = None, population: dict | None = None) -> dict:
    s = {"id": sid, "title": f"Fixture {sid}", "authors": [f"{sid.split('-')[0].title()}, Test"], "year": int(sid.split("-")[1]),
         "publication_type": "journal_article", "doi": doi, "url": url,
         "programme": {"name": f"Programme {sid}", "countries": ["MEX"], "scale": scale},
         "interventions": [{"id": "arm", "type": arm}], "design": {"type": "cluster_rct"}, "population": population,
         "risk_of_bias": rob, "coding": {"status": status, "coder": "fixture-coder", "date": "2026-01-15"},
         "sources": [{"id": "paper", "kind": "journal_article", "url": f"https://example.org/{sid}", "note": source_note}],
         "effects": effects}
    s["programme"] = {k: v for k, v in s["programme"].items() if v is not None}
    s["sources"] = [{k: v for k, v in src.items() if v is not None} for src in s["sources"]]
    return {k: v for k, v in s.items() if v not in (None, [])}


def _effect(eid: str, outcome: str, reported: dict, location: str = "Abstract", **extra) -> dict:
    number = reported.get("estimate", "reduced")
    return {"id": eid, "intervention": "arm", "outcome": outcome, "primary": not extra.get("subgroup"),
            "sdg871": "economic_only" if outcome == WORK else "not_applicable", "reported": reported,
            "provenance": {"source": "paper", "location": location, "quote": f"the effect was {number}"}, **extra}


DIRECTION = {"form": "coefficient", "direction": "decrease"}
COMPLETE = {"tool": "rob2", "overall": "low", "reason": "Randomised, low attrition.", "source": "paper"}
STUDIES = [
    # CCT x work: one study with a variance (complete: not in the queue), two that would make it pool
    _study("alpha-2010-done", "coded", CCT, [
        _effect("work", WORK, {"form": "coefficient", "estimate": -4.0, "unit": "percentage_points", "se": 1.5}, "Table 3"),
        _effect("work-girls", WORK, {"form": "coefficient", "estimate": -5.0, "unit": "percentage_points", "se": 2.0},
                "Table 4", subgroup={"sex": "girls", "age_min": 12, "age_max": 14})], rob=COMPLETE),
    _study("beta-2012-headline", "headline", CCT, [
        _effect("work", WORK, {"form": "coefficient", "estimate": -3.0, "unit": "percentage_points"}, "CLEAR profile, findings")],
        scale="pilot", url="https://example.org/beta-paper", source_note="The SEs are in Table 5 of the paper."),
    _study("gamma-2014-mapped", "mapped", CCT, [_effect("work", WORK, DIRECTION)], scale="national", doi="10.0000/fixture.gamma"),
    # UCT x enrolment: no study with a variance; a national programme, then the study that pools with it
    _study("delta-2016-national", "mapped", UCT, [_effect("enrol", ENROL, {"form": "coefficient", "direction": "increase"})],
           scale="national", population={"sex": "all", "n_total": 50000}),
    _study("eps-2018-pilot", "mapped", UCT, [_effect("enrol", ENROL, {"form": "coefficient", "direction": "increase"})],
           scale="pilot"),
    # no effects at all
    _study("zeta-2020-empty", "mapped", UCT, []),
]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("queue")
    (d / "studies").mkdir()
    for s in STUDIES:
        (d / "studies" / f"{s['id']}.yaml").write_text(yaml.safe_dump(s, sort_keys=False), encoding="utf-8")
    build_catalog(d / "studies", d / "catalog.db", progress=False)
    return d / "catalog.db"


@pytest.fixture(scope="module")
def queue(catalogue):
    engine = queries.connect(catalogue)
    return coding_queue(queries.effects(engine=engine), queries.studies(engine=engine), bulk.coding_facts(engine))


def test_order_follows_closeness_to_pooling_then_coverage(queue):
    assert [i.study_id for i in queue] == ["gamma-2014-mapped", "delta-2016-national", "eps-2018-pilot",
                                           "beta-2012-headline", "zeta-2020-empty"]
    assert [i.rank for i in queue] == [1, 2, 3, 4, 5]
    assert [i.tier for i in queue] == ["pools a cell", "large coverage", "pools a cell", "the rest", "the rest"]


def test_reasons_name_the_cell_and_what_ranks_above(queue):
    by = {i.study_id: i for i in queue}
    assert by["gamma-2014-mapped"].reason.startswith(
        "1 more study with a variance pools Conditional cash transfer x any economic activity (1 of 3 studies has one)")
    assert "large coverage (national scale, n = 50,000)" in by["delta-2016-national"].reason
    assert "2 short of pooling Unconditional cash transfer x enrolment" in by["delta-2016-national"].reason
    assert by["eps-2018-pilot"].reason.startswith("with #2, pools Unconditional cash transfer x enrolment")
    assert "which pools once #1 is coded" in by["beta-2012-headline"].reason
    assert by["zeta-2020-empty"].reason.startswith("no effect coded yet")


def test_complete_coded_study_is_not_queued(queue):
    assert "alpha-2010-done" not in {i.study_id for i in queue}


def test_missing_items(queue):
    by = {i.study_id: i.missing for i in queue}
    assert by["beta-2012-headline"][0] == "SEs/variances (1 headline estimate)"
    assert by["gamma-2014-mapped"][0] == "estimates (1 direction-only effect)"
    assert {"girls/boys subgroups", "age bands", "risk of bias (not assessed)"} <= set(by["gamma-2014-mapped"])
    assert by["zeta-2020-empty"][0] == "effects (none coded)"


def test_where_and_links(queue):
    by = {i.study_id: i for i in queue}
    assert by["beta-2012-headline"].where == ("Table 5 (source note)",)
    assert by["gamma-2014-mapped"].where == ("no table named; seen in: Abstract",)
    assert by["gamma-2014-mapped"].link == "https://doi.org/10.0000/fixture.gamma"
    assert by["beta-2012-headline"].link == "https://example.org/beta-paper"  # no DOI: the study's address
    assert by["zeta-2020-empty"].link == "https://example.org/zeta-2020-empty"  # neither: the source's


def test_where_reads_table_references():
    import pandas as pd

    eff = pd.DataFrame({"location": ["Tables 6-7, column 2", "Abstract"], "unit_note": [None, "see section IV.D"]})
    got = where_numbers(eff, {"coding_notes": "tables T9-T11 not reached; Table 6. again", "sources": []})
    assert got == ("Tables 6-7 (effect location)", "Section IV.D (unit note)", "Tables T9-T11 (coding notes)",
                   "Table 6 (coding notes)")


def test_filters_limit_and_errors(catalogue, queue):
    engine = queries.connect(catalogue)
    args = queries.effects(engine=engine), queries.studies(engine=engine), bulk.coding_facts(engine)
    enrol = coding_queue(*args, outcomes=[ENROL])
    assert [i.study_id for i in enrol] == ["delta-2016-national", "eps-2018-pilot"]
    assert [i.study_id for i in coding_queue(*args, interventions=[UCT])] == ["delta-2016-national", "eps-2018-pilot",
                                                                            "zeta-2020-empty"]
    assert len(coding_queue(*args, limit=2)) == 2
    with pytest.raises(EvidenceError, match="unknown outcome 'work'"):
        coding_queue(*args, outcomes=["work"])
    frame = queue_frame(queue)
    assert list(frame.columns) == QUEUE_COLUMNS and len(frame) == len(queue)


def test_cli_on_the_shipped_catalogue():
    runner = CliRunner()
    res = runner.invoke(app, ["todo", "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    mapped = {s for s, st in zip(queries.studies()["id"], queries.studies()["coding_status"]) if st == "mapped"}
    assert mapped <= {r["study_id"] for r in rows}  # every mapped study is queued
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(r["link"].startswith(("https://", "http://")) and r["reason"] and r["missing"] for r in rows)
    assert rows[0]["tier"] == "pools a cell" and "pools" in rows[0]["reason"]
    table = runner.invoke(app, ["todo", "--limit", "3", "--outcome", "economic_activity"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "What to code next: 3 studies" in table.output
    bad = subprocess.run([sys.executable, "-m", "evidence", "todo", "--intervention", "nope"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.startswith("error: unknown intervention 'nope'") and "Traceback" not in bad.stderr
