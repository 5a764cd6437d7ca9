"""Rules on where a study can be found: every source and the study have a locator, and DOIs are bare."""

from __future__ import annotations

import re

from evidence.ingest.rules.base import d, items, rule


@rule("source-locator", "Every source has a url or a doi.")
def _source_locator(study, ctx):
    for i, s in items(d(study).get("sources")):
        if not s.get("url") and not s.get("doi"):
            yield ctx.problem(("sources", i), f"source '{s.get('id')}' has neither url nor doi",
                              "add where the document can be found")


@rule("study-locator", "The study has a url or doi (its own, a version's or a source's).")
def _study_locator(study, ctx):
    s = d(study)
    places = [s] + [x for _, x in items(s.get("sources"))] + [x for _, x in items(s.get("versions"))]
    if not any(p.get("url") or p.get("doi") for p in places):
        yield ctx.problem(("id",), "the study has no url or doi anywhere", "add doi: or url: to the study or a source")


@rule("doi-format", "DOIs are bare ('10.xxxx/...'), not URLs.")
def _doi_format(study, ctx):
    s = d(study)
    locs = [(("doi",), s.get("doi"))]
    locs += [((k, i, "doi"), x.get("doi")) for k in ("sources", "versions") for i, x in items(s.get(k))]
    for loc, doi in locs:
        if isinstance(doi, str) and not re.match(r"^10\.\d{4,9}/\S+$", doi.strip()):
            bare = re.sub(r"^(https?://)?(dx\.)?doi\.org/|^doi:\s*", "", doi.strip(), flags=re.I)
            hint = f"write '{bare}'" if bare != doi.strip() and bare.startswith("10.") else "a DOI looks like 10.1111/abc"
            yield ctx.problem(loc, f"'{doi}' is not a bare DOI", hint)
