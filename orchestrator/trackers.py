"""Experiment trackers (`trackers:` in the spec): Tune's own logger callback for each, by name.

Each tracker is built from the sweep's name and the driver's environment (MLFLOW_TRACKING_URI,
WANDB_PROJECT, ...) and driven by `orchestrator.callbacks.TrialRuns`, which gives it one run
per junkdna trial. Ray is imported only when a sweep runs, so validating a spec stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ray.tune import Callback
    from ray.tune.logger import LoggerCallback


@dataclass(frozen=True)
class Tracker:
    package: str  # what `trackers: [name]` needs installed (pip install 'junkdna[trackers]')
    callback: Callable[[str], LoggerCallback]  # from the sweep's name


def _mlflow(sweep: str) -> LoggerCallback:
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    # MLFLOW_TRACKING_URI says where (mlflow's default when unset); one experiment per sweep
    return MLflowLoggerCallback(experiment_name=os.environ.get("MLFLOW_EXPERIMENT_NAME") or sweep)


WANDB_INIT_ENV = {"mode": "WANDB_MODE", "dir": "WANDB_DIR", "entity": "WANDB_ENTITY"}


def _wandb(sweep: str) -> LoggerCallback:
    from ray.air.integrations.wandb import WandbLoggerCallback

    # W&B logs from a Ray actor, whose environment is the raylet's: the driver's settings
    # travel as wandb.init arguments instead
    given = {arg: os.environ[var] for arg, var in WANDB_INIT_ENV.items() if os.environ.get(var)}
    return WandbLoggerCallback(
        project=os.environ.get("WANDB_PROJECT") or sweep,
        group=os.environ.get("WANDB_RUN_GROUP") or sweep,
        **given,
    )


def _tensorboard(sweep: str) -> LoggerCallback:
    from ray.tune.logger import TBXLoggerCallback

    return TBXLoggerCallback()  # event files in <sweep>/tune/<run>/<trial_key>/


TRACKERS = {
    "mlflow": Tracker("mlflow", _mlflow),
    "wandb": Tracker("wandb", _wandb),
    "tensorboard": Tracker("tensorboardX", _tensorboard),
}


def tracker_callbacks(trackers: list[str], sweep: str, bundles: list) -> list[Callback]:
    """The Tune callbacks that log each trial of `bundles` to `trackers` (none: [])."""
    if not trackers:
        return []
    from orchestrator.callbacks import TrialRuns

    loggers = [TRACKERS[name].callback(sweep) for name in dict.fromkeys(trackers)]
    return [TrialRuns(loggers, bundles)]
