"""The coding form's fields, and the two-way mapping between widget state and a study dict.

Every widget key is ``"f:"`` + the field's name exactly as validation names it
(``effects[0].provenance.quote``), so a validation problem is shown next to its widget without any
mapping table. The state holds what the widgets hold (numbers as typed text, so "1200" stays an
integer and "0.050" is not turned into "0.05" behind the coder's back); :func:`from_state` turns it
back into a study dict on top of the file it came from, so keys the form does not show (versions,
links, ...) are kept, and a cleared field is removed (unknown stays empty).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import typing
from dataclasses import dataclass

from evidence import rob
from evidence.schema import Coding, EvidenceQuality, Intervention, Population, Programme, Reported, Source, Study, Subgroup, Value
from evidence.taxonomy import taxonomy

PREFIX = "f:"
#: Session-state keys of the list lengths (arms, sources, effects).
COUNT = {k: f"n:{k}" for k in ("interventions", "sources", "effects")}
DIRECTION_ONLY = "direction"  # the form's name for a result reported only in words (stored as coefficient)


def key(field: str) -> str:
    return PREFIX + field


def options(model, name: str) -> tuple[str, ...]:
    """The allowed values of a Literal field of a schema model."""
    ann = model.model_fields[name].annotation
    for a in (ann, *typing.get_args(ann)):
        if typing.get_origin(a) is typing.Literal:
            return typing.get_args(a)
    raise KeyError(name)


@dataclass(frozen=True)
class Field:
    """One widget: ``name`` relative to its section (``reported.se``); kinds: text, long, number, choice,
    bool, tristate, date, lines (one item a line), csv (comma-separated), ref:<list> (the id of an item
    of that list, e.g. an effect's arm)."""

    name: str
    label: str
    kind: str = "text"
    choices: tuple = ()
    help: str | None = None


def _c(model, name, label, **kw) -> Field:
    return Field(name, label, "choice", ("",) + options(model, name), **kw)


def _terms(kind: str) -> tuple:
    return ("",) + tuple(sorted(getattr(taxonomy(), kind)))


IDENTITY = [Field("id", "Study id", help="family-year-programme, lower case, e.g. gee-2010-rps"),
            Field("title", "Title"), Field("authors", "Authors ('Family, Given', one a line)", "lines"),
            Field("year", "Year", "number"), _c(Study, "publication_type", "Publication type"),
            Field("venue", "Venue"), Field("doi", "DOI (bare, 10.xxxx/...)"), Field("url", "URL"),
            Field("language", "Language")]
PROGRAMME = [Field("name", "Programme name"), Field("countries", "Countries (ISO alpha-3, comma-separated)", "csv"),
             _c(Programme, "setting", "Setting"), _c(Programme, "implementer", "Implementer"),
             Field("start_year", "Start year", "number"), Field("end_year", "End year", "number"),
             _c(Programme, "scale", "Scale")]
ARM = [Field("id", "Arm id"), Field("type", "Intervention type", "choice", _terms("interventions")),
       Field("label", "Label"), _c(Intervention, "conditionality", "Conditionality"),
       _c(Intervention, "recipient", "Recipient"), Field("frequency", "Frequency"),
       Field("duration_months", "Duration (months)", "number"),
       Field("components", "Other components (taxonomy types, comma-separated)", "csv"),
       Field("description", "Description", "long"),
       # the transfer value as the source states it (schema ``Value``); US$ a year only when the source gives it
       Field("value.amount", "Transfer amount", "number"), Field("value.currency", "Currency (ISO 4217, e.g. MXN)"),
       Field("value.period", "Amount per", "choice", ("",) + options(Value, "period")),
       Field("value.usd_per_year", "US$ a year (as stated)", "number"), Field("value.quote", "Value quote", "long"),
       Field("value.share_of_consumption", "Share of consumption (0-1)", "number"), Field("value.source", "Value source id")]
DESIGN = [Field("type", "Design", "choice", _terms("designs")), Field("unit", "Unit of assignment"),
          Field("clusters", "Clusters", "number"), Field("follow_up_months", "Follow-up (months)", "number"),
          Field("notes", "Notes", "long")]
POPULATION = [Field(k, k.replace("_", " ").capitalize(), "number") for k in ("age_min", "age_max")] + [
    _c(Population, "sex", "Sex")] + [Field(k, k.replace("_", " ").capitalize(), "number") for k in
                                     ("n_treatment", "n_control", "n_total", "n_clusters", "baseline_prevalence")] + [
    Field("description", "Description", "long")]
SOURCE = [Field("id", "Source id"), _c(Source, "kind", "Kind"), Field("url", "URL"), Field("doi", "DOI"),
          Field("title", "Title"), Field("note", "What was and was not visible", "long")]
CODING = [_c(Coding, "status", "Coding status"), Field("coder", "Coder"), Field("date", "Date", "date"),
          Field("notes", "Notes", "long")]
EFFECT = [Field("id", "Effect id"), Field("intervention", "Arm (intervention id)", "ref:interventions"),
          Field("outcome", "Outcome", "choice", _terms("outcomes")), Field("outcome_definition", "Outcome definition"),
          Field("sdg871", "SDG 8.7.1 coverage", "choice", _terms("sdg871_coverage")),
          Field("subgroup.sex", "Subgroup sex", "choice", ("",) + options(Subgroup, "sex")),
          Field("subgroup.age_min", "Subgroup age min", "number"), Field("subgroup.age_max", "Subgroup age max", "number"),
          Field("subgroup.label", "Subgroup label"), Field("follow_up_months", "Follow-up (months)", "number"),
          Field("primary", "Primary effect", "bool"), Field("comparison", "Comparison (if not the pure control)")]
PROVENANCE = [Field("provenance.source", "Source id", "ref:sources"), Field("provenance.location", "Location (table, column, page)"),
              Field("provenance.quote", "Quote (verbatim, with the number)", "long")]

_NUMS = ("estimate", "se", "t", "p", "ci_low", "ci_high", "ci_level", "df", "m1", "sd1", "n1", "m2", "sd2", "n2",
         "ai", "bi", "ci", "di", "p1", "p2", "r", "n", "avg_cluster_size", "icc")
REPORTED = {k: Field(f"reported.{k}", k, "number") for k in _NUMS}
REPORTED.update({
    "unit": Field("reported.unit", "unit", "choice", ("",) + options(Reported, "unit")),
    "direction": Field("reported.direction", "direction in words", "choice", ("",) + options(Reported, "direction")),
    "significance": Field("reported.significance", "significance (stars / threshold only)"),
    "unit_note": Field("reported.unit_note", "unit note"), "icc_note": Field("reported.icc_note", "ICC note"),
    "se_clustered": Field("reported.se_clustered", "SE accounts for clustering", "tristate", ("", "yes", "no")),
})
#: The reported form a coder picks -> the fields it shows (plus any other field that holds a value).
FORMS = {
    "coefficient": ["estimate", "unit", "se", "t", "p", "ci_low", "ci_high", "ci_level", "df", "significance", "p2",
                    "direction", "unit_note"],
    "means_sds": ["m1", "sd1", "n1", "m2", "sd2", "n2", "unit", "unit_note", "direction"],
    "counts": ["ai", "bi", "ci", "di", "n1", "n2", "direction"],
    "proportions": ["p1", "p2", "n1", "n2", "unit", "se", "ci_low", "ci_high", "t", "p", "significance", "direction"],
    "odds_ratio": ["estimate", "se", "ci_low", "ci_high", "ci_level", "p", "t", "significance", "direction"],
    "risk_ratio": ["estimate", "se", "ci_low", "ci_high", "ci_level", "p", "t", "significance", "direction"],
    "correlation": ["r", "n", "se", "p", "significance", "direction"],
    DIRECTION_ONLY: ["direction", "significance", "unit_note"],
}
CLUSTERING = ["se_clustered", "avg_cluster_size", "icc", "icc_note"]
#: A clearinghouse's quality-of-evidence rating: its own block, never a risk-of-bias judgement.
QUALITY = [_c(EvidenceQuality, "rater", "Rater"), _c(EvidenceQuality, "rating", "Quality rating (the rater's words)"),
           Field("source", "Source id"), Field("url", "Rating's URL"), Field("reason", "Reason"), Field("quote", "Quote", "long")]
SECTIONS = {"": IDENTITY, "programme": PROGRAMME, "design": DESIGN, "population": POPULATION, "coding": CODING, "evidence_quality": QUALITY}
LISTS = {"interventions": ARM, "sources": SOURCE, "effects": EFFECT + PROVENANCE}
ROB_TEXT = ("reason", "source", "quote")


def full(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


# --- study dict -> state ---------------------------------------------------------------------------

def _get(obj, dotted: str):
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _show(f: Field, v):
    if f.kind in ("bool",):
        return bool(v)
    if f.kind == "tristate":
        return "" if v is None else "yes" if v else "no"
    if f.kind == "date":
        return v if isinstance(v, dt.date) else None
    if v is None:
        return ""
    if f.kind == "lines":
        return "\n".join(map(str, v)) if isinstance(v, list) else str(v)
    if f.kind == "csv":
        return ", ".join(map(str, v)) if isinstance(v, list) else str(v)
    return str(v)


def reported_form(reported: dict) -> str:
    """The form a coded result is shown in: its ``form``, or "direction" for a result with no numbers."""
    form = (reported or {}).get("form") or "coefficient"
    if form == "coefficient" and (reported or {}).get("estimate") is None and reported.get("direction"):
        return DIRECTION_ONLY
    return form


def reported_fields(form: str, state: dict, base: str) -> list[str]:
    """The reported keys shown for an effect: the form's, clustering (not for direction only), and any
    other that holds a value (never hide a coded number)."""
    keys = list(FORMS.get(form, FORMS["coefficient"])) + ([] if form == DIRECTION_ONLY else CLUSTERING)
    return keys + [k for k in REPORTED if k not in keys and state.get(key(f"{base}.reported.{k}")) not in (None, "")]


def to_state(study: dict) -> dict:
    """Widget state for a study dict (a new draft or a parsed file)."""
    st: dict = {}
    for base, fields in SECTIONS.items():
        sec = study.get(base) if base else study
        for f in fields:
            st[key(full(base, f.name))] = _show(f, _get(sec or {}, f.name))
    for name, fields in LISTS.items():
        items = study.get(name) or []
        st[COUNT[name]] = len(items)
        for i, item in enumerate(items):
            for f in fields:
                st[key(f"{name}[{i}].{f.name}")] = _show(f, _get(item, f.name))
            if name == "effects":
                rep = item.get("reported") or {}
                st[key(f"effects[{i}].reported.form")] = reported_form(rep)
                for k, f in REPORTED.items():
                    st[key(f"effects[{i}].{f.name}")] = _show(f, rep.get(k))
    r = study.get("risk_of_bias") or {}
    st[key("risk_of_bias.tool")] = r.get("tool", "")
    for k in ROB_TEXT:
        st[key(f"risk_of_bias.{k}")] = str(r.get(k) or "")
    st[key("risk_of_bias.overall")] = r.get("overall", "")
    st[key("risk_of_bias.overrides.overall")] = (r.get("overrides") or {}).get("overall", "")
    for dom, j in (r.get("domains") or {}).items():
        st[key(f"risk_of_bias.domains.{dom}")] = j
        st[key(f"risk_of_bias.overrides.{dom}")] = (r.get("overrides") or {}).get(dom, "")
    for dom, answers in (r.get("answers") or {}).items():
        for q, a in (answers or {}).items():
            st[key(f"risk_of_bias.answers.{dom}.{q}")] = a
    return st


# --- state -> study dict ---------------------------------------------------------------------------

_INT = re.compile(r"^[+-]?\d+$")


def parse_number(text: str):
    """'1200' -> 1200, '-0.05' -> -0.05, '' -> None; anything else raises ValueError with a message."""
    text = str(text).strip().replace("\u2212", "-")
    if not text:
        return None
    if _INT.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a number (use a point for decimals, e.g. -0.05)") from None


def _value(f: Field, raw):
    if f.kind == "bool":
        return True if raw else None
    if f.kind == "tristate":
        return {"yes": True, "no": False}.get(raw)
    if f.kind == "date":
        return raw or None
    if f.kind == "number":
        return parse_number(raw or "")
    text = str(raw or "").strip()
    if f.kind == "lines":
        return [x.strip() for x in text.splitlines() if x.strip()] or None
    if f.kind == "csv":
        return [x.strip() for x in text.split(",") if x.strip()] or None
    return text or None


def _put(obj: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        if not isinstance(obj.get(p), dict):
            if value is None:
                return
            obj[p] = {}
        obj = obj[p]
    if value is None:
        obj.pop(parts[-1], None)
    else:
        obj[parts[-1]] = value


def _apply(target: dict, fields: list[Field], st: dict, prefix: str, errors: dict) -> None:
    for f in fields:
        name = full(prefix, f.name)
        try:
            v = _value(f, st.get(key(name)))
            if f.kind == "bool" and v is None and _get(target, f.name) is False:
                v = False  # an explicit 'false' in the file stays
            _put(target, f.name, v)
        except ValueError as exc:
            errors[name] = str(exc)
    for k in [k for k, v in target.items() if isinstance(v, dict) and not v and k in ("subgroup", "value")]:
        del target[k]


def _rob(st: dict, base: dict | None) -> dict | None:
    tool = st.get(key("risk_of_bias.tool")) or ""
    if not tool:
        return None
    out = copy.deepcopy(base) if base and base.get("tool") == tool else {}
    out["tool"] = tool
    for k in ROB_TEXT:
        _put(out, k, str(st.get(key(f"risk_of_bias.{k}")) or "").strip() or None)
    if tool in rob.TOOLS:
        answers, domains, overrides = {}, {}, {}
        for d in rob.tool_spec(tool)["domains"]:
            dom = d["id"]
            a = {q["id"]: st.get(key(f"risk_of_bias.answers.{dom}.{q['id']}")) for q in d["questions"]}
            a = {q: v for q, v in a.items() if v}
            a = {q["id"]: a[q["id"]] for q in rob.open_questions(tool, dom, a) if q["id"] in a}
            if a:
                answers[dom] = a
            chosen = st.get(key(f"risk_of_bias.domains.{dom}")) or rob.propose_domain(tool, dom, a).judgement
            if chosen:
                domains[dom] = chosen
            reason = str(st.get(key(f"risk_of_bias.overrides.{dom}")) or "").strip()
            if reason:
                overrides[dom] = reason
        overall = st.get(key("risk_of_bias.overall")) or rob.propose_overall(tool, domains).judgement
        reason = str(st.get(key("risk_of_bias.overrides.overall")) or "").strip()
        if reason:
            overrides["overall"] = reason
        for k, v in (("answers", answers), ("domains", domains), ("overrides", overrides)):
            _put(out, k, v or None)
    else:
        overall = st.get(key("risk_of_bias.overall"))
    _put(out, "overall", overall or None)
    return out


def from_state(st: dict, base: dict | None = None) -> tuple[dict, dict[str, str]]:
    """The study dict the widgets describe, on top of ``base`` (the file being edited), and input
    errors by field (text where a number was expected)."""
    study, errors = copy.deepcopy(base or {}), {}
    for sec, fields in SECTIONS.items():
        target = study if not sec else study.setdefault(sec, {})
        _apply(target, fields, st, sec, errors)
        if sec in ("population", "evidence_quality") and not target:
            del study[sec]  # optional; programme, design and coding are required (problems point inside)
    for name, fields in LISTS.items():
        old = study.get(name) or []
        items = []
        for i in range(int(st.get(COUNT[name], len(old)))):
            item = copy.deepcopy(old[i]) if i < len(old) else {}
            _apply(item, fields, st, f"{name}[{i}]", errors)
            if name == "effects":
                form = st.get(key(f"effects[{i}].reported.form")) or "coefficient"
                rep = {"form": "coefficient" if form == DIRECTION_ONLY else form}
                for k in reported_fields(form, st, f"effects[{i}]"):
                    f = REPORTED[k]
                    try:
                        _put(rep, k, _value(f, st.get(key(f"effects[{i}].{f.name}"))))
                    except ValueError as exc:
                        errors[f"effects[{i}].{f.name}"] = str(exc)
                item["reported"] = rep
            items.append(item)
        if items or name in study:
            study[name] = items
    _put(study, "risk_of_bias", _rob(st, study.get("risk_of_bias")))
    return study, errors


def visible_fields(st: dict) -> set[str]:
    """Every field name the form shows a widget for (problems elsewhere are listed on their own)."""
    out = {full(b, f.name) for b, fs in SECTIONS.items() for f in fs}
    for name, fields in LISTS.items():
        for i in range(int(st.get(COUNT[name], 0))):
            out |= {f"{name}[{i}].{f.name}" for f in fields}
            if name == "effects":
                form = st.get(key(f"effects[{i}].reported.form")) or "coefficient"
                out |= {f"effects[{i}].reported.{k}" for k in reported_fields(form, st, f"effects[{i}]")}
                out.add(f"effects[{i}].reported.form")
    out |= {f"risk_of_bias.{k}" for k in ("tool", "overall", *ROB_TEXT)}
    if (tool := st.get(key("risk_of_bias.tool"))) in rob.TOOLS:
        out |= {f"risk_of_bias.domains.{d['id']}" for d in rob.tool_spec(tool)["domains"]}
    return out


# --- session-state keys of the coding page (besides the field widgets) -----------------------------

START_KIND = "coding:kind"  # radio: what the draft starts from (doi, bibtex, ris, id)
START_TEXT = "coding:start_text"  # the DOI, entry or id
START_CODER = "coding:coder"  # who codes
START_BUTTON = "coding:start"
SAVE_BUTTON = "coding:save"
ROB_SELECTION = "coding:rob_selection"  # studies in the risk-of-bias plots
ROB_WEIGHTED = "coding:rob_weighted"  # weight the summary plot by sample size
STATE_BASE = "coding:base"  # the study dict the draft started from (the parsed file, or a new skeleton)
STATE_ORIGINAL = "coding:original"  # the file's text when editing an existing study, else None
STATE_DUPLICATES = "coding:duplicates"  # likely duplicates found when the draft was started
STATE_SAVED = "coding:saved"  # the path last written
SECOND_CODER = "coding:second_coder"  # checkbox: save as an independent second coding


def ids(st: dict, name: str) -> list[str]:
    """The ids typed for the arms (or sources) so far: the choices of a ``ref:`` field."""
    return [v for i in range(int(st.get(COUNT[name], 0))) if (v := str(st.get(key(f"{name}[{i}].id")) or "").strip())]


def add_button(name: str) -> str:  # the key of a list's "add" button
    return f"coding:add:{name}"


def remove_button(name: str) -> str:  # the key of a list's "remove last" button
    return f"coding:remove:{name}"


def new_item(name: str, st: dict) -> dict:
    """Widget state for one more arm, source or effect (ids and references prefilled)."""
    i = int(st.get(COUNT[name], 0))
    out = {COUNT[name]: i + 1}
    if name == "interventions":
        out[key(f"interventions[{i}].id")] = f"arm{i + 1}" if i else "arm"
    elif name == "sources":
        out[key(f"sources[{i}].id")] = f"source{i + 1}" if i else "paper"
    else:
        out[key(f"effects[{i}].id")] = f"effect{i + 1}"
        out[key(f"effects[{i}].intervention")] = st.get(key("interventions[0].id"), "")
        out[key(f"effects[{i}].provenance.source")] = st.get(key("sources[0].id"), "")
        out[key(f"effects[{i}].reported.form")] = "coefficient"
    return out
