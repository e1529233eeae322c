"""The trial recipe on the real MiniLM: it learns, records a row, and reuses its worker's cache."""

from __future__ import annotations

import pytest

from orchestrator.spec import validate_spec
from results.store import read_sweep
from workers.trial import run_trial


@pytest.mark.slow
@pytest.mark.ci
def test_minilm_learns_and_the_second_trial_reuses_the_cached_model_and_data(tmp_path):
    spec = validate_spec({
        "name": "t", "storage": str(tmp_path), "models": ["minilm"], "tasks": ["builtin/polarity-easy"],
        "sparsities": [0.5], "transfer": ["dense", "sparse"], "seeds": [1],
        "train": {"epochs": 2, "lr": 1e-4, "batch_size": 16, "max_length": 24, "n_train": 256, "n_eval": 200},
    })  # fmt: skip
    dense, sparse = spec.expand()
    first = run_trial(dense.to_dict())
    second = run_trial(sparse.to_dict())
    assert first["metric"] > 0.8  # chance is 0.5
    assert abs(second["actual_sparsity"] - 0.5) < 1e-4
    assert second["ready_s"] < first["ready_s"] / 3  # model and tokenized data came from the cache
    assert run_trial(dense.to_dict())["skipped"]  # a trial with a row is a no-op
    assert read_sweep(f"{tmp_path}/t/results").table.num_rows == 2
