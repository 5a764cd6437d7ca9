"""A validation problem: where (file, line, dotted field), what, and how to fix it.

Problems are values, not exceptions, so validation can collect every one of them and the CLI, the
sheet importer and the tests share one format: ``path:line: field: message (hint)``.
"""

from __future__ import annotations

import re
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
        tail = f" ({_printable(self.hint)})" if self.hint else ""
        return f"{self.path}:{self.line}: {self.field}: {_printable(self.message)}{tail}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple:
        return (str(self.path), self.line, self.field, self.message)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_PLAIN_KEY = re.compile(r"^[^\s\[\]().:'\"]+$")


def _printable(text: str) -> str:
    """One line whatever the text holds: control characters and line breaks shown escaped."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], str(text))


def field_name(path: tuple) -> str:
    """``("effects", 2, "reported", "se")`` -> ``"effects[2].reported.se"``; a key with spaces,
    control characters or punctuation is shown quoted (``design['u\\tnit']``) so the field stays
    one token of ``path:line: field: message``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{str(part)!r}]"
    return out or "(file)"
