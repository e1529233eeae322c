"""The package import graph: which project package may import which, and no cycles anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("orchestrator", "workers", "pruning", "difficulty", "results")
ML = ("torch", "transformers", "datasets", "peft", "sacrebleu", "ray")
# who may import whom (a package always imports itself)
ALLOWED = {
    "pruning": set(),
    "difficulty": set(),
    "results": {"difficulty"},
    "workers": {"pruning", "difficulty", "results"},
    "orchestrator": {"workers", "pruning", "difficulty", "results"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (module level and inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = {
    _module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
}


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_what_the_architecture_allows(package: str) -> None:
    for name, path in MODULES.items():
        if name.split(".")[0] != package:
            continue
        used = {i.split(".")[0] for i in _imports(path)} & set(PACKAGES)
        assert used <= ALLOWED[package] | {package}, f"{name} imports {used - ALLOWED[package]}"


def test_results_imports_no_ml_library() -> None:
    for name, path in MODULES.items():
        if name.startswith("results"):
            heavy = {i.split(".")[0] for i in _imports(path)} & set(ML)
            assert not heavy, f"{name} imports {heavy}"


def test_no_import_cycle_between_modules() -> None:
    """Imports between modules form a DAG; an import inside a function counts too (it is only
    a way of hiding a cycle). A module importing its own package's __init__ is left out: the
    __init__ re-exports its modules."""
    graph = {
        name: {
            t for t in _imports(path)
            if t in MODULES and t != name and not name.startswith(t + ".")
        }
        for name, path in MODULES.items()
    }  # fmt: skip
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycle = trail[trail.index(target) :] if target in trail else trail
                raise AssertionError(" -> ".join([*cycle, node, target]))
            if target not in state:
                visit(target, [*trail, node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
