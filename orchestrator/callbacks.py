"""The Tune callback of a sweep: one progress line for humans, and the tally of what happened.

Each Tune report is one finished junkdna trial (ok, failed after its retries, or skipped).
A bundle that dies with its worker after all of Tune's retries leaves `failed` rows for its
trials that have no row, so `status` shows them and `resume` runs them again.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

from ray.tune import Callback

from results.store import has_row, write_trial
from workers.config import TrialConfig
from workers.record import failed_row


class Progress(Callback):
    """done / running / failed / pending, trials per minute and ETA, on one updating line."""

    def __init__(
        self,
        total: int,
        already_done: int,
        bundles: list,
        quiet: bool = False,
        on_row: Callable[[], None] | None = None,
    ) -> None:
        self.total, self.done, self.running = total, already_done, 0
        self.on_row = on_row or (lambda: None)  # called once per row a trial wrote
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
        for config in self.bundles[trial.config["bundle"]]:
            key = TrialConfig.from_dict(config).trial_key
            # reported `ok` here, else its own fragment (a compaction may have merged the former)
            if key not in self.ok and not has_row(config["results_dir"], key, compacted=False):
                write_trial(config["results_dir"], failed_row(config, error))
                self.errors[key] = error
        self._show()

    def close(self) -> None:
        if self.quiet:
            return
        self._show(force=True)
        if self.tty:
            print(file=sys.stderr)


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
