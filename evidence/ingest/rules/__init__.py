"""The validation rules, by theme, registered explicitly in one registry (``REGISTRY``).

Modules: ``reading`` (file and YAML), ``values`` (number types, finite, 64-bit), ``structure``
(schema, ids, references inside a file), ``ranges`` (years, ages, sizes, unit limits), ``text``
(blank, long or control-character text, dates), ``terms`` (taxonomy, countries), ``statistics``
and ``variance`` (reported numbers), ``provenance`` (coding status, quotes), ``consistency``
(contradictions a file proves), ``plausibility`` (warnings), ``links`` (DOIs, URLs), ``tree``
(across files), ``sheet`` (coding sheets for ``evidence import``) and ``coding`` (double coding, guided risk of bias). Each imports ``base`` and at
most modules before it in this list, so importing this package registers every rule once, in order.
"""

from __future__ import annotations

from evidence.ingest.rules import (  # noqa: F401  # noqa: F401  # noqa: F401
    base,
    coding,
    consistency,
    links,
    plausibility,
    provenance,
    ranges,
    reading,
    sheet,
    statistics,
    structure,
    terms,
    text,
    tree,
    values,
    variance,
)
from evidence.ingest.rules.base import REGISTRY, Context, Rule, d, effects, get, items, num
from evidence.ingest.rules.provenance import match_number, quote_numbers
from evidence.ingest.rules.reading import READ_RULES
from evidence.ingest.rules.statistics import has_variance, numbers

#: The file-scope rules that check a study's data (what ``run_rules`` runs by default), by name.
RULES: dict[str, Rule] = {n: r for n, r in REGISTRY.of_scope("file").items()
                          if n not in READ_RULES and not n.startswith("sheet-")}


def run_rules(study, ctx: Context, names=None) -> list:
    """Run the study rules (or the named file rules) on one study; every problem is tagged with its rule."""
    rules = [REGISTRY[n] for n in names] if names is not None else list(RULES.values())
    return REGISTRY.run(rules, study, ctx)


def run_tree_rules(files, ctx: Context) -> list:
    """Run every tree-scope rule on the files validated together."""
    return REGISTRY.run(list(REGISTRY.of_scope("tree").values()), files, ctx)


__all__ = ["REGISTRY", "RULES", "READ_RULES", "Context", "Rule", "base", "d", "effects", "get", "has_variance",
           "items", "match_number", "num", "numbers", "quote_numbers", "run_rules", "run_tree_rules"]
