"""Catalogue commands: ``build``, ``list``, ``show``, ``export-csv``, ``info``.

A thin layer over ``evidence.catalog.build`` and ``evidence.catalog.queries`` so what the command line
shows is exactly what the app and exports see. Machine-readable output (``--json``: one object per
line; CSV) is for scripts and R (metafor); the tables are for people.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Optional

import typer

from evidence.catalog.filters import Filters
from evidence.cli.options import CATALOG_HELP, Catalog, with_filters
from evidence.config import STUDIES_DIR
from evidence.rob import quality_text, rob_text


def _console():
    from rich.console import Console  # rich only when a table is drawn

    return Console()  # per call, so the terminal width (COLUMNS) is read when the command runs

EXPORT_COLUMNS = [
    "study_id", "effect_id", "citation", "year", "intervention_id", "intervention", "family", "outcome",
    "outcome_group", "desirable", "subgroup", "subgroup_sex", "subgroup_age_min", "subgroup_age_max", "primary",
    "follow_up_months", "countries", "regions", "design", "randomised", "measure", "metric", "yi", "vi", "sei",
    "variance_imputed", "harmful", "direction", "reported_direction", "leaning", "secondary", "source_kind",
    "risk_of_bias", "rob_tool", "rob_overall", "quality_rater", "quality_rating", "coding_status", "source", "source_url", "location", "quote", "conversion_notes",
]


def _clean(v):
    """JSON-safe scalar: NaN/NA -> None, numpy scalars -> Python."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    try:
        import pandas as pd

        if v is pd.NA:
            return None
    except ImportError:  # pragma: no cover
        pass
    return v.item() if hasattr(v, "item") else v


def _split(v) -> list[str]:
    v = _clean(v)
    return [x.strip() for x in v.split(",") if x.strip()] if v else []


def build(
    studies: Annotated[Path, typer.Option("--studies", help="Directory of study files.")] = STUDIES_DIR,
    catalog: Annotated[Optional[str], typer.Option("--catalog", "--out", help=CATALOG_HELP, show_default=False)] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Validate the study files, compute effect sizes and rebuild the catalogue (atomically)."""
    from evidence.catalog.build import build_catalog

    s = build_catalog(studies, catalog, progress=progress)
    _console().print(f"built [bold]{s.out}[/bold] from {s.n_files} files in {s.seconds:.2f} s")
    _console().print(f"  studies {s.n_studies}, interventions {s.n_interventions}, sources {s.n_sources}, "
                  f"effects {s.n_effects} ({s.n_with_variance} with a variance, {s.n_imputed} imputed)")
    _console().print(f"  catalog version [bold]{s.catalog_version}[/bold]")


def _depth(eff) -> dict[str, dict]:
    """Per study: how deep its coding goes (effects with a variance, child-labour ones, secondary numbers,
    girls' and boys' effects, effects without numbers and how many of them state a direction)."""
    out = {}
    for sid, part in eff.groupby("study_id"):
        var = part["vi"].notna()
        no_number = part["estimate"].isna() & part["yi"].isna()
        out[sid] = {
            "effects_with_variance": int(var.sum()),
            "child_labour_effects_with_variance": int((var & part["outcome_group"].eq("child_labour")).sum()),
            "secondary_effects": int(part["secondary"].sum()),
            "girls_and_boys_coded": bool({"girls", "boys"} <= set(part["subgroup_sex"])),
            "effects_without_numbers": int(no_number.sum()),
            "effects_without_numbers_with_direction": int((no_number & part["reported_direction"].notna()).sum()),
        }
    return out


@with_filters()
def list_studies(
    catalog: Catalog = None, as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    filters: Filters = Filters(),
) -> None:
    """List the studies in the catalogue (filters combine with AND; repeated options with OR)."""
    from evidence.catalog.queries import connect, studies

    engine = connect(catalog)
    df = studies(filters, engine=engine)
    if as_json:
        from evidence.catalog.queries import effects

        depth = _depth(effects(filters, engine=engine))
        lists = ("countries", "country_names", "regions", "interventions", "families", "outcomes")
        for rec in df.to_dict("records"):
            obj = {k: (_split(v) if k in lists else _clean(v)) for k, v in rec.items()}
            obj.update(depth.get(rec["id"], {}))
            obj["authors"] = [a.strip() for a in (obj["authors"] or "").split(";") if a.strip()]
            typer.echo(json.dumps(obj, ensure_ascii=False))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(df)} studies")
    for col in ("id", "citation", "countries", "design", "interventions", "outcomes", "coding_status", "risk_of_bias", "n_effects"):
        table.add_column(col.replace("_", " "), overflow="fold", no_wrap=col in ("id", "citation"))
    for rec in df.to_dict("records"):
        table.add_row(*(Text("" if _clean(rec[c]) is None else str(rec[c])) for c in
                        ("id", "citation", "countries", "design", "interventions", "outcomes", "coding_status",
                         "risk_of_bias", "n_effects")))
    _console().print(table)


def show(
    study_id: Annotated[str, typer.Argument(help="Study id, e.g. gee-2010-rps.")],
    catalog: Catalog = None, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Everything the catalogue holds about one study."""
    from evidence.catalog.queries import connect, study

    s = study(study_id, engine=connect(catalog))
    if as_json:
        typer.echo(json.dumps(s, default=str, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    c = Console(markup=False, highlight=False)  # coded text may contain [brackets]
    c.print(Text(f"{s['citation']}  ", style="bold") + Text(s["title"]))
    c.print(f"  id {s['id']} · {s['publication_type']} · {s['venue'] or ''} · doi {s['doi'] or '-'} · {s['url'] or ''}")
    c.print(f"  authors: {s['authors']}")
    countries = ", ".join(f"{x['name']} ({x['iso3']})" for x in s["countries"])
    c.print(f"  programme: {s['programme']['name']} — {countries}")
    d = s["design"]
    clusters = f", {d['clusters']} clusters" if d["clusters"] else ""
    c.print(f"  design: {d['type']}{' (randomised)' if d['randomised'] else ''}{clusters}")
    for arm in s["interventions"]:
        c.print(f"  arm {arm['arm_id']}: {arm['type']} ({arm['family']}){' — ' + arm['label'] if arm['label'] else ''}")
    rob, quality = s["risk_of_bias"], s.get("evidence_quality")
    c.print(f"  risk of bias: {rob_text(rob['tool'], rob['overall'])}. {rob['reason'] or ''}" if rob else "  risk of bias: not assessed")
    if quality:
        c.print(f"  evidence quality: {quality_text(quality['rater'], quality['rating'])}. {quality['reason'] or ''}")
    c.print(f"  coding: {s['coding_status']} by {s['coder']} on {s['coding_date']}")
    for v in s["versions"]:
        c.print(f"  version: {v['kind']} {v['year'] or ''} {v['doi'] or v['url'] or ''}")
    for link in s["links"]:
        c.print(f"  {link['kind'].replace('_', ' ')}: {link['other_id']}")
    for src in s["sources"]:
        c.print(f"  source {src['source_id']}: {src['kind']} {src['url'] or src['doi'] or ''}")
    if s["effects"]:
        t = Table(title="effects")
        for col in ("effect", "arm", "outcome", "subgroup", "reported", "yi", "vi", "provenance"):
            t.add_column(col, overflow="fold")
        for e in s["effects"]:
            sub = e["subgroup_sex"] + (f" {e['subgroup_age_min']:g}-{e['subgroup_age_max']:g}"
                                       if e["subgroup_age_min"] is not None and e["subgroup_age_max"] is not None else "")
            p = e["provenance"]
            cells = [e["effect_id"] + (" *" if e["primary"] else ""), e["intervention_id"], e["outcome"], sub,
                     f"{e['form']} {e['estimate'] if e['estimate'] is not None else ''} {e['unit'] or ''}",
                     "" if e["yi"] is None else f"{e['yi']:.4g}", "" if e["vi"] is None else f"{e['vi']:.4g}"
                     + (" (imputed)" if e["variance_imputed"] else ""),
                     f"{p.get('source_id')}, {p.get('location') or ''}: “{p.get('quote')}”"]
            t.add_row(*map(Text, cells))
        c.print(t)
        c.print("  * primary effect")


def _subgroup(r) -> str:
    parts = [] if r["subgroup_sex"] in (None, "all") else [r["subgroup_sex"]]
    lo, hi = _clean(r["subgroup_age_min"]), _clean(r["subgroup_age_max"])
    if lo is not None or hi is not None:
        parts.append(f"ages {'' if lo is None else f'{lo:g}'}-{'' if hi is None else f'{hi:g}'}")
    if _clean(r["subgroup_label"]):
        parts.append(r["subgroup_label"])
    return ", ".join(parts) or "full sample"


@with_filters()
def export_csv(
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")],
    catalog: Catalog = None, filters: Filters = Filters(),
) -> None:
    """Write the matching effects as a flat, metafor-ready CSV (yi, vi, sei and moderators)."""
    from evidence.catalog.queries import connect, effects

    df = effects(filters, engine=connect(catalog))
    df["subgroup"] = [_subgroup(r) for r in df.to_dict("records")]
    df["sei"] = df["vi"] ** 0.5
    df["source"] = df["source_id"]
    output.parent.mkdir(parents=True, exist_ok=True)
    df[EXPORT_COLUMNS].to_csv(output, index=False, lineterminator="\n")
    _console().print(f"wrote {len(df)} effects from {df['study_id'].nunique()} studies to {output}")


def info(catalog: Catalog = None) -> None:
    """Catalogue version, what it was built from, and row counts."""
    from evidence.catalog.queries import catalog_info, connect

    i = catalog_info(connect(catalog))
    _console().print(f"catalog version [bold]{i.get('catalog_version')}[/bold] (schema {i.get('schema_version')}, "
                  f"built from {i.get('built_from')} files)")
    _console().print(f"studies hash {i.get('studies_hash')}")
    n = i["counts"]
    _console().print(f"studies {n['studies']} ({', '.join(f'{k} {v}' for k, v in n['by_status'].items())}), "
                  f"effects {n['effects']} ({n['effects_with_variance']} with a variance, {n['effects_imputed']} imputed), "
                  f"interventions {n['interventions']}, sources {n['sources']}, countries {n['countries']}")


def register(app: typer.Typer) -> None:
    app.command("build")(build)
    app.command("list")(list_studies)
    app.command("show")(show)
    app.command("export-csv")(export_csv)
    app.command("info")(info)
