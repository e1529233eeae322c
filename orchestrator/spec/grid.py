"""Grid expansion: a validated SweepSpec becomes its list of TrialConfigs."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from difficulty.axes import axis_levels
from orchestrator.spec.schema import task_ref
from workers.config import DENSE_METHOD, TrialConfig
from workers.transfer_modes import TRANSFER_MODES

if TYPE_CHECKING:
    from orchestrator.spec.schema import SweepSpec


def expand(spec: SweepSpec) -> list[TrialConfig]:
    """The trial grid; a mode that does not prune (`dense`) appears once per model × task ×
    level × seed, not once per method and sparsity."""
    ((axis, levels),) = spec.difficulty.items()
    tasks = [task_ref(t) for t in spec.tasks]
    fingerprints = {t["name"]: fingerprint(t) for t in tasks}
    common = dict(
        sweep=spec.name,
        results_dir=f"{spec.sweep_dir}/results",
        train=spec.train,
        noop=spec.noop,
        cpus=spec.resources.cpu,
        difficulty_axis=axis,
    )
    trials = []
    grid = (
        (model, task, level, seed, transfer)
        for model, task in itertools.product(spec.models, tasks)
        for level, seed, transfer in itertools.product(
            axis_levels(axis, task, levels), spec.seeds, spec.transfer
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
        for pruning in spec.pruning:
            for sparsity in pruning.sparsities(spec.sparsities):
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


def fingerprint(task: dict[str, Any]) -> str:
    """Content hash of a local task's files (a changed file is a different trial)."""
    if "train" not in task:
        return ""
    digest = hashlib.sha256()
    for key in ("train", "eval"):
        digest.update(Path(task[key]).read_bytes())
    return digest.hexdigest()[:16]
