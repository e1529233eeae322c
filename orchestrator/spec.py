"""Sweep spec v1: load a YAML file into a validated SweepSpec and expand it into trials."""

from __future__ import annotations

import hashlib
import itertools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from difficulty import AXES, TaskDef, TaskError, get_task
from difficulty.axes import axis_levels, check_axis
from difficulty.files import file_format
from difficulty.glue import glue_files
from difficulty.tasks import CLASSIFICATION, KINDS
from orchestrator.model_check import model_problem, window_problem
from results.storage import is_uri, read_bytes
from workers.config import DENSE_METHOD, TRANSFERS, TrainConfig, TrialConfig

# method -> the scopes it takes, its natural one first: pruning.METHODS, restated here so that
# validating a spec does not import torch (a test keeps the two equal)
PRUNING_METHODS = {
    "magnitude": ("global", "layer"),
    "random": ("global", "layer"),
    "nm": ("row",),
    "wanda": ("row",),
    "sparsegpt": ("layer",),
}
PACKAGED_MODELS = {"minilm"}


def _unit_interval(v: float) -> float:
    if not 0 <= v < 1:
        raise ValueError(f"{v} is outside [0, 1)")
    return v


Sparsity = Annotated[float, AfterValidator(_unit_interval)]


class SpecError(ValueError):
    """A spec that cannot run; str() is the one line shown to the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)  # 3 -> 3.0, as on reload


class FileTask(_Strict):
    """Local files: train, eval, text (and label) columns; or `dir`, a GLUE task's TSV folder."""

    name: str
    train: str | None = None
    eval: str | None = None
    text: str | list[str] | None = None
    label: str = "label"
    dir: str | None = None
    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]  # None = classification
    languages: list[str] | None = Field(None, min_length=2, max_length=2)  # translation: src, tgt
    resource: float | None = Field(None, gt=0)  # translation: the pair's resource size
    max_new_tokens: int | None = Field(None, gt=0)  # generation cap for this task


class Pruning(_Strict):
    model_config = ConfigDict(extra="allow")  # method options (keep/of, include, exclude, ...)
    method: str
    scope: str | None = None  # default: the method's natural scope (global, row or layer)

    @field_validator("method")
    @classmethod
    def _known(cls, v: str) -> str:
        if v == "rtn":
            raise ValueError(
                "rtn (round-to-nearest quantization) is a baseline of the pruning library "
                "(pruning.quantize_rtn) and cannot run as a sweep trial yet"
            )
        if v not in PRUNING_METHODS:
            raise ValueError(f"unknown method {v!r}; allowed: {', '.join(PRUNING_METHODS)}")
        return v

    @model_validator(mode="after")
    def _scope_and_options(self) -> Pruning:
        scopes = PRUNING_METHODS[self.method]
        if self.scope is None:
            self.scope = scopes[0]
        if self.scope not in scopes:
            raise ValueError(f"{self.method} takes scope {' or '.join(scopes)}, not {self.scope!r}")
        if self.method == "nm":
            keep, of = self.options.get("keep"), self.options.get("of")
            if not (isinstance(keep, int) and isinstance(of, int) and 0 < keep < of):
                raise ValueError(
                    "nm needs whole numbers keep < of: e.g. {method: nm, keep: 2, of: 4} keeps "
                    "2 of every 4 consecutive weights (50% sparsity)"
                )
        return self

    def sparsities(self, requested: list[float]) -> list[float]:
        """The sparsities this method runs at: N:M fixes its own (1 - keep/of)."""
        if self.method == "nm":
            return [1 - self.options["keep"] / self.options["of"]]
        return requested

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


CALIBRATION_KEYS = ("dataset", "file", "n", "length", "data_files", "split", "text")
CALIBRATED = ("wanda", "sparsegpt")


def _calibration_problem(method: str, source: Any) -> str | None:
    """What is wrong with a pruning method's `calibration` option, or None."""
    example = "{dataset: allenai/c4, n: 128, length: 2048} or {file: calib.txt}"
    if method not in CALIBRATED:
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


class Train(_Strict):
    epochs: float = Field(3, gt=0)
    max_steps: int | None = Field(None, gt=0)
    lr: float = Field(2e-5, gt=0)
    batch_size: int = Field(32, gt=0)
    eval_batch_size: int = Field(128, gt=0)
    max_length: int = Field(128, gt=1)
    weight_decay: float = Field(0.0, ge=0)
    warmup_ratio: float = Field(0.06, ge=0, le=1)
    grad_accum: int = Field(1, gt=0)
    max_grad_norm: float = Field(1.0, gt=0)
    n_train: int | None = Field(None, gt=0)
    n_eval: int | None = Field(None, gt=0)
    eval_each_epoch: bool = False
    lora_r: int = Field(8, gt=0)
    lora_alpha: float = Field(16, gt=0)
    lora_dropout: float = Field(0.1, ge=0, lt=1)
    lora_targets: list[Annotated[str, Field(min_length=1)]] | None = Field(None, min_length=1)
    max_new_tokens: int | None = Field(None, gt=0)
    num_beams: int | None = Field(None, gt=0)
    prompt_length: int | None = Field(None, gt=1)
    checkpoint: Literal["none", "epoch"] = "none"


class Resources(_Strict):
    cpu: float = Field(1, gt=0)
    gpu: float = Field(0, ge=0)
    memory: str | None = None  # e.g. "8GB"; a scheduling hint for Ray


class SweepSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    storage: str = "./sweeps"
    models: list[str] = Field(min_length=1)
    tasks: list[str | FileTask] = Field(min_length=1)
    difficulty: dict[str, list[float]] = Field(default_factory=lambda: {"data_fraction": [1.0]})
    pruning: list[Pruning] = Field(default_factory=lambda: [Pruning(method="magnitude")])
    sparsities: list[Sparsity] = Field([0.0, 0.1, 0.3, 0.5, 0.7, 0.9], min_length=1)
    transfer: list[Literal[TRANSFERS]] = Field(  # type: ignore[valid-type]
        ["dense", "sparse", "dense_freeze", "sparse_to_dense"], min_length=1
    )
    seeds: list[int] = Field([41, 42, 43], min_length=1)
    train: Train = Field(default_factory=Train)
    resources: Resources = Field(default_factory=Resources)
    retries: int = Field(2, ge=0)
    noop: bool = False

    @field_validator("difficulty")
    @classmethod
    def _one_known_axis(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        if len(v) != 1:
            raise ValueError(
                f"exactly one axis per sweep, got {len(v)}; allowed: {', '.join(AXES)}"
            )
        ((axis, levels),) = v.items()
        if axis not in AXES:
            raise ValueError(f"unknown axis {axis!r}; allowed: {', '.join(AXES)}")
        if AXES[axis].task_levels is not None:
            if levels:
                raise ValueError(f"{axis} takes no levels; allowed: {AXES[axis].allowed}")
            return v
        if not levels:
            raise ValueError(f"{axis} has no levels")
        bad = [x for x in levels if not AXES[axis].valid(x)]
        if bad:
            raise ValueError(f"{axis} level {bad[0]} is invalid; allowed: {AXES[axis].allowed}")
        return v

    @property
    def sweep_dir(self) -> str:
        return f"{self.storage.rstrip('/')}/{self.name}"

    def expand(self) -> list[TrialConfig]:
        """The trial grid; `dense` appears once per model × task × level × seed."""
        ((axis, levels),) = self.difficulty.items()
        train = TrainConfig(**self.train.model_dump())
        tasks = [_task_ref(t) for t in self.tasks]
        fingerprints = {t["name"]: _fingerprint(t) for t in tasks}
        common = dict(
            sweep=self.name,
            results_dir=f"{self.sweep_dir}/results",
            train=train,
            noop=self.noop,
            cpus=self.resources.cpu,
            difficulty_axis=axis,
        )
        trials = []
        grid = (
            (model, task, level, seed, transfer)
            for model, task in itertools.product(self.models, tasks)
            for level, seed, transfer in itertools.product(
                axis_levels(axis, task, levels), self.seeds, self.transfer
            )
        )
        for model, task, level, seed, transfer in grid:
            point = dict(
                common,
                model=model,
                task=task,
                difficulty_level=float(level),
                seed=seed,
                transfer=transfer,
                task_fingerprint=fingerprints[task["name"]],
            )
            if transfer == "dense":
                trials.append(
                    TrialConfig(
                        **point,
                        method=DENSE_METHOD,
                        scope=DENSE_METHOD,
                        pruning_options={},
                        sparsity=0.0,
                    )
                )
                continue
            for pruning in self.pruning:
                for sparsity in pruning.sparsities(self.sparsities):
                    trials.append(
                        TrialConfig(
                            **point,
                            method=pruning.method,
                            scope=pruning.scope,
                            pruning_options=pruning.options,
                            sparsity=sparsity,
                        )
                    )
        return trials


def _task_ref(task: str | FileTask) -> dict[str, Any]:
    """The task as a trial sees it; a GLUE directory becomes its two files in GLUE's layout."""
    if isinstance(task, str):
        return {"name": task}
    if task.dir is not None:
        train, evaluation = glue_files(task.name, task.dir)
        return {"name": task.name, "train": train, "eval": evaluation, "layout": "glue"}
    return task.model_dump(exclude_none=True)


def _fingerprint(task: dict[str, Any]) -> str:
    """Content hash of a local task's files (a changed file is a different trial)."""
    if "train" not in task:
        return ""
    digest = hashlib.sha256()
    for key in ("train", "eval"):
        digest.update(Path(task[key]).read_bytes())
    return digest.hexdigest()[:16]


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("str", "FileTask", "literal['global','layer']") or "[" in str(part):
            continue  # pydantic's union-branch labels are not part of the user's path
        else:
            path += f".{part}" if path else str(part)
    return path


def _keys_at(loc: tuple) -> list[str]:
    """The keys a spec allows at a (model-valued) location, for 'unknown key' errors."""
    model: Any = SweepSpec
    for part in loc:
        if isinstance(part, str) and part in getattr(model, "model_fields", {}):
            annotation = model.model_fields[part].annotation
            nested = [a for a in getattr(annotation, "__args__", (annotation,)) if
                      isinstance(a, type) and issubclass(a, BaseModel)]  # fmt: skip
            model = nested[0] if nested else annotation
        elif part in ("FileTask",):
            model = FileTask
    return list(getattr(model, "model_fields", {}))


def _lookup(data: Any, loc: tuple) -> Any:
    for part in loc:
        if part in ("str", "FileTask") or "[" in str(part):
            continue  # pydantic's union-branch labels, as in _field_path
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            break
    return data


def _one_line(path: str, data: Any, error: ValidationError) -> str:
    """The first validation error as `file: field = value: what is wrong`."""
    # the deepest error: for a union (a task name or a file task) it is the branch the user meant
    first = max(error.errors(), key=lambda e: len(e["loc"]))
    loc = tuple(p for p in first["loc"])
    field = _field_path(loc)
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return f"{path}: unknown key {field!r}; allowed: {', '.join(_keys_at(loc[:-1]))}"
    if first["type"] == "missing":
        return f"{path}: {field} is required"
    if first["type"] == "literal_error":
        msg = msg.replace("Input should be", "allowed:")
    return f"{path}: {field} = {_lookup(data, loc)!r}: {msg}"


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep YAML file; raises SpecError with one line naming file and field."""
    path = str(path)
    try:
        text = read_bytes(path).decode()
    except OSError as e:
        raise SpecError(f"{path}: cannot read spec: {e.strerror or e}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise SpecError(f"{path}: YAML syntax error{where}: {problem}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a sweep spec is a mapping of keys (name, models, tasks, ...)")
    return validate_spec(data, path)


def validate_spec(data: dict[str, Any], path: str = "<spec>") -> SweepSpec:
    """Validate spec data (already parsed) and everything it names that can be checked offline."""
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as e:
        raise SpecError(_one_line(path, data, e)) from None
    for i, pruning in enumerate(spec.pruning):
        problem = _calibration_problem(pruning.method, pruning.options.get("calibration"))
        if problem:
            raise SpecError(f"{path}: pruning[{i}] ({pruning.method}): {problem}")
    resolved = [_check_task(path, i, task, spec.difficulty) for i, task in enumerate(spec.tasks)]
    for i, model in enumerate(spec.models):
        if model not in PACKAGED_MODELS and re.match(r"^(\.{0,2}/|~)", model):
            if not Path(model).expanduser().exists():
                raise SpecError(f"{path}: models[{i}] = {model!r}: no such local directory")
    for i, task in enumerate(resolved):
        _check_evaluation_only(path, i, task, spec)
    for i, pruning in enumerate(spec.pruning):
        length = (pruning.options.get("calibration") or {}).get("length", 2048)
        for j, model in enumerate(spec.models if pruning.method in CALIBRATED else []):
            problem = window_problem(model, length)
            if problem:
                raise SpecError(f"{path}: pruning[{i}] ({pruning.method}): models[{j}] {problem}")
    spec = _absolute_paths(spec)
    if not spec.expand():
        raise SpecError(f"{path}: the grid is empty; check models, tasks, transfer and seeds")
    return spec


def _is_uri(location: str) -> bool:
    return is_uri(location)


def _absolute_paths(spec: SweepSpec) -> SweepSpec:
    """Local paths made absolute: Ray runs trials in other directories (and on other nodes)."""
    storage = spec.storage if _is_uri(spec.storage) else str(Path(spec.storage).resolve())
    tasks = [
        t if isinstance(t, str)
        else t.model_copy(update={k: str(Path(getattr(t, k)).resolve())
                                  for k in ("train", "eval", "dir") if getattr(t, k) is not None})
        for t in spec.tasks
    ]  # fmt: skip
    return spec.model_copy(update={"storage": storage, "tasks": tasks})


def _check_evaluation_only(path: str, i: int, task: TaskDef, spec: SweepSpec) -> None:
    """An evaluation-only task runs without fine-tuning, on models that can do it."""
    if task.kind == CLASSIFICATION:
        return
    trained = [t for t in spec.transfer if t not in ("dense", "none")]
    if trained:
        raise SpecError(
            f"{path}: tasks[{i}] ({task.name}) is a {task.kind} task, evaluated without "
            f"fine-tuning: transfer must be dense (unpruned) or none, not {trained[0]}"
        )
    for j, model in enumerate(spec.models):
        problem = model_problem(model, task)
        if problem:
            raise SpecError(f"{path}: models[{j}] = {model!r} {problem} (tasks[{i}] {task.name})")


def _check_task(path: str, i: int, task: str | FileTask, difficulty: dict[str, list]) -> TaskDef:
    """The task resolves, its files exist and have the columns, and the axis can serve it."""
    if isinstance(task, str):
        where, ref = f"tasks[{i}] = {task!r}", {"name": task}
    else:
        where, ref = f"tasks[{i}] ({task.name})", _check_files(path, i, task)
    try:
        resolved = get_task(ref)
        ((axis, levels),) = difficulty.items()
        check_axis(axis, resolved, levels)
    except TaskError as e:
        raise SpecError(f"{path}: {where}: {e}") from None
    return resolved


def _check_files(path: str, i: int, task: FileTask) -> dict[str, Any]:
    """The task's reference, once its form is whole and its files exist."""
    if task.dir is not None:
        given = [k for k in ("train", "eval", "text") if getattr(task, k) is not None]
        if given or task.label != "label":
            raise SpecError(
                f"{path}: tasks[{i}].{(given or ['label'])[0]}: a task with `dir` (GLUE's TSV "
                "layout) takes only name and dir"
            )
    evaluation_only = task.kind not in (None, CLASSIFICATION)
    for key in ("train", "eval") if evaluation_only else ("train", "eval", "text"):
        if task.dir is None and getattr(task, key) is None:
            raise SpecError(
                f"{path}: tasks[{i}].{key} is required (or `dir`, for GLUE's TSV files)"
            )
    try:
        ref = _task_ref(task)
    except TaskError as e:
        raise SpecError(f"{path}: tasks[{i}].name = {task.name!r}: {e}") from None
    for key in ("train", "eval"):
        file = ref[key]
        if not Path(file).is_file():
            where = (
                f"dir = {task.dir!r}: no {Path(file).name} in it"
                if task.dir
                else f"{key} = {file!r}: no such file"
            )
            raise SpecError(f"{path}: tasks[{i}].{where}")
        try:
            file_format(file)
        except TaskError as e:
            raise SpecError(f"{path}: tasks[{i}].{key}: {e}") from None
    return ref
