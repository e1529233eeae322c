"""Offline checks beyond the schema: tasks resolve and their files exist, calibration, models,
trackers' packages."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

from difficulty import TaskDef, TaskError, get_task
from difficulty.axes import check_axis
from difficulty.files import file_format
from difficulty.lm_eval_tasks import data_files
from difficulty.tasks import CLASSIFICATION
from orchestrator.model_check import model_problem, window_problem
from orchestrator.spec.errors import SpecError
from orchestrator.spec.schema import (
    GlueDirTask,
    LmEvalTask,
    Quantization,
    SweepSpec,
    Task,
    task_ref,
)
from orchestrator.trackers import TRACKERS
from pruning.methods import METHODS
from results.storage import is_uri
from results.transfer_modes import TRANSFER_MODES
from workers.packaged import PACKAGED

CALIBRATION_KEYS = ("dataset", "file", "n", "length", "data_files", "split", "text")


def check_offline(spec: SweepSpec, path: str) -> SweepSpec:
    """Everything the spec names that can be checked offline; the spec with absolute paths."""
    for i, pruning in enumerate(spec.pruning):
        problem = _calibration_problem(pruning.method, pruning.options.get("calibration"))
        if problem:
            raise SpecError(f"{path}: pruning[{i}] ({pruning.method}): {problem}")
    for i, quantization in enumerate(spec.quantization):
        _check_quantized_transfer(path, i, quantization, spec.transfer)
    resolved = [_check_task(path, i, task, spec.difficulty) for i, task in enumerate(spec.tasks)]
    for i, model in enumerate(spec.models):
        if model in PACKAGED:
            problem = PACKAGED[model].problem()
            if problem:
                raise SpecError(f"{path}: models[{i}] = {model!r} {problem}")
        elif re.match(r"^(\.{0,2}/|~)", model) and not Path(model).expanduser().exists():
            raise SpecError(f"{path}: models[{i}] = {model!r}: no such local directory")
    for i, task in enumerate(resolved):
        _check_evaluation_only(path, i, task, spec)
    for i, name in enumerate(spec.trackers):
        package = TRACKERS[name].package
        if importlib.util.find_spec(package) is None:
            raise SpecError(f"{path}: trackers[{i}] = {name!r}: needs the {package} package "
                            "(pip install 'junkdna[trackers]')")  # fmt: skip
    for i, pruning in enumerate(spec.pruning):
        if not METHODS[pruning.method].needs_calibration:
            continue
        length = (pruning.options.get("calibration") or {}).get("length", 2048)
        for j, model in enumerate(spec.models):
            problem = window_problem(model, length)
            if problem:
                raise SpecError(f"{path}: pruning[{i}] ({pruning.method}): models[{j}] {problem}")
    return with_fingerprints(_absolute_paths(spec), path)


def _calibration_problem(method: str, source: Any) -> str | None:
    """What is wrong with a pruning method's `calibration` option, or None."""
    example = "{dataset: allenai/c4, n: 128, length: 2048} or {file: calib.txt}"
    if not METHODS[method].needs_calibration:
        return None if source is None else f"{method} takes no calibration"
    if not isinstance(source, dict):
        return f"{method} needs calibration text, e.g. calibration: {example}"
    unknown = [k for k in source if k not in CALIBRATION_KEYS]
    if unknown:
        return f"unknown calibration key {unknown[0]!r}; allowed: {', '.join(CALIBRATION_KEYS)}"
    if ("dataset" in source) == ("file" in source):
        return f"calibration names one of dataset (a hub name) or file, e.g. {example}"
    for key in ("n", "length"):
        value = source.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"calibration.{key} = {value!r} is not a positive whole number"
    if "file" in source and not Path(source["file"]).expanduser().is_file():
        return f"calibration.file = {source['file']!r}: no such file"
    return None


def _check_quantized_transfer(
    path: str, i: int, quantization: Quantization, sweep: list[str]
) -> None:
    """A quantization runs only under the modes that keep its weights on their grid."""
    allowed = [name for name, mode in TRANSFER_MODES.items() if mode.keeps_quantization]
    for j, name in enumerate(quantization.transfer or sweep):
        if TRANSFER_MODES[name].keeps_quantization or (
            name == "dense" and not quantization.transfer
        ):
            continue
        field = f"quantization[{i}].transfer[{j}]" if quantization.transfer else f"transfer[{j}]"
        raise SpecError(
            f"{path}: {field} = {name!r}: {quantization.method} quantization runs only where "
            f"the quantized weights stay on their grid; allowed: {', '.join(allowed)} "
            f"(give quantization[{i}].transfer its own list)"
        )


def _absolute_paths(spec: SweepSpec) -> SweepSpec:
    """Local paths made absolute: Ray runs trials in other directories (and on other nodes)."""
    storage = spec.storage if is_uri(spec.storage) else str(Path(spec.storage).resolve())
    tasks = [
        t if isinstance(t, str) or (isinstance(t, LmEvalTask) and not t.is_file)
        else t.model_copy(update={k: str(Path(getattr(t, k)).resolve())
                                  for k in ("train", "eval", "dir", "lm_eval") if hasattr(t, k)})
        for t in spec.tasks
    ]  # fmt: skip
    return spec.model_copy(update={"storage": storage, "tasks": tasks})


def with_fingerprints(spec: SweepSpec, path: str, keep: bool = False) -> SweepSpec:
    """Each local-file task with its files' content hash, which its trial keys hold; `keep`: a
    hash already there stays (a saved spec's, so that reading a sweep needs none of its files)."""
    tasks = [
        t if isinstance(t, str) or (keep and t.fingerprint)
        else t.model_copy(update={"fingerprint": _lm_eval_fingerprint(t)})
        if isinstance(t, LmEvalTask)
        else t.model_copy(update={"fingerprint": _fingerprint(_check_files(path, i, t))})
        for i, t in enumerate(spec.tasks)
    ]  # fmt: skip
    return spec.model_copy(update={"tasks": tasks})


def _fingerprint(ref: dict[str, Any]) -> str:
    """Content hash of a local task's files (a changed file is a different trial)."""
    return _content_hash([Path(ref[key]) for key in ("train", "eval")])


def _content_hash(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _lm_eval_fingerprint(task: LmEvalTask) -> str:
    """lm-eval's version (its tasks' prompts and metrics change with it), and a task YAML's and
    its data files' content hash: what an lm-eval trial's result depends on besides its name."""
    files = [Path(task.lm_eval), *data_files(task.lm_eval)] if task.is_file else []
    return f"lm-eval {version('lm_eval')}" + (f" {_content_hash(files)}" if files else "")


def _check_evaluation_only(path: str, i: int, task: TaskDef, spec: SweepSpec) -> None:
    """An evaluation-only task runs without fine-tuning, on models that can do it."""
    if task.kind == CLASSIFICATION:
        return
    modes = [*spec.transfer, *(t for q in spec.quantization for t in q.transfers(spec.transfer))]
    trained = [t for t in modes if not TRANSFER_MODES[t].evaluation_only]
    if trained:
        raise SpecError(
            f"{path}: tasks[{i}] ({task.name}) is a {task.kind} task, evaluated without "
            f"fine-tuning: transfer must be dense (unpruned) or none, not {trained[0]}"
        )
    for j, model in enumerate(spec.models):
        problem = model_problem(model, task)
        if problem:
            raise SpecError(f"{path}: models[{j}] = {model!r} {problem} (tasks[{i}] {task.name})")


def _check_task(path: str, i: int, task: Task, difficulty: dict[str, list]) -> TaskDef:
    """The task resolves, its files exist and have the columns, and the axis can serve it."""
    if isinstance(task, str):
        where, ref = f"tasks[{i}] = {task!r}", task_ref(task)
    elif isinstance(task, LmEvalTask):  # lm_eval_task checks the name, the YAML and its data
        where, ref = f"tasks[{i}] ({task.name})", task_ref(task)
    else:
        where, ref = f"tasks[{i}] ({task.name})", _check_files(path, i, task)
    try:
        resolved = get_task(ref)
        ((axis, levels),) = difficulty.items()
        check_axis(axis, resolved, levels)
    except TaskError as e:
        raise SpecError(f"{path}: {where}: {e}") from None
    return resolved


def _check_files(path: str, i: int, task: Task) -> dict[str, Any]:
    """The task's reference, once its files exist and their format is known."""
    ref = task_ref(task)
    for key in ("train", "eval"):
        file = ref[key]
        if not Path(file).is_file():
            where = (
                f"dir = {task.dir!r}: no {Path(file).name} in it"
                if isinstance(task, GlueDirTask)
                else f"{key} = {file!r}: no such file"
            )
            raise SpecError(f"{path}: tasks[{i}].{where}")
        try:
            file_format(file)
        except TaskError as e:
            raise SpecError(f"{path}: tasks[{i}].{key}: {e}") from None
    return ref
