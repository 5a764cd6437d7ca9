"""A small synthetic catalogue for summary tests: four studies of one cell with variances.

The studies are fixtures (clearly named ``fixture-*``), written from a template so the numbers the
tests expect are visible here.
"""

from __future__ import annotations

from pathlib import Path

import yaml

STUDIES = [
    # id, year, design, rob ((tool, overall judgement), CLEAR's quality rating), estimate (pp), se, girls estimate,
    # girls se, n. fixture-a is de Hoop et al.'s case: an RCT at low risk of bias that CLEAR rates high quality.
    ("fixture-a-2010", 2010, "cluster_rct", (("rob2_cluster", "low"), "high"), -4.0, 1.5, -5.0, 2.0, 1200),
    ("fixture-b-2012", 2012, "individual_rct", (("rob2", "some_concerns"), "moderate"), -2.5, 1.0, -3.0, 1.4, 800),
    ("fixture-c-2015", 2015, "did", (("robins_i", "serious"), "low"), -6.0, 2.5, None, None, None),
    ("fixture-d-2018", 2018, "cluster_rct", None, 3.0, 1.2, 2.0, 1.5, 500),  # a clear increase: a harm
]


def study_doc(sid, year, design, rob, est, se, g_est, g_se, n) -> dict:
    quote = f"{'reduced' if est < 0 else 'increased'} child work by {abs(est)} percentage points (standard error {se})"
    effects = [{
        "id": "work", "intervention": "cct", "outcome": "economic_activity", "sdg871": "economic_only",
        "primary": True,
        "reported": {"form": "coefficient", "estimate": est, "unit": "percentage_points", "se": se},
        "provenance": {"source": "paper", "location": "Table 2", "quote": quote},
    }]
    if g_est is not None:
        effects.append({
            "id": "work-girls", "intervention": "cct", "outcome": "economic_activity", "sdg871": "economic_only",
            "subgroup": {"sex": "girls"},
            "reported": {"form": "coefficient", "estimate": g_est, "unit": "percentage_points", "se": g_se},
            "provenance": {"source": "paper", "location": "Table 3", "quote": f"girls: {g_est} ({g_se})"},
        })
    doc = {
        "id": sid, "title": f"Fixture evaluation {sid} of a conditional cash transfer", "authors": [f"Fixture, Author{year}"],
        "year": year, "publication_type": "journal_article", "venue": "Journal of Fixtures", "doi": f"10.0000/{sid}",
        "programme": {"name": f"Programme {sid}", "countries": ["MEX"]},
        "interventions": [{"id": "cct", "type": "conditional_cash_transfer"}],
        "design": {"type": design},
        "population": {"n_total": n} if n else {},
        "coding": {"status": "coded", "coder": "test", "date": "2026-11-26"},
        "sources": [{"id": "paper", "kind": "journal_article", "url": f"https://example.org/{sid}"}],
        "effects": effects,
    }
    if rob:
        (tool, overall), rating = rob
        doc["risk_of_bias"] = {"tool": tool, "overall": overall, "reason": "fixture", "source": "paper"}
        doc["evidence_quality"] = {"rater": "clear", "rating": rating, "reason": "fixture", "source": "paper"}
    return doc


def write_studies(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for row in STUDIES:
        (folder / f"{row[0]}.yaml").write_text(yaml.safe_dump(study_doc(*row), sort_keys=False))
    return folder
