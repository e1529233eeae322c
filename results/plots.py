"""PNG plots like the paper's figures: metric vs sparsity, one line per difficulty level."""

import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # the object API draws with Agg and leaves pyplot alone

from results.monotonicity import (
    LEVELS,
    REFERENCE,
    collapse,
    dense_levels,
    drops,
    level_group,
    seed_ci,
)
from results.tables import level_text

LINE = ["task", "difficulty_level"]
PANELS = (("pct_of_dense", "% of dense", "pct"), ("metric", "", "raw"))  # relative first


def _parts(key: tuple) -> list[str]:
    """The parts of a figure's key worth naming: no missing axis, no "*" for all tasks."""
    return [str(k) for k in key if pd.notna(k) and k != "*"]


def _file_name(key: tuple) -> str:
    """A readable, file-system safe name for one figure's key."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", "_".join(_parts(key))).strip("-") + ".png"


def _label(line: pd.DataFrame, cross_task: bool) -> str:
    """A line's legend: its task (across tasks), its computed difficulty, chance and collapse."""
    first = line.iloc[0]
    level = first["difficulty_level"]
    text = level_text(first["difficulty_axis"], level, first["difficulty"])
    text = first["task"] if pd.isna(level) else f"{first['task']} ({text})" if cross_task else text
    if first["at_chance"]:
        text += ", dense at chance"
    elif pd.notna(first["collapsed_at"]):
        text += f", collapsed at {first['collapsed_at']:g}"
    return text


def _draw(curves: pd.DataFrame, title: str, ylabel: str, path: Path) -> None:
    """One figure, two panels: % of dense (left) and raw metric (right), a line with its CI band
    per (task, level), easiest light to hardest dark; dashed: dense; dotted: at-chance levels."""
    fig = Figure(figsize=(11, 4), dpi=100)
    axes = fig.subplots(1, 2)
    lines = curves.sort_values(["hardness", "task", "sparsity"])
    lines = lines.groupby(LINE, dropna=False, sort=False)
    colors = matplotlib.colormaps["viridis_r"](np.linspace(0.15, 1, lines.ngroups))  # easy: light
    cross_task = curves["group"].iloc[0] == "*"
    for ax, (value, unit, _) in zip(axes, PANELS):
        for (_, line), color in zip(lines, colors):
            rows = line[line["value"] == value]
            style = ":" if line["at_chance"].iloc[0] else "-"
            ax.plot(rows["sparsity"], rows["mean"], "o" + style, color=color, markersize=3,
                    label=_label(line, cross_task))  # fmt: skip
            band = rows["ci_low"], rows["ci_high"]
            ax.fill_between(rows["sparsity"], *band, color=color, alpha=0.2)
            dense = 100.0 if value == "pct_of_dense" else line["dense_mean"].iloc[0]
            if pd.notna(dense):
                ax.axhline(dense, color=color, linestyle="--", linewidth=1)
        ax.set(xlabel="sparsity", ylabel=f"{ylabel} {unit}".strip() + " (dashed: dense)")
    axes[0].set_title(f"{title} · relative", fontsize=9)
    axes[1].set_title("raw", fontsize=9)
    axes[1].legend(fontsize=7)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.9, wspace=0.25)
    fig.savefig(path)


def plot_curves(df: pd.DataFrame, out_dir: Path, max_plots: int | None = None) -> list[Path]:
    """Write one PNG per (model, axis, task, method, transfer) into out_dir; return the paths.

    Lines are difficulty levels (tasks, for an axis compared across tasks), easiest first, with
    a 95 % t CI band over seeds, relative to each line's own dense metric and raw; the legend
    gives each level's computed difficulty (human_gap: its gap) and marks levels at chance and
    curves that collapsed. max_plots keeps only the first figures in sorted order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pruned = drops(df).assign(group=lambda f: level_group(f))
    figures = pruned[LEVELS].drop_duplicates().sort_values(LEVELS).head(max_plots)
    pruned = pruned.merge(figures, on=LEVELS)
    keys = LEVELS + LINE + ["metric_name", "sparsity"]
    curves = pd.concat(
        [seed_ci(pruned, value, keys).assign(value=value) for value, _, _ in PANELS],
        ignore_index=True,
    )
    level = REFERENCE[:4]
    levels = dense_levels(df)[level + ["mean", "difficulty", "hardness", "at_chance"]]
    curves = curves.merge(levels.rename(columns={"mean": "dense_mean"}), on=level, how="left")
    curves = curves.merge(collapse(df), on=level + ["method", "scope", "transfer"], how="left")
    curves["at_chance"] = curves["at_chance"].eq(True)
    paths = []
    for key, figure in curves.groupby(LEVELS, dropna=False, sort=True):
        path = out_dir / _file_name(key)
        _draw(figure, " · ".join(_parts(key)), figure["metric_name"].iloc[0], path)
        paths.append(path)
    return paths
