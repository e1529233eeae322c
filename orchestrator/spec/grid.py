"""Grid expansion: a validated SweepSpec becomes its list of TrialConfigs.

A trial that computes exactly what another does is run once, under the other's name: at
sparsity 0, a mode that is `same_as_dense_at_zero` (sparse, dense_freeze, sparse_to_dense) is
the `dense` trial. `equivalents` lists such pairs, so that the analysis can show the point of
each mode at sparsity 0 from the dense row (results.compression.with_equivalents).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from difficulty.axes import AXES, axis_levels
from difficulty.prompts import generates
from difficulty.sources import task_kind
from results.transfer_modes import TRANSFER_MODES
from workers.config import DENSE_METHOD, TrainConfig, TrialConfig

Prunings = list[tuple[str, str, dict[str, Any], list[float]]]
"""Each pruning of a sweep: method, scope, options as written, the sparsities it runs at."""
Quantizations = list[tuple[str, str, dict[str, Any], list[int], list[str]]]
"""Each quantization of a sweep: method, scope, options as written, bit widths, transfer modes."""


def expand(*args: Any, **kwargs: Any) -> list[TrialConfig]:
    """The trial grid (arguments: `grid`), each trial once: a trial equivalent to another
    (`same_trial`) is replaced by it, in the first place either appears."""
    trials: dict[str, TrialConfig] = {}
    for trial in grid(*args, **kwargs):
        same = same_trial(trial)
        trials.setdefault(same.trial_key, same)
    return list(trials.values())


def equivalents(*args: Any, **kwargs: Any) -> list[tuple[TrialConfig, TrialConfig]]:
    """(trial, the trial that is run for it) for every trial of the grid that is not run itself."""
    return [(t, same) for t in grid(*args, **kwargs) if (same := same_trial(t)) is not t]


def same_trial(trial: TrialConfig) -> TrialConfig:
    """The trial that computes exactly what `trial` does: at sparsity 0, a mode that is then
    the same as dense (TransferMode.same_as_dense_at_zero) is the dense trial; else itself."""
    if (
        trial.bits is None
        and trial.sparsity == 0
        and TRANSFER_MODES[trial.transfer].same_as_dense_at_zero
    ):
        return dataclasses.replace(trial, method=DENSE_METHOD, scope=DENSE_METHOD,
                                   pruning_options={}, transfer="dense")  # fmt: skip
    return trial


def grid(
    sweep: dict[str, Any],
    train: TrainConfig,
    models: list[str],
    tasks: list[dict[str, Any]],
    fingerprints: dict[str, str],
    difficulty: tuple[str, list[float]],
    seeds: list[int],
    transfers: list[str],
    prunings: Prunings,
    quantizations: Quantizations = (),
) -> Iterator[TrialConfig]:
    """Every point of the grid; a mode that does not compress (`dense`) appears once per model ×
    task × level × seed, not once per method and sparsity. `sweep`: sweep, results_dir, noop,
    cpus; `fingerprints`: each task's files' content hash by name ("" for a registered task).
    A quantization's trials run under its own transfer modes, at sparsity 0."""
    axis, levels = difficulty
    common = dict(sweep, train=train, difficulty_axis=axis)
    quantized = [t for *_, modes in quantizations for t in modes]
    points = (
        (model, task, level, seed, transfer)
        for model, task in itertools.product(models, tasks)
        for level, seed, transfer in itertools.product(
            axis_levels(axis, task, levels), seeds, list(dict.fromkeys([*transfers, *quantized]))
        )
    )
    kinds = {task["name"]: task_kind(task) for task in tasks}
    for model, task, level, seed, transfer in points:
        generating = generates(kinds[task["name"]], AXES[axis].prompt(level))
        point = dict(
            common,
            model=model,
            task=task,
            difficulty_level=float(level),
            seed=seed,
            transfer=transfer,
            task_fingerprint=fingerprints[task["name"]],
            prompt=train.prompt if generating else None,
        )
        if not TRANSFER_MODES[transfer].prunes:
            unpruned = dict(method=DENSE_METHOD, scope=DENSE_METHOD, pruning_options={})
            yield TrialConfig(**point, **unpruned, sparsity=0.0)
            continue
        for method, scope, options, sparsities in prunings if transfer in transfers else ():
            pruned = dict(point, method=method, scope=scope, pruning_options=options)
            yield from (TrialConfig(**pruned, sparsity=sparsity) for sparsity in sparsities)
        for method, scope, options, bits, modes in quantizations:
            if transfer in modes:
                quant = dict(point, method=method, scope=scope, pruning_options=options)
                yield from (TrialConfig(**quant, sparsity=0.0, bits=b) for b in bits)


@dataclass(frozen=True)
class Curve:
    """A search curve: one model, task, level, pruning and transfer mode across sparsities.

    `trials` holds its trial at every (sparsity, seed) of the search grid, each the very trial a
    grid sweep would run there; sparsity 0.0 is the dense reference of the same model, task,
    level and seed, shared by every curve of that point.
    """

    key: tuple
    trials: dict[tuple[float, int], TrialConfig]


CURVE = ["model", "task", "difficulty_axis", "difficulty_level", "method", "scope", "options",
         "transfer"]  # fmt: skip
"""What a `Curve.key` holds, in order."""


def options_key(trial: TrialConfig) -> str:
    """A trial's pruning options as one canonical string (a curve's, a mask set's identity)."""
    return json.dumps(trial.pruning_options, sort_keys=True, default=str)


def curves(pruned: list[TrialConfig], dense: list[TrialConfig]) -> list[Curve]:
    """The pruned trials grouped into curves, each with its dense references at sparsity 0."""
    references = {(t.model, t.task_name, t.difficulty_level, t.seed): t for t in dense}
    grouped: dict[tuple, dict[tuple[float, int], TrialConfig]] = {}
    for t in pruned:
        key = (t.model, t.task_name, t.difficulty_axis, t.difficulty_level, t.method, t.scope,
               options_key(t), t.transfer)  # in the order of CURVE  # fmt: skip
        trials = grouped.setdefault(key, {})
        trials[(t.sparsity, t.seed)] = t
        reference = references.get((t.model, t.task_name, t.difficulty_level, t.seed))
        if reference is not None:
            trials[(0.0, t.seed)] = reference
    return [Curve(key, trials) for key, trials in grouped.items()]
