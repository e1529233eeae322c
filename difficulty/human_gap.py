"""Cross-task difficulty: the normalized gap between human and model performance on a task.

A task's human baseline is a constant of the task (for GLUE: Nangia & Bowman 2019, shipped in
`data/glue_human_baselines.csv`; for lm-evaluation-harness tasks, each data set's paper, in
`data/lm_eval_human_baselines.csv`, its source on each line), so a trial of the `human_gap`
axis records it as its `difficulty_level`. The model's score is only known once the sweep's
`dense` trials have run; the analysis (the axis record's `measured`, read by results.reference)
then turns each level into the gap (human - dense) / human of that model and task.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def _human_baselines(name: str) -> dict[tuple[str, str], float]:
    lines = files("difficulty").joinpath(f"data/{name}").read_text().splitlines()
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    return {(r["task"], r["metric"]): float(r["human"]) for r in rows}


@cache
def glue_human_baselines() -> dict[tuple[str, str], float]:
    """(task, metric) -> human score in [0, 1], from the shipped CSV."""
    return _human_baselines("glue_human_baselines.csv")


@cache
def lm_eval_human_baselines() -> dict[str, float]:
    """lm-eval task name -> human accuracy in [0, 1], from the shipped CSV (sources in it)."""
    baselines = _human_baselines("lm_eval_human_baselines.csv")
    return {task: human for (task, _), human in baselines.items()}


def normalized_gap(human: pd.Series, model: pd.Series) -> pd.Series:
    """(human - model) / human: 0 where the model matches people, larger for harder tasks."""
    return (human - model) / human
