"""Grid expansion: a validated SweepSpec becomes its list of TrialConfigs."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

from difficulty.axes import axis_levels
from workers.config import DENSE_METHOD, TrainConfig, TrialConfig
from workers.transfer_modes import TRANSFER_MODES

Prunings = list[tuple[str, str, dict[str, Any], list[float]]]
"""Each pruning of a sweep: method, scope, options as written, the sparsities it runs at."""


def expand(
    sweep: dict[str, Any],
    train: TrainConfig,
    models: list[str],
    tasks: list[dict[str, Any]],
    difficulty: tuple[str, list[float]],
    seeds: list[int],
    transfers: list[str],
    prunings: Prunings,
) -> list[TrialConfig]:
    """The trial grid; a mode that does not prune (`dense`) appears once per model × task ×
    level × seed, not once per method and sparsity. `sweep`: sweep, results_dir, noop, cpus."""
    axis, levels = difficulty
    fingerprints = {t["name"]: fingerprint(t) for t in tasks}
    common = dict(sweep, train=train, difficulty_axis=axis)
    trials = []
    grid = (
        (model, task, level, seed, transfer)
        for model, task in itertools.product(models, tasks)
        for level, seed, transfer in itertools.product(
            axis_levels(axis, task, levels), seeds, transfers
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
        if not TRANSFER_MODES[transfer].prunes:
            unpruned = dict(method=DENSE_METHOD, scope=DENSE_METHOD, pruning_options={})
            trials.append(TrialConfig(**point, **unpruned, sparsity=0.0))
            continue
        for method, scope, options, sparsities in prunings:
            pruned = dict(point, method=method, scope=scope, pruning_options=options)
            trials += [TrialConfig(**pruned, sparsity=sparsity) for sparsity in sparsities]
    return trials


def fingerprint(task: dict[str, Any]) -> str:
    """Content hash of a local task's files (a changed file is a different trial)."""
    if "train" not in task:
        return ""
    digest = hashlib.sha256()
    for key in ("train", "eval"):
        digest.update(Path(task[key]).read_bytes())
    return digest.hexdigest()[:16]
