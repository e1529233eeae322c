"""Grid expansion: a validated SweepSpec becomes its list of TrialConfigs."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
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
    fingerprints: dict[str, str],
    difficulty: tuple[str, list[float]],
    seeds: list[int],
    transfers: list[str],
    prunings: Prunings,
) -> list[TrialConfig]:
    """The trial grid; a mode that does not prune (`dense`) appears once per model × task ×
    level × seed, not once per method and sparsity. `sweep`: sweep, results_dir, noop, cpus;
    `fingerprints`: each task's files' content hash by name ("" for a registered task)."""
    axis, levels = difficulty
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


@dataclass(frozen=True)
class Curve:
    """A search curve: one model, task, level, pruning and transfer mode across sparsities.

    `trials` holds its trial at every (sparsity, seed) of the search grid, each the very trial a
    grid sweep would run there; sparsity 0.0 is the dense reference of the same model, task,
    level and seed, shared by every curve of that point.
    """

    key: tuple
    trials: dict[tuple[float, int], TrialConfig]


def curves(pruned: list[TrialConfig], dense: list[TrialConfig]) -> list[Curve]:
    """The pruned trials grouped into curves, each with its dense references at sparsity 0."""
    references = {(t.model, t.task_name, t.difficulty_level, t.seed): t for t in dense}
    grouped: dict[tuple, dict[tuple[float, int], TrialConfig]] = {}
    for t in pruned:
        options = json.dumps(t.pruning_options, sort_keys=True, default=str)
        key = (t.model, t.task_name, t.difficulty_axis, t.difficulty_level, t.method, t.scope,
               options, t.transfer)  # fmt: skip
        trials = grouped.setdefault(key, {})
        trials[(t.sparsity, t.seed)] = t
        reference = references.get((t.model, t.task_name, t.difficulty_level, t.seed))
        if reference is not None:
            trials[(0.0, t.seed)] = reference
    return [Curve(key, trials) for key, trials in grouped.items()]
