"""Read a study file keeping the line of every key path, so problems point at the right line.

The document is composed once with libyaml (``CSafeLoader``, pure-Python fallback) and the same
node tree gives both the data and the line map; no second parse. ``line_of(path)`` returns the
line of the deepest part of ``path`` that exists (a missing field points at its parent).

What the loader finds wrong is recorded as ``issues`` (kind, line, message, hint) and reported by
the reading rules (``evidence.ingest.rules.reading``); nothing here raises on bad input:

- the file is missing, not UTF-8, larger than ``MAX_BYTES``, or has the wrong extension;
- the YAML does not parse, is empty, nests deeper than ``MAX_DEPTH``, or holds a value YAML cannot
  construct (a calendar-invalid date such as 2026-02-30);
- anchors and aliases repeat more than ``MAX_ALIAS_NODES`` nodes (an alias bomb of 1.4 KB expands to
  a billion nodes; the expanded size is counted on the node graph, without expanding it).

``scalars`` keeps, for every plain scalar YAML 1.1 resolved to a non-string (int, float, bool,
timestamp), its text as written, so a rule can refuse what YAML 1.2 reads differently (``1:30``,
``012``, ``yes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # libyaml not compiled in
    _Loader = yaml.SafeLoader

#: Extensions a study file may have (one definition for validate and build; see ``study_files``).
STUDY_SUFFIX = ".yaml"
NEAR_SUFFIXES = (".yml", ".YAML", ".YML", ".Yaml", ".json")  # refused with a message, never skipped
MAX_BYTES = 2_000_000
MAX_DEPTH = 40
MAX_ALIAS_NODES = 1_000


@dataclass(frozen=True)
class Issue:
    kind: str  # "unreadable", "syntax", "aliases"
    line: int
    message: str
    hint: str | None = None
    field: str = "(file)"


@dataclass
class LoadedFile:
    path: Path
    data: object = None
    lines: dict = field(default_factory=dict)  # path tuple -> 1-based line
    issues: list[Issue] = field(default_factory=list)
    duplicate_keys: list = field(default_factory=list)  # (path tuple, line) of repeated keys
    scalars: dict = field(default_factory=dict)  # path tuple -> (YAML 1.1 tag, text as written)

    @property
    def error(self) -> tuple[int, str] | None:
        """(line, message) of the first problem that left no data, else None."""
        return (self.issues[0].line, self.issues[0].message) if self.issues and self.data is None else None

    def line_of(self, path: tuple) -> int:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


_NON_STR = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:timestamp"}


def _walk(node, path: tuple, out: LoadedFile, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _TooDeep(node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            sub = path + (key,)
            if sub in out.lines:  # PyYAML silently keeps the last value
                out.duplicate_keys.append((sub, key_node.start_mark.line + 1))
            out.lines.setdefault(sub, key_node.start_mark.line + 1)
            _walk(value_node, sub, out, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = path + (i,)
            out.lines.setdefault(sub, item.start_mark.line + 1)
            _walk(item, sub, out, depth + 1)
    elif isinstance(node, yaml.ScalarNode) and node.tag in _NON_STR and not node.style:  # plain (libyaml: "", PyYAML: None)
        out.scalars.setdefault(path, (node.tag.rsplit(":", 1)[1], node.value))


class _TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line


def expanded_size(root) -> tuple[int, int]:
    """(distinct nodes, nodes after expanding every alias), counted on the graph without expanding;
    a recursive alias counts as unbounded."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = ([n for kv in node.value for n in kv] if isinstance(node, yaml.MappingNode)
                    else node.value if isinstance(node, yaml.SequenceNode) else [])
        if done:
            on_path.discard(key)
            sizes[key] = min(1 + sum(sizes[id(c)] for c in children), 10 ** 12)
            continue
        if key in sizes:
            continue
        if key in on_path:
            return len(sizes), 10 ** 12  # recursive: &a [*a]
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return len(sizes), sizes[id(root)]


def loads(text: str, path: Path | str = "<string>") -> LoadedFile:
    """Parse YAML text into data plus a line map; anything wrong becomes an ``Issue``."""
    result = LoadedFile(Path(path))
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            result.issues.append(Issue("syntax", 1, "the file is empty"))
            return result
        distinct, expanded = expanded_size(node)
        if expanded - distinct > MAX_ALIAS_NODES:
            result.issues.append(Issue(
                "aliases", node.start_mark.line + 1,
                f"anchors and aliases would repeat {'an unbounded number of' if expanded >= 10 ** 12 else f'{expanded - distinct:,}'} "
                f"nodes (at most {MAX_ALIAS_NODES:,})", "write the values out instead of repeating them with *aliases"))
            return result
        result.lines[()] = node.start_mark.line + 1
        _walk(node, (), result)
        result.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        msg = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        result.issues.append(Issue("syntax", line, f"invalid YAML: {msg}"))
    except yaml.YAMLError as exc:
        result.issues.append(Issue("syntax", 1, f"invalid YAML: {exc}"))
    except _TooDeep as exc:
        result.issues.append(Issue("syntax", exc.line, f"the YAML nests deeper than {MAX_DEPTH} levels",
                                   "a study file is a few levels deep; check the indentation"))
    except RecursionError:
        result.issues.append(Issue("syntax", 1, "the YAML nests too deeply to read"))
    except (ValueError, OverflowError) as exc:  # e.g. a timestamp that is not a calendar date
        line, where = _bad_value(result)
        result.issues.append(Issue("syntax", line, f"a value cannot be read: {exc}",
                                   "dates are YYYY-MM-DD and must exist in the calendar", where))
    finally:
        loader.dispose()
    if result.data is None:
        result.lines, result.duplicate_keys, result.scalars = {}, [], {}
    return result


def _bad_value(result: LoadedFile) -> tuple[int, str]:
    """(line, field) of the first timestamp YAML could not construct (a date not in the calendar)."""
    import datetime as dt
    import re

    from evidence.ingest.problems import field_name

    for loc, (tag, text) in result.scalars.items():
        m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if tag == "timestamp" and m:
            try:
                dt.date(*map(int, m.groups()))
            except ValueError:
                return result.line_of(loc), field_name(loc)
    return 1, "(file)"


def load(path: Path | str) -> LoadedFile:
    """Read and parse one study file; a missing, oversized or non-UTF-8 file becomes an ``Issue``."""
    path = Path(path)
    out = LoadedFile(path)
    if not path.is_file():
        out.issues.append(Issue("unreadable", 1, "no such file" if not path.exists() else "not a file"))
        return out
    if path.stat().st_size > MAX_BYTES:
        out.issues.append(Issue("unreadable", 1, f"the file is larger than {MAX_BYTES // 1_000_000} MB",
                                "a study file is a few KB; is this the right file?"))
        return out
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        out.issues.append(Issue("unreadable", 1, "the file is UTF-16, not UTF-8", "save it as UTF-8"))
        return out
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.issues.append(Issue("unreadable", 1, f"not UTF-8 text: {exc.reason}", "save the file as UTF-8"))
        return out
    result = loads(text.removeprefix("\ufeff"), path)
    if path.suffix != STUDY_SUFFIX:
        result.issues.insert(0, Issue("unreadable", 1, f"a study file ends in {STUDY_SUFFIX}, not '{path.suffix}'",
                                      f"rename it to {path.stem}{STUDY_SUFFIX}"))
    return result


def study_files(directory: Path) -> list[Path]:
    """The files of a studies directory that validate and build read: ``*.yaml`` and the near
    misses (``.yml``, ``.YAML``, ...), which the reading rules then refuse with a message; sorted."""
    return sorted((p for p in Path(directory).iterdir()
                   if p.is_file() and (p.suffix == STUDY_SUFFIX or p.suffix in NEAR_SUFFIXES)),
                  key=lambda p: p.name)
