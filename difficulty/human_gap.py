"""Cross-task difficulty: the normalized gap between human and model performance on a task.

A task's human baseline is a constant of the task (for GLUE: Nangia & Bowman 2019, shipped in
`data/glue_human_baselines.csv`), so a trial of the `human_gap` axis records it as its
`difficulty_level`. The model's score is only known once the sweep's `dense` trials have run;
the analysis (the axis record's `measured`, read by results.reference) then turns each level
into the gap (human - dense) / human of that model and task.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@cache
def glue_human_baselines() -> dict[tuple[str, str], float]:
    """(task, metric) -> human score in [0, 1], from the shipped CSV."""
    lines = files("difficulty").joinpath("data/glue_human_baselines.csv").read_text().splitlines()
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    return {(r["task"], r["metric"]): float(r["human"]) for r in rows}


def normalized_gap(human: pd.Series, model: pd.Series) -> pd.Series:
    """(human - model) / human: 0 where the model matches people, larger for harder tasks."""
    return (human - model) / human
