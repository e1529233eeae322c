"""PNG plots like the paper's figures: metric vs sparsity, one line per difficulty level."""

import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # the object API draws with Agg and leaves pyplot alone

from results.analysis import Analysis
from results.reference import LEVELS, REFERENCE, bounds, seed_ci
from results.tables import level_text

LINE = ["difficulty_axis", "task", "difficulty_level"]
PANELS = (("pct_of_dense", "% of dense", "pct"), ("metric", "", "raw"))  # relative first
GROUPED = ["model", "method", "scope"]  # a figure's key past MAX_FIGURES: transfers as rows
MAX_FIGURES = 12
T_SEEDS = 3  # fewer seeds: each seed's points and their range instead of a t band (1-2 df)


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


def _band_words(n: pd.Series) -> str:
    """What a figure's bands are."""
    if (n >= T_SEEDS).all():
        return "band: 95 % t-interval over seeds"
    if (n < T_SEEDS).all():
        return f"dots: each seed; band: their range (fewer than {T_SEEDS} seeds)"
    return f"band: 95 % t-interval ({T_SEEDS}+ seeds) or the seeds' range (dots; fewer)"


def _draw(curves: pd.DataFrame, title: str, ylabel: str, path: Path) -> None:
    """One figure, a row of two panels per transfer: % of dense (left) and raw metric (right), a
    line per (task, level), easiest light to hardest dark, with its band (the t interval, or
    with fewer than T_SEEDS seeds each seed's points and their range), inside the metric's
    bounds; dashed: dense; dotted: at-chance levels."""
    curves = curves.sort_values(["hardness", "task", "sparsity"], kind="stable")
    curves = curves.assign(line=curves.groupby(LINE, dropna=False, sort=False).ngroup())
    colors = matplotlib.colormaps["viridis_r"](np.linspace(0.15, 1, curves["line"].max() + 1))
    cross_task = curves["task"].nunique() > 1 or (curves["group"] == "*").any()
    transfers = sorted(curves["transfer"].unique())
    fig = Figure(figsize=(11, 4 * len(transfers)), dpi=100)
    grid = fig.subplots(len(transfers), 2, squeeze=False)
    for axes, transfer in zip(grid, transfers):
        lines = curves[curves["transfer"] == transfer].groupby("line", sort=False)
        for ax, (value, unit, _) in zip(axes, PANELS):
            for line_id, line in lines:
                color = colors[line_id]
                rows = line[line["value"] == value]
                style = ":" if line["at_chance"].iloc[0] else "-"
                ax.plot(rows["sparsity"], rows["mean"], "o" + style, color=color,
                        markersize=3, label=_label(line, cross_task))  # fmt: skip
                band = rows["band_low"], rows["band_high"]
                ax.fill_between(rows["sparsity"], *band, color=color, alpha=0.2)
                few = rows[rows["n"] < T_SEEDS]
                if len(few):
                    seeds = np.repeat(few["sparsity"].to_numpy(), few["points"].map(len))
                    ax.plot(seeds, np.concatenate(few["points"].tolist()), ".", color=color,
                            markersize=5, alpha=0.8)  # fmt: skip
                dense = 100.0 if value == "pct_of_dense" else line["dense_mean"].iloc[0]
                if pd.notna(dense):
                    ax.axhline(dense, color=color, linestyle="--", linewidth=1)
            ax.set(xlabel="sparsity", ylabel=f"{ylabel} {unit}".strip() + " (dashed: dense)")
        axes[0].set_title(f"{title} · {transfer} · relative", fontsize=9)
        axes[1].set_title(f"raw · {_band_words(curves['n'])}", fontsize=9)
        axes[1].legend(fontsize=7)
    n = len(transfers)  # margins in inches as in a one-row figure
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12 / n, top=1 - 0.1 / n, wspace=0.25,
                        hspace=0.35)  # fmt: skip
    fig.savefig(path)


def _with_bands(pruned: pd.DataFrame, value: str, keys: list[str]) -> pd.DataFrame:
    """Per point of a curve: mean over seeds with its t interval, the seeds' values and range."""
    ci = seed_ci(pruned, value, keys)
    seeds = pruned.dropna(subset=[value]).groupby(keys, dropna=False, sort=True)[value]
    seeds = seeds.agg(low="min", high="max", points=list).reset_index()
    return ci.merge(seeds, on=keys, how="left").assign(value=value)


def plot_curves(a: Analysis, out_dir: Path, max_plots: int | None = None) -> list[Path]:
    """Write the PNGs into out_dir; return their paths.

    One figure per (model, axis, task, method, transfer): models × tasks (1 for an axis
    compared across tasks) × methods × pruned transfers figures. Past MAX_FIGURES of those, one
    figure per (model, method) instead, a row of panels per transfer with every task and level
    as a line: models × methods figures. Lines are difficulty levels (tasks, for an axis
    compared across tasks), easiest first, with a 95 % t CI band over seeds (with fewer than
    T_SEEDS seeds: each seed's points and their range), never outside the metric's bounds
    (Metric.bounds), relative to each line's own dense metric and raw; the legend gives each
    level's computed difficulty (human_gap: its gap) and marks levels at chance and curves that
    collapsed. max_plots keeps only the first figures in sorted order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pruned = a.drops
    figure_key = LEVELS if len(pruned[LEVELS].drop_duplicates()) <= MAX_FIGURES else GROUPED
    figures = pruned[figure_key].drop_duplicates().sort_values(figure_key).head(max_plots)
    pruned = pruned.merge(figures, on=figure_key)
    keys = LEVELS + ["task", "difficulty_level", "metric_name", "sparsity"]
    curves = pd.concat([_with_bands(pruned, value, keys) for value, _, _ in PANELS])
    curves = curves.reset_index(drop=True)
    level = REFERENCE[:4]
    levels = a.levels[level + ["mean", "difficulty", "hardness", "at_chance"]]
    curves = curves.merge(levels.rename(columns={"mean": "dense_mean"}), on=level, how="left")
    curves = curves.merge(a.collapse, on=level + ["method", "scope", "transfer"], how="left")
    curves["at_chance"] = curves["at_chance"].eq(True)
    low, high = bounds(curves["metric_name"])
    relative = curves["value"] == "pct_of_dense"
    scale = (100 / curves["dense_mean"].where(curves["dense_mean"] > 0)).where(relative, 1.0)
    low, high = (low * scale).fillna(-np.inf), (high * scale).fillna(np.inf)
    t_band = curves["n"] >= T_SEEDS
    curves["band_low"] = curves["ci_low"].clip(low, high).where(t_band, curves["low"])
    curves["band_high"] = curves["ci_high"].clip(low, high).where(t_band, curves["high"])
    paths = []
    for key, figure in curves.groupby(figure_key, dropna=False, sort=True):
        path = out_dir / _file_name(key)
        title = " · ".join(_parts(key[:-1] if figure_key == LEVELS else key))  # no transfer
        _draw(figure, title, " / ".join(sorted(figure["metric_name"].unique())), path)
        paths.append(path)
    return paths
