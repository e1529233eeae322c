"""The Tune callbacks of a sweep: one progress line for humans, the tally of what happened, and
one experiment-tracker run per trial (`trackers:` in the spec).

Each Tune report is one finished junkdna trial (ok, failed after its retries, or skipped).
A bundle that dies with its worker after all of Tune's retries leaves `failed` rows for its
trials that have no row, so `status` shows them, `resume` runs them again and the trackers get
a failed run for each, as for any other failed trial.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ray.tune import Callback
from ray.tune.experiment import Trial
from ray.tune.logger import LoggerCallback
from ray.tune.result import TRAINING_ITERATION

from results.store import has_row, write_trial
from workers.config import TrialConfig
from workers.record import failed_row, identity


def bundle_trials(config: dict[str, Any], bundles: list) -> list[dict[str, Any]]:
    """A Tune trial's junkdna trials: a searcher's travel in its config, a grid's by index."""
    return config["trials"] if "trials" in config else bundles[config["bundle"]]


class Progress(Callback):
    """done / running / failed / pending, trials per minute and ETA, on one updating line."""

    def __init__(
        self,
        total: int | Callable[[], int],
        already_done: int,
        bundles: list,
        quiet: bool = False,
        on_row: Callable[[], None] | None = None,
        on_lost: Callable[[Any, dict], None] | None = None,
    ) -> None:
        self._total, self.done, self.running = total, already_done, 0  # a search's total grows
        self.on_row = on_row or (lambda: None)  # called once per row a trial wrote
        # called with the bundle's Tune trial and a failed report for each trial its lost worker
        # left without a row (TrialRuns.log: the trackers' failed runs)
        self.on_lost = on_lost or (lambda bundle, result: None)
        self.bundles = bundles
        self.started_done = already_done
        self.ran = 0
        self.errors: dict[str, str] = {}
        self.ok: set[str] = set()  # keys of the trials that reported an `ok` row in this run
        self.ready_s: list[float] = []
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.last_print = 0.0

    @property
    def total(self) -> int:
        return self._total() if callable(self._total) else self._total

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        finished = self.done - self.started_done + len(self.errors)
        rate = finished / elapsed * 60 if elapsed > 0 else 0.0
        left = self.total - self.done - len(self.errors)
        running = min(self.running, left)  # a bundle's last trial reports before the bundle ends
        eta = f"{left / rate:.1f} min" if rate > 0 else "?"
        return (f"[junkdna] {self.done}/{self.total} done, {running} running, "
                f"{len(self.errors)} failed, {left - running} pending | "
                f"{rate:.1f} trials/min, ETA {eta}")  # fmt: skip

    def _show(self, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if self.tty:
            if force or now - self.last_print >= 0.2:
                print("\r" + self.line().ljust(100), end="", file=sys.stderr, flush=True)
                self.last_print = now
        elif force or now - self.last_print >= 30:
            print(self.line(), file=sys.stderr, flush=True)
            self.last_print = now

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running += 1
        self._show()

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info):
        key = result["trial_key"]
        if not result["skipped"]:
            self.on_row()
        if result["status"] == "failed":
            self.errors[key] = result["error"]
        else:
            self.done += 1
            self.ok.add(key)
            self.errors.pop(key, None)
            if not result["skipped"]:
                self.ran += 1
                self.ready_s.append(result["ready_s"])
        self._show()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running -= 1
        self._show()

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running -= 1  # the bundle starts again elsewhere

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running -= 1
        error = f"worker lost: {last_line(_error_text(trial))}"
        for config in bundle_trials(trial.config, self.bundles):
            key = TrialConfig.from_dict(config).trial_key
            # reported `ok` here, else its own fragment (a compaction may have merged the former)
            if key not in self.ok and not has_row(config["results_dir"], key, compacted=False):
                row = failed_row(config, error)
                write_trial(config["results_dir"], row)
                self.errors[key] = error
                self.on_row()
                self.on_lost(trial, {**row, "skipped": False})
        self._show()

    def close(self) -> None:
        if self.quiet:
            return
        self._show(force=True)
        if self.tty:
            print(file=sys.stderr)


class BundleRetry(Callback):
    """A bundle that Tune runs again after its worker died starts after the trials it reported.

    Their rows are written (a trial reports after its row), so the retry needs no request to
    know it, even where a compaction has merged them since: `has_row(compacted=False)` in the
    trial sees only fragments, and a listing per trial is what the store avoids. Tune starts
    the retry with the trial's config (`_get_trainable_kwargs` copies it then), so the first
    position to run travels there, beside the bundle's index.
    """

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        position = (trial.last_result or {}).get("position")
        if position is not None:
            trial.config["start"] = position + 1


class TrialRuns(Callback):
    """One run per junkdna trial in each tracker, written by Tune's own logger callbacks.

    A Tune trial is a bundle of junkdna trials (orchestrator.driver), so Tune's logger callbacks
    alone would make one run per bundle, its config {"bundle": i}. Here each reported junkdna
    trial becomes a Tune `Trial` of its own (config: the row's identity columns and metric_name;
    directory: <trial_key> in the Tune run's directory) that the callbacks start, give its one
    result (`metric`) and end at once: an MLflow run, a W&B run, a TensorBoard directory with
    hparams per trial. Driving Tune's callbacks, rather than each tracker's client API, keeps
    their handling (run status, W&B's logging actor, parameter flattening, syncing to storage).
    Trials skipped because they already had a row get no run; failed ones get a failed run, those
    of a worker that died included (`log`, called by Progress for the rows it writes for them). A
    tracker that cannot log a trial (a server down) costs a line on stderr, never the sweep; one
    that cannot start was stopped (or left out) by `orchestrator.trackers.start_trackers`, which
    set the loggers up before anything of the sweep was written.
    """

    def __init__(self, loggers: list[LoggerCallback], bundles: list) -> None:
        self.loggers = loggers  # set up already
        self.bundles = bundles
        self.configs: dict[str, dict[str, Any]] = {}  # trial_key -> tracked config, per bundle

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info):
        self.log(trial, result)

    def log(self, trial: Any, result: dict) -> None:
        """One run for the junkdna trial that `result` reports, from bundle `trial`."""
        if result["skipped"]:
            return
        config = {**self._config(trial.config, result["trial_key"]),
                  "metric_name": result["metric_name"]}  # fmt: skip
        run = Trial(
            trial.trainable_name,
            config=config,
            evaluated_params=config,
            storage=trial.storage,
            trial_name_creator=lambda _: run_name(config),
            trial_dirname_creator=lambda _: config["trial_key"],
            stub=True,
        )
        run.init_local_path()  # <trial_key> beside the bundle's directory, not the bundle's own
        Path(run.local_path).mkdir(parents=True, exist_ok=True)  # W&B's logging actor runs there
        metrics = {TRAINING_ITERATION: 1}
        if result["status"] == "failed":  # measured nothing; TensorBoard has no run status
            metrics["failed"] = 1
        elif result["metric"] is not None:
            metrics["metric"] = result["metric"]
        for logger in self.loggers:
            try:
                logger.log_trial_start(run)
                logger.log_trial_result(1, run, metrics)
                logger.log_trial_end(run, failed=result["status"] == "failed")
            except Exception as e:  # noqa: BLE001  (a sweep never fails for its tracker)
                print(f"[junkdna] {type(logger).__name__} did not log trial {config['trial_key']}: "
                      f"{last_line(str(e))}", file=sys.stderr)  # fmt: skip

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        for logger in self.loggers:
            logger.on_experiment_end(trials, **info)  # W&B: wait for the uploads

    def _config(self, tune_config: dict[str, Any], key: str) -> dict[str, Any]:
        if key not in self.configs:
            for config in bundle_trials(tune_config, self.bundles):
                trial = TrialConfig.from_dict(config)
                row = identity(trial)
                row.pop("started_at")
                self.configs[trial.trial_key] = row
        return self.configs.pop(key)


def run_name(config: dict[str, Any]) -> str:
    """A tracker run's name: what varies across a sweep's trials."""
    return (f"{config['model']} {config['task']} {config['difficulty_axis']}="
            f"{config['difficulty_level']:g} {config['method']}@{config['sparsity']:g} "
            f"{config['transfer']} seed={config['seed']}")  # fmt: skip


def _error_text(trial: Any) -> str:
    """The trial's error trace: Tune writes it to the trial's local directory before this hook."""
    path = trial.error_file
    if path and os.path.isfile(path):
        with open(path) as f:
            return f.read()
    return str(trial.get_error() or "unknown error")


def last_line(trace: str) -> str:
    """The exception line of a traceback text."""
    lines = [line.strip() for line in str(trace).splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"
