"""Property: whatever a study file holds, validation either accepts it or reports path:line
problems, and never raises; and whatever validate accepts, the catalogue build accepts.

Files are generated from the valid fixture by hypothesis: a random leaf or key path is replaced by
a hostile value (huge, tiny, non-finite, boolean, quoted, empty, control characters, nested), or
the YAML text itself is cut, duplicated or given random characters.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from evidence.catalog.build import build_catalog
from evidence.errors import BuildError
from evidence.ingest import validate_paths
from evidence.ingest.loader import load
from evidence.ingest.rules.base import INTERNAL

FIXTURE = Path(__file__).parent / "valid" / "fixture-cct-coded.yaml"
BASE = load(FIXTURE).data
TEXT = FIXTURE.read_text(encoding="utf-8")


def _paths(obj, loc=()):
    """Every key path of a nested dict/list, containers included."""
    if loc:
        yield loc
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, loc + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, loc + (i,))


PATHS = list(_paths(BASE))
LINE = re.compile(r"^.+\.yaml:\d+: .+: \S")

hostile = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=-1e-300, max_value=1e-300),
    st.text(max_size=30), st.text(alphabet="\u202e\u2066\x07\x00 -.:0123456789eE", max_size=12),
    st.sampled_from(["", " ", "1:30", "012", "0x1f", "yes", "no", ".inf", "1e-200", "n.s.", "2026-02-30", "-0"]),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _set(data, loc, value):
    target = data
    for part in loc[:-1]:
        target = target[part]
    target[loc[-1]] = value


@st.composite
def study_texts(draw):
    kind = draw(st.sampled_from(["value", "value", "value", "drop", "text"]))
    if kind == "text":  # damage the YAML text itself
        i = draw(st.integers(0, len(TEXT)))
        junk = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
            ["\n  ", ": ", "- ", "&a ", "*a", "{", "[", "'", '"', "\t", "\n---\n", "!!python/object:os.system ''"]))
        return TEXT[:i] + junk + TEXT[i:]
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        loc = draw(st.sampled_from(PATHS))
        if kind == "drop":
            parent = data
            try:
                for part in loc[:-1]:
                    parent = parent[part]
                del parent[loc[-1]]
            except (KeyError, IndexError, TypeError):
                pass
        else:
            try:
                _set(data, loc, draw(hostile))
            except (KeyError, IndexError, TypeError):
                pass
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _check(text: str, build: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "s"
        d.mkdir()
        path = d / "fixture-cct-coded.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        report = validate_paths([path])  # must not raise
        for p in report.problems:
            shown = str(p)  # path:line: field: message (hint), on one line
            assert shown.startswith(f"{path}:{p.line}: {p.field}: ") and LINE.match(shown) and "\n" not in shown, shown
            assert p.line >= 1 and p.rule and not p.message.startswith(INTERNAL), str(p)
        if build:
            if report.ok:
                build_catalog(d, Path(tmp) / "c.db", progress=False)  # validate accepted: build must too
            else:
                try:
                    build_catalog(d, Path(tmp) / "c.db", progress=False)
                except BuildError:
                    pass
                else:
                    raise AssertionError("build accepted what validate refused")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(study_texts())
def test_validation_never_raises_and_every_problem_has_a_line(text):
    _check(text, build=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(study_texts())
def test_whatever_validate_accepts_build_accepts(text):
    _check(text, build=True)
