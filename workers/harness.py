"""Evaluation through lm-evaluation-harness: the pruned model in this worker's memory, wrapped in
lm-eval's HFLM (no copy, nothing saved), evaluated on an lm-eval task with the trial's seed.

lm-eval (the optional extra `junkdna[lm-eval]`) is imported here, when a trial evaluates.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from difficulty.lm_eval_tasks import lm_eval_name, task_manager

SAMPLE_SEED = 1234  # draws `n_eval` documents: the same questions for every trial of a sweep
PRIMARY = ("acc_norm", "acc")  # the row's metric: the first of these reported, else the first


@dataclass(frozen=True)
class HarnessResult:
    """What lm-eval measured: the row's metric, every metric with its stderr, and the samples."""

    metric_name: str
    metric: float
    metrics: dict[str, float]
    n_eval: int
    samples: dict[str, list[dict]] = field(repr=False, default_factory=dict)


@contextmanager
def _beside(task: dict[str, Any]):
    """A task YAML's relative `data_files` read relative to the YAML (lm-eval reads them relative
    to the working directory, which is Ray's on a worker)."""
    if "lm_eval_file" not in task:
        yield
        return
    here = os.getcwd()
    os.chdir(Path(task["lm_eval_file"]).parent)
    try:
        yield
    finally:
        os.chdir(here)


def sample_indices(n_docs: int, n_eval: int | None) -> list[int] | None:
    """`n_eval` of a task's `n_docs` evaluation documents, drawn once with SAMPLE_SEED (not the
    first n: a data set's order is often by source or difficulty); None: all of them."""
    if n_eval is None or n_eval >= n_docs:
        return None
    return sorted(np.random.default_rng(SAMPLE_SEED).permutation(n_docs)[:n_eval].tolist())


def _metric_name(key: str) -> str:
    """lm-eval's `metric,filter` key as a row names it: `acc` (filter none), else `metric,filter`;
    a standard error ends in `_stderr` either way (`exact_match,strict-match_stderr`)."""
    name, _, kept = key.partition(",")
    if kept == "none":
        return name
    stderr = name.endswith("_stderr")
    return f"{name.removesuffix('_stderr')},{kept}" + ("_stderr" if stderr else "")


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan  # stderr "N/A": NaN


def _chance(samples: list[dict]) -> float:
    """The accuracy of a uniform guess: the mean of 1/options over the questions evaluated."""
    return float(np.mean([1 / len(s["arguments"]) for s in samples]))


def evaluate_harness(
    model: torch.nn.Module,
    tokenizer,
    task: dict[str, Any],
    shots: int | None,
    n_eval: int | None,
    seed: int,
    batch_size: int,
    max_length: int,
) -> HarnessResult:
    """Evaluate `model` (in memory, as it is) on the lm-eval task `task` refers to.

    `shots` is lm-eval's num_fewshot (None: the task's own); `n_eval` documents are drawn once
    (`sample_indices`); `seed` seeds lm-eval's random, numpy, torch and few-shot draws. Every
    metric and its stderr are returned; the primary is acc_norm where reported, else acc, else
    the task's first metric. A multiple-choice task adds `chance`, the mean of 1/options.
    """
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM

    name = lm_eval_name(task)
    spec = task.get("lm_eval_file") or task["lm_eval"]
    manager = task_manager(defaults="lm_eval" in task)  # the one that resolved the task
    with _beside(task):
        samples = None
        if n_eval is not None:  # lm-eval draws per task: the leaves of a group
            loaded = manager.load(spec)["tasks"]
            drawn = {t: sample_indices(len(o.eval_docs), n_eval) for t, o in loaded.items()}
            samples = {t: indices for t, indices in drawn.items() if indices is not None} or None
        lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size,
                  max_length=max_length)  # fmt: skip
        out = simple_evaluate(
            model=lm,
            tasks=[spec],
            num_fewshot=shots,
            samples=samples,
            task_manager=manager,
            log_samples=True,
            random_seed=seed,
            numpy_random_seed=seed,
            torch_random_seed=seed,
            fewshot_random_seed=seed,
        )
    reported = out["results"].get(name) or out.get("groups", {}).get(name) or {}
    # lm-eval's metrics are `metric,filter` keys; `alias`, `name`, `sample_len` describe the task
    metrics = {_metric_name(k): _number(v) for k, v in reported.items() if "," in k}
    if not metrics:
        raise RuntimeError(f"lm-eval reported no metric for {name!r}")
    logged = out.get("samples", {})
    types = {t: config.get("output_type") for t, config in out["configs"].items()}
    if set(types.values()) == {"multiple_choice"}:  # every task (of a group) multiple choice
        metrics["chance"] = _chance([s for t in types for s in logged.get(t, [])])
    measured = [k for k in metrics if not k.endswith("_stderr") and k != "chance"]
    primary = next((m for m in PRIMARY if m in metrics), measured[0])
    n = sum(counts["effective"] for counts in out["n-samples"].values())
    return HarnessResult(primary, metrics[primary], metrics, n, logged)
