"""The data flow is one-way: files -> records -> catalogue -> analysis -> synthesis -> summaries/views.

Reads every module's imports (``ast``, nothing is imported) and fails on an import against the flow
(a backwards edge between stages) or a cycle between packages. ``docs/architecture.md`` describes the
stages; ``python -m pytest tests/test_architecture.py`` checks them.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "evidence"

#: Stage of each package (and of the modules at the package root). A module may import its own stage
#: and earlier ones, never a later one. ``views`` and ``cli`` are both last and must not import each other.
STAGES = {
    "foundation": 0,  # config, errors, taxonomy, schema, effect sizes, reported -> yi/vi, direction
    "ingest": 1,      # study files -> validated records
    "catalog": 2,     # records -> catalogue; queries
    "coding": 2,      # coding in the app: drafts checked by ingest, previews of what the build derives
    "meta": 3,        # analysis engines (exact, frequentist, pymc)
    "synthesis": 4,   # which effects pool, answers, gap map, certainty, wording, chart specs
    "summary": 5,     # evidence summaries (Word, PDF, Excel, ...)
    "views": 6,       # Streamlit code
    "cli": 6,         # the command line
}
PEERS_APART = {("views", "cli"), ("cli", "views")}


def package_of(module: str) -> str:
    if module == "evidence.__main__":  # ``python -m evidence`` is the command line
        return "cli"
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in STAGES:
        return parts[1]
    return "foundation"


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = path
    return out


def imports_of(path: Path, name: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("evidence")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the module's package
                base = name.split(".")[: -node.level] if not path.name == "__init__.py" else name.split(".")[: len(name.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("evidence"):
                found.add(mod)
                found |= {f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in MODULES}
    return found


MODULES = modules()


def edges() -> list[tuple[str, str, str]]:
    out = []
    for name, path in MODULES.items():
        for target in imports_of(path, name):
            out.append((name, target, str(path.relative_to(ROOT.parent))))
    return out


def test_no_import_against_the_flow():
    backwards = []
    for src, dst, where in edges():
        a, b = package_of(src), package_of(dst)
        if a == b:
            continue
        if STAGES[b] > STAGES[a] or (a, b) in PEERS_APART:
            backwards.append(f"{where}: {src} ({a}, stage {STAGES[a]}) imports {dst} ({b}, stage {STAGES[b]})")
    assert not backwards, "imports against the data flow:\n" + "\n".join(backwards)


def test_no_cycle_between_packages():
    graph = defaultdict(set)
    for src, dst, _ in edges():
        a, b = package_of(src), package_of(dst)
        if a != b:
            graph[a].add(b)
    seen, stack, cycles = set(), [], []

    def visit(n):
        if n in stack:
            cycles.append(" -> ".join(stack[stack.index(n):] + [n]))
            return
        if n in seen:
            return
        seen.add(n)
        stack.append(n)
        for m in sorted(graph[n]):
            visit(m)
        stack.pop()

    for n in sorted(graph):
        visit(n)
    assert not cycles, "package cycles: " + "; ".join(cycles)


def test_views_hold_only_streamlit_code():
    """Every module in evidence/views imports streamlit: logic without Streamlit belongs upstream."""
    lacking = [str(p.relative_to(ROOT.parent)) for n, p in MODULES.items()
               if n.startswith("evidence.views.") and n != "evidence.views.state" and "streamlit" not in p.read_text(encoding="utf-8")]
    assert not lacking, f"modules in views/ without Streamlit code: {lacking}"


@pytest.mark.parametrize("limit", [400])
def test_no_module_over_the_limit(limit):
    """A module over 400 lines must say why in its docstring ("Long because: ...")."""
    long = []
    for path in [*ROOT.rglob("*.py"), *ROOT.parent.joinpath("app_pages").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > limit and "Long because:" not in text[:3000]:
            long.append(f"{path.relative_to(ROOT.parent)} ({text.count(chr(10))} lines)")
    assert not long, f"modules over {limit} lines without a stated reason: {long}"
