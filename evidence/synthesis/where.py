"""Evidence by country: which countries have evaluations of which interventions, as tables and as a
world map.

Counts studies (every coded study, including those mapped without numbers yet), so the page shows
where evaluations exist, not only where effects could be extracted. A multi-country study counts
once for each of its countries. A country's region comes from the country table
(``evidence/data/countries.csv``), not from the study's list of regions, which names each region once
and so cannot be lined up with a multi-country study's countries.

The map's geometry ships with the package (``evidence/data/world-110m.topo.json``, Natural Earth
110m via the npm ``world-atlas`` package, ids rewritten to ISO3; see ``data/README.md``) and is put
inline into the chart, so the map renders without network access.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import altair as alt
import pandas as pd

from evidence.synthesis.selection import as_list
from evidence.taxonomy import DATA, countries, taxonomy

#: Shown when a study names a country the country table does not know (no blank region row).
UNKNOWN_REGION = "Region not recorded"
#: The map's selection parameter: Streamlit returns the clicked country under this name.
MAP_SELECTION = "country"


@dataclass
class Where:
    ranked: pd.DataFrame  # country, iso3, region, studies, interventions
    matrix: pd.DataFrame  # country x intervention type: number of studies
    by_region: pd.DataFrame  # region, studies, countries


def _long(studies: pd.DataFrame) -> pd.DataFrame:
    """One row per study x country x intervention type, with the country's name and region."""
    t, table = taxonomy(), countries()
    rows = []
    for s in studies.itertuples():
        codes, names = as_list(s.countries), as_list(s.country_names)
        for i, code in enumerate(codes):
            known = table.get(code)
            name = known.name if known else names[i] if i < len(names) else code
            region = known.region if known and known.region else UNKNOWN_REGION
            for kind in as_list(s.interventions) or ["(not coded)"]:
                rows.append({"country": name, "iso3": code, "region": region,
                             "intervention": t.interventions.get(kind, {}).get("label", kind), "study_id": s.id})
    return pd.DataFrame(rows, columns=["country", "iso3", "region", "intervention", "study_id"])


def evidence_by_country(studies: pd.DataFrame) -> Where:
    long = _long(studies)
    if long.empty:
        empty = pd.DataFrame()
        return Where(empty, empty, empty)
    ranked = (long.groupby(["country", "iso3", "region"])
              .agg(studies=("study_id", "nunique"), interventions=("intervention", lambda x: "; ".join(sorted(set(x)))))
              .reset_index().sort_values(["studies", "country"], ascending=[False, True]))
    matrix = long.pivot_table(index="country", columns="intervention", values="study_id", aggfunc="nunique", fill_value=0)
    matrix = matrix.loc[ranked["country"].drop_duplicates()]
    by_region = (long.groupby("region").agg(studies=("study_id", "nunique"), countries=("iso3", "nunique"))
                 .reset_index().sort_values(["studies", "region"], ascending=[False, True]))
    return Where(ranked.reset_index(drop=True), matrix, by_region.reset_index(drop=True))


@lru_cache(maxsize=1)
def world_topology() -> dict:
    """The shipped Natural Earth 110m countries (TopoJSON, object ``countries``, feature ids ISO3)."""
    return json.loads((DATA / "world-110m.topo.json").read_text(encoding="utf-8"))


def map_table(ranked: pd.DataFrame) -> pd.DataFrame:
    """The map's data: one row per country with studies (its text alternative is ``ranked``)."""
    cols = ["iso3", "country", "region", "studies", "interventions"]
    return ranked[cols].drop_duplicates("iso3") if not ranked.empty else pd.DataFrame(columns=cols)


def world_map_chart(ranked: pd.DataFrame, chosen: tuple[str, ...] = ()) -> alt.LayerChart:
    """A choropleth of the number of studies per country, clickable (point selection on ``iso3``).

    Colour is a sequential, colour-blind-safe scale (viridis) and every country with studies also
    gets a dark outline, so "has evidence" does not rest on colour alone; countries in the country
    filter (``chosen``) get a thick outline. The chart takes its container's width.
    """
    data = map_table(ranked)
    topo = alt.Data(values=world_topology(), format=alt.DataFormat(type="topojson", feature="countries"))
    pick = alt.selection_point(name=MAP_SELECTION, fields=["iso3"], on="click", clear="dblclick")
    base = (alt.Chart(topo).mark_geoshape(fill="#e6e6e6", stroke="#ffffff", strokeWidth=0.5,
                                          description="Countries without a coded study, in grey")
            .project("equalEarth"))
    max_n = int(data["studies"].max()) if len(data) else 1
    shaded = (alt.Chart(topo).mark_geoshape(stroke="#222222")
              .transform_calculate(iso3="datum.id")
              .transform_lookup(lookup="iso3", from_=alt.LookupData(data, "iso3", ["country", "region", "studies", "interventions"]))
              .transform_filter("isValid(datum.studies)")
              .encode(color=alt.Color("studies:Q", title="Studies", scale=alt.Scale(scheme="viridis", reverse=True, domainMin=0,
                                                                                    domainMax=max(max_n, 1)),
                                      legend=alt.Legend(orient="bottom", direction="horizontal", gradientLength=160,
                                                        format="d", values=sorted({0, max_n // 2, max_n}))),  # whole studies
                      strokeWidth=alt.condition(alt.FieldOneOfPredicate("iso3", list(chosen) or ["__none__"]),
                                                alt.value(2.5), alt.value(0.6)),
                      tooltip=[alt.Tooltip("country:N", title="Country"), alt.Tooltip("region:N", title="Region"),
                               alt.Tooltip("studies:Q", title="Studies"), alt.Tooltip("interventions:N", title="Interventions")])
              .add_params(pick).project("equalEarth"))
    # The chart's aria-label (Vega's description): what the map shows, and where its numbers are in text.
    described = (f"World map of the number of coded studies per country: {len(data)} "
                 f"{'country has' if len(data) == 1 else 'countries have'} at least one, darker means more. "
                 "The tables below the map list the same numbers.")
    return (alt.layer(base, shaded).properties(width="container", height=360, description=described)
            .configure_view(stroke=None))


def clicked_country(event) -> str | None:
    """The ISO3 code of the country a map click selected (Streamlit's selection event), else None."""
    try:
        points = event["selection"][MAP_SELECTION]
    except (KeyError, TypeError, IndexError):
        return None
    if isinstance(points, list) and points and isinstance(points[0], dict):
        code = points[0].get("iso3")
        return str(code) if code else None
    return None
