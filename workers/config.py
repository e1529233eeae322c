"""The plain data a trial is made of: what to run (TrialConfig) and how to train (TrainConfig)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pruning.methods import METHODS
from results.transfer_modes import TRANSFER_MODES

DENSE_METHOD = "none"  # `method` and `scope` recorded for the unpruned reference


class TrainConfig(BaseModel):
    """Fine-tuning hyper-parameters (defaults: the paper's GLUE runs): the spec's `train` block.

    Validated once, where the spec is read, and passed to the trial unchanged. Numbers are
    stored as their field's type (epochs 3 -> 3.0), as on reloading a saved spec.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

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
    n_train: int | None = Field(None, gt=0)  # cap on training examples (after the axis); None: all
    n_eval: int | None = Field(None, gt=0)  # cap on evaluation examples, None = all
    eval_each_epoch: bool = False  # evaluate after every epoch and keep the best (run_glue style)
    lora_r: int = Field(8, gt=0)  # LoRA rank (transfer `lora` only)
    lora_alpha: float = Field(16, gt=0)
    lora_dropout: float = Field(0.1, ge=0, lt=1)
    # module names; None = peft's default per model
    lora_targets: tuple[Annotated[str, Field(min_length=1)], ...] | None = Field(None, min_length=1)
    # evaluation-only tasks (qa, multiple_choice, translation); None = the task's or model's own
    max_new_tokens: int | None = Field(None, gt=0)  # generation cap; None: the task's (qa 32, ...)
    num_beams: int | None = Field(None, gt=0)  # beam width of translation; None = 5
    prompt_length: int | None = Field(None, gt=1)  # prompt tokens kept (their end); None: window
    # how a generated answer is asked and cut (difficulty.prompts.TEMPLATES): the paper's script
    # or lm-evaluation-harness's format; a trial that generates carries it as TrialConfig.prompt
    prompt: Literal["paper", "lm-eval"] = "paper"
    # weights' dtype; auto: bf16 language models on a GPU (fp16 without bf16), fp32 otherwise
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    checkpoint: Literal["none", "epoch"] = "none"  # "epoch": save each epoch, resume; not in key


# where a local task's files lie: left out of the key, which holds their content hash instead
TASK_LOCATIONS = ("train", "eval", "lm_eval_file")
LORA_FIELDS = ("lora_r", "lora_alpha", "lora_dropout", "lora_targets")
GENERATION_FIELDS = ("max_new_tokens", "num_beams", "prompt_length")


@dataclass(frozen=True)
class TrialConfig:
    """One point of the sweep grid; `trial_key` hashes everything that affects its result."""

    sweep: str
    results_dir: str
    model: str
    task: dict[str, Any]  # {"name": ...} or a local-file task {"name", "train", "eval", ...}
    difficulty_axis: str
    difficulty_level: float
    method: str
    scope: str
    pruning_options: dict[str, Any]
    sparsity: float
    transfer: str
    seed: int
    train: TrainConfig = field(default_factory=TrainConfig)
    # content hash of local task files, "" for registered tasks; lm-eval tasks: lm-eval's version
    task_fingerprint: str = ""
    noop: bool = False
    cpus: float = 1.0
    gpus: float = 0.0  # resources.gpu: > 0 runs on CUDA (and fails without it), 0 on the CPU
    bits: int | None = None  # a quantization trial's bit width (method rtn); None: pruning, dense
    prompt: str | None = None  # the template of a trial that generates answers; None: no such

    @property
    def task_name(self) -> str:
        return self.task["name"]

    @property
    def sweep_dir(self) -> str:
        """The sweep's directory, local or s3://: its results folder's parent."""
        return self.results_dir.rstrip("/").rsplit("/", 1)[0]

    @property
    def mask_dir(self) -> str:
        """Where the sweep keeps computed masks for other trials and nodes: <sweep>/masks."""
        return f"{self.sweep_dir}/masks"

    @property
    def trial_key(self) -> str:
        """A stable content address: same config, same key, on any machine."""
        # not asdict(self): it deep-copies every field, and only `train` needs converting (once)
        identity = {f.name: getattr(self, f.name) for f in fields(self)}
        identity["train"] = dict(_train_dict(self.train))
        for name in ("sweep", "results_dir", "cpus", "gpus"):  # where it runs, not what it computes
            identity.pop(name)
        # a local task is identified by its files' content hash, not by where they lie
        identity["task"] = {k: v for k, v in self.task.items() if k not in TASK_LOCATIONS}
        # fields added after the first release enter the key only where they change the result,
        # so that upgrading junkdna keeps the keys (and the results) of existing sweeps
        identity["train"].pop("checkpoint")  # resuming gives the same numbers, bit for bit
        identity["train"].pop("prompt")  # it changes the trials that generate: `prompt` says
        if self.train.dtype == "auto":
            identity["train"].pop("dtype")
        if not self.train.eval_each_epoch:
            identity["train"].pop("eval_each_epoch")
        if not TRANSFER_MODES[self.transfer].adapters:
            for name in LORA_FIELDS:
                identity["train"].pop(name)
        for name in GENERATION_FIELDS:
            if getattr(self.train, name) is None:
                identity["train"].pop(name)
        if self.bits is None:  # not a quantization trial: the keys of pruning trials stay
            identity.pop("bits")
        if self.prompt is None:  # a trial that generates answers: its template (a new default,
            identity.pop("prompt")  # the paper's, gave every such trial a new key)
        revision = METHODS[self.method].revision if self.method in METHODS else 1
        if revision > 1:  # a method whose algorithm changed: not the earlier algorithm's rows
            identity["revision"] = revision
        blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for Ray and the key): `train` as a dict of its fields."""
        return {**asdict(self), "train": self.train.model_dump()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in d.items() if k in known}
        values["train"] = TrainConfig.model_validate(values.get("train", {}))
        return cls(**values)


@lru_cache(maxsize=64)
def _train_dict(train: TrainConfig) -> dict[str, Any]:
    """The fields of a (frozen, shared by every trial of a sweep) TrainConfig; do not mutate."""
    return train.model_dump()
