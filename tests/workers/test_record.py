"""A trial's row: the columns of results.schema, a failed trial's defaults, one fragment each."""

from __future__ import annotations

import math
from pathlib import Path

from results.schema import SCHEMA, VERSIONS
from results.store import read_sweep
from workers.config import TrialConfig
from workers.record import failed_row, identity, measured, record


def trial(tmp_path: Path) -> TrialConfig:
    return TrialConfig(sweep="s", results_dir=str(tmp_path / "results"), model="m",
                       task={"name": "glue/rte"}, difficulty_axis="label_noise",
                       difficulty_level=0.2, method="magnitude", scope="global",
                       pruning_options={}, sparsity=0.5, transfer="sparse", seed=3)  # fmt: skip


def test_identity_and_measured_make_exactly_the_schemas_columns(tmp_path):
    columns = [*identity(trial(tmp_path)), *measured()]
    assert sorted(columns) == sorted(SCHEMA.names) and len(set(columns)) == len(columns)
    assert list(measured()["versions"]) == list(VERSIONS)


def test_a_failed_row_names_the_trial_and_measured_nothing(tmp_path):
    config = trial(tmp_path)
    row = failed_row(config.to_dict(), "RuntimeError: out of memory")
    assert sorted(row) == sorted(SCHEMA.names)
    assert (row["status"], row["error"]) == ("failed", "RuntimeError: out of memory")
    assert (row["trial_key"], row["task"], row["sparsity"], row["seed"]) == (
        config.trial_key, "glue/rte", 0.5, 3)  # fmt: skip
    assert (row["difficulty_axis"], row["difficulty_level"]) == ("label_noise", 0.2)
    assert math.isnan(row["metric"]) and row["metric_name"] == "" and row["n_train"] == 0
    assert row["started_at"] <= row["finished_at"]
    assert (row["prune_s"], row["train_s"], row["eval_s"]) == (0.0, 0.0, 0.0)


def test_record_writes_one_fragment_per_trial_and_returns_the_row(tmp_path):
    config = trial(tmp_path)
    for metric in (0.7, 0.8):  # a trial that runs again replaces its fragment
        returned = record(config, identity(config), ready_s=1.5, metric_name="accuracy",
                          metric=metric, n_eval=10)  # fmt: skip
    files = sorted(p.name for p in Path(config.results_dir).iterdir())
    assert files == [f"{config.trial_key}.parquet"]
    (row,) = read_sweep(config.results_dir).table.to_pylist()
    assert (row["trial_key"], row["status"], row["metric"], row["n_eval"]) == (
        config.trial_key, "ok", 0.8, 10)  # fmt: skip
    assert returned["ready_s"] == 1.5 and returned["skipped"] is False
    assert returned["metric"] == 0.8 and set(returned) == {*SCHEMA.names, "ready_s", "skipped"}
