"""The sweep's Progress callback: its counts and ETA, and the rows it writes for lost workers."""

from __future__ import annotations

import time
from types import SimpleNamespace

from orchestrator.callbacks import Progress, last_line
from results.store import read_sweep, write_trial
from workers.config import TrialConfig
from workers.record import identity, measured


def trial(tmp_path, sparsity: float) -> TrialConfig:
    return TrialConfig(sweep="s", results_dir=str(tmp_path / "results"), model="m",
                       task={"name": "builtin/polarity-easy"}, difficulty_axis="data_fraction",
                       difficulty_level=1.0, method="magnitude", scope="global",
                       pruning_options={}, sparsity=sparsity, transfer="sparse", seed=1)  # fmt: skip


def ok(key: str, skipped: bool = False) -> dict:
    return {"trial_key": key, "status": "ok", "skipped": skipped, "ready_s": 2.0}


def failed(key: str) -> dict:
    return {"trial_key": key, "status": "failed", "error": "ValueError: bad", "skipped": False}


def test_the_line_counts_done_running_failed_pending_and_the_eta():
    progress = Progress(total=10, already_done=2, bundles=[], quiet=True)
    assert progress.line().endswith("0.0 trials/min, ETA ?")  # nothing finished yet
    for _ in range(3):
        progress.on_trial_start(0, [], None)
    progress.on_trial_result(0, [], None, ok("a"))
    progress.on_trial_complete(0, [], None)
    progress.on_trial_result(0, [], None, failed("b"))
    progress.on_trial_complete(0, [], None)
    progress.start = time.monotonic() - 60  # two trials finished in this run's first minute
    assert progress.line() == (
        "[junkdna] 3/10 done, 1 running, 1 failed, 5 pending | 2.0 trials/min, ETA 3.0 min"
    )
    assert (progress.ran, progress.ready_s) == (1, [2.0])


def test_a_retry_that_succeeds_clears_the_failure_and_skipped_trials_are_not_runs():
    progress = Progress(total=2, already_done=0, bundles=[], quiet=True)
    progress.on_trial_result(0, [], None, failed("a"))
    progress.on_trial_result(0, [], None, ok("a"))
    progress.on_trial_result(0, [], None, ok("b", skipped=True))
    assert (progress.done, progress.errors, progress.ran, progress.ready_s) == (2, {}, 1, [2.0])


def test_a_bundle_whose_last_trial_reported_shows_nothing_running():
    progress = Progress(total=1, already_done=0, bundles=[], quiet=True)
    progress.on_trial_start(0, [], None)
    progress.on_trial_result(0, [], None, ok("a"))  # the bundle has not completed yet
    assert "1/1 done, 0 running, 0 failed, 0 pending" in progress.line()


def test_a_lost_worker_leaves_failed_rows_for_its_bundles_trials_without_a_row(tmp_path):
    finished, lost = trial(tmp_path, 0.3), trial(tmp_path, 0.6)
    write_trial(finished.results_dir, {**identity(finished), **measured(metric=0.8)})
    trace = tmp_path / "error.txt"
    trace.write_text("Traceback (most recent call last):\n  ...\nRuntimeError: node died\n\n")
    lost_bundle = SimpleNamespace(
        config={"bundle": 1}, error_file=str(trace), get_error=lambda: None
    )
    progress = Progress(2, 0, bundles=[[], [finished.to_dict(), lost.to_dict()]], quiet=True)
    progress.on_trial_start(0, [], lost_bundle)
    progress.on_trial_error(0, [], lost_bundle)

    rows = {r["trial_key"]: r for r in read_sweep(finished.results_dir).table.to_pylist()}
    assert rows[finished.trial_key]["status"] == "ok" and rows[finished.trial_key]["metric"] == 0.8
    assert rows[lost.trial_key]["status"] == "failed"
    assert rows[lost.trial_key]["error"] == "worker lost: RuntimeError: node died"
    assert progress.errors == {lost.trial_key: "worker lost: RuntimeError: node died"}
    assert progress.running == 0


def test_without_an_error_file_the_error_comes_from_the_trial(tmp_path):
    config = trial(tmp_path, 0.5)
    error = "Traceback\nOSError: disk full"
    lost_bundle = SimpleNamespace(config={"bundle": 0}, error_file=None, get_error=lambda: error)
    progress = Progress(1, 0, bundles=[[config.to_dict()]], quiet=True)
    progress.on_trial_error(0, [], lost_bundle)
    assert progress.errors == {config.trial_key: "worker lost: OSError: disk full"}


def test_last_line_is_the_exception_line():
    assert last_line("Traceback:\n  File x\nKeyError: 'a'\n  \n") == "KeyError: 'a'"
    assert last_line("") == "unknown error"


def test_quiet_prints_nothing_and_a_log_gets_the_final_line(capsys):
    Progress(3, 1, bundles=[], quiet=True).close()
    assert capsys.readouterr().err == ""
    Progress(3, 1, bundles=[], quiet=False).close()  # stderr is not a terminal here
    assert capsys.readouterr().err.startswith("[junkdna] 1/3 done, 0 running, 0 failed, 2 pending")
