"""Experiment trackers (`trackers:` in the spec): Tune's own logger callback for each, by name.

Each tracker is built from the sweep's name and the driver's environment (MLFLOW_TRACKING_URI,
WANDB_PROJECT, ...), set up before anything of the sweep is written or started (`start_trackers`:
a tracker that cannot start is one line naming it and what to fix, or, asked to, a warning and a
sweep without it), and driven by `orchestrator.callbacks.TrialRuns`, which gives it one run per
junkdna trial. Ray is imported only when a sweep runs, so validating a spec stays fast.
"""

from __future__ import annotations

import os
import sys
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
    fix: str  # what to check when it cannot start


class TrackerError(RuntimeError):
    """A tracker that cannot start; str() is the one line shown to the user."""


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
    "mlflow": Tracker(
        "mlflow",
        _mlflow,
        "check MLFLOW_TRACKING_URI (a server, sqlite:///mlflow.db; a file:// store needs "
        "MLFLOW_ALLOW_FILE_STORE=true on mlflow 3)",
    ),
    "wandb": Tracker(
        "wandb", _wandb, "run `wandb login` or set WANDB_API_KEY (or WANDB_MODE=offline)"
    ),
    "tensorboard": Tracker(
        "tensorboardX", _tensorboard, "check that the sweep's storage can be written"
    ),
}
SKIP_FLAG = "--skip-broken-trackers"


def start_trackers(
    trackers: list[str], sweep: str, skip_broken: bool = False
) -> list[LoggerCallback]:
    """Each tracker's Tune logger callback, set up (its store reached, its login checked).

    One that cannot start raises TrackerError naming it and what to fix; with `skip_broken`
    (SKIP_FLAG) it is left out instead, with a warning on stderr.
    """
    loggers = []
    for name in dict.fromkeys(trackers):
        tracker = TRACKERS[name]
        try:
            logger = tracker.callback(sweep)
            logger.setup()
        except Exception as e:  # noqa: BLE001  (any failure of a tracker's client is the user's to fix)
            problem = next((s for s in str(e).splitlines() if s.strip()), type(e).__name__)
            line = f"tracker {name} cannot start: {problem.strip()}; {tracker.fix}"
            if not skip_broken:
                raise TrackerError(f"{line} (or run without it: {SKIP_FLAG})") from None
            print(f"junkdna: warning: {line}; this sweep runs without {name}", file=sys.stderr)
            continue
        loggers.append(logger)
    return loggers


def tracker_callbacks(loggers: list[LoggerCallback], bundles: list) -> list[Callback]:
    """The Tune callbacks that log each trial of `bundles` to the started `loggers` (none: [])."""
    if not loggers:
        return []
    from orchestrator.callbacks import TrialRuns

    return [TrialRuns(loggers, bundles)]
