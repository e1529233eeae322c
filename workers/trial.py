"""One trial, as the paper's method section reads: prune, fine-tune, evaluate, record."""

from __future__ import annotations

import json
import math
import socket
import time
from datetime import datetime, timezone
from functools import cache as once
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import torch

from pruning import measure_sparsity, prunable_parameters
from results.store import has_row, write_trial
from workers import cache, transfer
from workers.config import TrialConfig
from workers.evaluate import evaluate
from workers.train import train


def run_trial(config: dict[str, Any]) -> dict[str, Any]:
    """Prune, fine-tune, evaluate and record one trial; a no-op if its row exists."""
    trial = TrialConfig.from_dict(config)
    if has_row(trial.results_dir, trial.trial_key):
        return {"trial_key": trial.trial_key, "skipped": True}
    row = _identity(trial)
    if trial.noop:
        return _record(trial, row, metric_name="noop", metric=0.0, actual_sparsity=trial.sparsity)
    torch.set_num_threads(max(1, int(trial.cpus)))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    clock = time.perf_counter()
    data = cache.task_data(trial)  # tokenized once per worker process
    model = cache.pretrained(trial.model, data.num_labels, trial.seed)  # loaded once per worker
    ready_s = time.perf_counter() - clock

    clock = time.perf_counter()
    masks = {} if trial.transfer == "dense" else cache.masks(model, trial)
    model.to(device)
    after_step = transfer.prepare(model, masks, trial.transfer, trial.train)
    prune_s = time.perf_counter() - clock

    def score() -> float:  # per-epoch evaluation (train.eval_each_epoch); its time is in train_s
        return evaluate(model, data.eval, data.metric, trial.train.eval_batch_size)[1]

    clock = time.perf_counter()
    if trial.transfer != "none":
        per_epoch = score if trial.train.eval_each_epoch else None
        train(model, data.train, trial.train, trial.seed, after_step, per_epoch)
    train_s = time.perf_counter() - clock

    clock = time.perf_counter()
    metric_name, metric, metrics = evaluate(
        model, data.eval, data.metric, trial.train.eval_batch_size
    )
    eval_s = time.perf_counter() - clock

    # measured on the pruned tensors as they are; under lora: the frozen base, not merged with
    # the adapters (a merged weight is dense)
    measured = transfer.base_names(model, list(masks)) or list(prunable_parameters(model))
    return _record(
        trial,
        row,
        metric_name=metric_name,
        metric=metric,
        metrics=json.dumps({k: v if math.isfinite(v) else None for k, v in metrics.items()}),
        actual_sparsity=measure_sparsity(model, measured),
        n_train=len(data.train["labels"]),
        n_eval=len(data.eval["labels"]),
        prune_s=prune_s,
        train_s=train_s,
        eval_s=eval_s,
        device=torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        ready_s=ready_s,
    )


def failed_row(config: dict[str, Any], error: str) -> dict[str, Any]:
    """The row of a trial that failed after all its retries."""
    trial = TrialConfig.from_dict(config)
    return {**_identity(trial), **_measured(status="failed", error=error)}


def _identity(trial: TrialConfig) -> dict[str, Any]:
    """The row's columns that say which trial this is."""
    return {
        "trial_key": trial.trial_key,
        "sweep": trial.sweep,
        "model": trial.model,
        "task": trial.task_name,
        "difficulty_axis": trial.difficulty_axis,
        "difficulty_level": trial.difficulty_level,
        "method": trial.method,
        "scope": trial.scope,
        "sparsity": trial.sparsity,
        "transfer": trial.transfer,
        "seed": trial.seed,
        "started_at": datetime.now(timezone.utc),
    }


def _measured(**values: Any) -> dict[str, Any]:
    """The row's columns that say what happened (defaults for a trial that measured nothing)."""
    return {
        "metric_name": "",
        "metric": float("nan"),
        "actual_sparsity": float("nan"),
        "n_train": 0,
        "n_eval": 0,
        "prune_s": 0.0,
        "train_s": 0.0,
        "eval_s": 0.0,
        "status": "ok",
        "error": None,
        "metrics": None,
        "device": "cpu",
        "node": socket.gethostname(),
        "finished_at": datetime.now(timezone.utc),
        "versions": _versions(),
        **values,
    }


@once
def _versions() -> dict[str, str]:
    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "source"

    return {
        "torch": torch.__version__,
        "transformers": of("transformers"),
        "junkdna": of("junkdna"),
    }


def _record(trial: TrialConfig, identity: dict, ready_s: float = 0.0, **values) -> dict[str, Any]:
    row = {**identity, **_measured(**values)}
    write_trial(trial.results_dir, row)
    return {**row, "ready_s": ready_s, "skipped": False}
