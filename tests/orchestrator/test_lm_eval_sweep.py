"""A sweep over a local lm-eval task end to end through Ray Tune: validate, run, rows, analyze."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from results.analysis import analyze
from results.store import read_sweep

TINY = Path(__file__).parents[1] / "lm_eval_tasks" / "tiny_mc.yaml"
# The LLM the sweep runs on: a fixture's name, or a model name junkdna resolves. The packaged
# `smollm2` (issue 20) replaces the tiny random LLaMA here once it lands.
MODEL = "tiny_llama_lm"


@pytest.fixture
def model(request) -> str:
    return request.getfixturevalue(MODEL) if MODEL.startswith("tiny_") else MODEL


@pytest.fixture
def ray_local():
    import ray

    from orchestrator.driver import WORKER_ENV

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": WORKER_ENV})  # fmt: skip
    yield
    ray.shutdown()


@pytest.mark.ci
def test_a_sweep_over_a_local_lm_eval_task_runs_end_to_end(ray_local, model, tmp_path, capsys):
    pytest.importorskip("lm_eval")
    spec = tmp_path / "lm.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "lm", "storage": str(tmp_path / "sweeps"), "models": [model],
        "tasks": [{"lm_eval": str(TINY)}], "difficulty": {"shots": [0, 1]},
        "pruning": [{"method": "magnitude"}], "sparsities": [0.5], "transfer": ["dense", "none"],
        "seeds": [1], "retries": 0, "train": {"n_eval": 6, "eval_batch_size": 8},
    }))  # fmt: skip
    assert main(["submit", str(spec)]) == 0
    rows = read_sweep(str(tmp_path / "sweeps" / "lm" / "results")).table.to_pandas()
    assert len(rows) == 2 * 2 and set(rows["status"]) == {"ok"}
    assert set(rows["difficulty_level"]) == {0.0, 1.0} and set(rows["task"]) == {"lm_eval/tiny_mc"}
    for _, r in rows.iterrows():
        metrics = json.loads(r["metrics"])
        assert r["metric_name"] == "acc_norm" and r["metric"] == metrics["acc_norm"]
        assert set(metrics) == {"acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "chance"}
        assert metrics["chance"] == 0.25 and r["n_eval"] == 6 and r["train_s"] == 0
        assert abs(r["actual_sparsity"] - (0.5 if r["transfer"] == "none" else 0.0)) < 0.01
    dense = analyze(rows).levels
    assert dense["chance"].tolist() == [0.25, 0.25]  # from lm-eval's options: the at-chance rule
    assert (
        main(["analyze", str(tmp_path / "sweeps" / "lm"), "--out", str(tmp_path / "report")]) == 0
    )
    assert "demonstrations" in (tmp_path / "report" / "report.md").read_text()
