"""Resolving a spec's task reference: a registered name, GLUE's TSV files, local files, or an
lm-evaluation-harness task."""

from __future__ import annotations

import importlib
from typing import Any

from difficulty.files import file_task
from difficulty.glue import glue_dir_task
from difficulty.lm_eval_tasks import lm_eval_task
from difficulty.tasks import CLASSIFICATION, LM_EVAL, TASKS, TaskDef, TaskError

# The modules that register the named tasks. They import `datasets`, so they are imported on the
# first lookup of a task, not with the registry.
CATALOGUE = ("builtin", "factoids", "glue", "multiple_choice", "qa", "translation", "xnli")


def registered_tasks() -> dict[str, TaskDef]:
    """The task registry, with every task of the catalogue registered."""
    for module in CATALOGUE:
        importlib.import_module(f"difficulty.{module}")
    return TASKS


def get_task(ref: dict[str, Any]) -> TaskDef:
    """Resolve a task reference from a spec: a registered name, a local-file description, or an
    lm-eval task (`lm_eval`: its name; `lm_eval_file`: its YAML)."""
    if "lm_eval" in ref or "lm_eval_file" in ref:
        return lm_eval_task(ref)
    if "train" in ref:
        return glue_dir_task(ref) if ref.get("layout") == "glue" else file_task(ref)
    name = ref["name"]
    tasks = registered_tasks()
    if name not in tasks:
        raise TaskError(f"unknown task {name!r}; registered: {', '.join(sorted(tasks))}")
    return tasks[name]


def task_kind(ref: dict[str, Any]) -> str:
    """The kind of the task `ref` names, as `get_task(ref).kind`, without reading its files or
    lm-eval's index: a local or GLUE-folder task says it in its reference (none: classification),
    an lm-eval task is `lm_eval` (a moved sweep's `status` has neither at hand)."""
    if "lm_eval" in ref or "lm_eval_file" in ref:
        return LM_EVAL
    if "train" in ref:
        return ref.get("kind", CLASSIFICATION)
    return get_task(ref).kind
