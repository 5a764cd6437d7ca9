"""Evidence by country: which countries have evaluations of which interventions.

Counts studies (every coded study, including those mapped without numbers yet), so the page shows
where evaluations exist, not only where effects could be extracted. A multi-country study counts
once for each of its countries.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evidence.synthesis.selection import as_list
from evidence.taxonomy import taxonomy


@dataclass
class Where:
    ranked: pd.DataFrame  # country, iso3, region, studies, interventions
    matrix: pd.DataFrame  # country x intervention type: number of studies
    by_region: pd.DataFrame  # region, studies, countries


def evidence_by_country(studies: pd.DataFrame) -> Where:
    t = taxonomy()
    rows = []
    for s in studies.itertuples():
        codes, names, regions = as_list(s.countries), as_list(s.country_names), as_list(s.regions)
        for i, code in enumerate(codes):
            for kind in as_list(s.interventions) or ["(not coded)"]:
                rows.append({"country": names[i] if i < len(names) else code, "iso3": code,
                             "region": regions[i] if i < len(regions) else "",
                             "intervention": t.interventions.get(kind, {}).get("label", kind), "study_id": s.id})
    long = pd.DataFrame(rows, columns=["country", "iso3", "region", "intervention", "study_id"])
    if long.empty:
        empty = pd.DataFrame()
        return Where(empty, empty, empty)
    ranked = (long.groupby(["country", "iso3", "region"])
              .agg(studies=("study_id", "nunique"), interventions=("intervention", lambda x: "; ".join(sorted(set(x)))))
              .reset_index().sort_values(["studies", "country"], ascending=[False, True]))
    matrix = long.pivot_table(index="country", columns="intervention", values="study_id", aggfunc="nunique", fill_value=0)
    matrix = matrix.loc[ranked["country"].drop_duplicates()]
    by_region = (long.groupby("region").agg(studies=("study_id", "nunique"), countries=("iso3", "nunique"))
                 .reset_index().sort_values("studies", ascending=False))
    return Where(ranked.reset_index(drop=True), matrix, by_region.reset_index(drop=True))
