"""lm-evaluation-harness tasks as junkdna tasks: `{lm_eval: <task or group>}` or a task YAML.

lm-eval owns such a task's data, prompts, few-shot draws and metrics; junkdna only resolves the
reference (the name is one lm-eval knows, the YAML exists), gives it a `TaskDef` of kind
`lm_eval` (human baseline by lm-eval task name, from `human_gap`) and lists the data files a
local YAML reads, whose content goes into the trial key. `lm_eval` is imported here only to
check a name, lazily: it is the optional extra `junkdna[lm-eval]`.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from difficulty.human_gap import lm_eval_human_baselines
from difficulty.tasks import LM_EVAL, TaskDef, TaskError

if TYPE_CHECKING:
    from datasets import Dataset

EXTRA = "pip install 'junkdna[lm-eval]'"
YAML_SUFFIXES = (".yaml", ".yml")


def is_yaml(reference: str) -> bool:
    """Whether an `lm_eval:` value names a task YAML file rather than a registered task."""
    return reference.endswith(YAML_SUFFIXES)


def require_lm_eval() -> None:
    """Raise TaskError (one line naming the extra) unless lm-evaluation-harness is installed."""
    if importlib.util.find_spec("lm_eval") is None:
        raise TaskError(f"lm-eval tasks need lm-evaluation-harness: {EXTRA}")


class _Tagged(yaml.SafeLoader):
    """A YAML loader that reads lm-eval's `!function` tags as plain strings."""


_Tagged.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def read_task_yaml(path: str) -> dict[str, Any]:
    """A task YAML as a dict (lm-eval's `!function` tags left as their text)."""
    return yaml.load(Path(path).read_text(), Loader=_Tagged) or {}


def data_files(path: str) -> list[Path]:
    """The local files a task YAML's `dataset_kwargs.data_files` names, relative to the YAML."""
    files = (read_task_yaml(path).get("dataset_kwargs") or {}).get("data_files") or []
    if isinstance(files, dict):
        files = [f for v in files.values() for f in ([v] if isinstance(v, str) else v)]
    elif isinstance(files, str):
        files = [files]
    return [Path(path).parent / f for f in files]


@cache
def task_manager(defaults: bool):
    """lm-eval's task index, once per process: of the tasks it ships (reading all their YAMLs
    takes 10-30 s; no download), or of none (a task YAML, which lm-eval loads by its path)."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_defaults=defaults)


def lm_eval_name(ref: dict[str, Any]) -> str:
    """The lm-eval task (or group) name a reference evaluates: the registered one, or the YAML's
    `task:`."""
    if "lm_eval_file" in ref:
        return str(read_task_yaml(ref["lm_eval_file"]).get("task", ""))
    return ref["lm_eval"]


def _no_rows() -> tuple[Dataset, Dataset]:
    raise TaskError("an lm-eval task's data is loaded by lm-eval, in the trial")


def lm_eval_task(ref: dict[str, Any]) -> TaskDef:
    """The TaskDef of `{"name", "lm_eval": task}` or `{"name", "lm_eval_file": path}`."""
    require_lm_eval()
    if "lm_eval_file" in ref:
        path = ref["lm_eval_file"]
        if not Path(path).is_file():
            raise TaskError(f"lm_eval = {path!r}: no such file")
        config = read_task_yaml(path)
        if not isinstance(config.get("task"), str):
            raise TaskError(f"{path}: an lm-eval task YAML names its task (`task: <name>`)")
        missing = [str(f) for f in data_files(path) if not f.is_file()]
        if missing:
            raise TaskError(f"{path}: data file {missing[0]} (relative to the YAML) does not exist")
    elif ref["lm_eval"] not in task_manager(defaults=True).all_tasks:
        raise TaskError(
            f"lm-eval knows no task or group {ref['lm_eval']!r} (`lm-eval ls tasks` lists them)"
        )
    return TaskDef(
        ref["name"],
        (),
        _no_rows,
        num_labels=0,
        metric="accuracy",  # the human baseline's; a row's metric is lm-eval's (workers.harness)
        human_baseline=lm_eval_human_baselines().get(lm_eval_name(ref)),
        kind=LM_EVAL,
    )
