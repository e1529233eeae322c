"""Pivot tables of results: metric by task/difficulty level × sparsity, one block per transfer."""

import numpy as np
import pandas as pd

from results.monotonicity import REFERENCE, dense_reference, drops

ROWS = ["model", "task", "difficulty_axis", "difficulty_level", "method"]
LEVEL = REFERENCE[:4]  # a row of the table without its method: model, task, axis, level
STATS = ["mean", "std", "n", "drop"]


def pivot(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per transfer mode: metric mean/std/n over seeds and mean drop, rows ROWS × (sparsity, stat).

    The first columns, ("dense", mean/std/n), are the dense reference of each row over its seeds;
    a table with no pruned rows gives a single "dense" block of those columns.
    """
    dense = dense_reference(df).groupby(LEVEL, dropna=False)["dense_metric"]
    dense = dense.agg(["mean", "std", "size"]).rename(columns={"size": "n"})
    dense.columns = pd.MultiIndex.from_product([["dense"], dense.columns])
    blocks = {}
    for transfer, rows in drops(df).groupby("transfer", sort=True):
        cells = rows.groupby(ROWS + ["sparsity"], dropna=False).agg(
            mean=("metric", "mean"),
            std=("metric", "std"),
            n=("metric", "size"),
            drop=("drop", "mean"),
        )
        wide = cells.unstack("sparsity").swaplevel(axis=1)
        wide = wide[[(x, stat) for x in sorted(wide.columns.levels[0]) for stat in STATS]]
        reference = dense.reindex(wide.index.droplevel("method"))  # the same for every method
        blocks[transfer] = pd.concat([reference.set_axis(wide.index), wide], axis=1)
    return blocks or ({"dense": dense} if len(dense) else {})


def number(value: float, digits: int = 3) -> str:
    """A float with fixed digits, "–" for a missing value."""
    return "–" if pd.isna(value) else f"{value:.{digits}f}"


def _cell(mean: float, std: float, drop: float, digits: int) -> str:
    """'mean ± std (−drop)' of one pivot cell, leaving out what is missing."""
    if pd.isna(mean):
        return "–"
    text = number(mean, digits)
    if pd.notna(std):
        text += f" ± {number(std, digits)}"
    if pd.notna(drop):
        text += f" ({0.0 - drop:+.{digits}f})"
    return text


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
    """The pivot as Markdown: one table per transfer, cells 'mean ± std (change from dense)'."""
    if not blocks:
        return "no finished trials"
    parts = []
    for transfer, block in blocks.items():
        cells = {}
        for column in block.columns.get_level_values(0).unique():
            stats = block[column]
            drop = stats["drop"] if "drop" in stats else [np.nan] * len(block)
            name = "dense" if column == "dense" else f"{column:g}"
            cells[name] = [
                _cell(*values, digits) for values in zip(stats["mean"], stats["std"], drop)
            ]
        table = pd.DataFrame(cells, index=block.index)
        parts.append(f"transfer: {transfer} (columns: sparsity)\n\n{markdown(table)}")
    return "\n\n".join(parts)
