"""Packages depend one way: each package under closeloop/ imports only the packages below it.

Every import counts — at the top of a module or inside a function — except those under
`if TYPE_CHECKING:` (they never run). The order is the picture at the top of docs/architecture.md;
the list below must be the same, so that changing one without the other fails here too.
`closeloop/api.py`, `urls.py`, `settings.py`, `wsgi.py` and `__main__.py` are the composition root
and may import anything; no package imports them. `closeloop/env.py` (the settings' environment
helpers, importing nothing of ours) may be imported from anywhere.

A dotted path in a string ("closeloop.handling.guards.…", imported later with import_string) is an
import too. Only the complaint lifecycle table names functions of higher packages that way (the
services that perform a transition, its guards and what follows it: one row says it all).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "closeloop"

# Bottom → top.
LAYERS = [
    "core",
    "calendar",
    "directory",
    "authz",
    "knowledge",
    "notifications",
    "sso",
    "accounts",
    "sla",
    "complaints",
    "macros",
    "handling",
    "mailin",
    "followup",
    "serviceorders",
    "defects",
    "improvement",
    "insight",
    "triage",
    "imports",
    "portal",
    "demo",
    "integrations",
    "cli",
]
COMPOSITION_ROOT = {"api", "urls", "settings", "wsgi", "__main__"}
NAMES_UPWARD = {"closeloop/complaints/lifecycle.py"}
ANYWHERE = {"env"}


def _packages() -> set[str]:
    return {p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").exists()}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_modules(tree: ast.Module, module: str, is_package: bool) -> list[tuple[str, int]]:
    """(dotted name, line) of every import that can run, with relative imports made absolute. For
    `from a import b` both `a` and `a.b` are named: `b` may be a module."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.orelse:
                    visit_statement(statement)
                continue
            visit_statement(child)

    def visit_statement(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((name, node.lineno))
            found.extend((f"{name}.{alias.name}", node.lineno) for alias in node.names)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.orelse:
                visit_statement(statement)
            return
        visit(node)

    visit(tree)
    return found


def package_imports() -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) → where ("closeloop/x/y.py:12")."""
    packages = _packages()
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(ROOT)
        parts = list(relative.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if len(parts) < 2 or parts[1] not in packages:
            continue  # the composition root
        source = parts[1]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line in _imported_modules(tree, ".".join(parts), is_package):
            target = name.split(".")
            if len(target) < 2 or target[0] != "closeloop" or target[1] == source:
                continue
            if target[1] in packages or target[1] in COMPOSITION_ROOT:
                edges[(source, target[1])].append(f"{relative}:{line}")
    return edges


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def dotted_path_strings() -> dict[tuple[str, str], list[str]]:
    """(package, package named) → where, for string constants (docstrings aside) naming
    `closeloop.<other package>.<something>`."""
    packages = _packages()
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if len(relative.parts) < 3 or relative.parts[1] not in packages or "migrations" in relative.parts:
            continue
        source = relative.parts[1]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                for match in re.finditer(r"\bcloseloop\.(\w+)\.\w", node.value):
                    if match.group(1) in packages and match.group(1) != source:
                        edges[(source, match.group(1))].append(f"{relative}:{node.lineno}")
    return edges


def _cycle(edges: set[tuple[str, str]]) -> list[str]:
    """One cycle of the graph, as the packages along it, or [] when there is none."""
    graph: dict[str, list[str]] = defaultdict(list)
    for source, target in sorted(edges):
        graph[source].append(target)
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def walk(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return []


def documented_layers() -> list[str]:
    """The packages in the picture at the top of docs/architecture.md, bottom → top: each row of the
    picture starts with `│ <package>` and the picture is drawn top-down."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    picture = text.split("```", 2)[1]
    rows = [m.group(1) for line in picture.splitlines() if (m := re.match(r"\s*│\s+([a-z_]+)\s{2,}", line))]
    return list(reversed(rows))


def test_every_package_has_a_layer() -> None:
    assert sorted(_packages()) == sorted(LAYERS)


def test_the_documented_order_is_the_tested_one() -> None:
    assert documented_layers() == LAYERS


def test_no_package_imports_the_composition_root() -> None:
    wrong = {edge: where for edge, where in package_imports().items() if edge[1] in COMPOSITION_ROOT}
    assert wrong == {}


def test_no_import_cycle_between_packages() -> None:
    edges = {edge for edge in package_imports() if edge[1] in LAYERS}
    assert _cycle(edges) == []


def test_packages_import_only_packages_below_them() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = {
        f"{source} → {target}": sorted(set(where))
        for (source, target), where in package_imports().items()
        if target in rank and source in rank and rank[target] > rank[source]
    }
    assert upward == {}


def test_dotted_paths_name_only_packages_below_except_in_the_lifecycle_table() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = {
        f"{source} → {target}": sorted({w for w in where if w.split(":")[0] not in NAMES_UPWARD})
        for (source, target), where in dotted_path_strings().items()
        if rank[target] > rank[source]
    }
    assert {edge: where for edge, where in upward.items() if where} == {}


def test_the_checker_sees_lazy_imports_and_skips_type_checking_ones() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from closeloop.insight.models import Report\n"
        "def f():\n"
        "    from closeloop.handling.models import Task\n"
        "    from . import models\n"
    )
    names = {name for name, _line in _imported_modules(tree, "closeloop.complaints.selectors", False)}
    assert "closeloop.handling.models.Task" in names
    assert "closeloop.complaints.models" in names
    assert not any(name.startswith("closeloop.insight") for name in names)
    assert _cycle({("a", "b"), ("b", "c"), ("c", "a")}) == ["a", "b", "c", "a"]
    assert _cycle({("a", "b"), ("b", "c")}) == []
