"""Getting studies in: load YAML with line numbers, validate (structural + named rules), find
duplicates, scaffold new study files and import coding sheets.

Every problem is collected and reported as ``path:line: field: message (hint)`` so a researcher can
fix a whole file (or sheet) in one pass.
"""

from evidence.ingest.dedup import Candidate, find_duplicates
from evidence.ingest.problems import Problem
from evidence.ingest.validate import ValidationReport, validate_paths

__all__ = ["Candidate", "Problem", "ValidationReport", "find_duplicates", "validate_paths"]
