"""Task registry and difficulty axes: what a trial trains on, and how hard it is."""

from difficulty import (  # noqa: F401  (they register their tasks)
    builtin,
    glue,
    multiple_choice,
    qa,
    translation,
    xnli,
)
from difficulty.axes import AXES, Axis, apply_axis
from difficulty.tasks import TASKS, TaskDef, TaskError, get_task, register_task

__all__ = [
    "AXES",
    "TASKS",
    "Axis",
    "TaskDef",
    "TaskError",
    "apply_axis",
    "get_task",
    "register_task",
]
