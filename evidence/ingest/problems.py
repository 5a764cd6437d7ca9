"""A validation problem: where (file, line, dotted field), what, and how to fix it.

Problems are values, not exceptions, so validation can collect every one of them and the CLI, the
sheet importer and the tests share one format: ``path:line: field: message (hint)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    path: str | Path
    line: int
    field: str
    message: str
    hint: str | None = None
    rule: str = ""
    severity: Severity = "error"

    def __str__(self) -> str:
        tail = f" ({self.hint})" if self.hint else ""
        return f"{self.path}:{self.line}: {self.field}: {self.message}{tail}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple:
        return (str(self.path), self.line, self.field, self.message)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


def field_name(path: tuple) -> str:
    """``("effects", 2, "reported", "se")`` -> ``"effects[2].reported.se"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"
