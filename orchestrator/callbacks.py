"""Tune callbacks: one progress line for humans, and a `failed` row for trials out of retries."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from ray.tune import Callback

from results.store import has_row, write_trial
from workers.config import TrialConfig
from workers.trial import failed_row


class Progress(Callback):
    """done / running / failed / pending, trials per minute and ETA, on one updating line."""

    def __init__(self, total: int, already_done: int, quiet: bool = False) -> None:
        self.total, self.done, self.failed, self.running = total, already_done, 0, 0
        self.started_done = already_done
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.last_print = 0.0

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        finished = self.done - self.started_done + self.failed
        rate = finished / elapsed * 60 if elapsed > 0 else 0.0
        left = self.total - self.done - self.failed
        eta = f"{left / rate:.1f} min" if rate > 0 else "?"
        return (f"[junkdna] {self.done}/{self.total} done, {self.running} running, "
                f"{self.failed} failed, {left - self.running} pending | "
                f"{rate:.1f} trials/min, ETA {eta}")  # fmt: skip

    def _show(self, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if self.tty:
            print("\r" + self.line().ljust(100), end="", file=sys.stderr, flush=True)
        elif force or now - self.last_print >= 30:
            print(self.line(), file=sys.stderr, flush=True)
            self.last_print = now

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running += 1
        self._show()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running, self.done = self.running - 1, self.done + 1
        self._show()

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running, self.failed = self.running - 1, self.failed + 1
        self._show()

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running -= 1  # it will start again
        self._show()

    def close(self) -> None:
        if self.quiet:
            return
        if self.tty:
            print(file=sys.stderr)
        else:
            self._show(force=True)


class FailureRecorder(Callback):
    """Writes a `failed` row, with the error's last line, once a trial has used up its retries."""

    def __init__(self) -> None:
        self.failed: dict[str, str] = {}

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        config = trial.config["trial"]
        key = TrialConfig.from_dict(config).trial_key
        error = last_line(_error_text(trial))
        self.failed[key] = error
        if not has_row(config["results_dir"], key):  # a row written before a crash stays ok
            write_trial(config["results_dir"], failed_row(config, error))


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
