"""Read a study file keeping the line of every key path, so problems point at the right line.

The document is composed once with libyaml (``CSafeLoader``, pure-Python fallback) and the same
node tree gives both the data and the line map; no second parse. ``line_of(path)`` returns the
line of the deepest part of ``path`` that exists (a missing field points at its parent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # libyaml not compiled in
    _Loader = yaml.SafeLoader


@dataclass
class LoadedFile:
    path: Path
    data: object = None
    lines: dict = field(default_factory=dict)  # path tuple -> 1-based line
    error: tuple[int, str] | None = None  # (line, message) when the YAML does not parse
    duplicate_keys: list = field(default_factory=list)  # (path tuple, line) of repeated keys

    def line_of(self, path: tuple) -> int:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def _walk(node, path: tuple, lines: dict, dups: list | None = None) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            sub = path + (key,)
            if sub in lines and dups is not None:  # PyYAML silently keeps the last value
                dups.append((sub, key_node.start_mark.line + 1))
            lines.setdefault(sub, key_node.start_mark.line + 1)
            _walk(value_node, sub, lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = path + (i,)
            lines.setdefault(sub, item.start_mark.line + 1)
            _walk(item, sub, lines, dups)


def loads(text: str, path: Path | str = "<string>") -> LoadedFile:
    """Parse YAML text into data plus a line map; a syntax error becomes ``error=(line, message)``."""
    result = LoadedFile(Path(path))
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            result.error = (1, "the file is empty")
            return result
        result.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        msg = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        result.error = (line, f"invalid YAML: {msg}")
        return result
    except yaml.YAMLError as exc:
        result.error = (1, f"invalid YAML: {exc}")
        return result
    finally:
        loader.dispose()
    result.lines[()] = node.start_mark.line + 1
    _walk(node, (), result.lines, result.duplicate_keys)
    return result


def load(path: Path | str) -> LoadedFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        out = LoadedFile(path)
        out.error = (1, f"not UTF-8 text: {exc.reason}")
        return out
    return loads(text, path)
