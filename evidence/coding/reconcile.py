"""Two independent codings of one study -> every disagreement, agreement statistics, the reconciled file.

Fields are compared leaf by leaf; list items (arms, sources, effects) are matched by their ``id`` so
that a reordered list is not a disagreement, and an item only one coder has is one disagreement.
``coding`` (who coded, when) is not compared: it differs by design.

Agreement is reported over the *categorical* fields, the ones where chance agreement is meaningful:
the design, the risk-of-bias judgements (overall and per domain) and each effect's direction (the
direction stated in words, else the sign of the estimate). Percent agreement and Cohen's kappa,
kappa = (p_o - p_e) / (1 - p_e) with p_e = sum over categories of the product of the two coders'
marginal proportions (Cohen 1960), are computed over the items both coders coded; kappa is undefined
(None) when p_e = 1 (both coders used one and the same category throughout).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field

from evidence.errors import EvidenceError

SKIP = ("coding",)


@dataclass(frozen=True)
class Disagreement:
    field: str  # 'effects[work].reported.se' (items by id)
    first: object
    second: object
    first_quote: str | None = None
    second_quote: str | None = None
    categorical: bool = False


@dataclass
class Comparison:
    first_coder: str
    second_coder: str
    disagreements: list[Disagreement] = field(default_factory=list)
    categorical: list[tuple[str, object, object]] = field(default_factory=list)  # (field, first, second)

    @property
    def paired(self) -> list[tuple[str, object, object]]:
        return [c for c in self.categorical if c[1] is not None and c[2] is not None]

    @property
    def percent_agreement(self) -> float | None:
        pairs = self.paired
        return 100.0 * sum(a == b for _, a, b in pairs) / len(pairs) if pairs else None

    @property
    def kappa(self) -> float | None:
        return cohen_kappa([a for _, a, _ in self.paired], [b for _, _, b in self.paired])


def cohen_kappa(first: list, second: list) -> float | None:
    """Cohen's kappa of two coders' labels for the same items (None if undefined)."""
    if len(first) != len(second):
        raise EvidenceError("kappa needs the same items from both coders")
    n = len(first)
    if n == 0:
        return None
    po = sum(a == b for a, b in zip(first, second)) / n
    ca, cb = Counter(first), Counter(second)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / n**2
    return None if pe == 1 else (po - pe) / (1 - pe)


def _direction(reported: dict) -> str | None:
    if reported.get("direction"):
        return reported["direction"]
    est = reported.get("estimate")
    if not isinstance(est, (int, float)) or isinstance(est, bool):
        return None
    if reported.get("form") in ("odds_ratio", "risk_ratio") or reported.get("unit") in ("odds_ratio", "risk_ratio"):
        est = est - 1.0
    return "decrease" if est < 0 else "increase" if est > 0 else "no_clear_change"


def categorical_items(study: dict) -> dict[str, object]:
    """The categorical fields of one coding: design, risk-of-bias judgements, a clearinghouse's quality
    rating (its own item: agreeing on a CLEAR rating is not agreeing on a risk of bias), effect directions."""
    out = {"design.type": (study.get("design") or {}).get("type")}
    rob = study.get("risk_of_bias") or {}
    out["risk_of_bias.overall"] = rob.get("overall")
    for dom, j in (rob.get("domains") or {}).items():
        out[f"risk_of_bias.domains.{dom}"] = j
    out["evidence_quality.rating"] = (study.get("evidence_quality") or {}).get("rating")
    for e in study.get("effects") or []:
        out[f"effects[{e.get('id')}].direction"] = _direction(e.get("reported") or {})
    return out


def _keyed(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) and "id" in x for x in v)


def _leaves(obj, path: str = "") -> dict[str, object]:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not path and k in SKIP:
                continue
            out.update(_leaves(v, f"{path}.{k}" if path else str(k)))
        return out or {path: {}}
    if _keyed(obj):
        out = {}
        for x in obj:
            out.update(_leaves(x, f"{path}[{x['id']}]"))
        return out
    return {path: obj}


def _quote(study: dict, name: str) -> str | None:
    m = re.match(r"effects\[([^\]]+)\]", name)
    if m:
        e = next((e for e in study.get("effects") or [] if e.get("id") == m.group(1)), {})
        return (e.get("provenance") or {}).get("quote")
    if name.startswith("risk_of_bias"):
        return (study.get("risk_of_bias") or {}).get("quote")
    if name.startswith("interventions["):
        m = re.match(r"interventions\[([^\]]+)\]", name)
        iv = next((x for x in study.get("interventions") or [] if x.get("id") == m.group(1)), {})
        return (iv.get("value") or {}).get("quote")
    return None


def compare(first: dict, second: dict) -> Comparison:
    """Every field on which two codings of the same study differ, with both values and quotes."""
    if first.get("id") != second.get("id"):
        raise EvidenceError(f"not the same study: '{first.get('id')}' and '{second.get('id')}'")
    a, b = _leaves(first), _leaves(second)
    cat_a, cat_b = categorical_items(first), categorical_items(second)
    cats = sorted(set(cat_a) | set(cat_b))
    out = Comparison(str((first.get("coding") or {}).get("coder")), str((second.get("coding") or {}).get("coder")))
    out.categorical = [(k, cat_a.get(k), cat_b.get(k)) for k in cats]
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            out.disagreements.append(Disagreement(k, a.get(k), b.get(k), _quote(first, k), _quote(second, k),
                                                  k in cat_a or k in cat_b))
    return out


_STEP = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


def _set(study: dict, name: str, value) -> None:
    """Set the leaf ``name`` (ids in brackets) to ``value`` (None removes it), creating what is missing."""
    steps = [(m.group(1), m.group(2)) for m in _STEP.finditer(name)]
    obj = study
    for i, (k, item_id) in enumerate(steps):
        last = i == len(steps) - 1
        if item_id is not None:  # obj is a list of items with ids
            hit = next((x for x in obj if x.get("id") == item_id), None)
            if hit is None:
                hit = {"id": item_id}
                obj.append(hit)
            obj = hit
            continue
        nxt = steps[i + 1] if not last else None
        if last:
            if value is None:
                obj.pop(k, None)
            else:
                obj[k] = copy.deepcopy(value)
        else:
            obj = obj.setdefault(k, [] if nxt[1] is not None else {})


def _drop_item(study: dict, name: str) -> None:
    m = re.match(r"(\w+)\[([^\]]+)\]", name)
    if m and isinstance(study.get(m.group(1)), list):
        study[m.group(1)] = [x for x in study[m.group(1)] if x.get("id") != m.group(2)]


def reconcile(first: dict, second: dict, choices: dict[str, str], by: str, note: str | None = None) -> dict:
    """The reconciled study: the first coding with each disagreement resolved as ``choices[field]``
    says ("first" or "second"); every disagreement must have a choice. Records both coders and who
    resolved what in ``coding``."""
    cmp = compare(first, second)
    missing = [d.field for d in cmp.disagreements if d.field not in choices]
    if missing:
        raise EvidenceError(f"{len(missing)} disagreement(s) without a choice: {', '.join(missing[:8])}")
    bad = {k: v for k, v in choices.items() if v not in ("first", "second")}
    if bad:
        raise EvidenceError(f"a choice is 'first' or 'second', not: {bad}")
    if not by:
        raise EvidenceError("say who resolved the disagreements")
    out = copy.deepcopy(first)
    resolutions = []
    for d in cmp.disagreements:
        kept = choices[d.field]
        if kept == "second":
            if d.second is None and _in_item(d.field) and not _has_item(second, d.field):
                _drop_item(out, d.field)  # the second coder has no such arm, source or effect at all
            else:
                _set(out, d.field, d.second)
        resolutions.append({"field": d.field, "kept": kept, "by": by})
    if note and resolutions:
        resolutions[-1]["note"] = note
    coding = out.setdefault("coding", {})
    coding["second_coder"] = cmp.second_coder
    coding["reconciled"] = True
    coding["resolutions"] = resolutions
    return out


def _in_item(name: str) -> bool:
    return re.match(r"\w+\[[^\]]+\]", name) is not None


def _has_item(study: dict, name: str) -> bool:
    m = re.match(r"(\w+)\[([^\]]+)\]", name)
    return bool(m) and any(x.get("id") == m.group(2) for x in study.get(m.group(1)) or [])
