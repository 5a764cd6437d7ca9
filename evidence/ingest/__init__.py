"""Getting studies in: load YAML with line numbers, validate (structural + named rules), find
duplicates, scaffold new study files and import coding sheets.

Every problem is collected and reported as ``path:line: field: message (hint)`` so a researcher can
fix a whole file (or sheet) in one pass.

The names below are loaded on first use (PEP 562), not when the package is imported: the strict CSV
reader ``evidence.ingest.effect_table`` lives here too, and ``evidence meta --csv`` must not pay for the
validator's schema, rules and fuzzy matcher to read a table of effects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evidence.ingest.dedup import Candidate, find_duplicates
    from evidence.ingest.problems import Problem
    from evidence.ingest.validate import ValidationReport, validate_paths

_HOME = {"Candidate": "evidence.ingest.dedup", "find_duplicates": "evidence.ingest.dedup",
         "Problem": "evidence.ingest.problems", "ValidationReport": "evidence.ingest.validate",
         "validate_paths": "evidence.ingest.validate"}

__all__ = ["Candidate", "Problem", "ValidationReport", "find_duplicates", "validate_paths"]


def __getattr__(name: str):
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
