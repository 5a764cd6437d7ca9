"""The controlled vocabulary (``data/taxonomy.yaml``) and country reference data, loaded once.

Terms are data, not code, so a reviewer can read every definition in one file. Unknown terms are
reported with the nearest valid term (``suggest``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml
from rapidfuzz import process

DATA = resources.files("evidence") / "data"


@dataclass(frozen=True)
class Taxonomy:
    families: dict
    interventions: dict
    outcome_groups: dict
    outcomes: dict
    sdg871_coverage: dict
    designs: dict
    metrics: dict
    measures: dict
    rob_tools: dict
    quality_raters: dict

    def family_of(self, intervention: str) -> str | None:
        term = self.interventions.get(intervention)
        return term["family"] if term else None

    def outcome_group(self, outcome: str) -> str | None:
        term = self.outcomes.get(outcome)
        return term["group"] if term else None

    def desirable(self, outcome: str) -> str | None:
        """``"decrease"`` or ``"increase"``: the direction that counts as an improvement."""
        term = self.outcomes.get(outcome)
        return term["desirable"] if term else None

    def risk_level(self, tool: str, judgement: str | None) -> str | None:
        """Map a tool-specific judgement to the common level low / moderate / high / unclear."""
        if judgement is None:
            return None
        return self.rob_tools.get(tool, {}).get("judgements", {}).get(judgement)


@lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    raw = yaml.safe_load((DATA / "taxonomy.yaml").read_text(encoding="utf-8"))
    return Taxonomy(
        families=raw["families"],
        interventions=raw["interventions"],
        outcome_groups=raw["outcome_groups"],
        outcomes=raw["outcomes"],
        sdg871_coverage=raw["sdg871_coverage"],
        designs=raw["designs"],
        metrics=raw["metrics"],
        measures=raw["measures"],
        rob_tools=raw["risk_of_bias"]["tools"],
        quality_raters=raw["evidence_quality"]["raters"],
    )


@dataclass(frozen=True)
class Country:
    iso3: str
    name: str
    region: str
    un_subregion: str


@lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    """ISO 3166-1 alpha-3 -> country (name, region derived from the UN geoscheme; see data/README)."""
    with (DATA / "countries.csv").open(encoding="utf-8") as fh:
        return {
            r["iso3"]: Country(r["iso3"], r["name"], r["region"], r["un_subregion"])
            for r in csv.DictReader(fh)
        }


def suggest(value: str, choices) -> str | None:
    """The nearest valid term to ``value`` (or None when nothing is close)."""
    choices = list(choices)
    if not choices or not isinstance(value, str):
        return None
    match = process.extractOne(value.lower(), choices, score_cutoff=50)
    return match[0] if match else None
