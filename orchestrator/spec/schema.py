"""The sweep spec's shape: pydantic models of every key, with their defaults and allowed values.

Over 300 lines on purpose: one pydantic model per block of the spec, each with its own
validators; the cross-field checks live in checks.py, expansion in grid.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ByteSize,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from difficulty import AXES
from difficulty.glue import glue_files
from difficulty.lm_eval_tasks import is_yaml
from difficulty.tasks import CLASSIFICATION, FILE_KINDS
from orchestrator.search import DENSE, SearchSpace, confirmation_seeds
from orchestrator.spec import grid as expansion
from orchestrator.spec.grid import Curve, curves
from orchestrator.trackers import TRACKERS
from pruning.methods import METHODS, NOT_A_MASK, RTN_BITS
from results.transfer_modes import TRANSFER_MODES
from workers.config import TrainConfig, TrialConfig


def _unit_interval(v: float) -> float:
    if not 0 <= v < 1:
        raise ValueError(f"{v} is outside [0, 1)")
    return v


Sparsity = Annotated[float, AfterValidator(_unit_interval)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)  # 3 -> 3.0, as on reload


class FileTask(_Strict):
    """A task from local files: train, eval, and the text (and label) columns."""

    name: str
    train: str
    eval: str
    text: str | list[str] | None = None  # required for classification
    label: str = "label"
    kind: Literal[FILE_KINDS] | None = None  # type: ignore[valid-type]  # None = classification
    languages: list[str] | None = Field(None, min_length=2, max_length=2)  # translation: src, tgt
    resource: float | None = Field(None, gt=0)  # translation: the pair's resource size
    max_new_tokens: int | None = Field(None, gt=0)  # generation cap for this task
    fingerprint: str | None = None  # the files' content hash: set by validation, kept when saved

    @model_validator(mode="after")
    def _text_to_classify(self) -> FileTask:
        if self.kind in (None, CLASSIFICATION) and self.text is None:
            raise PydanticCustomError(
                "missing", "is required (or `dir`, for GLUE's TSV files)", {"key": "text"}
            )
        return self

    def ref(self) -> dict[str, Any]:
        """The task as a trial sees it (its content hash goes to the trial on its own)."""
        return self.model_dump(exclude_none=True, exclude={"fingerprint"})


class GlueDirTask(_Strict):
    """A GLUE task from a folder of the GLUE site's TSV files."""

    name: str
    dir: str
    fingerprint: str | None = None  # the files' content hash: set by validation, kept when saved

    @model_validator(mode="before")
    @classmethod
    def _only_name_and_dir(cls, data: Any) -> Any:
        allowed = ("name", "dir", "fingerprint")
        other = [k for k in data if k not in allowed] if isinstance(data, dict) else []
        if other:
            raise PydanticCustomError(
                "key_not_allowed",
                "a task with `dir` (GLUE's TSV layout) takes only name and dir",
                {"key": other[0]},
            )
        return data

    @field_validator("name")
    @classmethod
    def _glue_task(cls, v: str) -> str:
        glue_files(v, ".")  # a TaskError (ValueError) unless it names a GLUE task
        return v

    def ref(self) -> dict[str, Any]:
        """The task as a trial sees it: its two files in GLUE's layout."""
        train, evaluation = glue_files(self.name, self.dir)
        return {"name": self.name, "train": train, "eval": evaluation, "layout": "glue"}


class LmEvalTask(_Strict):
    """An lm-evaluation-harness task: a task or group lm-eval knows, or a task YAML of one's own
    (its `data_files` relative to it); `name` is the task's name in the rows."""

    lm_eval: str = Field(min_length=1)
    name: str | None = None  # default: lm_eval/<task>, or lm_eval/<the YAML's file name>
    # lm-eval's version (and a YAML's and its data files' content hash): set by validation, kept
    # when saved; the trial keys hold it
    fingerprint: str | None = None

    @model_validator(mode="after")
    def _named(self) -> LmEvalTask:
        if self.name is None:
            self.name = f"lm_eval/{Path(self.lm_eval).stem if self.is_file else self.lm_eval}"
        return self

    @property
    def is_file(self) -> bool:
        return is_yaml(self.lm_eval)

    def ref(self) -> dict[str, Any]:
        """The task as a trial sees it: a YAML's path apart (not in the key: its content is)."""
        return {"name": self.name, "lm_eval_file" if self.is_file else "lm_eval": self.lm_eval}


def _task_form(value: Any) -> str:
    if isinstance(value, dict):
        if "lm_eval" in value:
            return "LmEvalTask"
        return "GlueDirTask" if "dir" in value else "FileTask"
    if isinstance(value, BaseModel):
        return type(value).__name__
    return "str"


Task = Annotated[
    Annotated[str, Tag("str")] | Annotated[FileTask, Tag("FileTask")]
    | Annotated[GlueDirTask, Tag("GlueDirTask")] | Annotated[LmEvalTask, Tag("LmEvalTask")],
    Discriminator(_task_form),
]  # fmt: skip
"""A task: a registered name, local files, a GLUE TSV folder, or an lm-eval task."""
TASK_FORMS = {"FileTask": FileTask, "GlueDirTask": GlueDirTask, "LmEvalTask": LmEvalTask}


def task_ref(task: str | FileTask | GlueDirTask | LmEvalTask) -> dict[str, Any]:
    """The task as a trial sees it: {"name": ...}, or its files and columns."""
    return {"name": task} if isinstance(task, str) else task.ref()


class Pruning(_Strict):
    """A pruning method with its options; the facts come from its pruning.methods record."""

    model_config = ConfigDict(extra="allow")  # the method's options, include/exclude, calibration
    method: str
    scope: str | None = None  # default: the method's natural scope (global, row or layer)

    @field_validator("method")
    @classmethod
    def _known(cls, v: str) -> str:
        if v in NOT_A_MASK:
            raise ValueError(NOT_A_MASK[v])
        if v not in METHODS:
            raise ValueError(f"unknown method {v!r}; allowed: {', '.join(METHODS)}")
        return v

    @model_validator(mode="after")
    def _scope_and_options(self) -> Pruning:
        record = METHODS[self.method]
        if self.scope is None:
            self.scope = record.scope
        if self.scope not in record.scopes:
            scopes = " or ".join(record.scopes)
            raise ValueError(f"{self.method} takes scope {scopes}, not {self.scope!r}")
        self.resolved()
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The options as written in the spec (the trial key hashes these); `targets: blocks`,
        the default, is left out, so that writing it keeps the keys of a spec without it."""
        options = dict(self.model_extra or {})
        if options.get("targets") == "blocks":
            del options["targets"]
        return options

    def resolved(self) -> dict[str, Any]:
        """The method's options, defaults filled in and checked (calibration as given)."""
        record = METHODS[self.method]
        given = self.options
        if not record.needs_calibration:  # "takes no calibration": orchestrator.spec.checks
            given.pop("calibration", None)
        return record.resolve_options(given)

    def sparsities(self, requested: list[float]) -> list[float]:
        """The sparsities this method runs at: N:M fixes its own (1 - keep/of)."""
        return METHODS[self.method].sparsities(requested, self.resolved())


class Quantization(_Strict):
    """A quantization method beside the pruning ones: rtn at each bit width, per group."""

    method: Literal["rtn"]
    bits: list[Literal[RTN_BITS]] = Field(min_length=1)  # type: ignore[valid-type]
    group_size: int | None = Field(128, ge=1)  # input weights per group; None: a whole row
    include: list[str] | None = None  # which tensors, as for pruning (pruning.selection)
    exclude: list[str] | None = None
    # the transfer modes its trials run under (default: the sweep's, but dense); only those
    # that keep the quantized weights on their grid (orchestrator.spec.checks)
    transfer: list[Literal[tuple(TRANSFER_MODES)]] | None = Field(None, min_length=1)  # type: ignore[valid-type]

    @property
    def scope(self) -> str:
        """What one grid spans: a group of input weights, or a whole output row."""
        return "row" if self.group_size is None else "group"

    @property
    def options(self) -> dict[str, Any]:
        """The options that decide the quantized weights (the trial key hashes these)."""
        return self.model_dump(include={"group_size", "include", "exclude"}, exclude_none=True)

    def transfers(self, sweep: list[str]) -> list[str]:
        """The transfer modes of its trials: its own, or the sweep's modes that compress."""
        return self.transfer or [t for t in sweep if TRANSFER_MODES[t].prunes]


def _iec_suffix(v: Any) -> Any:
    """Kubernetes' `8Gi` as `8GiB`; pydantic's ByteSize reads 8GiB, 8GB, 8G, "8 GB", 8589934592."""
    if isinstance(v, bool):
        raise ValueError("is a number of bytes with a unit, e.g. 8GB or 8GiB")
    return re.sub(r"(?i)([kmgtpe]i)\s*$", r"\1B", v) if isinstance(v, str) else v


def _at_least_a_mebibyte(v: ByteSize) -> ByteSize:
    if v < 2**20:  # `memory: 8` is 8 bytes: a unit forgotten, not a request
        raise ValueError(f"is {v} bytes; write a unit, e.g. 8GB or 8GiB")
    return v


Memory = Annotated[ByteSize, BeforeValidator(_iec_suffix), AfterValidator(_at_least_a_mebibyte)]


def _ray_quantity(v: float) -> float:
    if 0 < v < 1e-4:  # Ray counts resources in units of 1/10,000
        raise ValueError(f"{v} is below Ray's smallest share, 0.0001")
    return v


RayQuantity = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_ray_quantity)]


class Resources(_Strict):
    cpu: RayQuantity = Field(1, gt=0)
    gpu: RayQuantity = Field(0, ge=0)
    memory: Memory | None = None  # bytes: 8GiB, 8GB (= 8G, "8 GB"), 8589934592; a hint for Ray


class Search(_Strict):
    """The `search:` block: bracket each curve's breaking points instead of running a grid."""

    drops: list[Annotated[float, Field(gt=0, lt=1)]] = Field([0.01, 0.05], min_length=1)
    range: tuple[Sparsity, Sparsity] = (0.0, 0.95)
    resolution: float = Field(0.025, gt=0)
    min_seeds: int = Field(1, ge=1)
    confirm_seeds: int = Field(0, ge=0)
    # free slots probe several points of a bracket at once (orchestrator.search.Scheduler)
    k_section: bool = True

    @field_validator("range")
    @classmethod
    def _low_below_high(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not v[0] < v[1]:
            raise ValueError("the low end must be below the high end")
        return v

    @field_validator("resolution")
    @classmethod
    def _within_range(cls, v: float, info: ValidationInfo) -> float:
        low, high = info.data.get("range", (0.0, 1.0))
        if v > high - low + 1e-12:
            raise ValueError(f"wider than the range ({high - low:g})")
        return v

    def space(self) -> SearchSpace:
        """The pure search's view of this block (orchestrator.search)."""
        return SearchSpace(tuple(self.drops), self.resolution, self.range, self.min_seeds,
                           self.confirm_seeds)  # fmt: skip


class SweepSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    storage: str = "./sweeps"
    models: list[str] = Field(min_length=1)
    tasks: list[Task] = Field(min_length=1)
    difficulty: dict[str, list[float]] = Field(default_factory=lambda: {"data_fraction": [1.0]})
    pruning: list[Pruning] = Field(default_factory=lambda: [Pruning(method="magnitude")])
    quantization: list[Quantization] = Field(default_factory=list)
    sparsities: list[Sparsity] = Field([0.0, 0.1, 0.3, 0.5, 0.7, 0.9], min_length=1)
    transfer: list[Literal[tuple(TRANSFER_MODES)]] = Field(  # type: ignore[valid-type]
        ["dense", "sparse", "dense_freeze", "sparse_to_dense"], min_length=1
    )
    seeds: list[int] = Field([41, 42, 43], min_length=1)
    train: TrainConfig = Field(default_factory=TrainConfig)
    resources: Resources = Field(default_factory=Resources)
    retries: int = Field(2, ge=0)
    noop: bool = False
    search: Search | None = None  # instead of sparsities: an adaptive search per curve
    # experiment trackers, one run per trial (orchestrator.trackers); not in the trial keys
    trackers: list[Literal[tuple(TRACKERS)]] = []  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _search_or_sparsities(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("search") is not None and "sparsities" in data:
            raise PydanticCustomError(
                "key_not_allowed",
                "cannot be given with sparsities (the search chooses them); give one of the two",
                {"key": "search"},
            )
        return data

    @model_validator(mode="after")
    def _enough_seeds(self) -> SweepSpec:
        if self.search and self.search.min_seeds > len(self.seeds):
            raise PydanticCustomError(
                "key_not_allowed",
                f"{self.search.min_seeds} exceeds the {len(self.seeds)} seeds",
                {"key": "search.min_seeds"},
            )
        return self

    @model_serializer(mode="wrap")
    def _one_of_search_and_sparsities(self, handler: Any) -> dict[str, Any]:
        data = handler(self)  # a saved spec reloads: it holds sparsities or search, not both
        data.pop("sparsities" if self.search else "search", None)
        return data

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
        """The trial grid (orchestrator.spec.grid); `dense` appears once per point and seed, and
        a trial equivalent to another (sparse at sparsity 0 is dense) is run once, as that one.

        With `search`, the trials known before it starts: the dense references (run whether or
        not `dense` is listed), the methods that fix their own sparsity (N:M) and quantization;
        the search's probes come from `curves`.
        """
        return expansion.expand(*self._grid_of())

    def equivalents(self) -> list[tuple[TrialConfig, TrialConfig]]:
        """(trial of the grid, the trial that is run for it) for each trial not run itself."""
        return expansion.equivalents(*self._grid_of())

    def curves(self) -> list[Curve]:
        """The search's curves, with their trials at every grid sparsity and seed (confirmation
        seeds included); a method that fixes its own sparsity is no curve: `expand` holds it."""
        space = self.search.space()
        seeds = [*self.seeds, *confirmation_seeds(self.seeds, space.confirm_seeds)]
        grid = [s for s in space.grid if s != DENSE]
        transfers = [t for t in self.transfer if TRANSFER_MODES[t].prunes]
        pruned = self._grid(seeds, transfers, grid, searched=True)
        return curves(pruned, self._grid(seeds, ["dense"], []))

    def _grid_of(self) -> tuple:
        """The grid's arguments: the sweep's, or with `search` those known before it starts."""
        if self.search is None:
            return self._arguments(self.seeds, self.transfer, self.sparsities)
        return self._arguments(self.seeds, list(dict.fromkeys(["dense", *self.transfer])), [])

    def _grid(self, seeds: list[int], transfers: list[str], sparsities: list[float],
              searched: bool = False) -> list[TrialConfig]:  # fmt: skip
        return expansion.expand(*self._arguments(seeds, transfers, sparsities, searched))

    def _arguments(
        self,
        seeds: list[int],
        transfers: list[str],
        sparsities: list[float],
        searched: bool = False,
    ) -> tuple:
        ((axis, levels),) = self.difficulty.items()
        sweep = dict(sweep=self.name, results_dir=f"{self.sweep_dir}/results", noop=self.noop,
                     cpus=self.resources.cpu, gpus=self.resources.gpu)  # fmt: skip
        prunings = [(p.method, p.scope, p.options, p.sparsities(sparsities))
                    for p in self.pruning
                    if not (searched and METHODS[p.method].sets_sparsity)]  # fmt: skip
        # quantization is no curve over sparsity: it runs with the trials known before a search
        quantizations = [(q.method, q.scope, q.options, q.bits, q.transfers(self.transfer))
                         for q in self.quantization if not searched]  # fmt: skip
        tasks = [task_ref(t) for t in self.tasks]
        fingerprints = {t["name"]: getattr(s, "fingerprint", "") for t, s in zip(tasks, self.tasks)}
        return (sweep, self.train, self.models, tasks, fingerprints, (axis, levels), seeds,
                transfers, prunings, quantizations)  # fmt: skip
