"""A trial's results row (schema v1): which trial it is, and what it measured.

Free of torch, so the driver can write the row of a trial whose worker died without importing
the model stack.
"""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from results.schema import NOTHING_MEASURED, VERSIONS
from results.store import write_trial
from workers.config import TrialConfig


def failed_row(config: dict[str, Any], error: str) -> dict[str, Any]:
    """The row of a trial that failed after all its retries."""
    trial = TrialConfig.from_dict(config)
    return {**identity(trial), **measured(status="failed", error=error)}


def identity(trial: TrialConfig) -> dict[str, Any]:
    """The row's columns that say which trial this is."""
    return {
        "trial_key": trial.trial_key,
        "sweep": trial.sweep,
        "model": trial.model,
        "task": trial.task_name,
        "difficulty_axis": trial.difficulty_axis,
        "difficulty_level": trial.difficulty_level,
        "method": trial.method,
        # `targets: all` (every matrix, embeddings and head included) is a scope of its own
        "scope": f"{trial.scope}+all"
        if trial.pruning_options.get("targets") == "all"
        else trial.scope,
        "sparsity": trial.sparsity,
        "bits": trial.bits,
        "prompt": trial.prompt,
        "transfer": trial.transfer,
        "seed": trial.seed,
        "started_at": datetime.now(timezone.utc),
    }


def measured(**values: Any) -> dict[str, Any]:
    """The row's columns that say what happened (defaults for a trial that measured nothing)."""
    return {
        **NOTHING_MEASURED,
        "node": socket.gethostname(),
        "finished_at": datetime.now(timezone.utc),
        "versions": _versions(),
        **values,
    }


@cache
def _versions() -> dict[str, str]:
    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "source"

    return {package: of(package) for package in VERSIONS}


def record(trial: TrialConfig, identity: dict, ready_s: float = 0.0, **values) -> dict[str, Any]:
    row = {**identity, **measured(**values)}
    write_trial(trial.results_dir, row)
    return {**row, "ready_s": ready_s, "skipped": False}
