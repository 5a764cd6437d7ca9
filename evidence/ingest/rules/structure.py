"""Rules on a study's structure and its ids: the schema, the file name, repeated keys and ids, and
references inside the file (effects -> interventions and sources)."""

from __future__ import annotations

from evidence.ingest.problems import Problem, field_name
from evidence.ingest.rules.base import d, effects, items, rule
from evidence.ingest.structure import check_structure


@rule("schema", "Structure: required fields, types and unknown keys (the pydantic schema).")
def _schema(study, ctx):
    model, errors = check_structure(study)
    ctx.model = model
    for loc, message, hint in errors:
        yield ctx.problem(loc, message, hint)


@rule("filename-id", "The file name (without .yaml) equals the study id.")
def _filename(study, ctx):
    sid = d(study).get("id")
    if ctx.file_stem is not None and isinstance(sid, str) and sid != ctx.file_stem:
        yield ctx.problem(("id",), f"id '{sid}' differs from the file name '{ctx.file_stem}.yaml'",
                          f"rename the file to {sid}.yaml or set id: {ctx.file_stem}")


def _ids(study, key) -> list[str]:
    return [x.get("id") for _, x in items(d(study).get(key)) if isinstance(x.get("id"), str)]


@rule("references", "Effects reference existing interventions; provenance, values, risk of bias and quality ratings existing sources.")
def _references(study, ctx):
    ivs, srcs = _ids(study, "interventions"), _ids(study, "sources")
    known_src = f"known: {', '.join(srcs)}" if srcs else "add it under sources"
    for i, e, _ in effects(study):
        ref = e.get("intervention")
        if isinstance(ref, str) and ref not in ivs:
            yield ctx.problem(("effects", i, "intervention"), f"no intervention with id '{ref}'",
                              f"known: {', '.join(ivs)}" if ivs else "add it under interventions")
        src = d(e.get("provenance")).get("source")
        if isinstance(src, str) and src not in srcs:
            yield ctx.problem(("effects", i, "provenance", "source"), f"no source with id '{src}'", known_src)
    for i, iv in items(d(study).get("interventions")):
        src = d(iv.get("value")).get("source")
        if isinstance(src, str) and src not in srcs:
            yield ctx.problem(("interventions", i, "value", "source"), f"no source with id '{src}'", known_src)
    for block, what in (("risk_of_bias", "assessment"), ("evidence_quality", "rating")):
        ref = d(d(study).get(block)).get("source")
        if isinstance(ref, str) and ref.strip() and "://" not in ref and ref not in srcs:
            yield ctx.problem((block, "source"), f"no source with id '{ref}'", known_src + f"; or give the {what}'s URL")


@rule("duplicate-local-id", "Effect, intervention and source ids are unique within a file.")
def _dup_local(study, ctx):
    for key in ("effects", "interventions", "sources"):
        seen: dict[str, int] = {}
        for i, x in items(d(study).get(key)):
            xid = x.get("id")
            if not isinstance(xid, str):
                continue
            if xid in seen:
                yield ctx.problem((key, i, "id"), f"duplicate id '{xid}'",
                                  f"also {field_name((key, seen[xid]))}, line {ctx.line_of((key, seen[xid], 'id'))}")
            else:
                seen[xid] = i


@rule("duplicate-yaml-key", "A key appears once per mapping (YAML would silently keep the last).")
def _dup_keys(study, ctx):
    for loc, line in ctx.duplicate_keys:
        yield Problem(ctx.path, line, ctx.field_of(loc), "duplicate key: the earlier value is silently dropped",
                      f"first at line {ctx.line_of(loc)}", "", ctx.severity)


@rule("one-primary", "At most one primary effect per (intervention, outcome, subgroup).")
def _one_primary(study, ctx):
    seen: dict[tuple, int] = {}
    for i, e, _ in effects(study):
        if e.get("primary") is not True:
            continue
        sub = d(e.get("subgroup"))
        key = (str(e.get("intervention")), str(e.get("outcome")),
               tuple(str(sub.get(k)) for k in ("sex", "age_min", "age_max", "label")))
        if key in seen:
            yield ctx.problem(("effects", i, "primary"), f"second primary effect for intervention '{key[0]}', "
                              f"outcome '{key[1]}' and the same subgroup",
                              f"effects[{seen[key]}] is already primary; keep one")
        else:
            seen[key] = i


def _effect_key(e: dict) -> str:
    """An effect's content without its id (and primary flag), for spotting the same effect twice."""
    import json

    return json.dumps({k: v for k, v in e.items() if k not in ("id", "primary")}, sort_keys=True, default=str)


@rule("duplicate-effect", "The same effect (same arm, outcome, subgroup and numbers) is not coded twice under two ids.")
def _duplicate_effect(study, ctx):
    seen: dict[str, tuple[int, object]] = {}
    for i, e, r in effects(study):
        if not r:
            continue
        key = _effect_key(e)
        if key in seen:
            j, other = seen[key]
            yield ctx.problem(("effects", i, "id"), f"effects[{i}] repeats effects[{j}] ('{other}') under another id",
                              "delete one, or code what differs: subgroup, follow-up or specification")
        else:
            seen[key] = (i, e.get("id"))
