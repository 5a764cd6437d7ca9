"""Study files written by the app as a careful researcher writes them: ruamel.yaml round-trip mode.

Editing an existing file keeps its comments, key order, flow style (``{form: coefficient, ...}``) and
quoting wherever a value did not change: the new values are merged *into* the parsed document rather
than dumping a fresh one, so the diff of a reviewed change shows only what the coder changed. A new file
gets the schema comment line and the key order of ``evidence.schema.Study``.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
from functools import lru_cache

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from evidence.errors import EvidenceError
from evidence.schema import Study

HEADER = "yaml-language-server: $schema=../schema/study.schema.json"


def _yaml(text: str | None = None) -> YAML:
    """A round-trip YAML with the sequence indentation ``text`` uses (``- `` under its key, or indented
    by two as in the hand-written fixtures); new files use the former, as the shipped studies do."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 110
    m = re.search(r"^( *)[^\s#-][^\n]*:[ \t]*\n( *)- ", text or "", re.M)
    if m and len(m.group(2)) > len(m.group(1)):
        y.indent(mapping=2, sequence=4, offset=2)
    else:
        y.indent(mapping=2, sequence=2, offset=0)
    return y


def parse(text: str) -> CommentedMap:
    """Parse a study file keeping its layout; a file that is not a YAML mapping is an error."""
    try:
        doc = _yaml().load(text)
    except Exception as exc:  # ruamel raises many parser/scanner error types
        raise EvidenceError(f"cannot read the study file as YAML: {exc}") from exc
    if not isinstance(doc, CommentedMap):
        raise EvidenceError("a study file must be a mapping of keys")
    return doc


@lru_cache(maxsize=16)
def _parsed(text: str) -> CommentedMap:
    return parse(text)


def plain(node):
    """A ruamel document as plain dicts, lists and scalars (what the form and validation work on)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, dt.datetime):
        return node
    if isinstance(node, dt.date):
        return dt.date(node.year, node.month, node.day)
    return str(node)


def _same(a, b) -> bool:
    return plain(a) == plain(b) and type(plain(a)) is type(plain(b))


def _keyed(items) -> bool:
    return isinstance(items, list) and all(isinstance(x, dict) and "id" in x for x in items)


def merge(target, new, order: list[str] | None = None):
    """``new`` merged into ``target`` (a ruamel node): unchanged values keep their node (comments,
    style), changed scalars are replaced, missing keys removed, list items with ids matched by id;
    a new key goes where ``order`` (the schema's key order, at the top level) puts it."""
    if isinstance(target, CommentedMap) and isinstance(new, dict):
        for k in [k for k in target if k not in new]:
            del target[k]
        for k, v in new.items():
            if k in target:
                target[k] = merge(target[k], v)
            elif order and k in order:
                before = [x for x in target if x in order and order.index(x) < order.index(k)]
                target.insert(list(target).index(before[-1]) + 1 if before else 0, k, _fresh(v))
            else:
                target[k] = _fresh(v)
        return target
    if isinstance(target, CommentedSeq) and isinstance(new, list):
        if _keyed(list(target)) and _keyed(new):
            old = {x["id"]: x for x in target}
            items = [merge(old[x["id"]], x) if x["id"] in old else _fresh(x) for x in new]
        else:
            items = [merge(target[i], x) if i < len(target) else _fresh(x) for i, x in enumerate(new)]
        if [plain(x) for x in target] != [plain(x) for x in items]:
            del target[len(items):]
            for i, x in enumerate(items):
                if i < len(target):
                    target[i] = x
                else:
                    target.append(x)
        return target
    return target if _same(target, new) else _fresh(new)


def _fresh(value):
    """A new node for a value not in the file: block style, schema key order is the caller's."""
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _fresh(v)
        return m
    if isinstance(value, list):
        s = CommentedSeq()
        s.extend(_fresh(v) for v in value)
        return s
    return value


def _ordered(study: dict) -> dict:
    """Top-level keys in the schema's order (a new file reads like the documented example)."""
    order = list(Study.model_fields)
    return dict(sorted(study.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def _text(doc, y: YAML) -> str:
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


def _spans(doc: CommentedMap, n_lines: int) -> dict:
    """Line spans of each top-level key and of each item of a top-level block list:
    ``{key: (start, end, {item_index: (start, end)})}`` (0-based, end exclusive)."""
    keys = list(doc)
    starts = [doc.lc.key(k)[0] for k in keys] + [n_lines]
    out = {}
    for i, k in enumerate(keys):
        start, end, items = starts[i], starts[i + 1], {}
        v = doc[k]
        if isinstance(v, CommentedSeq) and len(v) and not v.fa.flow_style():
            lines = [v.lc.item(j)[0] for j in range(len(v))] + [end]
            items = {j: (lines[j], lines[j + 1]) for j in range(len(v))}
        out[k] = (start, end, items)
    return out


def _scan_spans(doc: CommentedMap, lines: list[str], dash: int) -> dict | None:
    """The spans of :func:`_spans` for text ruamel just emitted from ``doc``, found by scanning lines
    (a top-level key starts in column 0; an item of a block list with ``- `` at column ``dash``):
    saves a second parse. None when the scan does not match the document (the caller then parses)."""
    starts = [i for i, ln in enumerate(lines) if ln[:1] not in ("", " ", "#", "-", "\n")]
    keys = list(doc)
    if len(starts) != len(keys):
        return None
    starts.append(len(lines))
    out = {}
    for i, k in enumerate(keys):
        start, end, items = starts[i], starts[i + 1], {}
        v = doc[k]
        if isinstance(v, CommentedSeq) and len(v) and not v.fa.flow_style():
            marks = [j for j in range(start + 1, end) if lines[j].startswith(" " * dash + "- ")]
            if len(marks) != len(v):
                return None
            marks.append(end)
            items = {j: (marks[j], marks[j + 1]) for j in range(len(v))}
        out[k] = (start, end, items)
    return out


def _splice(original: str, old: CommentedMap, new: CommentedMap, new_text: str, y: YAML) -> str:
    """``new_text`` with every top-level block (and every list item) whose value did not change copied
    verbatim from ``original``: ruamel re-flows long plain scalars it re-emits, so only the parts the
    coder changed may change layout."""
    a, b = original.splitlines(keepends=True), new_text.splitlines(keepends=True)
    sa = _spans(old, len(a))
    sb = _scan_spans(new, b, y.sequence_dash_offset)
    if sb is None:
        new = _yaml(original).load(new_text)
        sb = _spans(new, len(b))
    out = a[:min((s for s, _, _ in sa.values()), default=len(a))]  # the header comment
    for k, (start, end, items) in sb.items():
        if k in sa and plain(old[k]) == plain(new[k]):
            out += a[sa[k][0]:sa[k][1]]
        elif k in sa and items and sa[k][2] and _keyed(list(old[k])) and _keyed(list(new[k])):
            old_items = {x["id"]: (j, x) for j, x in enumerate(old[k])}
            first = min(s for s, _ in items.values())
            out += b[start:first]
            for j, x in enumerate(new[k]):
                hit = old_items.get(x["id"])
                if hit and plain(hit[1]) == plain(x):
                    out += a[slice(*sa[k][2][hit[0]])]
                else:
                    out += b[slice(*items[j])]
        else:
            out += b[start:end]
    return "".join(out)


def dump(study: dict, original: str | None = None) -> str:
    """The text of the study file: ``original`` edited in place (unchanged parts byte for byte), or a
    new file with the schema header."""
    if original:
        y = _yaml(original)
        old = _parsed(original)  # cached and never mutated: the merge works on a copy
        new = merge(copy.deepcopy(old), study, list(Study.model_fields))
        return _splice(original, old, new, _text(new, y), y)
    doc = _fresh(_ordered(study))
    doc.yaml_set_start_comment(HEADER)
    return _text(doc, _yaml())
