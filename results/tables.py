"""Pivot tables of results: metric by task/difficulty level × sparsity, one block per transfer."""

import numpy as np
import pandas as pd

from difficulty.axes import AXES
from results.reference import REFERENCE

ROWS = ["model", "task", "difficulty_axis", "difficulty_level", "method", "scope"]
LEVEL = REFERENCE[:4]  # a row of the table without its method: model, task, axis, level
STATS = ["mean", "std", "n", "drop", "pct"]
DENSE = ["mean", "std", "n", "difficulty", "hardness", "at_chance"]


def level_text(axis: object, level: float, difficulty: float) -> str:
    """A level as tables, legends and the report show it: its axis label and value, or the
    difficulty its axis computes from the dense metric (Axis.measured; human_gap: the gap)."""
    if pd.isna(level):
        return "–"
    measured = AXES[axis].measured
    if measured is not None:
        return measured.text(level, float("nan") if pd.isna(difficulty) else difficulty)
    return f"{AXES[axis].label} {level:g}"


def pivot(levels: pd.DataFrame, drops: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per transfer mode: metric mean/std/n over seeds, mean drop and mean % of dense, rows
    ROWS × (sparsity, stat), levels easiest first within each model and axis.

    The first columns, ("dense", mean/std/n/difficulty/hardness/at_chance), are the dense
    reference of each row over its seeds and its level (an Analysis' levels and drops); a table
    with no pruned rows gives a single "dense" block of those columns.
    """
    # a groupby index, not set_index: it matches rows whose axis and level are missing
    dense = levels.groupby(LEVEL, dropna=False, sort=False)[DENSE].first()
    dense.columns = pd.MultiIndex.from_product([["dense"], dense.columns])
    blocks = {}
    for transfer, rows in drops.groupby("transfer", sort=True):
        cells = rows.groupby(ROWS + ["sparsity"], dropna=False).agg(
            mean=("metric", "mean"),
            std=("metric", "std"),
            n=("metric", "size"),
            drop=("drop", "mean"),
            pct=("pct_of_dense", "mean"),
        )
        wide = cells.unstack("sparsity").swaplevel(axis=1)
        wide = wide[[(x, stat) for x in sorted(wide.columns.levels[0]) for stat in STATS]]
        # the same for every method and scope
        reference = dense.reindex(wide.index.droplevel(["method", "scope"]))
        block = pd.concat([reference.set_axis(wide.index), wide], axis=1)
        keys = block.index.to_frame(index=False).assign(h=block[("dense", "hardness")].to_numpy())
        easiest_first = ["model", "difficulty_axis", "h", "task", "method", "scope"]
        order = keys.sort_values(easiest_first, kind="stable")
        blocks[transfer] = block.iloc[order.index]
    return blocks or ({"dense": dense} if len(dense) else {})


def number(value: float, digits: int = 3) -> str:
    """A float with fixed digits, "–" for a missing value."""
    return "–" if pd.isna(value) else f"{value:.{digits}f}"


def _cell(mean: float, std: float, drop: float, pct: float, digits: int) -> str:
    """'mean ± std (−drop, pct % of dense)' of one pivot cell, leaving out what is missing."""
    if pd.isna(mean):
        return "–"
    text = number(mean, digits)
    if pd.notna(std):
        text += f" ± {number(std, digits)}"
    relative = [f"{0.0 - drop:+.{digits}f}"] if pd.notna(drop) else []
    relative += [f"{pct:.0f} %"] if pd.notna(pct) else []
    return text + (f" ({', '.join(relative)})" if relative else "")


def markdown(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table, missing values as "–" (index included when it is named)."""
    if any(frame.index.names):
        frame = frame.reset_index()
    header = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join("–" if pd.isna(v) else str(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def format_pivot(blocks: dict[str, pd.DataFrame], digits: int = 3) -> str:
    """The pivot as Markdown: one table per transfer, a column with each level's computed
    difficulty ("at chance" where the dense metric is), cells 'mean ± std (change, % of dense)'."""
    if not blocks:
        return "no finished trials"
    parts = []
    for transfer, block in blocks.items():
        index = block.index.to_frame(index=False)
        dense = block["dense"]
        cells = {
            "difficulty": [
                level_text(a, lv, d) + (" · at chance" if pd.notna(c) and bool(c) else "")
                for a, lv, d, c in zip(
                    index["difficulty_axis"],
                    index["difficulty_level"],
                    dense["difficulty"],
                    dense["at_chance"],
                )  # fmt: skip
            ]
        }
        for column in block.columns.get_level_values(0).unique():
            stats = block[column]
            missing = [np.nan] * len(block)
            drop = stats["drop"] if "drop" in stats else missing
            pct = stats["pct"] if "pct" in stats else missing
            name = "dense" if column == "dense" else f"{column:g}"
            cells[name] = [
                _cell(*values, digits) for values in zip(stats["mean"], stats["std"], drop, pct)
            ]
        table = pd.DataFrame(cells, index=block.index)
        parts.append(f"transfer: {transfer} (columns: sparsity)\n\n{markdown(table)}")
    return "\n\n".join(parts)
