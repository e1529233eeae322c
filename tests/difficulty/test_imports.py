"""The difficulty package has no import cycle, and its registries import light."""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
from graphlib import TopologicalSorter

import pytest

import difficulty
from tests.imports import light_import

MODULES = sorted(f"difficulty.{m.name}" for m in pkgutil.iter_modules(difficulty.__path__))


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone_in_a_fresh_interpreter(module):
    light_import(module)  # an import cycle fails for the module imported first


def module_imports(module: str) -> set[str]:
    """The difficulty modules `module` imports when it is imported (function bodies aside)."""
    tree = ast.parse(open(importlib.util.find_spec(module).origin).read())
    out = set()
    for node in tree.body:  # module level only; `if TYPE_CHECKING:` blocks are not run
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            subs = {f"{node.module}.{a.name}" for a in node.names}
            out |= (subs & set(MODULES)) or {node.module}
    return {m for m in out if m == "difficulty" or m in MODULES} - {module}


def test_the_module_level_imports_of_difficulty_have_no_cycle():
    graph = {m: module_imports(m) for m in ["difficulty", *MODULES]}
    TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle
    assert "difficulty.sources" in graph["difficulty.axes"]  # the graph is read, not empty


@pytest.mark.parametrize("module", ["difficulty", "difficulty.axes"])
def test_the_registries_import_without_torch_datasets_transformers_or_sacrebleu(module):
    assert light_import(module) == []


def test_named_tasks_are_registered_on_first_lookup():
    from difficulty import TASKS

    assert {"builtin/polarity-easy", "glue/rte", "triviaqa/rc", "flores/en-de"} <= set(TASKS)
