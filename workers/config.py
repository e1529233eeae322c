"""The plain data a trial is made of: what to run (TrialConfig) and how to train (TrainConfig)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Any

TRANSFERS = ("dense", "sparse", "dense_freeze", "sparse_to_dense", "lora", "none")
DENSE_METHOD = "none"  # `method` and `scope` recorded for the unpruned reference


@dataclass(frozen=True)
class TrainConfig:
    """Fine-tuning hyper-parameters (defaults: the paper's GLUE runs)."""

    epochs: float = 3
    max_steps: int | None = None
    lr: float = 2e-5
    batch_size: int = 32
    eval_batch_size: int = 128
    max_length: int = 128
    weight_decay: float = 0.0
    warmup_ratio: float = 0.06
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    n_train: int | None = None  # cap on training examples (after the difficulty axis), None = all
    n_eval: int | None = None  # cap on evaluation examples, None = all
    eval_each_epoch: bool = False  # evaluate after every epoch and keep the best (run_glue style)
    lora_r: int = 8  # LoRA rank (transfer `lora` only)
    lora_alpha: float = 16
    lora_dropout: float = 0.1
    lora_targets: tuple[str, ...] | None = None  # module names; None = peft's default per model
    # evaluation-only tasks (qa, multiple_choice, translation); None = the task's or model's own
    max_new_tokens: int | None = None  # generation cap; None = the task's (qa 32, translation 256)
    num_beams: int | None = None  # beam width of translation; None = 5
    prompt_length: int | None = None  # prompt tokens kept (their end); None = the model's window


@lru_cache(maxsize=64)  # a sweep's trials share one TrainConfig: converted once, not per key
def _as_dict(train: TrainConfig) -> dict[str, Any]:
    return asdict(train)


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
    task_fingerprint: str = ""  # content hash of local task files, "" for registered tasks
    noop: bool = False
    cpus: float = 1.0

    @property
    def task_name(self) -> str:
        return self.task["name"]

    @property
    def mask_dir(self) -> str:
        """Where the sweep keeps computed masks for other trials and nodes: <sweep>/masks."""
        return self.results_dir.rstrip("/").rsplit("/", 1)[0] + "/masks"

    @property
    def trial_key(self) -> str:
        """A stable content address: same config, same key, on any machine."""
        # not asdict(self): it deep-copies every field, and only `train` needs converting
        identity = {f.name: getattr(self, f.name) for f in fields(self)}
        identity["train"] = dict(_as_dict(self.train))
        for name in ("sweep", "results_dir", "cpus"):  # where and how it runs, not what it computes
            identity.pop(name)
        # a local task is identified by its files' content hash, not by where they lie
        identity["task"] = {k: v for k, v in self.task.items() if k not in ("train", "eval")}
        # fields added after the first release enter the key only where they change the result,
        # so that upgrading junkdna keeps the keys (and the results) of existing sweeps
        if not self.train.eval_each_epoch:
            identity["train"].pop("eval_each_epoch")
        if self.transfer != "lora":
            for name in LORA_FIELDS:
                identity["train"].pop(name)
        for name in GENERATION_FIELDS:
            if getattr(self.train, name) is None:
                identity["train"].pop(name)
        blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in d.items() if k in known}
        values["train"] = TrainConfig(**values.get("train", {}))
        return cls(**values)
