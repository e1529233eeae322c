"""One analysis of one results table: every fact the report, tables and plots read, once.

`analyze(rows)` returns an `Analysis`; each of its facts is computed on first use, from the facts
before it, and kept (a table that only needs its drops computes no Spearman):

    ok ─► reference ─► levels ──────────────┐
     │        └──────► drops ─► collapse ───┼─► families (monotonicity per curve)
     │                   │                  └─► compared ─► order ─► summary
     │                   ├─► drop_ci, relative_ci, thresholds, irreversibility
    brackets (adaptive search) ─► bracket_order

The report (results.report), the terminal lines, `results table` (results.tables), the plots
(results.plots), the pruning-vs-quantization comparison (results.compression, one Analysis per
compression) and the breaking points (results.breaking_points) read these attributes; none of
them derives a drop, a dense reference or a difficulty order of its own.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from results import breaking_points as bp
from results import monotonicity as mono
from results import reference as ref


class Analysis:
    """The facts of one results table (and, for an adaptive search, its breaking points)."""

    def __init__(self, rows: pd.DataFrame, brackets: pd.DataFrame | None = None) -> None:
        self.rows = rows  # every row, failed ones included (the report counts them)
        self.brackets = brackets  # orchestrator.search_driver.breaking_points, or None

    def __setattr__(self, name: str, value: object) -> None:
        if name in self.__dict__:
            raise AttributeError(f"Analysis.{name} is computed once and not replaced")
        super().__setattr__(name, value)

    @cached_property
    def ok(self) -> pd.DataFrame:
        """The finished trials; failed rows take no part in any statistic."""
        return ref.ok_rows(self.rows)

    @cached_property
    def reference(self) -> pd.DataFrame:
        """The dense metric per model, task, axis, level and seed."""
        return ref.dense_reference(self.ok)

    @cached_property
    def levels(self) -> pd.DataFrame:
        """Per level: dense mean, n, t interval, chance, at_chance, difficulty, hardness."""
        return ref.dense_levels(self.ok, self.reference)

    @cached_property
    def drops(self) -> pd.DataFrame:
        """Pruned ok rows with their dense metric, drop, drop_pct, pct_of_dense, chance, group."""
        return ref.drops(self.ok, self.reference)

    @cached_property
    def collapse(self) -> pd.DataFrame:
        """Per pruned curve: the sparsity at which it reaches chance (NaN: never)."""
        return ref.collapse(self.drops)

    @cached_property
    def families(self) -> pd.DataFrame:
        """Per pruned curve: rank correlations with sparsity, isotonic fit, verdict, and its
        level's difficulty and hardness; easiest level first within each model and axis."""
        return with_difficulty(
            mono.monotonicity(self.drops, self.collapse, self.levels), self.levels
        )

    @cached_property
    def compared(self) -> pd.DataFrame:
        """The pruned rows an ordering of levels rests on, with hardness and floored drop_pct."""
        return mono.compared_drops(self.drops, self.levels, self.collapse)

    @cached_property
    def order(self) -> pd.DataFrame:
        """Per sparsity > 0 and set of levels: Spearman ρ of hardness vs drop."""
        return mono.difficulty_order(self.compared)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per set of levels: the order counted over sparsities, ρ over seeds, one verdict."""
        return mono.difficulty_summary(self.compared, self.order)

    @cached_property
    def thresholds(self) -> pd.DataFrame:
        """Per curve: the first sparsity past 1 % and 5 % of dense."""
        return mono.threshold_sparsity(self.drops)

    @cached_property
    def irreversibility(self) -> pd.DataFrame:
        """What sparse_to_dense recovers of the loss of the lossy modes."""
        return mono.irreversibility(self.drops)

    @cached_property
    def drop_ci(self) -> pd.DataFrame:
        """Per curve and sparsity: the raw drop, mean over seeds with its t interval."""
        return ref.drop_ci(self.drops)

    @cached_property
    def relative_ci(self) -> pd.DataFrame:
        """Per curve and sparsity: the metric as % of dense, mean over seeds with t interval."""
        return ref.relative_ci(self.drops)

    @cached_property
    def bracket_order(self) -> pd.DataFrame:
        """Per set of levels and drop: are the breaking points ordered by hardness?"""
        return bp.difficulty_order(self.brackets) if len(self.brackets) else pd.DataFrame()


def with_difficulty(frame: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """A frame of levels' rows with each level's difficulty and hardness, easiest first."""
    if frame.empty:
        return frame.assign(difficulty=float("nan"), hardness=float("nan"))
    level = ref.REFERENCE[:4]
    frame = frame.merge(levels[level + ["difficulty", "hardness"]], on=level, how="left")
    return frame.sort_values(["model", "difficulty_axis", "hardness", "task"], kind="stable")


def analyze(rows: pd.DataFrame, brackets: pd.DataFrame | None = None) -> Analysis:
    """The analysis of a results table (and the breaking points of its adaptive search)."""
    return Analysis(rows, brackets)
