"""The GLUE human baselines file and the human-model gap that orders tasks across a sweep."""

from __future__ import annotations

import pandas as pd
import pytest

from difficulty import TASKS
from difficulty.glue import GLUE
from difficulty.human_gap import glue_human_baselines
from results.analysis import analyze
from results.monotonicity import task_gaps


def test_shipped_baselines_cover_every_glue_task_on_its_metric():
    baselines = glue_human_baselines()
    for name in GLUE:
        task = TASKS[f"glue/{name}"]
        assert task.human_baseline == baselines[(task.name, task.metric)]
    assert baselines[("glue/rte", "accuracy")] == 0.936  # Nangia & Bowman 2019, Table 1


def rows(task: str, human: float, dense: float, drops: dict[float, float]) -> list[dict]:
    base = {"model": "m", "task": task, "difficulty_axis": "human_gap", "difficulty_level": human,
            "scope": "global", "status": "ok", "seed": 0, "sweep": "s", "metric_name": "accuracy"}  # fmt: skip
    out = [base | {"transfer": "dense", "method": "none", "sparsity": 0.0, "metric": dense}]
    out += [base | {"transfer": "sparse", "method": "magnitude", "sparsity": s, "metric": dense - d}
            for s, d in drops.items()]  # fmt: skip
    return out


def test_analysis_orders_tasks_by_the_normalized_gap_not_the_human_score():
    # rte: human 0.936, model 0.70 -> gap 0.25 (hard); sst2: 0.978 vs 0.95 -> 0.03 (easy).
    # The hard task loses more; ordered by the raw human score the order would be reversed.
    df = pd.DataFrame(
        rows("glue/rte", 0.936, 0.70, {0.3: 0.05, 0.5: 0.10})
        + rows("glue/sst2", 0.978, 0.95, {0.3: 0.01, 0.5: 0.02})
    )
    gaps = task_gaps(analyze(df).levels)
    assert gaps["task"].tolist() == ["glue/rte", "glue/sst2"]
    assert gaps["gap"].tolist() == pytest.approx([(0.936 - 0.70) / 0.936, (0.978 - 0.95) / 0.978])
    order = analyze(df).order
    assert (order["group"] == "*").all() and (order["order"] == "harder loses more").all()
