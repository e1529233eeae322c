"""PNG plots like the paper's figures: metric vs sparsity, one line per difficulty level."""

import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # the object API draws with Agg and leaves pyplot alone

from difficulty.axes import AXES
from results.monotonicity import (
    LEVELS,
    REFERENCE,
    dense_reference,
    hardness,
    level_group,
    ok_rows,
    seed_ci,
)

LINE = ["task", "difficulty_level"]


def _parts(key: tuple) -> list[str]:
    """The parts of a figure's key worth naming: no missing axis, no "*" for all tasks."""
    return [str(k) for k in key if pd.notna(k) and k != "*"]


def _file_name(key: tuple) -> str:
    """A readable, file-system safe name for one figure's key."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", "_".join(_parts(key))).strip("-") + ".png"


def _draw(curves: pd.DataFrame, title: str, ylabel: str, path: Path) -> None:
    """One figure: a line with its CI band per (task, level), its dense metric dashed."""
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    curves = curves.assign(h=hardness(curves["difficulty_axis"], curves["difficulty_level"]))
    lines = curves.sort_values(["h", "task", "sparsity"]).groupby(LINE, dropna=False, sort=False)
    colors = matplotlib.colormaps["viridis_r"](np.linspace(0.15, 1, lines.ngroups))  # easy: light
    cross_task = curves["group"].iloc[0] == "*"
    for ((task, level), line), color in zip(lines, colors):
        axis = line["difficulty_axis"].iloc[0]
        label = f"{AXES[axis].label} {level:g}" if pd.notna(level) else task
        ax.plot(
            line["sparsity"],
            line["mean"],
            "o-",
            color=color,
            markersize=3,
            label=f"{task} ({label})" if cross_task else label,
        )
        ax.fill_between(line["sparsity"], line["ci_low"], line["ci_high"], color=color, alpha=0.2)
        if pd.notna(line["dense_metric"].iloc[0]):
            ax.axhline(line["dense_metric"].iloc[0], color=color, linestyle="--", linewidth=1)
    ax.set(title=title, xlabel="sparsity", ylabel=f"{ylabel} (dashed: dense)")
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.92)  # cheaper than tight_layout
    fig.savefig(path)


def plot_curves(df: pd.DataFrame, out_dir: Path, max_plots: int | None = None) -> list[Path]:
    """Write one PNG per (model, axis, task, method, transfer) into out_dir; return the paths.

    Lines are difficulty levels (tasks, for an axis compared across tasks) with a bootstrap 95 %
    CI band over seeds; max_plots keeps only the first figures in sorted order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ok = ok_rows(df).assign(group=lambda f: level_group(f))
    pruned = ok[ok["transfer"] != "dense"]
    figures = pruned[LEVELS].drop_duplicates().sort_values(LEVELS).head(max_plots)
    pruned = pruned.merge(figures, on=LEVELS)
    level = REFERENCE[:4]  # model, task, axis, level: the dense line is the mean over seeds
    dense = dense_reference(df).groupby(level, dropna=False)["dense_metric"].mean()
    curves = seed_ci(pruned, "metric", LEVELS + LINE + ["metric_name", "sparsity"])
    curves = curves.merge(dense.reset_index(), on=level, how="left")
    paths = []
    for key, figure in curves.groupby(LEVELS, dropna=False, sort=True):
        path = out_dir / _file_name(key)
        title = " · ".join(_parts(key))
        ylabel = figure["metric_name"].iloc[0]
        _draw(figure, title, ylabel, path)
        paths.append(path)
    return paths
