"""Task registry and difficulty axes: what a trial trains on, and how hard it is.

Importing the package is light (no torch, transformers, datasets): the modules that register the
named tasks are imported on the first lookup, through `TASKS` or `get_task`.
"""

from difficulty.axes import AXES, Axis, apply_axis, register_axis
from difficulty.sources import get_task, registered_tasks
from difficulty.tasks import TaskDef, TaskError, register_task

__all__ = [
    "AXES",
    "TASKS",
    "Axis",
    "TaskDef",
    "TaskError",
    "apply_axis",
    "get_task",
    "register_axis",
    "register_task",
]


def __getattr__(name: str):
    if name == "TASKS":  # every named task, registered on first access
        return registered_tasks()
    raise AttributeError(f"module 'difficulty' has no attribute {name!r}")
